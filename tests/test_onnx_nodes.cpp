// Outside conformance: ONNX's own node tests (Debian libonnx-testdata) run through Lamina's C API.
// Each test directory holds a one-node model and input/output tensors computed by ONNX's reference
// implementation. Every test whose operator Lamina covers becomes a gtest case here; the ones its
// API cannot express are registered as skipped, with the reason (docs/onnx.md has the table).
// Tolerance is ONNX's own: |got - want| <= 1e-7 + 1e-3 * |want|.
#include "common/onnx_pb.h"
#include "common/test_util.h"

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
using onnxpb::Model;
using onnxpb::Node;

constexpr double kRtol = 1e-3, kAtol = 1e-7; // onnx/backend/test: rtol 1e-3, atol 1e-7

std::string dataDir() {
  const char *env = std::getenv("LAMINA_ONNX_DATA_DIR"); // holds node/, pytorch-converted/...
  return env && *env ? env : "/usr/share/libonnx-testdata/data";
}

// Operators with a Lamina counterpart; tests of any other operator are not listed at all.
const std::set<std::string> &coveredOps() {
  static const std::set<std::string> ops = {
      "Conv",          "ConvTranspose", "AveragePool", "MaxPool", "GlobalAveragePool",
      "GlobalMaxPool", "Relu",          "Sigmoid",     "Tanh",    "Elu",
      "LeakyRelu",     "Softmax",       "LogSoftmax",  "LRN",     "BatchNormalization",
      "Gemm",          "MatMul"};
  return ops;
}

std::string joinDims(const std::vector<int64_t> &d) {
  std::ostringstream s;
  s << "(";
  for (size_t i = 0; i < d.size(); ++i)
    s << (i ? "," : "") << d[i];
  s << ")";
  return s.str();
}

int64_t product(const std::vector<int64_t> &d, size_t from = 0, size_t to = SIZE_MAX) {
  to = std::min(to, d.size());
  from = std::min(from, to);
  return std::accumulate(d.begin() + std::ptrdiff_t(from), d.begin() + std::ptrdiff_t(to), int64_t(1),
                         std::multiplies<int64_t>());
}

// ---------------------------------------------------------------- mapping an ONNX node to Lamina

enum class Kind { Conv, ConvTranspose, Pool, Activation, Softmax, LRN, BatchNorm, Gemm, MatMul };

// Everything needed to run one node, resolved from the model's static shapes. Tensors are given as
// "views": the ONNX tensor's row-major data under dims Lamina accepts (e.g. 1-D pooling as N,C,1,W).
struct Plan {
  Kind kind = Kind::Activation;
  std::string reason; // non-empty: not mappable, and why
  laminaDataType_t dt = LAMINA_DATA_FLOAT;
  std::vector<int64_t> x, w, y, param; // views: input, filter, output, per-channel parameters
  std::vector<int64_t> window, pads, strides, dilations;
  int64_t groups = 1;
  bool bias = false; // Conv/ConvTranspose third input, Gemm C
  laminaPoolingMode_t poolMode = LAMINA_POOLING_MAX;
  int ceilMode = 0;
  laminaActivationMode_t act = LAMINA_ACTIVATION_RELU;
  double coef = 0;
  laminaSoftmaxAlgorithm_t smAlgo = LAMINA_SOFTMAX_ACCURATE;
  laminaSoftmaxMode_t smMode = LAMINA_SOFTMAX_MODE_CHANNEL;
  unsigned lrnN = 0;
  double lrnAlpha = 0, lrnBeta = 0, lrnK = 0;
  double epsilon = 0, momentum = 0;
  bool training = false;
  bool transA = false, transB = false;
  double alpha = 1, beta = 1;
  int64_t M = 0, N = 0, K = 0, batch = 1;
  bool bBroadcast = false; // MatMul: one B for every batch entry
};

struct Mapper {
  const Model &m;
  const Node &n;
  Plan p;
  std::map<std::string, std::vector<int64_t>> shapes; // graph inputs/outputs and initializers

