// Activation, softmax, loss and accuracy layers: forward values against host fp64 references,
// finite-difference gradient checks, in-place activations, SoftmaxWithLoss's ignore_label and
// normalizations, Accuracy's top_k with ties. Runs on the backend of LAMINA_TEST_BACKEND.
#include "common/test_util.h"
#include "engine/src/layer.h"
#include "engine/tests/grad_check.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <random>

using namespace lamina::engine;
using lamina::engine::testing::checkGradients;
using lamina::engine::testing::GradCheckOptions;

namespace {

std::string testDevice() { return lt::testBackend() == LAMINA_BACKEND_CUDA ? "cuda" : "cpu"; }

pb::LayerParameter parseLayer(const std::string &text) {
  pb::LayerParameter p;
  if (!google::protobuf::TextFormat::ParseFromString(text, &p))
    throw std::runtime_error("bad test layer text: " + text);
  if (p.name().empty())
    p.set_name("under_test");
  return p;
}

// Uniform in [lo, hi], with |x| >= gap (away from kinks at 0).
std::vector<float> randomValues(int64_t n, float lo, float hi, uint64_t seed, float gap = 0.f) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float &x : v) {
    do
      x = u(rng);
    while (std::fabs(x) < gap);
  }
  return v;
}

::testing::AssertionResult near(const std::vector<float> &got, const std::vector<double> &want, double tol) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << "sizes " << got.size() << " vs " << want.size();
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(got[i] - want[i]) <= tol * std::max(1.0, std::fabs(want[i]))))
      return ::testing::AssertionFailure() << "[" << i << "]: got " << got[i] << ", want " << want[i];
  return ::testing::AssertionSuccess();
}

class ActLossLayers : public ::testing::Test {
protected:
  Context ctx{testDevice()};
  std::unique_ptr<Layer> make(const std::string &text) { return createLayer(parseLayer(text), ctx); }
  std::unique_ptr<Blob> blob(const Shape &s, const std::vector<float> &v) {
    auto b = std::make_unique<Blob>(ctx, s);
    b->dataFromHost(v);
    return b;
  }
  // setUp + reshape + forward; returns top[0]'s data.
  std::vector<float> run(Layer &l, const Blobs &bottom, const Blobs &top) {
    l.setUp(bottom, top);
    l.reshape(bottom, top);
    l.forward(bottom, top);
    return top[0]->dataToHost();
  }
};

TEST_F(ActLossLayers, AllTypesRegistered) {
  for (const char *t : {"ReLU", "Sigmoid", "TanH", "ELU", "Power", "Softmax", "SoftmaxWithLoss", "Accuracy",
                        "EuclideanLoss", "SigmoidCrossEntropyLoss"})
    EXPECT_TRUE(layerRegistry().count(t)) << t;
}

// ---------------------------------------------------------------- activations

struct ActivationCase {
  std::string text;
  std::function<double(double)> f, df; // the function and its derivative
};

std::vector<ActivationCase> activationCases() {
  auto leaky = [](double s) {
    return ActivationCase{"type: 'ReLU' relu_param { negative_slope: " + std::to_string(s) + " }",
                          [s](double x) { return x > 0 ? x : s * x; }, [s](double x) { return x > 0 ? 1.0 : s; }};
  };
  auto elu = [](double a, const std::string &text) {
    return ActivationCase{text, [a](double x) { return x > 0 ? x : a * (std::exp(x) - 1); },
                          [a](double x) { return x > 0 ? 1.0 : a * std::exp(x); }};
  };
  auto sig = [](double x) { return 1 / (1 + std::exp(-x)); };
  return {
      {"type: 'ReLU'", [](double x) { return x > 0 ? x : 0; }, [](double x) { return x > 0 ? 1.0 : 0.0; }},
      leaky(0.1),
      leaky(-0.5), // a negative slope: in place, the input must be kept for the backward
      {"type: 'Sigmoid'", sig, [sig](double x) { return sig(x) * (1 - sig(x)); }},
      {"type: 'TanH'", [](double x) { return std::tanh(x); }, [](double x) { return 1 - std::tanh(x) * std::tanh(x); }},
      elu(1.0, "type: 'ELU'"),
      elu(0.3, "type: 'ELU' elu_param { alpha: 0.3 }"),
  };
}

