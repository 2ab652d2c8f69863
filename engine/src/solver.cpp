// The solver loop, shared by every update rule (solvers.cpp): nets from the solver file, Caffe's
// learning-rate policies, clipping, iter_size normalisation, weight decay, the training step with
// smoothed-loss display, periodic tests, snapshots and exact restore.
#include "engine/src/solver.h"

#include "engine/src/io.h"
#include "engine/src/layers/data.h"
#include "engine/src/snapshot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

namespace lamina::engine {

namespace {

std::string fmt(const char *f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string duration(double s) {
  if (!(s >= 0) || s > 1e8)
    return "?";
  long t = long(s + 0.5);
  char b[64];
  if (t >= 3600)
    std::snprintf(b, sizeof b, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else if (t >= 60)
    std::snprintf(b, sizeof b, "%ldm%02lds", t / 60, t % 60);
  else
    std::snprintf(b, sizeof b, "%lds", t);
  return b;
}

pb::NetParameter readNet(const std::string &file, Context &ctx) {
  pb::NetParameter p;
  readTextProto(ctx.paths.proto(file), p);
  upgradeNet(p);
  return p;
}

std::vector<std::string> stagesOf(const pb::NetState &s) { return {s.stage().begin(), s.stage().end()}; }

} // namespace

Solver::Solver(const pb::SolverParameter &param, Context &ctx) : param_(param), ctx_(ctx) {
  log = [](const std::string &line) { std::cout << line << std::endl; };
  if (param_.random_seed() >= 0)
    ctx_.reseed(uint64_t(param_.random_seed()));
  init();
}

void Solver::init() {
  // Train net: exactly one source, as in Caffe.
  int sources = int(param_.has_train_net_param()) + int(param_.has_train_net()) + int(param_.has_net_param()) +
                int(param_.has_net());
  if (sources != 1)
    throw SolverError("the solver must name exactly one train net (net, net_param, train_net or train_net_param); "
                      "it names " +
                      std::to_string(sources));
  pb::NetParameter trainParam = param_.has_train_net_param() ? param_.train_net_param()
                                : param_.has_train_net()     ? readNet(param_.train_net(), ctx_)
                                : param_.has_net_param()     ? param_.net_param()
                                                             : readNet(param_.net(), ctx_);
  upgradeNet(trainParam);
  const pb::NetState &ts = param_.train_state();
  net_ = std::make_unique<Net>(trainParam, pb::TRAIN, ctx_, stagesOf(ts), ts.level());

  // Test nets: the explicit ones first, then instances of the generic net for the remaining
  // test_iter entries; test_state, when given, has one entry per test net.
  const bool generic = param_.has_net() || param_.has_net_param();
  const int explicitNets = param_.test_net_param_size() + param_.test_net_size();
  int instances = explicitNets;
  if (generic && param_.test_iter_size() > explicitNets)
    instances = param_.test_iter_size();
  if (param_.test_iter_size() != instances)
    throw SolverError("test_iter has " + std::to_string(param_.test_iter_size()) + " entries for " +
                      std::to_string(instances) + " test nets");
  if (param_.test_state_size() && param_.test_state_size() != instances)
    throw SolverError("test_state has " + std::to_string(param_.test_state_size()) + " entries for " +
                      std::to_string(instances) + " test nets");
  if (param_.test_interval() < 0)
    throw SolverError("test_interval must be >= 0");
  for (int i = 0; i < instances; ++i) {
    pb::NetParameter p;
    if (i < param_.test_net_param_size())
      p = param_.test_net_param(i);
    else if (i < explicitNets)
      p = readNet(param_.test_net(i - param_.test_net_param_size()), ctx_);
    else
      p = param_.has_net_param() ? param_.net_param() : readNet(param_.net(), ctx_);
    upgradeNet(p);
    pb::NetState st = param_.test_state_size() ? param_.test_state(i) : pb::NetState();
    testNets_.push_back(std::make_unique<Net>(p, pb::TEST, ctx_, stagesOf(st), st.level()));
  }

  if (param_.iter_size() < 1)
    throw SolverError("iter_size must be >= 1");
  if (param_.average_loss() < 1)
    throw SolverError("average_loss must be >= 1");
  setupBuffers();
}

void Solver::setupBuffers() {
  auto &params = net_->learnableParams();
  scalars_ = std::make_shared<Blob>(ctx_, Shape{1});
  scalars_->setData(1.f);
  scalarDesc_.setNdEx(LAMINA_TENSOR_NCHW, LAMINA_DATA_FLOAT, {1, 1, 1, 1});
  for (auto &p : params) {
    const int64_t n = std::max<int64_t>(p.blob->count(), 1);
    flat_.emplace_back();
    flat_.back().setNdEx(LAMINA_TENSOR_NCHW, LAMINA_DATA_FLOAT, {n, 1, 1, 1});
    tmp_.push_back(std::make_shared<Blob>(ctx_, Shape{n}));
  }
}

void Solver::ensureHistory() {
  if (!history_.empty() || net_->learnableParams().empty())
    return;
  for (auto &p : net_->learnableParams()) {
    std::vector<BlobPtr> h;
    for (int k = 0; k < historyCount(); ++k) {
      h.push_back(std::make_shared<Blob>(ctx_, Shape{std::max<int64_t>(p.blob->count(), 1)}));
      h.back()->setData(0.f);
    }
    history_.push_back(std::move(h));
  }
}

// ---------------------------------------------------------------- API helpers

laminaOpTensorDescriptor_t Solver::op(laminaOpTensorOp_t o) {
  auto it = ops_.find(int(o));
  if (it == ops_.end())
    it = ops_.emplace(int(o), lamina::OpTensorDescriptor(o)).first;
  return it->second.get();
}

void Solver::axpby(size_t i, float a, const float *x, float b, float *y) {
  lamina::check(laminaAddTensor(ctx_.h(), &a, flat(i), x, &b, flat(i), y));
}
void Solver::mul(size_t i, const float *a, const float *b, float *c) {
  const float one = 1, zero = 0;
  lamina::check(
      laminaOpTensor(ctx_.h(), op(LAMINA_OP_TENSOR_MUL), &one, flat(i), a, &one, flat(i), b, &zero, flat(i), c));
}
void Solver::div(size_t i, const float *a, const float *b, float *c) {
  const float one = 1, zero = 0;
  lamina::check(
      laminaOpTensor(ctx_.h(), op(LAMINA_OP_TENSOR_DIV), &one, flat(i), a, &one, flat(i), b, &zero, flat(i), c));
}
void Solver::addScalar(size_t i, const float *a, float s, float *c) {
  const float one = 1, zero = 0; // c = a + s * 1 (the ones scalar broadcast)
  lamina::check(laminaOpTensor(ctx_.h(), op(LAMINA_OP_TENSOR_ADD), &one, flat(i), a, &s, scalarDesc_.get(),
                               scalars_->data(), &zero, flat(i), c));
}
void Solver::sqrt(size_t i, const float *a, float *c) {
  const float one = 1, zero = 0;
  lamina::check(
      laminaOpTensor(ctx_.h(), op(LAMINA_OP_TENSOR_SQRT), &one, flat(i), a, &one, flat(i), nullptr, &zero, flat(i), c));
}
void Solver::sqrtPlus(size_t i, const float *a, float eps, float *c) {
  sqrt(i, a, c);
  addScalar(i, c, eps, c);
}
void Solver::sign(size_t i, const float *a, float *c) {
  const float one = 1, zero = 0;
  lamina::check(
      laminaOpTensor(ctx_.h(), op(LAMINA_OP_TENSOR_SIGN), &one, flat(i), a, &one, flat(i), nullptr, &zero, flat(i), c));
}

// ---------------------------------------------------------------- learning rate

float Solver::learningRate() const {
  const std::string &policy = param_.lr_policy();
  const double base = param_.base_lr(), gamma = param_.gamma(), power = param_.power();
  const double it = iter_;
  if (policy == "fixed")
    return float(base);
  if (policy == "step") {
    if (param_.stepsize() <= 0)
      throw SolverError("lr_policy 'step' needs stepsize > 0");
    return float(base * std::pow(gamma, double(iter_ / param_.stepsize())));
  }
  if (policy == "exp")
    return float(base * std::pow(gamma, it));
  if (policy == "inv")
    return float(base * std::pow(1.0 + gamma * it, -power));
  if (policy == "multistep") {
    // Caffe advances current_step_ once per call while iter >= stepvalue[current]; counting the
    // passed step values from here gives the same rate and keeps this const.
    int s = currentStep_;
    while (s < param_.stepvalue_size() && iter_ >= param_.stepvalue(s))
      ++s;
    return float(base * std::pow(gamma, double(s)));
  }
  if (policy == "poly") {
    if (param_.max_iter() <= 0)
      throw SolverError("lr_policy 'poly' needs max_iter > 0");
    return float(base * std::pow(1.0 - it / double(param_.max_iter()), power));
  }
  if (policy == "sigmoid")
    return float(base * (1.0 / (1.0 + std::exp(-gamma * (it - double(param_.stepsize()))))));
  throw SolverError("unknown lr_policy '" + policy + "' (fixed, step, exp, inv, multistep, poly, sigmoid)");
}

// ---------------------------------------------------------------- update

void Solver::clipGradients() {
  const float clip = param_.clip_gradients();
  auto &params = net_->learnableParams();
  if (clip < 0 || params.empty())
    return;
  // Global L2 norm: one NORM2 reduction per parameter into a small device vector, read once.
  lamina::ReduceTensorDescriptor red(LAMINA_REDUCE_TENSOR_NORM2);
  if (!clipNorms_) {
    size_t ws = 0;
    for (size_t i = 0; i < params.size(); ++i)
      ws = std::max(ws, lamina::reductionWorkspaceSize(ctx_.h(), red.get(), flat(i), scalarDesc_.get()));
    clipNorms_ = std::make_shared<Blob>(ctx_, Shape{int64_t(params.size())});
    clipWorkspace_ = std::make_shared<Blob>(ctx_, Shape{int64_t((ws + 3) / 4)});
  }
  Blob &norms = *clipNorms_;
  const size_t wsBytes = size_t(clipWorkspace_->count()) * 4;
  void *wsPtr = wsBytes ? clipWorkspace_->mutableData() : nullptr;
  const float one = 1, zero = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].blob->count() == 0)
      continue;
    lamina::check(laminaReduceTensor(ctx_.h(), red.get(), nullptr, 0, wsPtr, wsBytes, &one, flat(i),
                                     params[i].blob->diff(), &zero, scalarDesc_.get(), norms.mutableData() + i));
  }
  double sumsq = 0;
  std::vector<float> n = norms.dataToHost();
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].blob->count())
      sumsq += double(n[i]) * double(n[i]);
  const double l2 = std::sqrt(sumsq);
  if (l2 > clip) {
    const float s = float(clip / l2);
    if (log)
      log("gradient clipping: scaling down gradients (L2 norm " + fmt("%g", l2) + " > " + fmt("%g", clip) +
          ") by scale factor " + fmt("%g", s));
    for (size_t i = 0; i < params.size(); ++i)
      if (params[i].blob->count())
        lamina::check(laminaScaleTensor(ctx_.h(), flat(i), params[i].blob->mutableDiff(), &s));
  }
}

