// The vision layers: output shapes by Caffe's formulas, forward values against small host
// references (convolution, pooling, inner product, batch norm statistics), finite-difference
// gradient checks of every backward, dropout's mask consistency, and errors that name the layer.
#include "engine/tests/grad_check.h"

#include "common/test_util.h"

#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>

namespace lamina::engine {
namespace {

using testing::checkGradients;
using testing::GradCheckOptions;

std::string deviceName() { return lt::testBackend() == LAMINA_BACKEND_CUDA ? "cuda" : "cpu"; }

pb::LayerParameter layerParam(const std::string &text) {
  pb::LayerParameter p;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &p)) << text;
  if (!p.has_name())
    p.set_name("under_test");
  return p;
}

std::vector<float> randomValues(int64_t n, uint64_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(size_t(n), 0.f);
  for (float &x : v)
    x = u(rng);
  return v;
}

// Distinct values spaced well apart (no ties for MAX pooling / Eltwise MAX within a step of 1e-2).
std::vector<float> distinctValues(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0.f);
  std::shuffle(v.begin(), v.end(), std::mt19937_64(seed));
  for (float &x : v)
    x = (x - float(n) / 2) * 0.05f;
  return v;
}

struct Fixture : ::testing::Test {
  Context ctx{deviceName(), 1701};
  std::vector<std::unique_ptr<Blob>> owned;

  Blob *blob(const Shape &s, const std::vector<float> &v = {}) {
    owned.push_back(std::make_unique<Blob>(ctx, s));
    if (!v.empty())
      owned.back()->dataFromHost(v);
    return owned.back().get();
  }
  Blob *randomBlob(const Shape &s, uint64_t seed) { return blob(s, randomValues(shapeCount(s), seed)); }
  std::unique_ptr<Layer> make(const std::string &text, pb::Phase phase = pb::TRAIN) {
    auto p = layerParam(text);
    p.set_phase(phase);
    return createLayer(p, ctx);
  }
  // setUp + reshape + forward; returns the top's shape.
  Shape run(Layer &l, const Blobs &bottom, const Blobs &top) {
    l.setUp(bottom, top);
    l.reshape(bottom, top);
    l.forward(bottom, top);
    return top[0]->shape();
  }
};

void expectNear(const std::vector<float> &got, const std::vector<double> &want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(got[i] - want[i]) <= tol * std::max(1.0, std::fabs(want[i]))) && ++bad <= 5)
      ADD_FAILURE() << "element " << i << ": got " << got[i] << ", want " << want[i];
}

// ---------------------------------------------------------------- Convolution

// Host reference: 2-D cross-correlation with groups, pads, strides, dilations and bias.
std::vector<double> convReference(const std::vector<float> &x, const Shape &xs, const std::vector<float> &w,
                                  const Shape &ws, const std::vector<float> &b, int64_t group, int64_t pad,
                                  int64_t stride, int64_t dil, const Shape &ys) {
  std::vector<double> y(size_t(shapeCount(ys)), 0.0);
  const int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3], K = ws[0], Cg = ws[1], R = ws[2], S = ws[3];
  const int64_t P = ys[2], Q = ys[3], Kg = K / group;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t p = 0; p < P; ++p)
        for (int64_t q = 0; q < Q; ++q) {
          double acc = b.empty() ? 0.0 : b[size_t(k)];
          const int64_t g = k / Kg;
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t r = 0; r < R; ++r)
              for (int64_t s = 0; s < S; ++s) {
                int64_t h = p * stride - pad + r * dil, ww = q * stride - pad + s * dil;
                if (h < 0 || h >= H || ww < 0 || ww >= W)
                  continue;
                acc += double(x[size_t(((n * C + g * Cg + c) * H + h) * W + ww)]) *
                       w[size_t(((k * Cg + c) * R + r) * S + s)];
              }
          y[size_t(((n * K + k) * P + p) * Q + q)] = acc;
        }
  (void)C;
  return y;
}