  Mapper(const Model &model) : m(model), n(model.graph.nodes.at(0)) {
    for (const auto &v : m.graph.inputs)
      shapes[v.name] = v.dims;
    for (const auto &v : m.graph.outputs)
      shapes[v.name] = v.dims;
    for (const auto &t : m.graph.initializers)
      shapes[t.name] = t.dims;
  }
  bool fail(const std::string &why) {
    if (p.reason.empty())
      p.reason = why;
    return false;
  }
  bool hasInput(size_t i) const { return n.inputs.size() > i && !n.inputs[i].empty(); }
  std::vector<int64_t> in(size_t i) const { return shapes.at(n.inputs.at(i)); }
  std::vector<int64_t> out(size_t i) const { return shapes.at(n.outputs.at(i)); }

  // Resolves NOTSET/SAME_*/VALID padding of one spatial dim to Lamina's symmetric pad. `span` is the
  // dilated window; ceilOut: SAME output size is ceil(in / stride).
  bool symmetricPad(const std::string &autoPad, int64_t inSize, int64_t span, int64_t stride, int64_t begin,
                    int64_t end, int64_t &pad) {
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      int64_t outSize = (inSize + stride - 1) / stride;
      int64_t total = std::max<int64_t>(0, (outSize - 1) * stride + span - inSize);
      if (total % 2)
        return fail("auto_pad " + autoPad + " needs total padding " + std::to_string(total) +
                    " (odd: asymmetric); Lamina pads symmetrically");
      pad = total / 2;
      return true;
    }
    if (autoPad == "VALID") {
      pad = 0;
      return true;
    }
    if (begin != end)
      return fail("asymmetric pads (begin " + std::to_string(begin) + ", end " + std::to_string(end) +
                  "); Lamina pads symmetrically");
    pad = begin;
    return true;
  }

  // Shared by Conv, ConvTranspose and pooling: spatial attributes and the 1-D -> 2-D view.
  bool spatial(size_t sp, const std::vector<int64_t> &kernel, bool transposed = false) {
    if (sp < 1 || sp > 3)
      return fail("spatial rank " + std::to_string(sp) + " (Lamina: 1..3)");
    auto strides = n.getInts("strides", std::vector<int64_t>(sp, 1));
    auto dil = n.getInts("dilations", std::vector<int64_t>(sp, 1));
    auto pads = n.getInts("pads", std::vector<int64_t>(2 * sp, 0));
    std::string autoPad = n.getString("auto_pad", "NOTSET");
    if (strides.size() != sp || dil.size() != sp || pads.size() != 2 * sp || kernel.size() != sp)
      return fail("attribute lengths disagree with the spatial rank");
    auto x = in(0);
    p.pads.assign(sp, 0);
    for (size_t i = 0; i < sp; ++i) {
      int64_t span = (kernel[i] - 1) * dil[i] + 1;
      // ConvTranspose: the padding belongs to the forward convolution whose input is y.
      int64_t size = transposed ? out(0)[2 + i] : x[2 + i];
      if (!symmetricPad(autoPad, size, span, strides[i], pads[i], pads[sp + i], p.pads[i]))
        return false;
    }
    p.window = kernel;
    p.strides = strides;
    p.dilations = dil;
    if (sp == 1) { // Lamina takes 4-D or 5-D tensors: a unit height in front of the width
      p.window.insert(p.window.begin(), 1);
      p.strides.insert(p.strides.begin(), 1);
      p.dilations.insert(p.dilations.begin(), 1);
      p.pads.insert(p.pads.begin(), 0);
    }
    return true;
  }
  static std::vector<int64_t> view4(std::vector<int64_t> d) { // N,C,W -> N,C,1,W
    if (d.size() == 3)
      d.insert(d.begin() + 2, 1);
    return d;
  }

  bool conv() {
    auto x = in(0), w = in(1);
    size_t sp = x.size() - 2;
    if (w.size() != x.size())
      return fail("filter rank differs from input rank");
    p.groups = n.getInt("group", 1);
    auto kernel = n.getInts("kernel_shape", std::vector<int64_t>(w.begin() + 2, w.end()));
    bool transposed = n.opType == "ConvTranspose";
    if (!spatial(sp, kernel, transposed))
      return false;
    p.bias = hasInput(2);
    p.x = view4(x);
    p.w = view4(w);
    p.y = view4(out(0));
    if (transposed) {
      // ConvTranspose(x, w) is the data gradient of Conv(y, w): w (C_in, C_out/group, k...) is then
      // Lamina's K x C-per-group filter. The dims must be those of a forward convolution.
      auto op = n.getInts("output_padding", {});
      auto os = n.getInts("output_shape", {});
      if (!os.empty()) {
        for (size_t i = 0; i < sp; ++i) { // ONNX derives the pads from output_shape
          int64_t total = p.strides[p.strides.size() - sp + i] * (x[2 + i] - 1) + (op.empty() ? 0 : op[i]) +
                          (kernel[i] - 1) * dil(i) + 1 - os[i];
          if (total > 0)
            return fail("output_shape implies padding; not mapped");
        }
      }
      for (size_t i = 0; i < sp + (sp == 1); ++i) {
        int64_t yi = p.y[2 + i], span = (p.window[i] - 1) * p.dilations[i] + 1;
        int64_t fwd = (yi + 2 * p.pads[i] - span) / p.strides[i] + 1;
        if (fwd != p.x[2 + i])
          return fail("output size is no forward convolution's input size");
      }
    }
    return true;
  }
  int64_t dil(size_t i) const { return n.getInts("dilations", std::vector<int64_t>(8, 1)).at(i); }

  bool pool() {
    auto x = in(0);
    if (x.size() < 3)
      return fail("pooling needs N, C and spatial dims");
    size_t sp = x.size() - 2;
    bool global = n.opType.rfind("Global", 0) == 0;
    bool isMax = n.opType.find("Max") != std::string::npos;
    if (isMax && n.outputs.size() > 1)
      return fail("MaxPool Indices (argmax) output is not in Lamina's API");
    std::vector<int64_t> kernel(x.begin() + 2, x.end());
    if (!global) {
      kernel = n.getInts("kernel_shape", {});
      for (int64_t d : n.getInts("dilations", {}))
        if (d != 1)
          return fail("pooling dilations are not in Lamina's API");
    }
    if (!spatial(sp, kernel))
      return false;
    if (n.getInt("storage_order", 0) != 0)
      return fail("storage_order (argmax layout) is not in Lamina's API");
    p.ceilMode = int(n.getInt("ceil_mode", 0));
    if (isMax)
      p.poolMode = LAMINA_POOLING_MAX;
    else if (n.getInt("count_include_pad", 0))
      p.poolMode = LAMINA_POOLING_AVERAGE_COUNT_INCLUDE_PADDING;
    else
      p.poolMode = LAMINA_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
    p.x = view4(x);
    p.y = view4(out(0));
    // ONNX's ceil_mode has no Caffe correction (dropping a window that starts in the padding).
    for (size_t i = 0; p.ceilMode && i < p.window.size(); ++i) {
      int64_t num = p.x[2 + i] + 2 * p.pads[i] - p.window[i];
      int64_t onnx = (num + p.strides[i] - 1) / p.strides[i] + 1;
      if ((onnx - 1) * p.strides[i] >= p.x[2 + i] + p.pads[i])
        return fail("ceil_mode window starting in the padding: ONNX keeps it, Lamina (Caffe) drops it");
    }
    return true;
  }

  bool activation() {
    p.x = p.y = in(0);
    const std::string &op = n.opType;
    if (op == "Relu")
      p.act = LAMINA_ACTIVATION_RELU;
    else if (op == "Sigmoid")
      p.act = LAMINA_ACTIVATION_SIGMOID;
    else if (op == "Tanh")
      p.act = LAMINA_ACTIVATION_TANH;
    else if (op == "Elu")
      p.act = LAMINA_ACTIVATION_ELU, p.coef = n.getFloat("alpha", 1.0f);
    else
      p.act = LAMINA_ACTIVATION_LEAKY_RELU, p.coef = n.getFloat("alpha", 0.01f);
    if (p.x.empty())
      p.x = p.y = {1}; // a scalar as one element
    return true;
  }

  bool softmax() {
    auto x = in(0);
    int64_t r = int64_t(x.size());
    bool modern = m.defaultOpset() >= 13; // opset 13: along one axis; before: over the flattened tail
    int64_t axis = n.getInt("axis", modern ? -1 : 1);
    if (axis < 0)
      axis += r;
    if (axis < 0 || axis >= r)
      return fail("axis out of range");
    p.smAlgo = n.opType == "LogSoftmax" ? LAMINA_SOFTMAX_LOG : LAMINA_SOFTMAX_ACCURATE;
    int64_t outer = product(x, 0, size_t(axis));
    if (modern) {
      p.smMode = LAMINA_SOFTMAX_MODE_CHANNEL; // N = outer, C = axis, H = inner
      p.x = {outer, x[size_t(axis)], product(x, size_t(axis) + 1), 1};
    } else {
      p.smMode = LAMINA_SOFTMAX_MODE_INSTANCE; // N = outer, C*H*W = the flattened rest
      p.x = {outer, product(x, size_t(axis)), 1, 1};
    }
    p.y = p.x;
    return true;
  }

  bool lrn() {
    auto x = in(0);
    if (x.size() < 3 || x.size() > 5)
      return fail("LRN on rank " + std::to_string(x.size()));
    int64_t size = n.getInt("size", 0);
    if (size % 2 == 0)
      return fail("even LRN size: ONNX's channel window is then asymmetric, Lamina's is centred");
    if (size > 15)
      return fail("LRN size above Lamina's 15");
    p.lrnN = unsigned(size);
    p.lrnAlpha = n.getFloat("alpha", 1e-4f);
    p.lrnBeta = n.getFloat("beta", 0.75f);
    p.lrnK = n.getFloat("bias", 1.0f);
    p.x = p.y = view4(x);
    return true;
  }

  bool batchNorm() {
    auto x = in(0);
    if (m.defaultOpset() < 9 && n.getInt("spatial", 1) == 0)
      return fail("spatial=0 (per-activation statistics of opset < 9) not mapped");
    if (x.size() < 2 || x.size() > 5)
      return fail("BatchNormalization on rank " + std::to_string(x.size()));
    p.training = n.getInt("training_mode", 0) != 0 || (m.defaultOpset() < 14 && n.outputs.size() > 1);
    if (p.training && n.outputs.size() != 3)
      return fail("training outputs saved_mean/saved_var (opset < 14) not mapped");
    p.epsilon = n.getFloat("epsilon", 1e-5f);
    p.momentum = n.getFloat("momentum", 0.9f);
    p.x = x;
    while (p.x.size() < 4)
      p.x.push_back(1); // N,C -> N,C,1,1; N,C,L -> N,C,L,1
    p.y = p.x;
    p.param.assign(p.x.size(), 1);
    p.param[1] = x[1];
    return true;
  }

  bool gemm() {
    auto a = in(0), b = in(1), y = out(0);
    if (a.size() != 2 || b.size() != 2)
      return fail("Gemm operands not 2-D");
    p.transA = n.getInt("transA", 0) != 0;
    p.transB = n.getInt("transB", 0) != 0;
    p.alpha = n.getFloat("alpha", 1.0f);
    p.beta = n.getFloat("beta", 1.0f);
    if (m.defaultOpset() < 7 && n.getInt("broadcast", 0) == 0 && hasInput(2) && in(2) != y)
      return fail("opset < 7 Gemm without broadcast");
    p.M = y[0], p.N = y[1], p.K = p.transA ? a[0] : a[1];
    p.bias = hasInput(2);
    if (p.bias) {
      auto c = in(2);
      if (c.size() > 2)
        return fail("C of rank > 2");
      while (c.size() < 2)
        c.insert(c.begin(), 1);
      for (int i = 0; i < 2; ++i)
        if (c[i] != y[i] && c[i] != 1)
          return fail("C not broadcastable to Y");
      p.param = {1, 1, c[0], c[1]}; // AddTensor broadcast
    }
    p.y = {1, 1, p.M, p.N};
    return true;
  }

  bool matmul() {
    auto a = in(0), b = in(1), y = out(0);
    if (a.size() < 2 || b.size() < 2)
      return fail("1-D MatMul operand (vector promotion) not mapped");
    std::vector<int64_t> ab(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
    p.M = a[a.size() - 2], p.K = a.back(), p.N = b.back();
    p.batch = product(ab);
    p.bBroadcast = product(bb) == 1 && p.batch > 1;
    if (!p.bBroadcast && ab != bb)
      return fail("MatMul batch dims broadcast " + joinDims(ab) + " x " + joinDims(bb));
    p.y = {1, 1, p.M, p.N};
    return true;
  }

  Plan map() {
    const std::string &op = n.opType;
    if (m.graph.nodes.size() != 1)
      return fail("graph of several nodes"), p;
    if (!n.domain.empty() && n.domain != "ai.onnx")
      return fail("domain " + n.domain), p;
    int32_t et = m.graph.inputs.empty() ? 0 : m.graph.inputs[0].elemType;
    if (et == onnxpb::kFloat)
      p.dt = LAMINA_DATA_FLOAT;
    else if (et == onnxpb::kDouble)
      p.dt = LAMINA_DATA_DOUBLE;
    else if (et == onnxpb::kFloat16)
      p.dt = LAMINA_DATA_HALF;
    else
      return fail(std::string("element type ") + onnxpb::dataTypeName(et) + " is not a Lamina data type"), p;
    for (const std::string &name : n.inputs)
      if (!name.empty() && (!shapes.count(name) || std::count(shapes[name].begin(), shapes[name].end(), -1)))
        return fail("input '" + name + "' without a static shape"), p;
    bool ok = false;
    if (op == "Conv" || op == "ConvTranspose")
      p.kind = op == "Conv" ? Kind::Conv : Kind::ConvTranspose, ok = conv();
    else if (op.find("Pool") != std::string::npos)
      p.kind = Kind::Pool, ok = pool();
    else if (op == "Softmax" || op == "LogSoftmax")
      p.kind = Kind::Softmax, ok = softmax();
    else if (op == "LRN")
      p.kind = Kind::LRN, ok = lrn();
    else if (op == "BatchNormalization")
      p.kind = Kind::BatchNorm, ok = batchNorm();
    else if (op == "Gemm")
      p.kind = Kind::Gemm, ok = gemm();
    else if (op == "MatMul")
      p.kind = Kind::MatMul, ok = matmul();
    else
      p.kind = Kind::Activation, ok = activation();
    if (!ok && p.reason.empty())
      p.reason = "not mapped";
    return p;
  }
};

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
        c.reason = Mapper(m).map().reason;
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
      if (perf[i].status != LAMINA_STATUS_SUCCESS)
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
      if (perf[i].status != LAMINA_STATUS_SUCCESS)
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

