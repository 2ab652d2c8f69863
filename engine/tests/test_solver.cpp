// Solver tests on a test-only loss layer, so they depend on no other layer: "TestQuadratic" holds
// a learnable w (1 x n) and draws B noisy targets t_b = target + shift(count) + noise per forward
// (noise from ctx.rng, shift from its forward count, which it saves as StatefulLayer state);
// loss = 0.5 / B * sum_b |w - t_b|^2, gradient w - mean_b t_b, all through the Lamina API.
// Checked: each solver's first updates against Caffe's formulas on the host, every lr policy,
// L1/L2 weight decay with lr/decay multipliers, clipping, iter_size, exact snapshot resume, tests,
// NaN stop, corrupt snapshot files.
#include "common/test_util.h"
#include "engine/src/data/lmdb.h"
#include "engine/src/layers/data.h"
#include "engine/src/snapshot.h"
#include "engine/src/solver.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>

namespace lamina::engine {
namespace {

struct QuadraticConfig {
  std::vector<float> target{0.5f, -1.f, 2.f, 0.25f, -0.75f};
  std::vector<float> init{1.5f, 0.5f, -1.f, 0.75f, 0.25f};
  int batch = 1;
  float noise = 0;       // std of the target noise
  bool shift = true;     // 0.01 * (forward count % 3) on every target
  int nanAtForward = -1; // forward call that yields a NaN loss
};
QuadraticConfig cfg;

class TestQuadraticLayer : public Layer, public StatefulLayer {
public:
  TestQuadraticLayer(const pb::LayerParameter &p, Context &c) : Layer(p, c) {}
  const char *type() const override { return "TestQuadratic"; }
  int minBottoms() const override { return 0; }
  int maxBottoms() const override { return 1; } // optional labels: their mean shifts the targets
  bool isLoss() const override { return true; }
  void setUp(const Blobs &, const Blobs &) override {
    const int64_t n = int64_t(cfg.target.size());
    blobs_.push_back(std::make_shared<Blob>(ctx(), Shape{1, n}));
    blobs_[0]->dataFromHost(cfg.init);
    targets_ = std::make_shared<Blob>(ctx(), Shape{cfg.batch, n});
    dev_ = std::make_shared<Blob>(ctx(), Shape{cfg.batch, n});
    sq_ = std::make_shared<Blob>(ctx(), Shape{cfg.batch, n});
  }
  void reshape(const Blobs &, const Blobs &top) override { top[0]->reshape({}); }
  void forward(const Blobs &bottom, const Blobs &top) override {
    // Uniform noise: one engine draw per value (a normal_distribution caches pairs outside the rng).
    std::uniform_real_distribution<float> uniform(-1.f, 1.f);
    std::vector<float> t;
    float shift = cfg.shift ? 0.01f * float(count_ % 3) : 0.f;
    if (!bottom.empty()) {
      double sum = 0;
      for (float l : bottom[0]->dataToHost())
        sum += l;
      shift += float(0.1 * sum / double(bottom[0]->count()));
    }
    for (int b = 0; b < cfg.batch; ++b)
      for (float x : cfg.target)
        t.push_back(x + shift + (cfg.noise > 0 ? cfg.noise * uniform(ctx().rng) : 0.f));
    if (count_ == cfg.nanAtForward)
      t[0] = std::numeric_limits<float>::quiet_NaN();
    ++count_;
    targets_->dataFromHost(t);
    const float one = 1, minus = -1, zero = 0, half = 0.5f / float(cfg.batch);
    lamina::OpTensorDescriptor add(LAMINA_OP_TENSOR_ADD), mul(LAMINA_OP_TENSOR_MUL);
    // dev = w (broadcast over the batch) - t
    lamina::check(laminaOpTensor(ctx().h(), add.get(), &minus, targets_->desc(), targets_->data(), &one,
                                 blobs_[0]->desc(), blobs_[0]->data(), &zero, dev_->desc(), dev_->mutableData()));
    lamina::check(laminaOpTensor(ctx().h(), mul.get(), &one, dev_->desc(), dev_->data(), &one, dev_->desc(),
                                 dev_->data(), &zero, sq_->desc(), sq_->mutableData()));
    reduceSum(half, *sq_, zero, top[0]->desc(), top[0]->mutableData());
  }
  void backward(const Blobs &top, const std::vector<bool> &, const Blobs &) override {
    // w.diff += loss_weight / B * sum_b dev_b (accumulates, as the contract says)
    const float alpha = top[0]->diffToHost()[0] / float(cfg.batch), one = 1;
    reduceSum(alpha, *dev_, one, blobs_[0]->desc(), blobs_[0]->mutableDiff());
  }
  std::string saveState() const override { return std::to_string(count_); }
  void loadState(const std::string &s) override { count_ = std::stoi(s); }

private:
  // c = alpha * sum over the dims where c is 1 (a workspace when the backend asks for one) + beta * c
  void reduceSum(float alpha, const Blob &a, float beta, laminaTensorDescriptor_t c, float *cData) {
    lamina::ReduceTensorDescriptor sum(LAMINA_REDUCE_TENSOR_ADD);
    const size_t ws = lamina::reductionWorkspaceSize(ctx().h(), sum.get(), a.desc(), c);
    Blob work(ctx(), Shape{int64_t((ws + 3) / 4)});
    lamina::check(laminaReduceTensor(ctx().h(), sum.get(), nullptr, 0, ws ? work.mutableData() : nullptr, ws, &alpha,
                                     a.desc(), a.data(), &beta, c, cData));
  }
  BlobPtr targets_, dev_, sq_;
  int count_ = 0;
};
LAMINA_REGISTER_LAYER(TestQuadratic, TestQuadraticLayer);

std::string device() { return lt::testBackend() == LAMINA_BACKEND_CUDA ? "cuda" : "cpu"; }

pb::SolverParameter solverParam(const std::string &extra) {
  pb::SolverParameter p;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      "net_param { name: 'quad' layer { name: 'quad' type: 'TestQuadratic' top: 'loss' } }\n"
      "base_lr: 0.1 lr_policy: 'fixed' max_iter: 3 random_seed: 5 snapshot_after_train: false\n",
      &p));
  EXPECT_TRUE(google::protobuf::TextFormat::MergeFromString(extra, &p)) << extra; // overrides the defaults above
  return p;
}

