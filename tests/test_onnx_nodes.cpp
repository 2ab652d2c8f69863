// Outside conformance: ONNX's own node tests (Debian libonnx-testdata) run through Lamina's C API.
// Each test directory holds a one-node model and input/output tensors computed by ONNX's reference
// implementation. Every test whose operator Lamina covers becomes a gtest case here; the ones its
// API cannot express are registered as skipped, with the reason (docs/onnx.md has the table).
// Tolerance is ONNX's own: |got - want| <= 1e-7 + 1e-3 * |want|.
#include "common/onnx_pb.h"
#include "common/test_util.h"
#include "onnx/onnx_map.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <numeric>
#include <set>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using namespace onnxmap;

constexpr double kRtol = 1e-3, kAtol = 1e-7; // onnx/backend/test: rtol 1e-3, atol 1e-7

std::string dataDir() {
  const char *env = std::getenv("LAMINA_ONNX_DATA_DIR"); // holds node/, pytorch-converted/...
  return env && *env ? env : "/usr/share/libonnx-testdata/data";
}

// ---------------------------------------------------------------- test cases

struct Case {
  std::string name, dir, op, reason; // reason non-empty: registered as skipped
};

// Test suites of libonnx-testdata read here: ONNX's node tests, PyTorch-exported layers (which add
// groups, dilations, depthwise and 3-D convolution, and opset-6 semantics) and the small models.
const std::vector<std::string> &suites() {
  static const std::vector<std::string> s = {"node", "pytorch-converted", "pytorch-operator", "simple"};
  return s;
}