std::vector<Variant> variantsFor(const Plan &p) {
  std::vector<laminaDataType_t> types = {p.dt};
  if (p.dt == LAMINA_DATA_FLOAT)
    types.push_back(LAMINA_DATA_DOUBLE); // the fp64 path against the same data
  std::vector<lt::Layout> layouts = {lt::Layout::NCHW, lt::Layout::NHWC, lt::Layout::Strided};
  if (p.kind == Kind::Gemm || p.kind == Kind::MatMul)
    layouts = {lt::Layout::NCHW, lt::Layout::Strided};
  // The one large PyTorch convolution (68 M multiply-adds) runs in two variants only, to stay fast
  // under the sanitizers; the small ones cover every variant.
  if ((p.kind == Kind::Conv || p.kind == Kind::ConvTranspose) &&
      product(p.kind == Kind::Conv ? p.y : p.x) * product(p.w, 1) > 10'000'000)
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
  Plan p = Mapper(m).map();
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
        for (const auto &r : runConv(h, p, v, in, &v == &variants[0]))
          EXPECT_TRUE(onnxClose(r, want[0]));
        continue;
      case Kind::Pool: got = runPool(h, p, v, in); break;
      case Kind::Activation: got = runActivation(h, p, v, in); break;
      case Kind::Softmax: got = runSoftmax(h, p, v, in); break;
      case Kind::LRN: got = runLRN(h, p, v, in); break;
      case Kind::BatchNorm: got = runBatchNorm(h, p, v, in); break;
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
                                            "pytorch-converted/test_ConvTranspose2d"};
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