struct Training {
  std::unique_ptr<Context> ctx;
  std::unique_ptr<Solver> solver;
  std::vector<float> losses, lrs;
  explicit Training(const pb::SolverParameter &p, const std::string &dataRoot = ".") {
    ctx = std::make_unique<Context>(device());
    ctx->paths.dataRoot = dataRoot;
    solver = Solver::create(p, *ctx);
    solver->log = [](const std::string &) {};
    solver->onIteration = [this](int, float loss, float lr) {
      losses.push_back(loss);
      lrs.push_back(lr);
    };
  }
  std::vector<float> w() { return solver->net().learnableParams()[0].blob->dataToHost(); }
};

void expectNear(const std::vector<float> &got, const std::vector<float> &want, const std::string &what,
                float rel = 2e-5f) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], rel * std::max(1.f, std::fabs(want[i]))) << what << " [" << i << "]";
}

// Host reference of Caffe's updates (float, Caffe's order of operations), no noise.
struct HostSolver {
  std::string type;
  float lr = 0.1f, momentum = 0, momentum2 = 0.999f, delta = 1e-8f, rmsDecay = 0.99f, wd = 0, lrMult = 1, decayMult = 1,
        clip = -1;
  bool l1 = false;
  std::vector<float> w = cfg.init, h0 = std::vector<float>(w.size()), h1 = std::vector<float>(w.size());
  int iter = 0;
  void step() {
    const size_t n = w.size();
    std::vector<float> g(n);
    for (size_t i = 0; i < n; ++i)
      g[i] = w[i] - (cfg.target[i] + 0.01f * float(iter % 3));
    if (clip >= 0) {
      double ss = 0;
      for (float x : g)
        ss += double(x) * x;
      double norm = std::sqrt(ss);
      if (norm > clip)
        for (float &x : g)
          x *= float(clip / norm);
    }
    const float decay = wd * decayMult, r = lr * lrMult;
    for (size_t i = 0; i < n; ++i)
      g[i] += decay * (l1 ? (w[i] > 0 ? 1.f : w[i] < 0 ? -1.f : 0.f) : w[i]);
    for (size_t i = 0; i < n; ++i) {
      float u;
      if (type == "SGD") {
        h0[i] = r * g[i] + momentum * h0[i];
        u = h0[i];
      } else if (type == "Nesterov") {
        float prev = h0[i];
        h0[i] = r * g[i] + momentum * h0[i];
        u = (1 + momentum) * h0[i] - momentum * prev;
      } else if (type == "AdaGrad") {
        h0[i] += g[i] * g[i];
        u = r * (g[i] / (std::sqrt(h0[i]) + delta));
      } else if (type == "RMSProp") {
        h0[i] = (1 - rmsDecay) * g[i] * g[i] + rmsDecay * h0[i];
        u = r * (g[i] / (std::sqrt(h0[i]) + delta));
      } else if (type == "AdaDelta") {
        h0[i] = (1 - momentum) * g[i] * g[i] + momentum * h0[i];
        float v = g[i] * std::sqrt((h1[i] + delta) / (h0[i] + delta));
        h1[i] = (1 - momentum) * v * v + momentum * h1[i];
        u = r * v;
      } else { // Adam
        const int t = iter + 1;
        const float corr =
            float(std::sqrt(1.0 - std::pow(double(momentum2), t)) / (1.0 - std::pow(double(momentum), t)));
        h0[i] = (1 - momentum) * g[i] + momentum * h0[i];
        h1[i] = (1 - momentum2) * g[i] * g[i] + momentum2 * h1[i];
        u = r * corr * (h0[i] / (std::sqrt(h1[i]) + delta));
      }
      w[i] -= u;
    }
    ++iter;
  }
};

