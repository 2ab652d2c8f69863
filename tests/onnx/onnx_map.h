// Mapping of one ONNX node onto Lamina's API for tests/test_onnx_nodes.cpp: which operators are
// covered, and for a one-node model the resolved Plan (views, descriptors' values), or the reason it
// cannot be expressed. Only that test program includes this header.
#pragma once

#include "common/onnx_pb.h"

#include <lamina/lamina.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <numeric>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace onnxmap {

using onnxpb::Model;
using onnxpb::Node;

// Operators with a Lamina counterpart; tests of any other operator are not listed at all.
inline const std::set<std::string> &coveredOps() {
  static const std::set<std::string> ops = {"Conv",
                                            "ConvTranspose",
                                            "AveragePool",
                                            "MaxPool",
                                            "GlobalAveragePool",
                                            "GlobalMaxPool",
                                            "Relu",
                                            "Sigmoid",
                                            "Tanh",
                                            "Elu",
                                            "LeakyRelu",
                                            "Softmax",
                                            "LogSoftmax",
                                            "LRN",
                                            "BatchNormalization",
                                            "Gemm",
                                            "MatMul",
                                            "ReduceSum",
                                            "ReduceMean",
                                            "ReduceMax",
                                            "ReduceMin",
                                            "ReduceProd",
                                            "ReduceL1",
                                            "ReduceL2",
                                            "ReduceLogSum",
                                            "ReduceLogSumExp",
                                            "ReduceSumSquare",
                                            "Add",
                                            "Sub",
                                            "Mul",
                                            "Min",
                                            "Max",
                                            "Sum",
                                            "Sqrt",
                                            "InstanceNormalization"};
  return ops;
}

inline std::string joinDims(const std::vector<int64_t> &d) {
  std::ostringstream s;
  s << "(";
  for (size_t i = 0; i < d.size(); ++i)
    s << (i ? "," : "") << d[i];
  s << ")";
  return s.str();
}

inline int64_t product(const std::vector<int64_t> &d, size_t from = 0, size_t to = SIZE_MAX) {
  to = std::min(to, d.size());
  from = std::min(from, to);
  return std::accumulate(d.begin() + std::ptrdiff_t(from), d.begin() + std::ptrdiff_t(to), int64_t(1),
                         std::multiplies<int64_t>());
}

// ---------------------------------------------------------------- mapping an ONNX node to Lamina

enum class Kind {
  Conv,
  ConvTranspose,
  Pool,
  Activation,
  Softmax,
  LRN,
  BatchNorm,
  InstanceNorm,
  Gemm,
  MatMul,
  Reduce,
  Elementwise
};

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
  int64_t repeat = 1;      // InstanceNorm: the batch size, times scale and bias repeat
  laminaReduceTensorOp_t reduceOp = LAMINA_REDUCE_TENSOR_ADD;
  laminaOpTensorOp_t tensorOp = LAMINA_OP_TENSOR_ADD;
  double alpha2 = 1;                          // Sub: ADD with the second operand negated
  std::vector<size_t> order;                  // Elementwise: node inputs, the one with y's dims first
  std::vector<std::vector<int64_t>> operands; // their dims, left-padded to y's rank
};

struct Mapper {
  const Model &m;
  const Node &n;
  Plan p;
  std::map<std::string, std::vector<int64_t>> shapes; // graph inputs/outputs and initializers

  std::string dir; // the test directory, for inputs whose values decide the mapping (ReduceSum axes)
  std::map<std::string, onnxpb::Tensor> consts;