void Solver::regularize(size_t i) {
  auto &p = net_->learnableParams()[i];
  const float decay = param_.weight_decay() * p.decayMult;
  if (decay == 0)
    return;
  const std::string &type = param_.regularization_type();
  if (type == "L2") {
    axpby(i, decay, p.blob->data(), 1.f, p.blob->mutableDiff());
  } else if (type == "L1") {
    sign(i, p.blob->data(), tmp(i));
    axpby(i, decay, tmp(i), 1.f, p.blob->mutableDiff());
  } else {
    throw SolverError("unknown regularization_type '" + type + "' (L1 or L2)");
  }
}

void Solver::applyUpdate() {
  ensureHistory();
  const float rate = learningRate();
  clipGradients();
  auto &params = net_->learnableParams();
  const float norm = 1.f / float(param_.iter_size());
  for (size_t i = 0; i < params.size(); ++i) {
    auto &p = params[i];
    if (p.blob->count() == 0)
      continue;
    if (param_.iter_size() > 1)
      lamina::check(laminaScaleTensor(ctx_.h(), flat(i), p.blob->mutableDiff(), &norm));
    regularize(i);
    update(i, rate * p.lrMult);
    // Caffe's Blob::Update: data -= diff.
    axpby(i, -1.f, p.blob->diff(), 1.f, p.blob->mutableData());
  }
}