TEST_F(ActLossLayers, ActivationsForwardAndGradients) {
  const Shape shape{2, 3, 4, 5};
  for (const auto &c : activationCases()) {
    SCOPED_TRACE(c.text);
    const auto xs = randomValues(shapeCount(shape), -3.f, 3.f, 11, 0.05f);
    auto x = blob(shape, xs);
    Blob y(ctx);
    auto l = make(c.text);
    std::vector<double> want;
    for (float v : xs)
      want.push_back(c.f(v));
    EXPECT_TRUE(near(run(*l, {x.get()}, {&y}), want, 1e-5));
    auto g = make(c.text);
    EXPECT_TRUE(checkGradients(*g, {x.get()}, {&y}));
  }
}

TEST_F(ActLossLayers, ActivationsInPlace) {
  const Shape shape{3, 2, 5};
  for (const auto &c : activationCases()) {
    SCOPED_TRACE(c.text);
    const auto xs = randomValues(shapeCount(shape), -3.f, 3.f, 12, 0.05f);
    const auto dys = randomValues(shapeCount(shape), -1.f, 1.f, 13);
    auto xy = blob(shape, xs);
    auto l = make(c.text);
    ASSERT_TRUE(l->allowsInPlace());
    std::vector<double> want, wantDx;
    for (size_t i = 0; i < xs.size(); ++i) {
      want.push_back(c.f(xs[i]));
      wantDx.push_back(c.df(xs[i]) * dys[i]);
    }
    EXPECT_TRUE(near(run(*l, {xy.get()}, {xy.get()}), want, 1e-5));
    xy->diffFromHost(dys);
    l->backward({xy.get()}, {true}, {xy.get()});
    EXPECT_TRUE(near(xy->diffToHost(), wantDx, 1e-5));
  }
}

TEST_F(ActLossLayers, EluNegativeAlphaIsANetError) {
  auto x = blob({2, 2}, {1, 2, 3, 4});
  Blob y(ctx);
  auto l = make("name: 'elu1' type: 'ELU' elu_param { alpha: -1 }");
  EXPECT_THROW(l->setUp({x.get()}, {&y}), NetError);
}

// ---------------------------------------------------------------- power

TEST_F(ActLossLayers, PowerForwardAndGradients) {
  struct Case {
    double power, scale, shift;
    float lo, hi;
  };
  // Inputs keep shift + scale * x positive where power is fractional or negative.
  const Case cases[] = {
      {2, 0.5, 1, -2, 2}, {3, -1, 0.5, -2, 2},                      // negative bases with integer powers
      {0.5, 2, 3, -1, 1}, {-1, 1, 3, -1, 1},   {1.5, 1, 0, 0.5, 2}, // shift 0
      {1, 2, -1, -2, 2},  {0, 3, 2, -2, 2},                         // power 1; power 0: y = 1
      {2, 0, 3, -2, 2},   {2.5, 1, 0, 0.5, 2},                      // scale 0: y = shift^power
  };
  const Shape shape{2, 3, 4};
  for (const auto &c : cases) {
    const std::string text = "type: 'Power' power_param { power: " + std::to_string(c.power) +
                             " scale: " + std::to_string(c.scale) + " shift: " + std::to_string(c.shift) + " }";
    SCOPED_TRACE(text);
    const auto xs = randomValues(shapeCount(shape), c.lo, c.hi, 21);
    auto x = blob(shape, xs);
    Blob y(ctx);
    std::vector<double> want;
    for (float v : xs)
      want.push_back(c.power * c.scale == 0 ? (c.power == 0 ? 1.0 : std::pow(c.shift, c.power))
                                            : std::pow(c.shift + c.scale * v, c.power));
    auto l = make(text);
    EXPECT_TRUE(near(run(*l, {x.get()}, {&y}), want, 1e-5));
    auto g = make(text);
    GradCheckOptions o;
    o.step = 1e-3f;
    EXPECT_TRUE(checkGradients(*g, {x.get()}, {&y}, o));
  }
}

// ---------------------------------------------------------------- softmax

