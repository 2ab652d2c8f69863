// Entry points: the convolution descriptor and output-shape queries.
#include "core/checks.h"
#include "core/conv_problem.h"

#include <algorithm>

using namespace lamina;

namespace {

void setConv(laminaConvolutionStruct &c, int spatialDims, const int64_t *pads, const int64_t *strides,
             const int64_t *dilations, int mode, int computeType) {
  if (spatialDims < 1 || spatialDims > 3)
    fail(LAMINA_STATUS_BAD_DIMS, "argument 'spatialDims' is %d; it must be 1, 2 or 3", spatialDims);
  pointerArg(pads, "pads");
  pointerArg(strides, "strides");
  pointerArg(dilations, "dilations");
  for (int i = 0; i < spatialDims; ++i) {
    if (pads[i] < 0)
      fail(LAMINA_STATUS_BAD_PARAM, "pads[%d] is %lld; it must be >= 0", i, (long long)pads[i]);
    if (strides[i] < 1)
      fail(LAMINA_STATUS_BAD_PARAM, "strides[%d] is %lld; it must be >= 1", i, (long long)strides[i]);
    if (dilations[i] < 1)
      fail(LAMINA_STATUS_BAD_PARAM, "dilations[%d] is %lld; it must be >= 1", i, (long long)dilations[i]);
  }
  if (mode != LAMINA_CONVOLUTION && mode != LAMINA_CROSS_CORRELATION)
    fail(LAMINA_STATUS_BAD_PARAM, "argument 'mode' has invalid value %d", mode);
  if (computeType != LAMINA_DATA_FLOAT && computeType != LAMINA_DATA_DOUBLE && computeType != LAMINA_DATA_HALF &&
      computeType != LAMINA_DATA_BFLOAT16)
    fail(LAMINA_STATUS_BAD_PARAM, "argument 'computeType' has invalid value %d", computeType);
  ConvDesc d = c.d; // keeps groups and math type
  d.spatialDims = spatialDims;
  for (int i = 0; i < 3; ++i) {
    d.pads[i] = i < spatialDims ? pads[i] : 0;
    d.strides[i] = i < spatialDims ? strides[i] : 1;
    d.dilations[i] = i < spatialDims ? dilations[i] : 1;
  }
  d.mode = laminaConvolutionMode_t(mode);
  d.computeType = laminaDataType_t(computeType);
  c.d = d;
  c.h.isSet = true;
}

} // namespace