// ---------------------------------------------------------------- the loop

void Solver::updateSmoothedLoss(float loss, int startIter) {
  // The mean of the last average_loss losses (Caffe's running form drifts in float; the mean of
  // the stored window is the same after a restore).
  losses_.push_back(loss);
  if (losses_.size() > size_t(param_.average_loss()))
    losses_.erase(losses_.begin());
  double sum = 0;
  for (float l : losses_)
    sum += l;
  smoothedLoss_ = float(sum / double(losses_.size()));
  (void)startIter;
}

int Solver::imagesPerIteration() const {
  // The first top of the first layer (the data or input layer) carries the batch.
  for (size_t l = 0; l < net_->layers().size(); ++l)
    if (!net_->tops()[l].empty() && net_->bottoms()[l].empty() && net_->tops()[l][0]->rank() > 0)
      return int(net_->tops()[l][0]->dim(0)) * param_.iter_size();
  return 0;
}

void Solver::display(float lr) {
  auto now = std::chrono::steady_clock::now();
  std::string line = "iter " + std::to_string(iter_) + "  loss " + fmt("%.4g", smoothedLoss_) + "  lr " + fmt("%g", lr);
  if (displayIter_ >= 0 && iter_ > displayIter_) {
    const double secs = std::chrono::duration<double>(now - displayTime_).count();
    const double perIter = secs / double(iter_ - displayIter_);
    const int images = imagesPerIteration();
    if (images > 0 && secs > 0)
      line += "  " + fmt("%.0f", double(images) / perIter) + " img/s";
    line += "  ETA " + duration(perIter * double(std::max(0, param_.max_iter() - iter_)));
  }
  displayIter_ = iter_;
  displayTime_ = now;
  if (log)
    log(line);
}