// Softmax over `axis` of a packed host array, in fp64.
std::vector<double> softmaxRef(const std::vector<float> &x, const Shape &s, int axis) {
  const int64_t outer = shapeCount(s, 0, axis), c = s[size_t(axis)], inner = shapeCount(s, axis + 1);
  std::vector<double> y(x.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t k) { return size_t((o * c + k) * inner + i); };
      double m = -1e300, sum = 0;
      for (int64_t k = 0; k < c; ++k)
        m = std::max(m, double(x[at(k)]));
      for (int64_t k = 0; k < c; ++k)
        sum += std::exp(x[at(k)] - m);
      for (int64_t k = 0; k < c; ++k)
        y[at(k)] = std::exp(x[at(k)] - m) / sum;
    }
  return y;
}

TEST_F(ActLossLayers, SoftmaxAxes) {
  struct Case {
    Shape shape;
    int axis; // as written in the prototxt
  };
  for (const Case &c : {Case{{2, 5, 3, 2}, 1}, Case{{3, 4, 6}, -1}, Case{{4, 3}, 0}, Case{{2, 3, 4, 2}, 2}}) {
    const std::string text = "type: 'Softmax' softmax_param { axis: " + std::to_string(c.axis) + " }";
    SCOPED_TRACE(text + " on " + shapeString(c.shape));
    const auto xs = randomValues(shapeCount(c.shape), -4.f, 4.f, 31);
    auto x = blob(c.shape, xs);
    Blob y(ctx);
    auto l = make(text);
    const int axis = c.axis < 0 ? c.axis + int(c.shape.size()) : c.axis;
    EXPECT_TRUE(near(run(*l, {x.get()}, {&y}), softmaxRef(xs, c.shape, axis), 1e-5));
    auto g = make(text);
    EXPECT_TRUE(checkGradients(*g, {x.get()}, {&y}));
  }
}