  explicit Mapper(const Model &model, std::string testDir = "")
      : m(model), n(model.graph.nodes.at(0)), dir(std::move(testDir)) {
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
  // Node input i as data: an initializer, else graph input k read from test_data_set_0/input_k.pb.
  const onnxpb::Tensor *constInput(size_t i) {
    const std::string &name = n.inputs.at(i);
    for (const auto &t : m.graph.initializers)
      if (t.name == name)
        return &t;
    if (consts.count(name))
      return &consts[name];
    int k = 0;
    for (const auto &vi : m.graph.inputs) {
      bool init = false;
      for (const auto &t : m.graph.initializers)
        init |= t.name == vi.name;
      if (init)
        continue;
      if (vi.name == name && !dir.empty())
        return &(consts[name] = onnxpb::loadTensor(dir + "/test_data_set_0/input_" + std::to_string(k) + ".pb"));
      ++k;
    }
    return nullptr;
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

  bool reduce() {
    auto x = in(0);
    const std::string &op = n.opType;
    static const std::map<std::string, laminaReduceTensorOp_t> ops = {
        {"ReduceSum", LAMINA_REDUCE_TENSOR_ADD},  {"ReduceMean", LAMINA_REDUCE_TENSOR_AVG},
        {"ReduceMax", LAMINA_REDUCE_TENSOR_MAX},  {"ReduceMin", LAMINA_REDUCE_TENSOR_MIN},
        {"ReduceProd", LAMINA_REDUCE_TENSOR_MUL}, {"ReduceL1", LAMINA_REDUCE_TENSOR_NORM1},
        {"ReduceL2", LAMINA_REDUCE_TENSOR_NORM2}};
    auto it = ops.find(op);
    if (it == ops.end())
      return fail(op + ": no such reduction in Lamina (it would need an element-wise pass before or after)");
    p.reduceOp = it->second;
    std::vector<int64_t> axes = n.getInts("axes", {});
    bool axesGiven = n.find("axes") != nullptr;
    if (hasInput(1)) { // opset 13 ReduceSum: axes are an input
      const onnxpb::Tensor *t = constInput(1);
      if (!t)
        return fail("axes input not readable");
      axes.assign(t->values.begin(), t->values.end());
      axesGiven = !axes.empty();
    }
    p.x = x.empty() ? std::vector<int64_t>{1} : x;
    p.y = p.x;
    if (!axesGiven && n.getInt("noop_with_empty_axes", 0))
      return true; // identity: nothing reduced
    for (size_t d = 0; d < p.y.size(); ++d) {
      bool reduced = !axesGiven;
      for (int64_t a : axes)
        reduced |= (a < 0 ? a + int64_t(x.size()) : a) == int64_t(d);
      if (reduced)
        p.y[d] = 1; // keepdims=0 drops these dims, which leaves the data order as it is
    }
    return true;
  }

  bool elementwise() {
    auto y = out(0);
    if (y.empty())
      y = {1};
    p.y = y;
    const std::string &op = n.opType;
    if (op == "Sqrt")
      p.tensorOp = LAMINA_OP_TENSOR_SQRT;
    else if (op == "Mul")
      p.tensorOp = LAMINA_OP_TENSOR_MUL;
    else if (op == "Min")
      p.tensorOp = LAMINA_OP_TENSOR_MIN;
    else if (op == "Max")
      p.tensorOp = LAMINA_OP_TENSOR_MAX;
    else
      p.tensorOp = LAMINA_OP_TENSOR_ADD, p.alpha2 = op == "Sub" ? -1.0 : 1.0;
    std::vector<size_t> full, bcast;
    std::vector<std::vector<int64_t>> dims;
    for (size_t i = 0; i < n.inputs.size(); ++i) {
      auto d = in(i);
      if (d.size() > y.size())
        return fail("input of higher rank than the output");
      d.insert(d.begin(), y.size() - d.size(), 1);
      for (size_t k = 0; k < y.size(); ++k)
        if (d[k] != y[k] && d[k] != 1)
          return fail("input " + joinDims(in(i)) + " does not broadcast to " + joinDims(y));
      (d == y ? full : bcast).push_back(i);
      dims.push_back(d);
    }
    // Lamina broadcasts only its second operand: the first must have the output's dims, and for
    // Sub (not commutative) be ONNX's first input.
    if (full.empty())
      return fail("no input has the output's dims (Lamina broadcasts only its second operand)");
    if (op == "Sub" && full[0] != 0)
      return fail("Sub with a broadcast first operand");
    p.order = full;
    p.order.insert(p.order.end(), bcast.begin(), bcast.end());
    for (size_t i : p.order)
      p.operands.push_back(dims[i]);
    return true;
  }

  bool instanceNorm() {
    auto x = in(0);
    if (x.size() < 3 || x.size() > 5)
      return fail("InstanceNormalization on rank " + std::to_string(x.size()));
    // Per (n, c) statistics are batch norm's per-channel ones on a 1 x (N*C) x spatial view.
    p.repeat = x[0];
    p.x = {1, x[0] * x[1], product(x, 2), 1};
    p.y = p.x;
    p.param = {1, x[0] * x[1], 1, 1};
    p.epsilon = n.getFloat("epsilon", 1e-5f);
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
    else if (op.rfind("Reduce", 0) == 0)
      p.kind = Kind::Reduce, ok = reduce();
    else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Min" || op == "Max" || op == "Sum" || op == "Sqrt")
      p.kind = Kind::Elementwise, ok = elementwise();
    else if (op == "InstanceNormalization")
      p.kind = Kind::InstanceNorm, ok = instanceNorm();
    else
      p.kind = Kind::Activation, ok = activation();
    if (!ok && p.reason.empty())
      p.reason = "not mapped";
    return p;
  }
};
} // namespace onnxmap