void Solver::step(int iters) {
  const int startIter = iter_, stopIter = iter_ + iters;
  while (iter_ < stopIter && !stop_) {
    net_->clearParamDiffs();
    if (param_.test_interval() > 0 && iter_ % param_.test_interval() == 0 &&
        (iter_ > 0 || param_.test_initialization()) && !testNets_.empty()) {
      auto results = test();
      if (onTest)
        onTest(iter_, results);
      if (stop_)
        break;
    }
    const bool show = param_.display() > 0 && iter_ % param_.display() == 0;
    float loss = 0;
    for (int k = 0; k < param_.iter_size(); ++k) {
      loss += net_->forward();
      net_->backward();
    }
    loss /= float(param_.iter_size());
    if (std::isnan(loss))
      throw SolverError("loss is NaN at iteration " + std::to_string(iter_) + ": stopping");
    updateSmoothedLoss(loss, startIter);
    const float lr = learningRate();
    if (show)
      display(lr);
    // Caffe's multistep position advances as the rate is computed (kept in the state file).
    while (param_.lr_policy() == "multistep" && currentStep_ < param_.stepvalue_size() &&
           iter_ >= param_.stepvalue(currentStep_))
      ++currentStep_;
    applyUpdate();
    if (onIteration)
      onIteration(iter_, loss, lr);
    ++iter_;
    if ((param_.snapshot() > 0 && iter_ % param_.snapshot() == 0) || stop_)
      snapshot();
  }
}

void Solver::solve() {
  if (log)
    log(std::string("solving with ") + type() + " on " +
        (ctx_.backend == LAMINA_BACKEND_CUDA ? "cuda:" + std::to_string(ctx_.device) : std::string("cpu")) +
        (iter_ ? ", resuming at iteration " + std::to_string(iter_) : std::string()));
  displayIter_ = -1;
  step(param_.max_iter() - iter_);
  if (stop_) {
    if (lastSnapshotIter_ != iter_)
      snapshot();
    if (log)
      log("stopped at iteration " + std::to_string(iter_) + "; snapshot " + lastSnapshot_);
    return;
  }
  if (param_.snapshot_after_train() && lastSnapshotIter_ != iter_)
    snapshot();
  // As Caffe: one more forward pass to show the final loss, and a final test.
  if (param_.display() > 0 && iter_ % param_.display() == 0) {
    float loss = net_->forward();
    if (std::isnan(loss))
      throw SolverError("loss is NaN at iteration " + std::to_string(iter_) + ": stopping");
    updateSmoothedLoss(loss, 0);
    if (log)
      log("iter " + std::to_string(iter_) + "  loss " + fmt("%.4g", smoothedLoss_));
  }
  if (param_.test_interval() > 0 && iter_ % param_.test_interval() == 0 && !testNets_.empty()) {
    auto results = test();
    if (onTest)
      onTest(iter_, results);
  }
  if (log)
    log("optimization done at iteration " + std::to_string(iter_));
}