extern "C" {

laminaStatus_t laminaCreateConvolutionDescriptor(laminaConvolutionDescriptor_t *desc) {
  return apiCall(__func__, [&] { createDesc(desc, "desc"); });
}
laminaStatus_t laminaDestroyConvolutionDescriptor(laminaConvolutionDescriptor_t desc) {
  return apiCall(__func__, [&] { destroyDesc(desc, "desc"); });
}

laminaStatus_t laminaSetConvolutionNdDescriptor(laminaConvolutionDescriptor_t desc, int spatialDims,
                                                const int64_t pads[], const int64_t strides[],
                                                const int64_t dilations[], laminaConvolutionMode_t mode,
                                                laminaDataType_t computeType) {
  return apiCall(__func__, [&] {
    setConv(descToSet(desc, "desc"), spatialDims, pads, strides, dilations, enumValue(mode), enumValue(computeType));
  });
}

laminaStatus_t laminaSetConvolution2dDescriptor(laminaConvolutionDescriptor_t desc, int64_t padH, int64_t padW,
                                                int64_t strideH, int64_t strideW, int64_t dilationH, int64_t dilationW,
                                                laminaConvolutionMode_t mode, laminaDataType_t computeType) {
  return apiCall(__func__, [&] {
    int64_t pads[2] = {padH, padW}, strides[2] = {strideH, strideW}, dil[2] = {dilationH, dilationW};
    setConv(descToSet(desc, "desc"), 2, pads, strides, dil, enumValue(mode), enumValue(computeType));
  });
}

laminaStatus_t laminaGetConvolution2dDescriptor(laminaConvolutionDescriptor_t desc, int64_t *padH, int64_t *padW,
                                                int64_t *strideH, int64_t *strideW, int64_t *dilationH,
                                                int64_t *dilationW, laminaConvolutionMode_t *mode,
                                                laminaDataType_t *computeType) {
  return apiCall(__func__, [&] {
    const ConvDesc &c = descArg(desc, "desc");
    if (c.spatialDims != 2)
      fail(LAMINA_STATUS_BAD_DIMS, "descriptor 'desc' has %d spatial dims, not 2", c.spatialDims);
    int64_t *outs[6] = {padH, padW, strideH, strideW, dilationH, dilationW};
    const int64_t vals[6] = {c.pads[0], c.pads[1], c.strides[0], c.strides[1], c.dilations[0], c.dilations[1]};
    for (int i = 0; i < 6; ++i)
      if (outs[i])
        *outs[i] = vals[i];
    if (mode)
      *mode = c.mode;
    if (computeType)
      *computeType = c.computeType;
  });
}

laminaStatus_t laminaGetConvolutionNdDescriptor(laminaConvolutionDescriptor_t desc, int spatialDimsRequested,
                                                int *spatialDims, int64_t pads[], int64_t strides[],
                                                int64_t dilations[], laminaConvolutionMode_t *mode,
                                                laminaDataType_t *computeType) {
  return apiCall(__func__, [&] {
    const ConvDesc &c = descArg(desc, "desc");
    if (spatialDimsRequested < 0)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'spatialDimsRequested' is negative");
    int n = std::min(spatialDimsRequested, c.spatialDims);
    if (n > 0) {
      pointerArg(pads, "pads");
      pointerArg(strides, "strides");
      pointerArg(dilations, "dilations");
    }
    for (int i = 0; i < n; ++i) {
      pads[i] = c.pads[i];
      strides[i] = c.strides[i];
      dilations[i] = c.dilations[i];
    }
    if (spatialDims)
      *spatialDims = c.spatialDims;
    if (mode)
      *mode = c.mode;
    if (computeType)
      *computeType = c.computeType;
  });
}

laminaStatus_t laminaSetConvolutionGroupCount(laminaConvolutionDescriptor_t desc, int64_t groups) {
  return apiCall(__func__, [&] {
    auto &c = descToSet(desc, "desc");
    if (groups < 1)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'groups' is %lld; it must be >= 1", (long long)groups);
    c.d.groups = groups;
  });
}

laminaStatus_t laminaGetConvolutionGroupCount(laminaConvolutionDescriptor_t desc, int64_t *groups) {
  return apiCall(__func__, [&] {
    const ConvDesc &c = descArg(desc, "desc");
    pointerArg(groups, "groups");
    *groups = c.groups;
  });
}

laminaStatus_t laminaSetConvolutionMathType(laminaConvolutionDescriptor_t desc, laminaMathType_t math) {
  return apiCall(__func__, [&] {
    auto &c = descToSet(desc, "desc");
    int m = enumValue(math);
    if (m != LAMINA_DEFAULT_MATH && m != LAMINA_TENSOR_OP_MATH && m != LAMINA_FMA_MATH)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'math' has invalid value %d", m);
    c.d.mathType = laminaMathType_t(m);
  });
}

laminaStatus_t laminaGetConvolutionMathType(laminaConvolutionDescriptor_t desc, laminaMathType_t *math) {
  return apiCall(__func__, [&] {
    const ConvDesc &c = descArg(desc, "desc");
    pointerArg(math, "math");
    *math = c.mathType;
  });
}

laminaStatus_t laminaGetConvolutionNdForwardOutputDim(laminaConvolutionDescriptor_t conv, laminaTensorDescriptor_t x,
                                                      laminaFilterDescriptor_t w, int nbDims, int64_t outDims[]) {
  return apiCall(__func__, [&] {
    const ConvDesc &c = descArg(conv, "conv");
    const TensorDesc &xd = descArg(x, "x");
    const FilterDesc &wd = descArg(w, "w");
    pointerArg(outDims, "outDims");
    if (nbDims != xd.nbDims)
      fail(LAMINA_STATUS_BAD_DIMS, "argument 'nbDims' is %d but x has %d dims", nbDims, xd.nbDims);
    convOutputDims(xd, wd, c, outDims);
  });
}

laminaStatus_t laminaGetConvolution2dForwardOutputDim(laminaConvolutionDescriptor_t conv, laminaTensorDescriptor_t x,
                                                      laminaFilterDescriptor_t w, int64_t *n, int64_t *c, int64_t *h,
                                                      int64_t *w_) {
  return apiCall(__func__, [&] {
    const ConvDesc &cd = descArg(conv, "conv");
    const TensorDesc &xd = descArg(x, "x");
    const FilterDesc &wd = descArg(w, "w");
    if (xd.nbDims != 4)
      fail(LAMINA_STATUS_BAD_DIMS, "x has %d dims, not 4", xd.nbDims);
    int64_t out[4];
    convOutputDims(xd, wd, cd, out);
    int64_t *outs[4] = {n, c, h, w_};
    for (int i = 0; i < 4; ++i)
      if (outs[i])
        *outs[i] = out[i];
  });
}

} // extern "C"