bool endsWith(const std::string &s, const std::string &tail) {
  return s.size() > tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// Every test directory of `suite` whose one node is a covered operator; also, as not mappable, the
// node suite's "_expanded" twins of those and the other suites' multi-node graphs using one.
std::vector<Case> discover(const std::string &suite) {
  std::vector<Case> cases;
  const std::string root = dataDir() + "/" + suite;
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    return cases;
  std::vector<std::string> dirs;
  for (const auto &e : fs::directory_iterator(root, ec))
    if (e.is_directory() && fs::exists(e.path() / "model.onnx"))
      dirs.push_back(e.path().filename().string());
  std::sort(dirs.begin(), dirs.end());
  std::map<std::string, std::string> opOf; // single-node tests: name -> op
  std::vector<std::pair<std::string, Model>> models;
  for (const std::string &d : dirs) {
    Model m;
    try {
      m = onnxpb::loadModel(root + "/" + d + "/model.onnx");
    } catch (const std::exception &) {
      continue; // not a model this decoder reads; the covered ones are checked by Coverage below
    }
    if (m.graph.nodes.size() == 1)
      opOf[d] = m.graph.nodes[0].opType;
    models.emplace_back(d, std::move(m));
  }
  for (auto &[d, m] : models) {
    std::string op, ops;
    for (const Node &n : m.graph.nodes) {
      ops += (ops.empty() ? "" : ", ") + n.opType;
      if (coveredOps().count(n.opType) && (op.empty() || m.graph.nodes.size() == 1))
        op = n.opType;
    }
    Case c{d, root + "/" + d, op, ""};
    if (m.graph.nodes.size() != 1) {
      const std::string tail = "_expanded";
      if (suite == "node") {
        auto base = endsWith(d, tail) ? opOf.find(d.substr(0, d.size() - tail.size())) : opOf.end();
        if (base == opOf.end() || !coveredOps().count(base->second))
          continue;
        c.op = base->second;
        c.reason = "expanded function body (" + std::to_string(m.graph.nodes.size()) + " nodes: " + ops +
                   "); Lamina runs single ops, no graphs";
      } else {
        if (op.empty())
          continue;
        c.reason = "graph of " + std::to_string(m.graph.nodes.size()) + " nodes (" + ops +
                   "); Lamina runs single ops, no graphs";
      }
    } else {
      if (op.empty())
        continue;
      try {
        c.reason = Mapper(m, c.dir).map().reason;
      } catch (const std::exception &e) {
        c.reason = std::string("model not understood: ") + e.what();
      }
    }
    cases.push_back(c);
  }
  return cases;
}

const std::vector<Case> &casesOf(const std::string &suite) {
  static std::map<std::string, std::vector<Case>> cache;
  auto it = cache.find(suite);
  if (it == cache.end())
    it = cache.emplace(suite, discover(suite)).first;
  return it->second;
}

// ---------------------------------------------------------------- running a plan

struct Variant {
  laminaDataType_t dt;
  lt::Layout layout;
};

// A view tensor in backend memory, uploaded from row-major values (nullptr: left NaN-poisoned).
struct Dev {
  lt::Tensor t;
  lt::Buffer b;
  Dev(const lt::Handle &h, laminaDataType_t dt, const std::vector<int64_t> &dims, lt::Layout l,
      const std::vector<double> *v = nullptr)
      : t(dt, dims, l), b(h, t.bytes(), dt) {
    if (v)
      lt::upload(h, t, *v, b.p);
  }
  std::vector<double> get(const lt::Handle &h) const { return lt::download(h, t, b.p); }
};

laminaDataType_t paramType(laminaDataType_t dt) { return dt == LAMINA_DATA_DOUBLE ? dt : LAMINA_DATA_FLOAT; }

// Adds a per-channel bias (1 x C x 1...) to y in place.
void addBias(const lt::Handle &h, laminaDataType_t dt, const std::vector<double> &bias, Dev &y) {
  std::vector<int64_t> dims(y.t.dims.size(), 1);
  dims[1] = y.t.dims[1];
  Dev b(h, dt, dims, lt::Layout::NCHW, &bias);
  lt::Scalar one(1.0);
  LAMINA_EXPECT_OK(laminaAddTensor(h, one.ptr(dt), b.t, b.b.p, one.ptr(dt), y.t, y.b.p));
}

using Inputs = std::vector<const std::vector<double> *>; // by node input index; nullptr: omitted
using Outputs = std::vector<std::vector<double>>;        // by node output index

// allAlgos: every applicable algorithm, else the heuristic's first (the other variants, to keep the
// larger PyTorch problems fast).
Outputs runConv(const lt::Handle &h, const Plan &p, const Variant &v, const Inputs &in, bool allAlgos) {
  const laminaDataType_t dt = v.dt;
  const int sp = int(p.x.size()) - 2;
  lt::Filter w(dt, p.w, v.layout == lt::Layout::NHWC ? LAMINA_TENSOR_NHWC : LAMINA_TENSOR_NCHW);
  lt::Buffer wb(h, w.bytes(), dt);
  lt::upload(h, w, *in[1], wb.p);
  laminaConvolutionDescriptor_t cd;
  laminaCreateConvolutionDescriptor(&cd);
  LAMINA_EXPECT_OK(laminaSetConvolutionNdDescriptor(cd, sp, p.pads.data(), p.strides.data(), p.dilations.data(),
                                                    LAMINA_CROSS_CORRELATION, paramType(dt)));
  LAMINA_EXPECT_OK(laminaSetConvolutionGroupCount(cd, p.groups));
  Outputs result;
  lt::Scalar one(1.0), zero(0.0);
  if (p.kind == Kind::Conv) {
    Dev x(h, dt, p.x, v.layout, in[0]);
    std::vector<int64_t> od(p.y.size());
    LAMINA_EXPECT_OK(laminaGetConvolutionNdForwardOutputDim(cd, x.t, w, int(od.size()), od.data()));
    EXPECT_EQ(od, p.y) << "output dims";
    Dev y(h, dt, p.y, v.layout);
    laminaConvolutionFwdAlgoPerf_t perf[LAMINA_CONVOLUTION_FWD_ALGO_COUNT];
    int count = 0;
    LAMINA_EXPECT_OK(laminaGetConvolutionForwardAlgorithmHeuristics(h, x.t, w, cd, y.t,
                                                                    LAMINA_CONVOLUTION_FWD_ALGO_COUNT, &count, perf));
    for (int i = 0; i < count && (allAlgos || result.empty()); ++i) {
      // Winograd rounds where ONNX's 1e-7 absolute tolerance expects exact zeros; the conformance
      // driver checks it with its own documented tolerance.
      if (perf[i].status != LAMINA_STATUS_SUCCESS || perf[i].algo == LAMINA_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED)
        continue;
      SCOPED_TRACE("forward algorithm " + std::to_string(int(perf[i].algo)));
      size_t ws = 0;
      LAMINA_EXPECT_OK(laminaGetConvolutionForwardWorkspaceSize(h, x.t, w, cd, y.t, perf[i].algo, &ws));
      lt::Buffer work(h, ws, LAMINA_DATA_UINT8);
      y.b.poison();
      LAMINA_EXPECT_OK(laminaConvolutionForward(h, one.ptr(dt), x.t, x.b.p, w, wb.p, cd, perf[i].algo, work.p, ws,
                                                zero.ptr(dt), y.t, y.b.p));
      if (p.bias)
        addBias(h, dt, *in[2], y);
      result.push_back(y.get(h));
    }
    EXPECT_FALSE(result.empty()) << "no applicable forward algorithm";
  } else { // ConvTranspose: backward data with dy = the ONNX input, dx = the ONNX output
    Dev dy(h, dt, p.x, v.layout, in[0]);
    Dev dx(h, dt, p.y, v.layout);
    laminaConvolutionBwdDataAlgoPerf_t perf[LAMINA_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    int count = 0;
    LAMINA_EXPECT_OK(laminaGetConvolutionBackwardDataAlgorithmHeuristics(
        h, w, dy.t, cd, dx.t, LAMINA_CONVOLUTION_BWD_DATA_ALGO_COUNT, &count, perf));
    for (int i = 0; i < count; ++i) {
      if (perf[i].status != LAMINA_STATUS_SUCCESS || perf[i].algo == LAMINA_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED)
        continue;
      SCOPED_TRACE("backward data algorithm " + std::to_string(int(perf[i].algo)));
      size_t ws = 0;
      LAMINA_EXPECT_OK(laminaGetConvolutionBackwardDataWorkspaceSize(h, w, dy.t, cd, dx.t, perf[i].algo, &ws));
      lt::Buffer work(h, ws, LAMINA_DATA_UINT8);
      dx.b.poison();
      LAMINA_EXPECT_OK(laminaConvolutionBackwardData(h, one.ptr(dt), w, wb.p, dy.t, dy.b.p, cd, perf[i].algo, work.p,
                                                     ws, zero.ptr(dt), dx.t, dx.b.p));
      if (p.bias)
        addBias(h, dt, *in[2], dx);
      result.push_back(dx.get(h));
    }
    EXPECT_FALSE(result.empty()) << "no applicable backward data algorithm";
  }
  laminaDestroyConvolutionDescriptor(cd);
  return result;
}

Outputs runPool(const lt::Handle &h, const Plan &p, const Variant &v, const Inputs &in) {
  laminaPoolingDescriptor_t pd;
  laminaCreatePoolingDescriptor(&pd);
  LAMINA_EXPECT_OK(laminaSetPoolingNdDescriptor(pd, p.poolMode, LAMINA_PROPAGATE_NAN, int(p.window.size()),
                                                p.window.data(), p.pads.data(), p.strides.data()));
  LAMINA_EXPECT_OK(laminaSetPoolingCeilMode(pd, p.ceilMode));
  Dev x(h, v.dt, p.x, v.layout, in[0]);
  std::vector<int64_t> od(p.y.size());
  LAMINA_EXPECT_OK(laminaGetPoolingNdForwardOutputDim(pd, x.t, int(od.size()), od.data()));
  EXPECT_EQ(od, p.y) << "output dims";
  Dev y(h, v.dt, p.y, v.layout);
  lt::Scalar one(1.0), zero(0.0);
  LAMINA_EXPECT_OK(laminaPoolingForward(h, pd, one.ptr(v.dt), x.t, x.b.p, zero.ptr(v.dt), y.t, y.b.p));
  laminaDestroyPoolingDescriptor(pd);
  return {y.get(h)};
}

Outputs runActivation(const lt::Handle &h, const Plan &p, const Variant &v, const Inputs &in) {
  laminaActivationDescriptor_t ad;
  laminaCreateActivationDescriptor(&ad);
  LAMINA_EXPECT_OK(laminaSetActivationDescriptor(ad, p.act, LAMINA_PROPAGATE_NAN, p.coef));
  Dev x(h, v.dt, p.x, v.layout, in[0]), y(h, v.dt, p.y, v.layout);
  lt::Scalar one(1.0), zero(0.0);
  LAMINA_EXPECT_OK(laminaActivationForward(h, ad, one.ptr(v.dt), x.t, x.b.p, zero.ptr(v.dt), y.t, y.b.p));
  laminaDestroyActivationDescriptor(ad);
  return {y.get(h)};
}

Outputs runSoftmax(const lt::Handle &h, const Plan &p, const Variant &v, const Inputs &in) {
  Dev x(h, v.dt, p.x, v.layout, in[0]), y(h, v.dt, p.y, v.layout);
  lt::Scalar one(1.0), zero(0.0);
  LAMINA_EXPECT_OK(laminaSoftmaxForward(h, p.smAlgo, p.smMode, one.ptr(v.dt), x.t, x.b.p, zero.ptr(v.dt), y.t, y.b.p));
  return {y.get(h)};
}

Outputs runLRN(const lt::Handle &h, const Plan &p, const Variant &v, const Inputs &in) {
  laminaLRNDescriptor_t ld;
  laminaCreateLRNDescriptor(&ld);
  LAMINA_EXPECT_OK(laminaSetLRNDescriptor(ld, p.lrnN, p.lrnAlpha, p.lrnBeta, p.lrnK));
  Dev x(h, v.dt, p.x, v.layout, in[0]), y(h, v.dt, p.y, v.layout);
  lt::Scalar one(1.0), zero(0.0);
  LAMINA_EXPECT_OK(
      laminaLRNForward(h, ld, LAMINA_LRN_CROSS_CHANNEL, one.ptr(v.dt), x.t, x.b.p, zero.ptr(v.dt), y.t, y.b.p));
  laminaDestroyLRNDescriptor(ld);
  return {y.get(h)};
}

Outputs runBatchNorm(const lt::Handle &h, const Plan &p, const Variant &v, const Inputs &in) {
  const laminaDataType_t pt = paramType(v.dt);
  Dev x(h, v.dt, p.x, v.layout, in[0]), y(h, v.dt, p.y, v.layout);
  Dev scale(h, pt, p.param, lt::Layout::NCHW, in[1]), bias(h, pt, p.param, lt::Layout::NCHW, in[2]);
  Dev mean(h, pt, p.param, lt::Layout::NCHW, in[3]), var(h, pt, p.param, lt::Layout::NCHW, in[4]);
  lt::Scalar one(1.0), zero(0.0);
  if (!p.training) {
    LAMINA_EXPECT_OK(laminaBatchNormalizationForwardInference(h, LAMINA_BATCHNORM_SPATIAL, one.ptr(v.dt),
                                                              zero.ptr(v.dt), x.t, x.b.p, y.t, y.b.p, scale.t,
                                                              scale.b.p, bias.b.p, mean.b.p, var.b.p, p.epsilon));
    return {y.get(h)};
  }
  // ONNX: running = momentum * running + (1 - momentum) * batch statistic, so Lamina's factor is
  // 1 - momentum. Lamina's running variance takes the unbiased batch variance (n/(n-1), as cuDNN);
  // ONNX's the biased one: the Lamina value is converted back (exact in exact arithmetic).
  LAMINA_EXPECT_OK(laminaBatchNormalizationForwardTraining(
      h, LAMINA_BATCHNORM_SPATIAL, one.ptr(v.dt), zero.ptr(v.dt), x.t, x.b.p, y.t, y.b.p, scale.t, scale.b.p, bias.b.p,
      1.0 - p.momentum, mean.b.p, var.b.p, p.epsilon, nullptr, nullptr));
  std::vector<double> rv = var.get(h);
  const double cnt = double(product(p.x) / p.x[1]);
  for (size_t c = 0; c < rv.size(); ++c) {
    double old = p.momentum * (*in[4])[c];
    rv[c] = old + (rv[c] - old) * (cnt - 1) / cnt;
  }
  return {y.get(h), mean.get(h), rv};
}

// InstanceNormalization: batch-norm training statistics on the 1 x (N*C) x spatial view, scale and
// bias repeated for every n; the running averages are not asked for.
Outputs runInstanceNorm(const lt::Handle &h, const Plan &p, const Variant &v, const Inputs &in) {
  const laminaDataType_t pt = paramType(v.dt);
  std::vector<double> scale, bias;
  for (int64_t i = 0; i < p.repeat; ++i) {
    scale.insert(scale.end(), in[1]->begin(), in[1]->end());
    bias.insert(bias.end(), in[2]->begin(), in[2]->end());
  }
  Dev x(h, v.dt, p.x, v.layout, in[0]), y(h, v.dt, p.y, v.layout);
  Dev s(h, pt, p.param, lt::Layout::NCHW, &scale), b(h, pt, p.param, lt::Layout::NCHW, &bias);
  lt::Scalar one(1.0), zero(0.0);
  LAMINA_EXPECT_OK(laminaBatchNormalizationForwardTraining(h, LAMINA_BATCHNORM_SPATIAL, one.ptr(v.dt), zero.ptr(v.dt),
                                                           x.t, x.b.p, y.t, y.b.p, s.t, s.b.p, b.b.p, 1.0, nullptr,
                                                           nullptr, p.epsilon, nullptr, nullptr));
  return {y.get(h)};
}

Outputs runReduce(const lt::Handle &h, const Plan &p, const Variant &v, const Inputs &in) {
  laminaReduceTensorDescriptor_t rd;
  laminaCreateReduceTensorDescriptor(&rd);
  LAMINA_EXPECT_OK(laminaSetReduceTensorDescriptor(rd, p.reduceOp, paramType(v.dt), LAMINA_PROPAGATE_NAN,
                                                   LAMINA_REDUCE_TENSOR_NO_INDICES));
  Dev x(h, v.dt, p.x, v.layout, in[0]), y(h, v.dt, p.y, v.layout);
  size_t ws = 0;
  LAMINA_EXPECT_OK(laminaGetReductionWorkspaceSize(h, rd, x.t, y.t, &ws));
  lt::Buffer work(h, ws, LAMINA_DATA_UINT8);
  lt::Scalar one(1.0), zero(0.0);
  LAMINA_EXPECT_OK(
      laminaReduceTensor(h, rd, nullptr, 0, work.p, ws, one.ptr(v.dt), x.t, x.b.p, zero.ptr(v.dt), y.t, y.b.p));
  laminaDestroyReduceTensorDescriptor(rd);
  return {y.get(h)};
}

// Add, Sub, Mul, Min, Max, Sum, Sqrt through laminaOpTensor; variadic ones fold in place into y.
Outputs runElementwise(const lt::Handle &h, const Plan &p, const Variant &v, const Inputs &in) {
  laminaOpTensorDescriptor_t od;
  laminaCreateOpTensorDescriptor(&od);
  LAMINA_EXPECT_OK(laminaSetOpTensorDescriptor(od, p.tensorOp, paramType(v.dt), LAMINA_PROPAGATE_NAN));
  Dev a(h, v.dt, p.operands[0], v.layout, in[p.order[0]]), c(h, v.dt, p.y, v.layout);
  lt::Scalar one(1.0), zero(0.0), alpha2(p.alpha2);
  if (p.order.size() == 1) {
    if (p.tensorOp == LAMINA_OP_TENSOR_SQRT) {
      LAMINA_EXPECT_OK(
          laminaOpTensor(h, od, one.ptr(v.dt), a.t, a.b.p, one.ptr(v.dt), a.t, nullptr, zero.ptr(v.dt), c.t, c.b.p));
    } else { // Sum/Min/Max of one input is that input: a + 0 * a, min(a, a), max(a, a)
      const void *a2 = p.tensorOp == LAMINA_OP_TENSOR_ADD ? zero.ptr(v.dt) : one.ptr(v.dt);
      LAMINA_EXPECT_OK(laminaOpTensor(h, od, one.ptr(v.dt), a.t, a.b.p, a2, a.t, a.b.p, zero.ptr(v.dt), c.t, c.b.p));
    }
  }
  for (size_t k = 1; k < p.order.size(); ++k) {
    Dev b(h, v.dt, p.operands[k], v.layout, in[p.order[k]]);
    const Dev &first = k == 1 ? a : c; // then in place: c = op(c, next input)
    LAMINA_EXPECT_OK(laminaOpTensor(h, od, one.ptr(v.dt), first.t, first.b.p, alpha2.ptr(v.dt), b.t, b.b.p,
                                    zero.ptr(v.dt), c.t, c.b.p));
  }
  laminaDestroyOpTensorDescriptor(od);
  return {c.get(h)};
}

// Gemm and MatMul: row-major matrices; the Strided variant pads every leading dimension by 3.
Outputs runMatmul(const lt::Handle &h, const Plan &p, const Variant &v, const Inputs &in) {
  const laminaDataType_t dt = v.dt;
  const int64_t pad = v.layout == lt::Layout::Strided ? 3 : 0;
  const int64_t ar = p.transA ? p.K : p.M, ac = p.transA ? p.M : p.K;
  const int64_t br = p.transB ? p.N : p.K, bc = p.transB ? p.K : p.N;
  const int64_t lda = ac + pad, ldb = bc + pad, ldc = p.N + pad;
  const int64_t bBatch = p.bBroadcast ? 1 : p.batch;
  lt::Tensor a(dt, {p.batch, ar, ac}, {ar * lda, lda, 1}), b(dt, {bBatch, br, bc}, {br * ldb, ldb, 1});
  lt::Tensor c(dt, {p.batch, 1, p.M, p.N}, {p.M * ldc, p.M * ldc, ldc, 1});
  lt::Buffer ab(h, a.bytes(), dt), bb(h, b.bytes(), dt), cb(h, c.bytes(), dt);
  lt::upload(h, a, *in[0], ab.p);
  lt::upload(h, b, *in[1], bb.p);
  lt::Scalar alpha(p.alpha), zero(0.0), one(1.0);
  bool accumulate = false;
  if (p.kind == Kind::Gemm && p.bias) { // Y = beta * C broadcast, then Y += alpha * A B
    Dev cIn(h, dt, p.param, lt::Layout::NCHW, in[2]);
    lt::Scalar beta(p.beta);
    LAMINA_EXPECT_OK(laminaAddTensor(h, beta.ptr(dt), cIn.t, cIn.b.p, zero.ptr(dt), c, cb.p));
    accumulate = true;
  }
  LAMINA_EXPECT_OK(laminaMatmul(h, dt, LAMINA_DEFAULT_MATH, p.transA ? LAMINA_OP_T : LAMINA_OP_N,
                                p.transB ? LAMINA_OP_T : LAMINA_OP_N, p.M, p.N, p.K, alpha.ptr(dt), ab.p, lda, ar * lda,
                                bb.p, ldb, p.bBroadcast ? 0 : br * ldb, accumulate ? one.ptr(dt) : zero.ptr(dt), cb.p,
                                ldc, p.M * ldc, p.batch));
  return {lt::download(h, c, cb.p)};
}

::testing::AssertionResult onnxClose(const std::vector<double> &got, const onnxpb::Tensor &want) {
  if (int64_t(got.size()) != want.numel())
    return ::testing::AssertionFailure() << got.size() << " values, want " << want.numel();
  size_t bad = 0, first = 0;
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double w = want.values[i], err = std::fabs(got[i] - w);
    bool ok =
        err <= kAtol + kRtol * std::fabs(w) || (std::isnan(w) && std::isnan(got[i])) || (std::isinf(w) && got[i] == w);
    if (!ok) {
      if (!bad++)
        first = i;
      if (!(err <= worst))
        worst = err;
    }
  }
  if (!bad)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << got.size() << " values off (rtol " << kRtol << ", atol "
                                       << kAtol << "); first at " << first << ": got " << got[first] << ", want "
                                       << want.values[first] << "; worst error " << worst;
}

bool isLargeConv(const Plan &p) {
  return (p.kind == Kind::Conv || p.kind == Kind::ConvTranspose) &&
         product(p.kind == Kind::Conv ? p.y : p.x) * product(p.w, 1) > 10'000'000;
}

std::vector<Variant> variantsFor(const Plan &p) {
  std::vector<laminaDataType_t> types = {p.dt};
  if (p.dt == LAMINA_DATA_FLOAT)
    types.push_back(LAMINA_DATA_DOUBLE); // the fp64 path against the same data
  std::vector<lt::Layout> layouts = {lt::Layout::NCHW, lt::Layout::NHWC, lt::Layout::Strided};
  if (p.kind == Kind::Gemm || p.kind == Kind::MatMul)
    layouts = {lt::Layout::NCHW, lt::Layout::Strided};
  // The one large PyTorch convolution (68 M multiply-adds) runs in two variants with the heuristic's
  // algorithm only, to stay fast under the sanitizers; the small ones cover every variant and
  // algorithm.
  if (isLargeConv(p))
    return {{p.dt, lt::Layout::NCHW}, {p.dt, lt::Layout::NHWC}};
  std::vector<Variant> out;
  for (auto t : types)
    for (auto l : layouts)
      out.push_back({t, l});
  return out;
}

void runCase(const Case &c) {
  LT_HANDLE_OR_SKIP(h);
  Model m = onnxpb::loadModel(c.dir + "/model.onnx");
  Plan p = Mapper(m, c.dir).map();
  ASSERT_TRUE(p.reason.empty()) << p.reason;
  const Node &n = m.graph.nodes[0];
  std::vector<std::string> sets;
  for (const auto &e : fs::directory_iterator(c.dir))
    if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0)
      sets.push_back(e.path().string());
  std::sort(sets.begin(), sets.end());
  ASSERT_FALSE(sets.empty()) << "no test_data_set_* in " << c.dir;
  for (const std::string &set : sets) {
    SCOPED_TRACE(fs::path(set).filename().string());
    // input_i.pb / output_i.pb follow the graph's inputs (less initializers) and outputs.
    std::map<std::string, onnxpb::Tensor> byName;
    for (const auto &t : m.graph.initializers)
      byName[t.name] = t;
    int idx = 0;
    for (const auto &vi : m.graph.inputs) {
      if (byName.count(vi.name))
        continue;
      byName[vi.name] = onnxpb::loadTensor(set + "/input_" + std::to_string(idx++) + ".pb");
    }
    std::vector<onnxpb::Tensor> want;
    for (size_t i = 0; i < m.graph.outputs.size(); ++i)
      want.push_back(onnxpb::loadTensor(set + "/output_" + std::to_string(i) + ".pb"));
    Inputs in;
    for (const std::string &name : n.inputs)
      in.push_back(name.empty() ? nullptr : &byName.at(name).values);
    const std::vector<Variant> variants = variantsFor(p);
    for (const Variant &v : variants) {
      SCOPED_TRACE(std::string(lt::dtypeName(v.dt)) + " " + lt::layoutName(v.layout));
      Outputs got;
      switch (p.kind) {
      case Kind::Conv: // one result per applicable algorithm, all for output 0
      case Kind::ConvTranspose:
        for (const auto &r : runConv(h, p, v, in, &v == &variants[0] && !isLargeConv(p)))
          EXPECT_TRUE(onnxClose(r, want[0]));
        continue;
      case Kind::Pool: got = runPool(h, p, v, in); break;
      case Kind::Activation: got = runActivation(h, p, v, in); break;
      case Kind::Softmax: got = runSoftmax(h, p, v, in); break;
      case Kind::LRN: got = runLRN(h, p, v, in); break;
      case Kind::BatchNorm: got = runBatchNorm(h, p, v, in); break;
      case Kind::InstanceNorm: got = runInstanceNorm(h, p, v, in); break;
      case Kind::Reduce: got = runReduce(h, p, v, in); break;
      case Kind::Elementwise: got = runElementwise(h, p, v, in); break;
      case Kind::Gemm:
      case Kind::MatMul: got = runMatmul(h, p, v, in); break;
      }
      ASSERT_EQ(got.size(), want.size()) << "output count";
      for (size_t i = 0; i < got.size(); ++i)
        EXPECT_TRUE(onnxClose(got[i], want[i])) << "output " << i;
    }
  }
}