// ---------------------------------------------------------------- testing

TestResult Solver::testNet(size_t n) {
  Net &tn = *testNets_[n];
  tn.copyParamsFrom(*net_);
  TestResult r;
  const int iters = param_.test_iter(int(n));
  std::vector<double> sums;
  std::vector<std::string> names;
  double loss = 0;
  int done = 0;
  for (int it = 0; it < iters; ++it) {
    if (stop_) {
      r.interrupted = true;
      break;
    }
    loss += tn.forward();
    size_t k = 0;
    for (const auto &out : tn.outputs()) {
      Blob *b = tn.blob(out.first);
      std::vector<float> v = b->dataToHost();
      for (size_t j = 0; j < v.size(); ++j, ++k) {
        if (it == 0) {
          sums.push_back(0);
          names.push_back(v.size() == 1 ? out.first : out.first + "[" + std::to_string(j) + "]");
          r.lossWeights.push_back(out.second);
        }
        sums[k] += v[j];
      }
    }
    ++done;
  }
  for (size_t k = 0; k < sums.size(); ++k)
    r.outputs.emplace_back(names[k], float(sums[k] / std::max(done, 1)));
  r.loss = float(loss / std::max(done, 1));
  return r;
}

std::vector<TestResult> Solver::test() {
  std::vector<TestResult> all;
  for (size_t n = 0; n < testNets_.size(); ++n) {
    TestResult r = testNet(n);
    if (log) {
      if (r.interrupted) {
        log("test net " + std::to_string(n) + ": interrupted");
      } else {
        std::string line = "test net " + std::to_string(n) + ":";
        for (size_t k = 0; k < r.outputs.size(); ++k) {
          line += (k ? ", " : " ") + r.outputs[k].first + " = " + fmt("%.4g", r.outputs[k].second);
          const float w = r.lossWeights[k];
          if (w != 0 && w != 1)
            line += " (* " + fmt("%g", w) + " = " + fmt("%.4g", w * r.outputs[k].second) + " loss)";
        }
        if (param_.test_compute_loss())
          line += (r.outputs.empty() ? " loss = " : ", loss = ") + fmt("%.4g", r.loss);
        log(line);
      }
    }
    all.push_back(std::move(r));
  }
  return all;
}

// ---------------------------------------------------------------- snapshots

std::string Solver::snapshot() {
  const std::string prefix =
      ctx_.paths.data(param_.snapshot_prefix().empty() ? std::string("snapshot") : param_.snapshot_prefix());
  const std::string base = prefix + "_iter_" + std::to_string(iter_);
  ensureHistory();
  SolverStateData s;
  s.iter = iter_;
  s.currentStep = currentStep_;
  s.solverType = type();
  s.weightsFile = base + ".lamina-weights";
  std::ostringstream rng;
  rng << ctx_.rng;
  s.rng = rng.str();
  s.lossWindow = losses_;
  for (auto &h : history_) {
    std::vector<StoredBlob> v;
    for (auto &b : h)
      v.push_back({b->shape(), b->dataToHost()});
    s.history.push_back(std::move(v));
  }
  for (size_t n = 0; n <= testNets_.size(); ++n) {
    const Net &net = n == 0 ? *net_ : *testNets_[n - 1];
    const std::string tag = n == 0 ? "train/" : "test" + std::to_string(n - 1) + "/";
    for (const auto &l : net.layers()) {
      if (auto *d = dynamic_cast<const DataLayer *>(l.get()))
        s.layerStates.emplace_back(tag + l->name(), "position " + std::to_string(d->position()));
      else if (auto *st = dynamic_cast<const StatefulLayer *>(l.get()))
        s.layerStates.emplace_back(tag + l->name(), st->saveState());
    }
  }
  saveWeights(*net_, s.weightsFile);
  const std::string statePath = base + ".lamina-state";
  saveSolverState(s, statePath);
  lastSnapshot_ = statePath;
  lastSnapshotIter_ = iter_;
  if (log)
    log("snapshot " + s.weightsFile + ", " + statePath);
  return statePath;
}