void checkAgainstHost(const std::string &extra, HostSolver host, int iters = 3) {
  Training run(solverParam(extra));
  for (int k = 0; k < iters; ++k) {
    run.solver->step(1);
    host.step();
    expectNear(run.w(), host.w, extra + " after update " + std::to_string(k + 1));
  }
}

TEST(Solver, SGDMomentumMatchesCaffe) {
  HostSolver h{"SGD"};
  h.momentum = 0.9f;
  checkAgainstHost("type: 'SGD' momentum: 0.9", h);
}

TEST(Solver, NesterovMatchesCaffe) {
  HostSolver h{"Nesterov"};
  h.momentum = 0.95f;
  checkAgainstHost("type: 'Nesterov' momentum: 0.95", h);
}

TEST(Solver, AdaGradMatchesCaffe) {
  HostSolver h{"AdaGrad"};
  h.delta = 1e-6f;
  checkAgainstHost("type: 'AdaGrad' delta: 1e-6", h);
}

TEST(Solver, RMSPropMatchesCaffe) {
  HostSolver h{"RMSProp"};
  h.rmsDecay = 0.98f;
  h.delta = 1e-6f;
  checkAgainstHost("type: 'RMSProp' rms_decay: 0.98 delta: 1e-6", h);
}

TEST(Solver, AdaDeltaMatchesCaffe) {
  HostSolver h{"AdaDelta"};
  h.momentum = 0.95f;
  h.delta = 1e-6f;
  h.lr = 1.f;
  checkAgainstHost("type: 'AdaDelta' momentum: 0.95 delta: 1e-6 base_lr: 1", h);
}

TEST(Solver, AdamMatchesCaffe) {
  HostSolver h{"Adam"};
  h.momentum = 0.9f;
  h.lr = 0.01f;
  checkAgainstHost("type: 'Adam' momentum: 0.9 momentum2: 0.999 base_lr: 0.01", h);
}

TEST(Solver, LegacySolverTypeEnum) {
  HostSolver h{"Nesterov"};
  h.momentum = 0.9f;
  checkAgainstHost("solver_type: NESTEROV momentum: 0.9", h);
  EXPECT_THROW(Training(solverParam("type: 'Lion'")), SolverError);
}

TEST(Solver, WeightDecayL2WithMultipliers) {
  HostSolver h{"SGD"};
  h.momentum = 0.9f;
  h.wd = 0.05f;
  h.lrMult = 2;
  h.decayMult = 0.5f;
  pb::SolverParameter p = solverParam("type: 'SGD' momentum: 0.9 weight_decay: 0.05");
  auto *spec = p.mutable_net_param()->mutable_layer(0)->add_param();
  spec->set_lr_mult(2);
  spec->set_decay_mult(0.5f);
  Training run(p);
  for (int k = 0; k < 3; ++k) {
    run.solver->step(1);
    h.step();
    expectNear(run.w(), h.w, "L2 with multipliers");
  }
}

TEST(Solver, WeightDecayL1) {
  HostSolver h{"SGD"};
  h.wd = 0.1f;
  h.l1 = true;
  checkAgainstHost("type: 'SGD' weight_decay: 0.1 regularization_type: 'L1'", h);
}