void PrintTo(const Case &c, std::ostream *os) { *os << c.name; }

class OnnxNode : public ::testing::TestWithParam<Case> {};

TEST_P(OnnxNode, MatchesReference) {
  const Case &c = GetParam();
  if (c.dir.empty())
    GTEST_SKIP() << "ONNX node test data not found at " << dataDir() << " (libonnx-testdata)";
  if (!c.reason.empty())
    GTEST_SKIP() << c.op << " not mappable: " << c.reason;
  runCase(c);
}

std::vector<Case> paramCases(const std::string &suite) {
  auto cases = casesOf(suite);
  if (cases.empty())
    cases.push_back({"data_missing", "", "", ""});
  return cases;
}
std::string caseName(const ::testing::TestParamInfo<Case> &i) { return i.param.name; }

INSTANTIATE_TEST_SUITE_P(Node, OnnxNode, ::testing::ValuesIn(paramCases("node")), caseName);
INSTANTIATE_TEST_SUITE_P(PytorchConverted, OnnxNode, ::testing::ValuesIn(paramCases("pytorch-converted")), caseName);
INSTANTIATE_TEST_SUITE_P(PytorchOperator, OnnxNode, ::testing::ValuesIn(paramCases("pytorch-operator")), caseName);
INSTANTIATE_TEST_SUITE_P(Simple, OnnxNode, ::testing::ValuesIn(paramCases("simple")), caseName);

