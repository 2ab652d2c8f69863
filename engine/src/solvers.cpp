// The update rules, in Caffe's exact order of operations (so results match Caffe's formulas bit
// for bit where float rounding allows). Each leaves the step in the parameter's diff; the solver
// loop then applies data -= diff. h = history, g = diff (gradient with weight decay), r = lr.
#include "engine/src/solver.h"

#include <algorithm>
#include <cmath>

namespace lamina::engine {

namespace {

// SGD with momentum: h = r g + m h; step = h.
class SGDSolver : public Solver {
public:
  using Solver::Solver;

protected:
  const char *type() const override { return "SGD"; }
  void update(size_t i, float lr) override {
    Blob &p = *net_->learnableParams()[i].blob;
    float *h = history_[i][0]->mutableData();
    axpby(i, lr, p.diff(), param_.momentum(), h);
    axpby(i, 1.f, h, 0.f, p.mutableDiff());
  }
};

// Nesterov: h' = r g + m h; step = (1 + m) h' - m h.
class NesterovSolver : public Solver {
public:
  using Solver::Solver;

protected:
  const char *type() const override { return "Nesterov"; }
  void update(size_t i, float lr) override {
    Blob &p = *net_->learnableParams()[i].blob;
    float *h = history_[i][0]->mutableData(), *prev = tmp(i);
    const float m = param_.momentum();
    axpby(i, 1.f, h, 0.f, prev);
    axpby(i, lr, p.diff(), m, h);
    axpby(i, 1.f + m, h, -m, prev);
    axpby(i, 1.f, prev, 0.f, p.mutableDiff());
  }
};

// AdaGrad: h += g^2; step = r g / (sqrt(h) + delta).
class AdaGradSolver : public Solver {
public:
  AdaGradSolver(const pb::SolverParameter &p, Context &c) : Solver(p, c) {
    if (param_.momentum() != 0)
      throw SolverError("AdaGrad does not use momentum (it is " + std::to_string(param_.momentum()) + ")");
  }

protected:
  const char *type() const override { return "AdaGrad"; }
  void update(size_t i, float lr) override {
    Blob &p = *net_->learnableParams()[i].blob;
    float *h = history_[i][0]->mutableData(), *t = tmp(i);
    mul(i, p.diff(), p.diff(), t);
    axpby(i, 1.f, t, 1.f, h);
    sqrtPlus(i, h, param_.delta(), t);
    div(i, p.diff(), t, t);
    axpby(i, lr, t, 0.f, p.mutableDiff());
  }
};

// RMSProp: h = (1 - d) g^2 + d h; step = r g / (sqrt(h) + delta), d = rms_decay.
class RMSPropSolver : public Solver {
public:
  RMSPropSolver(const pb::SolverParameter &p, Context &c) : Solver(p, c) {
    if (param_.momentum() != 0)
      throw SolverError("RMSProp does not use momentum (it is " + std::to_string(param_.momentum()) + ")");
    if (param_.rms_decay() < 0 || param_.rms_decay() >= 1)
      throw SolverError("rms_decay must be in [0, 1)");
  }

protected:
  const char *type() const override { return "RMSProp"; }
  void update(size_t i, float lr) override {
    Blob &p = *net_->learnableParams()[i].blob;
    const float d = param_.rms_decay();
    float *h = history_[i][0]->mutableData(), *t = tmp(i);
    mul(i, p.diff(), p.diff(), t);
    axpby(i, 1.f - d, t, d, h);
    sqrtPlus(i, h, param_.delta(), t);
    div(i, p.diff(), t, p.mutableDiff());
    axpby(i, lr, p.diff(), 0.f, p.mutableDiff());
  }
};

// AdaDelta (momentum = decay m): h0 = (1 - m) g^2 + m h0; u = g sqrt((h1 + delta) / (h0 + delta));
// h1 = (1 - m) u^2 + m h1; step = r u.
class AdaDeltaSolver : public Solver {
public:
  using Solver::Solver;

protected:
  const char *type() const override { return "AdaDelta"; }
  int historyCount() const override { return 2; }
  void update(size_t i, float lr) override {
    Blob &p = *net_->learnableParams()[i].blob;
    const float m = param_.momentum(), delta = param_.delta();
    float *h0 = history_[i][0]->mutableData(), *h1 = history_[i][1]->mutableData(), *t = tmp(i);
    mul(i, p.diff(), p.diff(), t);
    axpby(i, 1.f - m, t, m, h0);
    // t = sqrt((h1 + delta) / (h0 + delta))
    addScalar(i, h1, delta, t);
    Blob &den = denominator(i);
    addScalar(i, h0, delta, den.mutableData());
    div(i, t, den.data(), t);
    sqrt(i, t, t);
    mul(i, p.diff(), t, p.mutableDiff());
    mul(i, p.diff(), p.diff(), t);
    axpby(i, 1.f - m, t, m, h1);
    axpby(i, lr, p.diff(), 0.f, p.mutableDiff());
  }

private:
  Blob &denominator(size_t i) {
    if (den_.size() <= i)
      den_.resize(net_->learnableParams().size());
    if (!den_[i])
      den_[i] = std::make_shared<Blob>(ctx_, Shape{std::max<int64_t>(net_->learnableParams()[i].blob->count(), 1)});
    return *den_[i];
  }
  std::vector<BlobPtr> den_; // h0 + delta (scratch)
};

// Adam (beta1 = momentum, beta2 = momentum2, t = iter + 1): m = (1 - b1) g + b1 m;
// v = (1 - b2) g^2 + b2 v; step = r sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + delta).
class AdamSolver : public Solver {
public:
  using Solver::Solver;

protected:
  const char *type() const override { return "Adam"; }
  int historyCount() const override { return 2; }
  void update(size_t i, float lr) override {
    Blob &p = *net_->learnableParams()[i].blob;
    const float b1 = param_.momentum(), b2 = param_.momentum2();
    const int t = iter_ + 1;
    // In double, as Caffe's pow(Dtype, int) promotes, then rounded once.
    const float correction = float(std::sqrt(1.0 - std::pow(double(b2), t)) / (1.0 - std::pow(double(b1), t)));
    float *m = history_[i][0]->mutableData(), *v = history_[i][1]->mutableData(), *u = tmp(i);
    axpby(i, 1.f - b1, p.diff(), b1, m);
    mul(i, p.diff(), p.diff(), u);
    axpby(i, 1.f - b2, u, b2, v);
    sqrtPlus(i, v, param_.delta(), u);
    div(i, m, u, u);
    axpby(i, lr * correction, u, 0.f, p.mutableDiff());
  }
};

} // namespace

std::unique_ptr<Solver> Solver::create(const pb::SolverParameter &param, Context &ctx) {
  std::string type = param.type();
  if (!param.has_type() && param.has_solver_type()) {
    static const char *legacy[] = {"SGD", "Nesterov", "AdaGrad", "RMSProp", "AdaDelta", "Adam"};
    type = legacy[int(param.solver_type())];
  }
  if (type == "SGD")
    return std::make_unique<SGDSolver>(param, ctx);
  if (type == "Nesterov")
    return std::make_unique<NesterovSolver>(param, ctx);
  if (type == "AdaGrad")
    return std::make_unique<AdaGradSolver>(param, ctx);
  if (type == "RMSProp")
    return std::make_unique<RMSPropSolver>(param, ctx);
  if (type == "AdaDelta")
    return std::make_unique<AdaDeltaSolver>(param, ctx);
  if (type == "Adam")
    return std::make_unique<AdamSolver>(param, ctx);
  throw SolverError("unknown solver type '" + type + "' (SGD, Nesterov, AdaGrad, RMSProp, AdaDelta, Adam)");
}

} // namespace lamina::engine