TEST(Solver, ClipGradients) {
  // |g| at the start is about 3.9: clipped to 1 for a few updates, then unclipped with 100.
  HostSolver h{"SGD"};
  h.clip = 1;
  h.momentum = 0.5f;
  checkAgainstHost("type: 'SGD' momentum: 0.5 clip_gradients: 1", h, 4);
  HostSolver big{"SGD"};
  big.clip = 100;
  checkAgainstHost("type: 'SGD' clip_gradients: 100", big);
}

TEST(Solver, LearningRatePolicies) {
  const float base = 0.1f, gamma = 0.9f, power = 0.75f;
  const int maxIter = 30, stepsize = 4;
  struct Case {
    std::string text;
    std::function<double(int)> rate;
  };
  std::vector<Case> cases = {
      {"lr_policy: 'fixed'", [&](int) { return base; }},
      {"lr_policy: 'step' stepsize: 4", [&](int i) { return base * std::pow(gamma, i / stepsize); }},
      {"lr_policy: 'exp'", [&](int i) { return base * std::pow(gamma, i); }},
      {"lr_policy: 'inv'", [&](int i) { return base * std::pow(1 + gamma * i, -power); }},
      {"lr_policy: 'multistep' stepvalue: 3 stepvalue: 7 stepvalue: 20",
       [&](int i) { return base * std::pow(gamma, (i >= 3) + (i >= 7) + (i >= 20)); }},
      {"lr_policy: 'poly'", [&](int i) { return base * std::pow(1 - double(i) / maxIter, power); }},
      {"lr_policy: 'sigmoid' stepsize: 10", [&](int i) { return base / (1 + std::exp(-gamma * (i - 10))); }},
  };
  for (const auto &c : cases) {
    pb::SolverParameter p = solverParam("type: 'SGD' gamma: 0.9 power: 0.75 " + c.text);
    p.set_max_iter(maxIter);
    Training run(p);
    run.solver->solve();
    ASSERT_EQ(run.lrs.size(), size_t(maxIter)) << c.text;
    for (int i = 0; i < maxIter; ++i)
      EXPECT_NEAR(run.lrs[size_t(i)], c.rate(i), 1e-6 * c.rate(i) + 1e-9) << c.text << " at iteration " << i;
  }
  EXPECT_THROW(Training(solverParam("lr_policy: 'cosine'")).solver->step(1), SolverError);
}

TEST(Solver, IterSizeEqualsBatch) {
  // iter_size 2 with batch 1 draws the same targets as iter_size 1 with batch 2; gradient and
  // loss are the same means.
  auto run = [](int iterSize, int batch) {
    cfg.batch = batch;
    cfg.noise = 0.3f;
    cfg.shift = false; // it follows the forward count, which iter_size changes
    Training r(solverParam("type: 'SGD' momentum: 0.9 max_iter: 6 iter_size: " + std::to_string(iterSize)));
    r.solver->solve();
    cfg = QuadraticConfig();
    return std::make_pair(r.w(), r.losses);
  };
  auto a = run(2, 1), b = run(1, 2);
  expectNear(a.first, b.first, "parameters", 1e-5f);
  expectNear(a.second, b.second, "losses", 1e-5f);
}