// Guards the runner itself: these tests must be found and mapped (so a broken decoder or mapping
// cannot turn the suite into a row of skips), and the table of the rest is printed.
TEST(OnnxNodes, Coverage) {
  if (casesOf("node").empty())
    GTEST_SKIP() << "ONNX test data not found at " << dataDir();
  const std::vector<std::string> mustRun = {"node/test_basic_conv_with_padding",
                                            "node/test_conv_with_strides_padding",
                                            "node/test_averagepool_2d_pads",
                                            "node/test_averagepool_2d_ceil",
                                            "node/test_averagepool_1d_default",
                                            "node/test_averagepool_3d_default",
                                            "node/test_maxpool_2d_default",
                                            "node/test_maxpool_3d_default",
                                            "node/test_globalaveragepool",
                                            "node/test_globalmaxpool",
                                            "node/test_relu",
                                            "node/test_sigmoid",
                                            "node/test_tanh",
                                            "node/test_elu",
                                            "node/test_softmax_axis_0",
                                            "node/test_logsoftmax_axis_2",
                                            "node/test_lrn",
                                            "node/test_batchnorm_example",
                                            "node/test_batchnorm_epsilon_training_mode",
                                            "node/test_gemm_all_attributes",
                                            "node/test_matmul_3d",
                                            "node/test_convtranspose",
                                            "pytorch-converted/test_Conv2d_groups",
                                            "pytorch-converted/test_Conv3d_dilated",
                                            "pytorch-converted/test_Conv2d_depthwise_with_multiplier",
                                            "pytorch-converted/test_Softmax",
                                            "pytorch-converted/test_BatchNorm1d_3d_input_eval",
                                            "pytorch-converted/test_ConvTranspose2d",
                                            "node/test_reduce_sum_keepdims_random",
                                            "node/test_reduce_l2_do_not_keepdims_random",
                                            "node/test_sub_bcast",
                                            "node/test_max_float16",
                                            "node/test_instancenorm_epsilon"};
  std::map<std::string, std::string> reasons;
  for (const std::string &suite : suites())
    for (const Case &c : casesOf(suite))
      reasons[suite + "/" + c.name] = c.reason;
  for (const std::string &name : mustRun) {
    ASSERT_TRUE(reasons.count(name)) << name << " not found";
    EXPECT_EQ(reasons[name], "") << name;
  }
  size_t mapped = 0;
  std::ostringstream table;
  for (const auto &[name, reason] : reasons) {
    if (reason.empty())
      ++mapped;
    else
      table << "  " << name << ": " << reason << "\n";
  }
  std::printf("ONNX tests of covered operators: %zu of %zu run; not mappable:\n%s", mapped, reasons.size(),
              table.str().c_str());
}

} // namespace