TEST_F(Fixture, ConvolutionShapesFollowCaffe) {
  struct Case {
    std::string param;
    Shape in, out;
  } cases[] = {
      {"num_output: 5 kernel_size: 3", {2, 3, 7, 9}, {2, 5, 5, 7}},
      {"num_output: 5 kernel_size: 3 pad: 1 stride: 2", {2, 3, 7, 9}, {2, 5, 4, 5}},
      {"num_output: 4 kernel_size: 3 pad: 1 stride: 2 dilation: 2", {1, 2, 7, 9}, {1, 4, 3, 4}},
      {"num_output: 4 kernel_h: 3 kernel_w: 1 pad_h: 1 stride_h: 1 stride_w: 2", {1, 2, 6, 9}, {1, 4, 6, 5}},
      {"num_output: 6 group: 3 kernel_size: 1", {2, 3, 4, 4}, {2, 6, 4, 4}},
      {"num_output: 2 kernel_size: 3 kernel_size: 2 kernel_size: 1 pad: 1", {1, 2, 5, 4, 3}, {1, 2, 5, 5, 5}},
  };
  for (const auto &c : cases) {
    auto l = make("type: 'Convolution' convolution_param { " + c.param + " weight_filler { type: 'xavier' } }");
    Blob *x = randomBlob(c.in, 1), *y = blob({});
    EXPECT_EQ(run(*l, {x}, {y}), c.out) << c.param;
    // Caffe's blob shapes: weights K x C/G x kernel, bias K.
    EXPECT_EQ(l->blobs()[0]->dim(0), c.out[1]);
    EXPECT_EQ(l->blobs()[0]->dim(1) * l->param().convolution_param().group(), c.in[1]);
    EXPECT_EQ(l->blobs()[1]->shape(), Shape{c.out[1]});
  }
}

TEST_F(Fixture, ConvolutionForwardMatchesHostReference) {
  auto l =
      make("type: 'Convolution' convolution_param { num_output: 4 kernel_size: 3 pad: 2 stride: 2 dilation: 2 "
           "group: 2 weight_filler { type: 'gaussian' std: 0.5 } bias_filler { type: 'uniform' min: -1 max: 1 } }");
  Shape xs{2, 4, 9, 8};
  Blob *x = randomBlob(xs, 3), *y = blob({});
  Shape ys = run(*l, {x}, {y});
  ASSERT_EQ(ys, (Shape{2, 4, 5, 4}));
  auto want = convReference(x->dataToHost(), xs, l->blobs()[0]->dataToHost(), l->blobs()[0]->shape(),
                            l->blobs()[1]->dataToHost(), 2, 2, 2, 2, ys);
  expectNear(y->dataToHost(), want, 1e-4);
}

TEST_F(Fixture, ConvolutionGradientsWithGroupsAndBias) {
  auto l = make("type: 'Convolution' convolution_param { num_output: 4 kernel_size: 3 pad: 1 stride: 2 group: 2 "
                "weight_filler { type: 'gaussian' std: 0.5 } bias_filler { type: 'gaussian' std: 0.5 } }");
  Blob *x = randomBlob({2, 4, 5, 5}, 4), *y = blob({});
  EXPECT_TRUE(checkGradients(*l, {x}, {y}));
}

TEST_F(Fixture, Convolution3dGradients) {
  auto l = make("type: 'Convolution' convolution_param { num_output: 2 kernel_size: 2 pad: 1 "
                "weight_filler { type: 'gaussian' std: 0.5 } bias_filler { type: 'constant' value: 0.1 } }");
  Blob *x = randomBlob({1, 2, 3, 3, 3}, 5), *y = blob({});
  EXPECT_TRUE(checkGradients(*l, {x}, {y}));
  EXPECT_EQ(y->shape(), (Shape{1, 2, 4, 4, 4}));
}