class TempDir {
public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("lamina_solver_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string str() const { return path_.string(); }

private:
  std::filesystem::path path_;
  static inline int counter_ = 0;
};

TEST(Solver, SnapshotResumesExactly) {
  for (const char *type : {"type: 'SGD' momentum: 0.9 lr_policy: 'multistep' stepvalue: 2 stepvalue: 6 gamma: 0.5",
                           "type: 'Adam' momentum: 0.9 base_lr: 0.05", "type: 'AdaDelta' momentum: 0.9 base_lr: 1"}) {
    TempDir dir;
    cfg.noise = 0.2f;
    const std::string text = std::string(type) + " max_iter: 10 snapshot: 4 snapshot_prefix: 'quad' average_loss: 3";
    Training full(solverParam(text), dir.str());
    full.solver->solve();
    Training resumed(solverParam(text), dir.str());
    resumed.solver->restore(dir.str() + "/quad_iter_4.lamina-state");
    EXPECT_EQ(resumed.solver->iter(), 4);
    resumed.solver->solve();
    cfg = QuadraticConfig();
    ASSERT_EQ(full.losses.size(), 10u);
    ASSERT_EQ(resumed.losses.size(), 6u);
    for (size_t i = 0; i < 6; ++i) {
      EXPECT_EQ(resumed.losses[i], full.losses[i + 4]) << type << " loss at iteration " << i + 4;
      EXPECT_EQ(resumed.lrs[i], full.lrs[i + 4]) << type << " lr at iteration " << i + 4;
    }
    EXPECT_EQ(resumed.w(), full.w()) << type;
    EXPECT_EQ(resumed.solver->smoothedLoss(), full.solver->smoothedLoss()) << type;
    // The iteration-8 snapshot and the run's end (snapshot_after_train is off in solverParam; the
    // 8 comes from `snapshot: 4`) are there.
    EXPECT_TRUE(std::filesystem::exists(dir.str() + "/quad_iter_8.lamina-weights"));
  }
}

TEST(Solver, SnapshotRestoresDataPosition) {
  // A Data layer (7 records, batch 2, prefetching) feeds labels whose mean moves the targets: the
  // resumed run must continue from the saved read position to give the same losses.
  TempDir dir;
  {
    LmdbWriter w(dir.str() + "/db");
    for (int i = 0; i < 7; ++i) {
      pb::Datum d;
      d.set_channels(1);
      d.set_height(1);
      d.set_width(1);
      d.set_label(i);
      d.set_data(std::string(1, char(i)));
      w.put("k" + std::to_string(i), d.SerializeAsString());
    }
    w.commit();
  }
  pb::SolverParameter p = solverParam("type: 'SGD' momentum: 0.9 max_iter: 9 snapshot: 5 snapshot_prefix: 'd'");
  google::protobuf::TextFormat::ParseFromString(
      "name: 'quad' layer { name: 'data' type: 'Data' top: 'data' top: 'label' data_param { source: '" + dir.str() +
          "/db' batch_size: 2 backend: LMDB } }\n"
          "layer { name: 'quad' type: 'TestQuadratic' bottom: 'label' top: 'loss' }",
      p.mutable_net_param());
  Training full(p, dir.str());
  full.solver->solve();
  Training resumed(p, dir.str());
  resumed.solver->restore(dir.str() + "/d_iter_5.lamina-state");
  resumed.solver->solve();
  ASSERT_EQ(full.losses.size(), 9u);
  ASSERT_EQ(resumed.losses.size(), 4u);
  for (size_t i = 0; i < 4; ++i)
    EXPECT_EQ(resumed.losses[i], full.losses[i + 5]) << "loss at iteration " << i + 5;
  EXPECT_EQ(resumed.w(), full.w());
  // Records 10, 11 (mod 7) come next after 5 batches of 2: the position was restored.
  Training probe(p, dir.str());
  probe.solver->restore(dir.str() + "/d_iter_5.lamina-state");
  auto *data = dynamic_cast<DataLayer *>(probe.solver->net().layers()[0].get());
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->position(), 10u);
}

TEST(Solver, WeightsFileRoundTripAndErrors) {
  TempDir dir;
  Training a(solverParam("type: 'SGD' max_iter: 2"), dir.str());
  a.solver->solve();
  const std::string w = dir.str() + "/w.lamina-weights";
  saveWeights(a.solver->net(), w);
  Training b(solverParam("type: 'SGD'"), dir.str());
  b.solver->loadWeights(w);
  EXPECT_EQ(b.w(), a.w());
  // A truncated file and a file of another kind get errors, never a crash.
  std::filesystem::resize_file(w, std::filesystem::file_size(w) - 3);
  EXPECT_THROW(b.solver->loadWeights(w), SnapshotError);
  const std::string state = a.solver->snapshot();
  EXPECT_THROW(b.solver->loadWeights(state), SnapshotError);
  EXPECT_THROW(b.solver->restore(w), SnapshotError);
  Training adam(solverParam("type: 'Adam'"), dir.str());
  EXPECT_THROW(adam.solver->restore(state), SnapshotError); // written by SGD
}

TEST(Solver, StopRequestSnapshots) {
  TempDir dir;
  Training run(solverParam("type: 'SGD' max_iter: 100 snapshot_prefix: 'stop'"), dir.str());
  run.solver->onIteration = [&](int it, float, float) {
    if (it == 6)
      run.solver->requestStop();
  };
  run.solver->solve();
  EXPECT_EQ(run.solver->iter(), 7);
  EXPECT_TRUE(run.solver->stopped());
  EXPECT_EQ(run.solver->lastSnapshot(), dir.str() + "/stop_iter_7.lamina-state");
  EXPECT_TRUE(std::filesystem::exists(dir.str() + "/stop_iter_7.lamina-weights"));
}