TEST_F(ActLossLayers, SoftmaxBadAxisIsANetError) {
  auto x = blob({2, 3}, {1, 2, 3, 4, 5, 6});
  Blob y(ctx);
  auto l = make("name: 'prob' type: 'Softmax' softmax_param { axis: 2 }");
  l->setUp({x.get()}, {&y});
  try {
    l->reshape({x.get()}, {&y});
    FAIL() << "no error";
  } catch (const NetError &e) {
    EXPECT_NE(std::string(e.what()).find("'prob'"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------- SoftmaxWithLoss

struct SoftmaxLossRef {
  double loss = 0;
  std::vector<double> grad; // d loss / d x for loss weight 1
};

// mode: "VALID", "FULL", "BATCH_SIZE", "NONE"; ignore < -1000 means none.
SoftmaxLossRef softmaxLossRef(const std::vector<float> &x, const Shape &s, const std::vector<float> &labels,
                              const std::string &mode, int ignore) {
  const int64_t outer = s[0], c = s[1], inner = shapeCount(s, 2);
  const auto p = softmaxRef(x, s, 1);
  SoftmaxLossRef r;
  r.grad.assign(x.size(), 0.0);
  int64_t valid = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const int label = int(labels[size_t(o * inner + i)]);
      if (label == ignore)
        continue;
      ++valid;
      r.loss -= std::log(p[size_t((o * c + label) * inner + i)]);
      for (int64_t k = 0; k < c; ++k) {
        const size_t at = size_t((o * c + k) * inner + i);
        r.grad[at] = p[at] - (k == label ? 1.0 : 0.0);
      }
    }
  double n = mode == "VALID"        ? double(valid)
             : mode == "FULL"       ? double(outer * inner)
             : mode == "BATCH_SIZE" ? outer
                                    : 1;
  n = std::max(n, 1.0);
  r.loss /= n;
  for (double &g : r.grad)
    g /= n;
  return r;
}

TEST_F(ActLossLayers, SoftmaxWithLossNormalizationsAndIgnoreLabel) {
  const Shape shape{3, 4, 2, 3}, labelShape{3, 1, 2, 3};
  const auto xs = randomValues(shapeCount(shape), -3.f, 3.f, 41);
  std::vector<float> labels(size_t(shapeCount(labelShape)));
  std::mt19937_64 rng(42);
  for (float &l : labels)
    l = float(rng() % 4);
  labels[1] = labels[7] = labels[12] = -1; // ignored where ignore_label is -1

  struct Case {
    std::string lossParam, mode;
    int ignore;
  };
  const Case cases[] = {
      {"", "VALID", -10000}, // the default
      {"loss_param { ignore_label: -1 }", "VALID", -1},
      {"loss_param { ignore_label: -1 normalization: FULL }", "FULL", -1},
      {"loss_param { ignore_label: -1 normalization: BATCH_SIZE }", "BATCH_SIZE", -1},
      {"loss_param { ignore_label: -1 normalization: NONE }", "NONE", -1},
      {"loss_param { ignore_label: -1 normalize: false }", "BATCH_SIZE", -1}, // legacy flag
      {"loss_param { ignore_label: -1 normalize: true }", "VALID", -1},
      {"loss_param { ignore_label: 2 }", "VALID", 2}, // an in-range class ignored
  };
  for (const auto &c : cases) {
    const std::string text = "type: 'SoftmaxWithLoss' " + c.lossParam;
    SCOPED_TRACE(text);
    std::vector<float> ls = labels;
    if (c.ignore == -10000 || c.ignore == 2)
      for (float &l : ls)
        if (l < 0)
          l = 3; // every label valid
    auto x = blob(shape, xs);
    auto lab = blob(labelShape, ls);
    Blob loss(ctx);
    auto l = make(text);
    ASSERT_TRUE(l->isLoss());
    const auto ref = softmaxLossRef(xs, shape, ls, c.mode, c.ignore);
    const auto got = run(*l, {x.get(), lab.get()}, {&loss});
    ASSERT_EQ(got.size(), 1u);
    EXPECT_NEAR(got[0], ref.loss, 1e-5 * std::max(1.0, ref.loss));
    // Backward with a loss weight of 3 in the top diff.
    loss.diffFromHost({3.f});
    x->setDiff(123.f);
    l->backward({&loss}, {true, false}, {x.get(), lab.get()});
    std::vector<double> want = ref.grad;
    for (double &g : want)
      g *= 3;
    EXPECT_TRUE(near(x->diffToHost(), want, 1e-5));
    auto g = make(text);
    GradCheckOptions o;
    o.checkBottom = {true, false};
    EXPECT_TRUE(checkGradients(*g, {x.get(), lab.get()}, {&loss}, o));
  }
}

TEST_F(ActLossLayers, SoftmaxWithLossProbTopAndAxis) {
  // Scores N x C with the classes on axis 1, the probabilities as the second top.
  const Shape shape{5, 7};
  const auto xs = randomValues(shapeCount(shape), -5.f, 5.f, 51);
  auto x = blob(shape, xs);
  auto lab = blob({5}, {0, 6, 3, 3, 1});
  Blob loss(ctx), prob(ctx);
  auto l = make("type: 'SoftmaxWithLoss' top: 'loss' top: 'prob'");
  run(*l, {x.get(), lab.get()}, {&loss, &prob});
  EXPECT_EQ(loss.count(), 1);
  EXPECT_TRUE(near(prob.dataToHost(), softmaxRef(xs, shape, 1), 1e-5));
  EXPECT_NEAR(loss.dataToHost()[0], softmaxLossRef(xs, shape, {0, 6, 3, 3, 1}, "VALID", -10000).loss, 1e-5);
}

TEST_F(ActLossLayers, SoftmaxWithLossBadLabelsAreNetErrors) {
  auto x = blob({2, 3}, {1, 2, 3, 4, 5, 6});
  Blob loss(ctx);
  {
    auto lab = blob({2}, {0, 3}); // 3 classes: label 3 is out of range
    auto l = make("name: 'loss' type: 'SoftmaxWithLoss'");
    EXPECT_THROW(run(*l, {x.get(), lab.get()}, {&loss}), NetError);
  }
  {
    auto lab = blob({3}, {0, 1, 2}); // one label too many
    auto l = make("name: 'loss' type: 'SoftmaxWithLoss'");
    l->setUp({x.get(), lab.get()}, {&loss});
    EXPECT_THROW(l->reshape({x.get(), lab.get()}, {&loss}), NetError);
  }
}

// ---------------------------------------------------------------- Accuracy

// Caffe's rule: correct when at most k classes (the true one included) score >= the true class.
double accuracyRef(const std::vector<float> &x, const Shape &s, int axis, const std::vector<float> &labels, int k,
                   int ignore) {
  const int64_t outer = shapeCount(s, 0, axis), c = s[size_t(axis)], inner = shapeCount(s, axis + 1);
  int64_t correct = 0, counted = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const int label = int(labels[size_t(o * inner + i)]);
      if (label == ignore)
        continue;
      ++counted;
      // Rank the classes: higher score first, and among equal scores the true class last.
      std::vector<int64_t> order(static_cast<size_t>(c));
      std::iota(order.begin(), order.end(), 0);
      auto score = [&](int64_t k) { return x[size_t((o * c + k) * inner + i)]; };
      std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        if (score(a) != score(b))
          return score(a) > score(b);
        return (a != label) && (b == label || a < b);
      });
      const auto pos = std::find(order.begin(), order.end(), int64_t(label)) - order.begin();
      correct += pos < k;
    }
  return counted ? double(correct) / double(counted) : 0.0;
}

