// Helpers shared by the convolution test programs: problem-list loading and descriptor setup.
#pragma once

#include "common/problem_list.h"
#include "common/test_util.h"
#include "reference/conv_ref.h"

#include <memory>
#include <string>
#include <vector>

namespace ct {

struct NamedSpec {
  std::string name;
  lt::ref::ConvSpec spec;
};

inline lt::ref::ConvSpec specFromShape(const lt::ConvShape &s, bool convMode) {
  lt::ref::ConvSpec r;
  r.spatialDims = s.spatialDims;
  r.N = s.N, r.C = s.C, r.K = s.K, r.G = s.G;
  for (int i = 0; i < 3; ++i) {
    r.in[i] = s.in[i], r.filt[i] = s.filt[i], r.pad[i] = s.pad[i], r.stride[i] = s.stride[i], r.dil[i] = s.dil[i];
  }
  r.convolutionMode = convMode;
  return r;
}

// The committed list (tests run with tests/ as working directory).
inline std::vector<NamedSpec> loadSpecs(const std::string &file = "problems/conv_conformance.csv") {
  std::vector<NamedSpec> out;
  for (const auto &row : lt::loadProblemList(file)) {
    lt::ConvShape s = lt::convShapeFromRow(row, 1);
    out.push_back({s.name, specFromShape(s, row.str("mode", "xcorr") == "conv")});
  }
  return out;
}

inline laminaDataType_t computeTypeFor(laminaDataType_t dt) {
  return dt == LAMINA_DATA_DOUBLE ? LAMINA_DATA_DOUBLE : LAMINA_DATA_FLOAT;
}

// Descriptors of one problem in one dtype and layout (NHWC tensors get a KRSC filter).
struct Setup {
  std::unique_ptr<lt::Tensor> x, y;
  std::unique_ptr<lt::Filter> w;
  laminaConvolutionDescriptor_t conv = nullptr;
  Setup(const lt::ref::ConvSpec &s, laminaDataType_t dt, lt::Layout layout) {
    x = std::make_unique<lt::Tensor>(dt, s.xDims(), layout);
    y = std::make_unique<lt::Tensor>(dt, s.yDims(), layout);
    w = std::make_unique<lt::Filter>(dt, s.wDims(),
                                     layout == lt::Layout::NHWC ? LAMINA_TENSOR_NHWC : LAMINA_TENSOR_NCHW);
    laminaCreateConvolutionDescriptor(&conv);
    laminaStatus_t st = laminaSetConvolutionNdDescriptor(
        conv, s.spatialDims, s.pad, s.stride, s.dil, s.convolutionMode ? LAMINA_CONVOLUTION : LAMINA_CROSS_CORRELATION,
        computeTypeFor(dt));
    if (st == LAMINA_STATUS_SUCCESS)
      st = laminaSetConvolutionGroupCount(conv, s.G);
    if (st != LAMINA_STATUS_SUCCESS)
      ADD_FAILURE() << "conv descriptor: " << laminaGetLastErrorMessage();
  }
  ~Setup() { laminaDestroyConvolutionDescriptor(conv); }
  Setup(const Setup &) = delete;
  Setup &operator=(const Setup &) = delete;
};

// expected = alpha * ref + beta * old, rounded like a stored result would be compared.
inline std::vector<double> blend(const std::vector<double> &ref, const std::vector<double> &old, double alpha,
                                 double beta) {
  std::vector<double> e(ref.size());
  for (size_t i = 0; i < ref.size(); ++i)
    e[i] = alpha * ref[i] + (beta != 0 ? beta * old[i] : 0.0);
  return e;
}

} // namespace ct