void Solver::restoreLayerState(const std::string &key, const std::string &value, const std::string &statePath) {
  // key: "train/<layer>" or "test<N>/<layer>"
  const auto slash = key.find('/');
  const std::string tag = key.substr(0, slash == std::string::npos ? 0 : slash);
  const std::string name = slash == std::string::npos ? key : key.substr(slash + 1);
  Net *net = nullptr;
  if (tag == "train")
    net = net_.get();
  else if (tag.rfind("test", 0) == 0 && tag.size() > 4 && std::stoul(tag.substr(4)) < testNets_.size())
    net = testNets_[std::stoul(tag.substr(4))].get();
  if (net)
    for (const auto &l : net->layers()) {
      if (l->name() != name)
        continue;
      if (auto *d = dynamic_cast<DataLayer *>(l.get())) {
        if (value.rfind("position ", 0) != 0)
          throw SnapshotError(statePath + ": bad data position '" + value + "' for layer '" + key + "'");
        d->seek(std::stoull(value.substr(9)));
        return;
      }
      if (auto *st = dynamic_cast<StatefulLayer *>(l.get())) {
        st->loadState(value);
        return;
      }
    }
  throw SnapshotError(statePath + ": state for layer '" + key + "', which the nets lack");
}

void Solver::restore(const std::string &statePath) {
  SolverStateData s = loadSolverState(statePath);
  ensureHistory();
  if (s.solverType != type())
    throw SnapshotError(statePath + ": written by a " + s.solverType + " solver, restoring into " + type());
  if (s.history.size() != history_.size())
    throw SnapshotError(statePath + ": " + std::to_string(s.history.size()) + " parameters in the state, " +
                        std::to_string(history_.size()) + " in the net");
  // The weights file as written, else next to the state file (snapshots that were moved).
  std::string weights = s.weightsFile;
  if (!std::ifstream(weights)) {
    const auto slash = statePath.find_last_of('/');
    const auto wslash = weights.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "" : statePath.substr(0, slash + 1);
    weights = dir + (wslash == std::string::npos ? weights : weights.substr(wslash + 1));
  }
  engine::loadWeights(*net_, weights);
  for (size_t i = 0; i < history_.size(); ++i) {
    if (s.history[i].size() != history_[i].size())
      throw SnapshotError(statePath + ": parameter " + std::to_string(i) + " has " +
                          std::to_string(s.history[i].size()) + " history blobs, expected " +
                          std::to_string(history_[i].size()));
    for (size_t k = 0; k < history_[i].size(); ++k) {
      if (s.history[i][k].values.size() != size_t(history_[i][k]->count()))
        throw SnapshotError(statePath + ": history of parameter " + std::to_string(i) + " (" +
                            net_->learnableParams()[i].owner + ") has " +
                            std::to_string(s.history[i][k].values.size()) + " values, expected " +
                            std::to_string(history_[i][k]->count()));
      history_[i][k]->dataFromHost(s.history[i][k].values);
    }
  }
  std::istringstream rng(s.rng);
  rng >> ctx_.rng;
  if (!rng)
    throw SnapshotError(statePath + ": corrupt RNG state");
  for (const auto &kv : s.layerStates)
    restoreLayerState(kv.first, kv.second, statePath);
  iter_ = s.iter;
  currentStep_ = s.currentStep;
  losses_ = s.lossWindow;
  if (losses_.size() > size_t(param_.average_loss()))
    losses_.erase(losses_.begin(), losses_.end() - param_.average_loss());
  double sum = 0;
  for (float l : losses_)
    sum += l;
  smoothedLoss_ = losses_.empty() ? 0.f : float(sum / double(losses_.size()));
  lastSnapshotIter_ = iter_;
  lastSnapshot_ = statePath;
  if (log)
    log("restored " + statePath + " at iteration " + std::to_string(iter_));
}

void Solver::loadWeights(const std::string &weightsPaths) {
  std::stringstream ss(weightsPaths);
  std::string path;
  while (std::getline(ss, path, ',')) {
    if (path.empty())
      continue;
    int n = engine::loadWeights(*net_, path);
    if (log)
      log("weights " + path + ": " + std::to_string(n) + " layers copied");
  }
}

} // namespace lamina::engine