TEST_F(Fixture, ConvolutionBadGroupNamesTheLayer) {
  auto l = make("name: 'conv9' type: 'Convolution' convolution_param { num_output: 4 kernel_size: 3 group: 3 }");
  Blob *x = randomBlob({1, 4, 5, 5}, 1), *y = blob({});
  try {
    l->setUp({x}, {y});
    FAIL() << "no error";
  } catch (const NetError &e) {
    EXPECT_NE(std::string(e.what()).find("conv9"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------- Pooling

// Caffe's pooling on the host: windows clipped to the input (MAX) or divided by the window
// clipped to the padded input (AVE).
std::vector<double> poolReference(const std::vector<float> &x, const Shape &xs, bool max, int64_t k, int64_t pad,
                                  int64_t stride, const Shape &ys) {
  std::vector<double> y(size_t(shapeCount(ys)));
  const int64_t H = xs[2], W = xs[3], P = ys[2], Q = ys[3];
  for (int64_t nc = 0; nc < xs[0] * xs[1]; ++nc)
    for (int64_t p = 0; p < P; ++p)
      for (int64_t q = 0; q < Q; ++q) {
        int64_t h0 = p * stride - pad, w0 = q * stride - pad;
        int64_t h1 = std::min(h0 + k, H + pad), w1 = std::min(w0 + k, W + pad);
        const double size = double((h1 - h0) * (w1 - w0));
        h0 = std::max<int64_t>(h0, 0);
        w0 = std::max<int64_t>(w0, 0);
        h1 = std::min(h1, H);
        w1 = std::min(w1, W);
        double acc = max ? -1e30 : 0.0;
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) {
            double v = x[size_t((nc * H + h) * W + w)];
            acc = max ? std::max(acc, v) : acc + v;
          }
        y[size_t((nc * P + p) * Q + q)] = max ? acc : acc / size;
      }
  return y;
}

TEST_F(Fixture, PoolingShapesFollowCaffeCeil) {
  struct Case {
    std::string param;
    Shape in, out;
  } cases[] = {
      {"kernel_size: 3 stride: 2", {1, 2, 7, 6}, {1, 2, 3, 3}},                   // ceil(3/2) + 1 = 3
      {"kernel_size: 3 stride: 2 round_mode: FLOOR", {1, 2, 7, 6}, {1, 2, 3, 2}}, // floor
      {"kernel_size: 3 stride: 2 pad: 1", {1, 2, 6, 7}, {1, 2, 4, 4}},
      {"kernel_size: 2 stride: 2 pad: 1", {1, 1, 5, 4}, {1, 1, 3, 3}}, // last window would start in the padding
      {"kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1", {2, 1, 8, 5}, {2, 1, 4, 4}},
      {"global_pooling: true pool: AVE", {2, 3, 5, 7}, {2, 3, 1, 1}},
  };
  for (const auto &c : cases) {
    auto l = make("type: 'Pooling' pooling_param { " + c.param + " }");
    Blob *x = randomBlob(c.in, 1), *y = blob({});
    EXPECT_EQ(run(*l, {x}, {y}), c.out) << c.param;
  }
}

TEST_F(Fixture, PoolingForwardMatchesCaffeRule) {
  Shape xs{2, 2, 6, 7};
  for (bool max : {true, false}) {
    auto l = make(std::string("type: 'Pooling' pooling_param { pool: ") + (max ? "MAX" : "AVE") +
                  " kernel_size: 3 stride: 2 pad: 1 }");
    Blob *x = randomBlob(xs, 6), *y = blob({});
    Shape ys = run(*l, {x}, {y});
    ASSERT_EQ(ys, (Shape{2, 2, 4, 4}));
    expectNear(y->dataToHost(), poolReference(x->dataToHost(), xs, max, 3, 1, 2, ys), 1e-5);
  }
}

TEST_F(Fixture, PoolingGradientsMaxAndAveWithPadding) {
  for (const char *pool : {"MAX", "AVE"}) {
    auto l = make(std::string("type: 'Pooling' pooling_param { pool: ") + pool + " kernel_size: 3 stride: 2 pad: 1 }");
    Blob *x = blob({2, 2, 5, 6}, distinctValues(120, 7)), *y = blob({});
    EXPECT_TRUE(checkGradients(*l, {x}, {y})) << pool;
  }
}

TEST_F(Fixture, PoolingRefusesStochasticAndMaskTop) {
  auto s = make("type: 'Pooling' pooling_param { pool: STOCHASTIC kernel_size: 2 }");
  Blob *x = randomBlob({1, 1, 4, 4}, 1), *y = blob({}), *mask = blob({});
  EXPECT_THROW(s->setUp({x}, {y}), NetError);
  auto m = make("type: 'Pooling' pooling_param { kernel_size: 2 }");
  EXPECT_THROW(m->setUp({x}, {y, mask}), NetError);
}

// ---------------------------------------------------------------- LRN

TEST_F(Fixture, LRNAcrossChannelsForwardAndGradients) {
  auto l = make("type: 'LRN' lrn_param { local_size: 3 alpha: 0.5 beta: 0.75 k: 2 }");
  Shape xs{2, 5, 3, 2};
  Blob *x = randomBlob(xs, 8), *y = blob({});
  run(*l, {x}, {y});
  // y = x / (k + alpha / n * sum over the 3 neighbouring channels of x^2)^beta
  auto xv = x->dataToHost();
  std::vector<double> want(xv.size());
  const int64_t C = 5, HW = 6;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < HW; ++i) {
        double sum = 0;
        for (int64_t cc = std::max<int64_t>(0, c - 1); cc <= std::min<int64_t>(C - 1, c + 1); ++cc)
          sum += double(xv[size_t((n * C + cc) * HW + i)]) * xv[size_t((n * C + cc) * HW + i)];
        want[size_t((n * C + c) * HW + i)] = xv[size_t((n * C + c) * HW + i)] / std::pow(2 + 0.5 / 3 * sum, 0.75);
      }
  expectNear(y->dataToHost(), want, 1e-5);
  EXPECT_TRUE(checkGradients(*l, {x}, {y}));
}

TEST_F(Fixture, LRNWithinChannelGradients) {
  auto l = make("type: 'LRN' lrn_param { local_size: 3 alpha: 0.8 beta: 0.75 norm_region: WITHIN_CHANNEL }");
  Blob *x = randomBlob({2, 2, 4, 5}, 9), *y = blob({});
  EXPECT_TRUE(checkGradients(*l, {x}, {y}));
}

// ---------------------------------------------------------------- BatchNorm and Scale

TEST_F(Fixture, BatchNormTrainGradients) {
  auto l = make("type: 'BatchNorm'");
  Blob *x = randomBlob({4, 3, 2, 3}, 10), *y = blob({});
  GradCheckOptions o;
  o.checkParams = false; // the statistics are not learned
  EXPECT_TRUE(checkGradients(*l, {x}, {y}, o));
}

TEST_F(Fixture, BatchNormKeepsCaffeRunningSumsAndUsesThemAtTest) {
  const float maf = 0.9f;
  auto train = make("type: 'BatchNorm' batch_norm_param { moving_average_fraction: 0.9 eps: 1e-5 }");
  Shape xs{3, 2, 2, 2};
  Blob *x = blob(xs), *y = blob({});
  train->setUp({x}, {y});
  train->reshape({x}, {y});
  std::vector<double> meanSum(2, 0), varSum(2, 0), factor(1, 0);
  std::vector<float> xv;
  for (int it = 0; it < 2; ++it) {
    xv = randomValues(24, 20 + it, -2, 3);
    x->dataFromHost(xv);
    train->forward({x}, {y});
    for (int64_t c = 0; c < 2; ++c) {
      double s = 0, s2 = 0;
      for (int64_t n = 0; n < 3; ++n)
        for (int64_t i = 0; i < 4; ++i)
          s += xv[size_t((n * 2 + c) * 4 + i)];
      const double mean = s / 12;
      for (int64_t n = 0; n < 3; ++n)
        for (int64_t i = 0; i < 4; ++i)
          s2 += std::pow(xv[size_t((n * 2 + c) * 4 + i)] - mean, 2);
      meanSum[size_t(c)] = maf * meanSum[size_t(c)] + mean;
      varSum[size_t(c)] = maf * varSum[size_t(c)] + s2 / 11; // unbiased
    }
    factor[0] = maf * factor[0] + 1;
  }
  expectNear(train->blobs()[0]->dataToHost(), meanSum, 1e-5);
  expectNear(train->blobs()[1]->dataToHost(), varSum, 1e-5);
  expectNear(train->blobs()[2]->dataToHost(), factor, 1e-6);
  // The training output is normalised with the batch statistics: each channel has mean 0.
  auto yv = y->dataToHost();
  for (int64_t c = 0; c < 2; ++c) {
    double s = 0;
    for (int64_t n = 0; n < 3; ++n)
      for (int64_t i = 0; i < 4; ++i)
        s += yv[size_t((n * 2 + c) * 4 + i)];
    EXPECT_NEAR(s, 0.0, 1e-4);
  }
  // TEST: normalised by sum / factor.
  auto test = make("type: 'BatchNorm' batch_norm_param { eps: 1e-5 }", pb::TEST);
  Blob *y2 = blob({});
  test->setUp({x}, {y2});
  test->reshape({x}, {y2});
  for (int j = 0; j < 3; ++j)
    test->blobs()[size_t(j)]->dataFromHost(train->blobs()[size_t(j)]->dataToHost());
  test->forward({x}, {y2});
  std::vector<double> want(24);
  for (size_t i = 0; i < 24; ++i) {
    size_t c = (i / 4) % 2;
    want[i] = (xv[i] - meanSum[c] / factor[0]) / std::sqrt(varSum[c] / factor[0] + 1e-5);
  }
  expectNear(y2->dataToHost(), want, 1e-4);
  // Caffe's BatchNorm parameters are not learned: lr_mult 0 on all three blobs.
  ASSERT_EQ(train->param().param_size(), 3);
  EXPECT_EQ(train->param().param(0).lr_mult(), 0.f);
}

TEST_F(Fixture, BatchNormGlobalStatsGradients) {
  auto l = make("type: 'BatchNorm' batch_norm_param { use_global_stats: true }");
  Blob *x = randomBlob({2, 3, 2, 2}, 11), *y = blob({});
  l->setUp({x}, {y});
  l->blobs()[0]->dataFromHost({0.5f, -1.f, 0.2f});
  l->blobs()[1]->dataFromHost({2.f, 0.5f, 1.f});
  l->blobs()[2]->dataFromHost({2.f});
  GradCheckOptions o;
  o.checkParams = false;
  // checkGradients calls setUp again, which resets the blobs: fill them after, through a wrapper.
  struct Keep : Layer {
    Layer &inner;
    std::vector<std::vector<float>> saved;
    Keep(Layer &l) : Layer(l.param(), l.blobs()[0]->context()), inner(l) {
      for (auto &b : l.blobs())
        saved.push_back(b->dataToHost());
    }
    const char *type() const override { return inner.type(); }
    void setUp(const Blobs &b, const Blobs &t) override {
      inner.setUp(b, t);
      for (size_t j = 0; j < saved.size(); ++j)
        inner.blobs()[j]->dataFromHost(saved[j]);
    }
    void reshape(const Blobs &b, const Blobs &t) override { inner.reshape(b, t); }
    void forward(const Blobs &b, const Blobs &t) override { inner.forward(b, t); }
    void backward(const Blobs &t, const std::vector<bool> &p, const Blobs &b) override { inner.backward(t, p, b); }
  } keep(*l);
  EXPECT_TRUE(checkGradients(keep, {x}, {y}, o));
}

TEST_F(Fixture, ScaleGradientsWithBias) {
  auto l = make("type: 'Scale' scale_param { bias_term: true filler { type: 'uniform' min: 0.5 max: 1.5 } "
                "bias_filler { type: 'uniform' min: -1 max: 1 } }");
  Blob *x = randomBlob({2, 3, 2, 3}, 12), *y = blob({});
  EXPECT_TRUE(checkGradients(*l, {x}, {y}));
  EXPECT_EQ(l->blobs()[0]->shape(), Shape{3});
}

TEST_F(Fixture, ScaleInPlaceMatchesOutOfPlace) {
  const std::string p = "type: 'Scale' scale_param { filler { type: 'uniform' min: 0.5 max: 1.5 } }";
  auto a = make(p), b = make(p);
  auto xv = randomValues(24, 13);
  Blob *x = blob({2, 3, 4}, xv), *y = blob({}), *xy = blob({2, 3, 4}, xv);
  run(*a, {x}, {y});
  ctx.reseed(1701);
  run(*b, {xy}, {xy});
  b->blobs()[0]->dataFromHost(a->blobs()[0]->dataToHost());
  xy->dataFromHost(xv);
  b->forward({xy}, {xy});
  EXPECT_EQ(y->dataToHost(), xy->dataToHost());
  auto dy = randomValues(24, 14);
  y->diffFromHost(dy);
  xy->diffFromHost(dy);
  a->blobs()[0]->setDiff(0.f);
  b->blobs()[0]->setDiff(0.f);
  a->backward({y}, {true}, {x});
  b->backward({xy}, {true}, {xy});
  EXPECT_EQ(x->diffToHost(), xy->diffToHost());
  auto ga = a->blobs()[0]->diffToHost();
  expectNear(b->blobs()[0]->diffToHost(), std::vector<double>(ga.begin(), ga.end()), 1e-6);
}

// ---------------------------------------------------------------- InnerProduct

TEST_F(Fixture, InnerProductForwardAndGradients) {
  for (bool transpose : {false, true}) {
    auto l = make(std::string("type: 'InnerProduct' inner_product_param { num_output: 4 transpose: ") +
                  (transpose ? "true" : "false") +
                  " weight_filler { type: 'gaussian' std: 0.5 } bias_filler { type: 'gaussian' std: 0.5 } }");
    Blob *x = randomBlob({3, 2, 2, 2}, 15), *y = blob({});
    ASSERT_EQ(run(*l, {x}, {y}), (Shape{3, 4}));
    auto xv = x->dataToHost(), w = l->blobs()[0]->dataToHost(), b = l->blobs()[1]->dataToHost();
    std::vector<double> want(12);
    for (int m = 0; m < 3; ++m)
      for (int n = 0; n < 4; ++n) {
        double acc = b[size_t(n)];
        for (int k = 0; k < 8; ++k)
          acc += double(xv[size_t(m * 8 + k)]) * w[size_t(transpose ? k * 4 + n : n * 8 + k)];
        want[size_t(m * 4 + n)] = acc;
      }
    expectNear(y->dataToHost(), want, 1e-5);
    EXPECT_TRUE(checkGradients(*l, {x}, {y})) << "transpose " << transpose;
  }
}

TEST_F(Fixture, InnerProductAxis2KeepsLeadingDims) {
  auto l = make("type: 'InnerProduct' inner_product_param { num_output: 3 axis: 2 weight_filler { type: 'xavier' } }");
  Blob *x = randomBlob({2, 3, 4, 5}, 16), *y = blob({});
  EXPECT_EQ(run(*l, {x}, {y}), (Shape{2, 3, 3}));
  EXPECT_EQ(l->blobs()[0]->shape(), (Shape{3, 20}));
  EXPECT_TRUE(checkGradients(*l, {x}, {y}));
}

// ---------------------------------------------------------------- Dropout

TEST_F(Fixture, DropoutMaskIsConsistentBetweenForwardAndBackward) {
  auto l = make("type: 'Dropout' dropout_param { dropout_ratio: 0.3 }");
  const int64_t n = 4000;
  auto xv = randomValues(n, 17, 0.5f, 1.5f); // never 0, so a dropped unit is exactly 0
  Blob *x = blob({4, 10, 10, 10}, xv), *y = blob({});
  run(*l, {x}, {y});
  y->diffFromHost(std::vector<float>(size_t(n), 1.f));
  l->backward({y}, {true}, {x});
  auto yv = y->dataToHost(), dx = x->diffToHost();
  int64_t dropped = 0;
  for (size_t i = 0; i < size_t(n); ++i) {
    if (yv[i] == 0.f) {
      ++dropped;
      EXPECT_EQ(dx[i], 0.f) << i;
    } else {
      EXPECT_NEAR(yv[i], xv[i] / 0.7f, 1e-5) << i;
      EXPECT_NEAR(dx[i], 1 / 0.7f, 1e-5) << i;
    }
  }
  EXPECT_NEAR(double(dropped) / double(n), 0.3, 0.04);
  // A second forward draws a new mask.
  l->forward({x}, {y});
  EXPECT_NE(y->dataToHost(), yv);
}

TEST_F(Fixture, DropoutIsTheIdentityAtTest) {
  auto l = make("type: 'Dropout'", pb::TEST);
  auto xv = randomValues(60, 18);
  Blob *x = blob({3, 20}, xv), *y = blob({});
  run(*l, {x}, {y});
  EXPECT_EQ(y->dataToHost(), xv);
}

// ---------------------------------------------------------------- Concat and Eltwise

TEST_F(Fixture, ConcatForwardAndGradients) {
  for (int axis : {1, 0, -1}) {
    auto l = make("type: 'Concat' concat_param { axis: " + std::to_string(axis) + " }");
    Shape a{2, 3, 2, 2}, b{2, 3, 2, 2};
    int ax = axis < 0 ? 3 : axis;
    b[size_t(ax)] = 1;
    Blob *x0 = randomBlob(a, 19), *x1 = randomBlob(b, 20), *y = blob({});
    Shape want = a;
    want[size_t(ax)] += 1;
    EXPECT_EQ(run(*l, {x0, x1}, {y}), want);
    // Element (i, j) of the top at the concatenation axis comes from bottom 0 then bottom 1.
    auto yv = y->dataToHost(), v0 = x0->dataToHost(), v1 = x1->dataToHost();
    const int64_t outer = shapeCount(a, 0, ax), inner = shapeCount(a, ax + 1), c0 = a[size_t(ax)], c1 = b[size_t(ax)];
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t c = 0; c < c0 + c1; ++c)
        for (int64_t i = 0; i < inner; ++i) {
          float got = yv[size_t((o * (c0 + c1) + c) * inner + i)];
          float exp = c < c0 ? v0[size_t((o * c0 + c) * inner + i)] : v1[size_t((o * c1 + c - c0) * inner + i)];
          ASSERT_EQ(got, exp) << "axis " << axis;
        }
    EXPECT_TRUE(checkGradients(*l, {x0, x1}, {y})) << "axis " << axis;
  }
}

TEST_F(Fixture, EltwiseSumWithCoefficientsGradients) {
  auto l = make("type: 'Eltwise' eltwise_param { operation: SUM coeff: 1 coeff: -0.5 coeff: 2 }");
  Blob *a = randomBlob({2, 3, 2}, 21), *b = randomBlob({2, 3, 2}, 22), *c = randomBlob({2, 3, 2}, 23), *y = blob({});
  run(*l, {a, b, c}, {y});
  auto av = a->dataToHost(), bv = b->dataToHost(), cv = c->dataToHost();
  std::vector<double> want(12);
  for (size_t i = 0; i < 12; ++i)
    want[i] = av[i] - 0.5 * bv[i] + 2.0 * cv[i];
  expectNear(y->dataToHost(), want, 1e-6);
  EXPECT_TRUE(checkGradients(*l, {a, b, c}, {y}));
}

TEST_F(Fixture, EltwiseProdGradients) {
  auto l = make("type: 'Eltwise' eltwise_param { operation: PROD }");
  Blob *a = randomBlob({2, 3, 2}, 24), *b = randomBlob({2, 3, 2}, 25), *c = randomBlob({2, 3, 2}, 26), *y = blob({});
  EXPECT_TRUE(checkGradients(*l, {a, b, c}, {y}));
}

TEST_F(Fixture, EltwiseMaxGradients) {
  auto l = make("type: 'Eltwise' eltwise_param { operation: MAX }");
  auto all = distinctValues(36, 27);
  Blob *a = blob({2, 3, 2}, {all.begin(), all.begin() + 12}),
       *b = blob({2, 3, 2}, {all.begin() + 12, all.begin() + 24}), *c = blob({2, 3, 2}, {all.begin() + 24, all.end()}),
       *y = blob({});
  EXPECT_TRUE(checkGradients(*l, {a, b, c}, {y}));
}

TEST_F(Fixture, EltwiseMaxTiesGoToTheFirstBottom) {
  auto l = make("type: 'Eltwise' eltwise_param { operation: MAX }");
  Blob *a = blob({1, 4}, {1, 2, 3, 4}), *b = blob({1, 4}, {1, 5, 3, 0}), *y = blob({});
  run(*l, {a, b}, {y});
  EXPECT_EQ(y->dataToHost(), (std::vector<float>{1, 5, 3, 4}));
  y->diffFromHost({10, 20, 30, 40});
  l->backward({y}, {true, true}, {a, b});
  EXPECT_EQ(a->diffToHost(), (std::vector<float>{10, 0, 30, 40}));
  EXPECT_EQ(b->diffToHost(), (std::vector<float>{0, 20, 0, 0}));
}

} // namespace
} // namespace lamina::engine