TEST(Solver, NaNLossStops) {
  cfg.nanAtForward = 3;
  Training run(solverParam("type: 'SGD' max_iter: 10"));
  try {
    run.solver->solve();
    ADD_FAILURE() << "no error for a NaN loss";
  } catch (const SolverError &e) {
    EXPECT_NE(std::string(e.what()).find("loss is NaN at iteration 3"), std::string::npos) << e.what();
  }
  cfg = QuadraticConfig();
  EXPECT_EQ(run.solver->iter(), 3);
}

TEST(Solver, TestNetsAverageOutputs) {
  // The generic net in TEST phase: test_iter 2, every 2 iterations and at the start; the test net
  // gets the train net's weights, so its loss is the train loss before the update.
  pb::SolverParameter p = solverParam("type: 'SGD' max_iter: 4 test_iter: 2 test_interval: 2 display: 1");
  Training run(p);
  std::vector<std::pair<int, float>> tests;
  run.solver->onTest = [&](int it, const std::vector<TestResult> &r) {
    ASSERT_EQ(r.size(), 1u);
    ASSERT_EQ(r[0].outputs.size(), 1u);
    EXPECT_EQ(r[0].outputs[0].first, "loss");
    EXPECT_EQ(r[0].lossWeights[0], 1.f);
    tests.emplace_back(it, r[0].outputs[0].second);
  };
  std::vector<std::string> lines;
  run.solver->log = [&](const std::string &l) { lines.push_back(l); };
  run.solver->solve();
  ASSERT_EQ(tests.size(), 3u); // iterations 0, 2 and 4
  EXPECT_EQ(tests[0].first, 0);
  EXPECT_EQ(tests[2].first, 4);
  // Iteration 0: w = init; the test layer's shifts for its forwards 0 and 1 are 0 and 0.01.
  double want = 0;
  for (int k = 0; k < 2; ++k)
    for (size_t i = 0; i < cfg.init.size(); ++i) {
      double d = cfg.init[i] - (cfg.target[i] + 0.01 * k);
      want += 0.25 * d * d;
    }
  EXPECT_NEAR(tests[0].second, want, 1e-5 * want);
  bool sawTest = false, sawIter = false;
  for (const auto &l : lines) {
    sawTest = sawTest || l.rfind("test net 0: loss = ", 0) == 0;
    sawIter = sawIter || (l.rfind("iter 2  loss ", 0) == 0 && l.find("  lr 0.1") != std::string::npos);
  }
  EXPECT_TRUE(sawTest);
  EXPECT_TRUE(sawIter);
}

TEST(Solver, TestStatesSelectLayers) {
  // Two instances of the generic net, told apart by test_state stages; the train net by train_state.
  pb::SolverParameter p = solverParam("type: 'SGD' max_iter: 1 test_iter: 1 test_iter: 1 test_interval: 1 "
                                      "test_state { stage: 'a' } test_state { stage: 'b' } "
                                      "train_state { stage: 'b' }");
  google::protobuf::TextFormat::ParseFromString(
      "name: 'staged' layer { name: 'qa' type: 'TestQuadratic' top: 'loss_a' include { stage: 'a' } }\n"
      "layer { name: 'qb' type: 'TestQuadratic' top: 'loss_b' include { stage: 'b' } }",
      p.mutable_net_param());
  Training run(p);
  ASSERT_EQ(run.solver->testNets().size(), 2u);
  std::vector<std::string> names;
  run.solver->onTest = [&](int, const std::vector<TestResult> &r) {
    for (const auto &t : r)
      for (const auto &o : t.outputs)
        names.push_back(o.first);
  };
  run.solver->solve();
  EXPECT_EQ(names, (std::vector<std::string>{"loss_a", "loss_b", "loss_a", "loss_b"})); // iterations 0 and 1
  EXPECT_EQ(run.solver->net().layers().size(), 1u);
  EXPECT_EQ(run.solver->net().layers()[0]->name(), "qb");
}

TEST(Solver, BadSolverFiles) {
  pb::SolverParameter p = solverParam("");
  p.add_test_iter(5); // the generic net gives one test net; fine
  p.add_test_state();
  p.add_test_state(); // but two test states
  EXPECT_THROW(Training{p}, SolverError);
  pb::SolverParameter none = solverParam("");
  none.clear_net_param();
  EXPECT_THROW(Training{none}, SolverError);
  EXPECT_THROW(Training(solverParam("type: 'AdaGrad' momentum: 0.9")), SolverError);
}

} // namespace
} // namespace lamina::engine