TEST_F(ActLossLayers, AccuracyTopKWithTies) {
  // Row 0: classes 1 and 2 tie at the top with label 1: wrong at top-1, right at top-2.
  // Row 2: three-way tie with label 2: right only at top-3.
  const std::vector<float> scores = {0.1f, 0.5f, 0.5f, 0.2f, 0.9f, 0.1f, 0.3f, 0.2f,
                                     0.3f, 0.3f, 0.3f, 0.1f, 0.0f, 0.2f, 0.1f, 0.4f};
  const std::vector<float> labels = {1, 0, 2, 1};
  struct Case {
    std::string param;
    double want;
  };
  const Case cases[] = {
      {"", 0.25},
      {"accuracy_param { top_k: 2 }", 0.75},
      {"accuracy_param { top_k: 3 }", 1.0},
      {"accuracy_param { top_k: 1 ignore_label: 0 }", 0.0},
      {"accuracy_param { top_k: 2 ignore_label: 2 }", 1.0},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.param);
    auto x = blob({4, 4}, scores);
    auto lab = blob({4}, labels);
    Blob acc(ctx);
    auto l = make("type: 'Accuracy' " + c.param);
    const auto got = run(*l, {x.get(), lab.get()}, {&acc});
    ASSERT_EQ(got.size(), 1u);
    EXPECT_NEAR(got[0], c.want, 1e-6);
  }
}

TEST_F(ActLossLayers, AccuracySpatialAxisAgainstReference) {
  // Scores 3 x 6 x 4 with coarse values (many ties), classes on axis 1, labels 3 x 4.
  const Shape shape{3, 6, 4};
  std::mt19937_64 rng(61);
  std::vector<float> xs(size_t(shapeCount(shape))), labels(12);
  for (float &v : xs)
    v = float(rng() % 4);
  for (float &v : labels)
    v = float(rng() % 6);
  for (int k = 1; k <= 4; ++k) {
    const std::string text = "type: 'Accuracy' accuracy_param { top_k: " + std::to_string(k) + " ignore_label: 5 }";
    SCOPED_TRACE(text);
    auto x = blob(shape, xs);
    auto lab = blob({3, 4}, labels);
    Blob acc(ctx);
    auto l = make(text);
    EXPECT_NEAR(run(*l, {x.get(), lab.get()}, {&acc})[0], accuracyRef(xs, shape, 1, labels, k, 5), 1e-6);
  }
}

TEST_F(ActLossLayers, AccuracyUnsupportedRequestsAreNetErrors) {
  auto x = blob({2, 3}, {1, 2, 3, 4, 5, 6});
  auto lab = blob({2}, {0, 1});
  Blob acc(ctx), perClass(ctx);
  EXPECT_THROW(make("name: 'acc' type: 'Accuracy'")->setUp({x.get(), lab.get()}, {&acc, &perClass}), NetError);
  auto l = make("name: 'acc' type: 'Accuracy' accuracy_param { top_k: 4 }");
  l->setUp({x.get(), lab.get()}, {&acc});
  EXPECT_THROW(l->reshape({x.get(), lab.get()}, {&acc}), NetError);
}

// ---------------------------------------------------------------- EuclideanLoss

TEST_F(ActLossLayers, EuclideanLoss) {
  const auto as = randomValues(24, -2.f, 2.f, 71), bs = randomValues(24, -2.f, 2.f, 72);
  auto a = blob({4, 3, 2}, as);
  auto b = blob({4, 6}, bs); // same count, another shape
  Blob loss(ctx);
  auto l = make("type: 'EuclideanLoss'");
  double want = 0;
  for (size_t i = 0; i < as.size(); ++i)
    want += (double(as[i]) - bs[i]) * (double(as[i]) - bs[i]);
  want /= 2 * 4;
  EXPECT_NEAR(run(*l, {a.get(), b.get()}, {&loss})[0], want, 1e-5 * std::max(1.0, want));
  loss.diffFromHost({0.5f});
  l->backward({&loss}, {true, true}, {a.get(), b.get()});
  std::vector<double> da, db;
  for (size_t i = 0; i < as.size(); ++i) {
    da.push_back((double(as[i]) - bs[i]) / 4 * 0.5);
    db.push_back(-da.back());
  }
  EXPECT_TRUE(near(a->diffToHost(), da, 1e-5));
  EXPECT_TRUE(near(b->diffToHost(), db, 1e-5));
  auto g = make("type: 'EuclideanLoss'");
  EXPECT_TRUE(checkGradients(*g, {a.get(), b.get()}, {&loss}));
}

// ---------------------------------------------------------------- SigmoidCrossEntropyLoss

TEST_F(ActLossLayers, SigmoidCrossEntropyLoss) {
  const Shape shape{4, 5};
  auto xs = randomValues(20, -4.f, 4.f, 81);
  xs[3] = 40.f; // large magnitudes: the stable form must stay finite
  xs[8] = -40.f;
  auto ts = randomValues(20, 0.f, 1.f, 82);
  ts[5] = ts[11] = -1; // ignored where ignore_label is -1
  struct Case {
    std::string param, mode;
    bool ignore;
  };
  const Case cases[] = {
      {"", "BATCH_SIZE", false}, // this layer's default
      {"loss_param { normalization: FULL }", "FULL", false},
      {"loss_param { ignore_label: -1 normalization: VALID }", "VALID", true},
      {"loss_param { ignore_label: -1 }", "BATCH_SIZE", true},
      {"loss_param { normalization: NONE }", "NONE", false},
  };
  for (const auto &c : cases) {
    const std::string text = "type: 'SigmoidCrossEntropyLoss' " + c.param;
    SCOPED_TRACE(text);
    std::vector<float> t = ts;
    if (!c.ignore)
      t[5] = t[11] = 0.25f;
    auto x = blob(shape, xs);
    auto target = blob(shape, t);
    Blob loss(ctx);
    double want = 0;
    int64_t valid = 0;
    std::vector<double> grad(xs.size(), 0.0);
    for (size_t i = 0; i < xs.size(); ++i) {
      if (c.ignore && t[i] == -1)
        continue;
      ++valid;
      const double v = xs[i];
      want += std::max(v, 0.0) - v * t[i] + std::log1p(std::exp(-std::fabs(v)));
      grad[i] = 1 / (1 + std::exp(-v)) - t[i];
    }
    double n = c.mode == "VALID" ? double(valid) : c.mode == "FULL" ? 20.0 : c.mode == "BATCH_SIZE" ? 4.0 : 1.0;
    auto l = make(text);
    EXPECT_NEAR(run(*l, {x.get(), target.get()}, {&loss})[0], want / n, 1e-5 * std::max(1.0, want / n));
    loss.diffFromHost({2.f});
    l->backward({&loss}, {true, false}, {x.get(), target.get()});
    for (double &g : grad)
      g *= 2 / n;
    EXPECT_TRUE(near(x->diffToHost(), grad, 1e-5));
    auto g = make(text);
    GradCheckOptions o;
    o.checkBottom = {true, false};
    EXPECT_TRUE(checkGradients(*g, {x.get(), target.get()}, {&loss}, o));
  }
}

} // namespace
