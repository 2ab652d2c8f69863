// Entry points: pooling descriptor, output shape, forward and backward.
#include "cpu/pooling.h"
#include "core/checks.h"
#ifdef LAMINA_WITH_CUDA
#include "cuda/ops.h"
#endif

#include <algorithm>
#include <cstring>

using namespace lamina;

namespace {

void setPooling(laminaPoolingStruct &p, int mode, int nan, int spatialDims, const int64_t *window, const int64_t *pads,
                const int64_t *strides) {
  if (mode != LAMINA_POOLING_MAX && mode != LAMINA_POOLING_AVERAGE_COUNT_INCLUDE_PADDING &&
      mode != LAMINA_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING)
    fail(LAMINA_STATUS_BAD_PARAM, "argument 'mode' has invalid value %d", mode);
  if (nan != LAMINA_NOT_PROPAGATE_NAN && nan != LAMINA_PROPAGATE_NAN)
    fail(LAMINA_STATUS_BAD_PARAM, "argument 'nan' has invalid value %d", nan);
  if (spatialDims < 1 || spatialDims > 3)
    fail(LAMINA_STATUS_BAD_DIMS, "argument 'spatialDims' is %d; it must be 1, 2 or 3", spatialDims);
  pointerArg(window, "window");
  pointerArg(pads, "pads");
  pointerArg(strides, "strides");
  for (int i = 0; i < spatialDims; ++i) {
    if (window[i] < 1)
      fail(LAMINA_STATUS_BAD_PARAM, "window[%d] is %lld; it must be >= 1", i, (long long)window[i]);
    if (pads[i] < 0)
      fail(LAMINA_STATUS_BAD_PARAM, "pads[%d] is %lld; it must be >= 0", i, (long long)pads[i]);
    if (pads[i] >= window[i])
      fail(LAMINA_STATUS_BAD_PARAM, "pads[%d] is %lld; it must be smaller than window[%d] = %lld", i,
           (long long)pads[i], i, (long long)window[i]);
    if (strides[i] < 1)
      fail(LAMINA_STATUS_BAD_PARAM, "strides[%d] is %lld; it must be >= 1", i, (long long)strides[i]);
  }
  PoolingDesc d = p.d; // keeps the ceil mode
  d.mode = laminaPoolingMode_t(mode);
  d.nan = laminaNanPropagation_t(nan);
  d.spatialDims = spatialDims;
  for (int i = 0; i < 3; ++i) {
    d.window[i] = i < spatialDims ? window[i] : 1;
    d.pads[i] = i < spatialDims ? pads[i] : 0;
    d.strides[i] = i < spatialDims ? strides[i] : 1;
  }
  p.d = d;
  p.h.isSet = true;
}

// x must be N x C x spatial with the descriptor's spatial dim count; writes the output dims.
void poolOutputDims(const PoolingDesc &p, const TensorDesc &x, const char *xName, int64_t *out) {
  if (x.nbDims != p.spatialDims + 2)
    fail(LAMINA_STATUS_BAD_DIMS, "'%s' has %d dims but the pooling descriptor has %d spatial dims (needs %d)", xName,
         x.nbDims, p.spatialDims, p.spatialDims + 2);
  out[0] = x.dims[0];
  out[1] = x.dims[1];
  for (int i = 0; i < p.spatialDims; ++i) {
    out[2 + i] = p.outputSize(i, x.dims[2 + i]);
    if (out[2 + i] < 1)
      fail(LAMINA_STATUS_SHAPE_MISMATCH, "window[%d] = %lld is larger than the padded input: '%s' dim %d is %lld", i,
           (long long)p.window[i], xName, 2 + i, (long long)x.dims[2 + i]);
  }
}

// y (named yName) must have the forward output dims of x.
void outputShapeArg(const PoolingDesc &p, const TensorDesc &x, const char *xName, const TensorDesc &y,
                    const char *yName) {
  int64_t out[LAMINA_DIM_MAX];
  poolOutputDims(p, x, xName, out);
  if (y.nbDims != x.nbDims || !std::equal(out, out + x.nbDims, y.dims))
    fail(LAMINA_STATUS_SHAPE_MISMATCH, "'%s' is %s but pooling '%s' gives %s", yName,
         dimsString(y.dims, y.nbDims).c_str(), xName, dimsString(out, x.nbDims).c_str());
}

} // namespace

extern "C" {

laminaStatus_t laminaCreatePoolingDescriptor(laminaPoolingDescriptor_t *desc) {
  return apiCall(__func__, [&] { createDesc(desc, "desc"); });
}
laminaStatus_t laminaDestroyPoolingDescriptor(laminaPoolingDescriptor_t desc) {
  return apiCall(__func__, [&] { destroyDesc(desc, "desc"); });
}

laminaStatus_t laminaSetPooling2dDescriptor(laminaPoolingDescriptor_t desc, laminaPoolingMode_t mode,
                                            laminaNanPropagation_t nan, int64_t windowH, int64_t windowW, int64_t padH,
                                            int64_t padW, int64_t strideH, int64_t strideW) {
  return apiCall(__func__, [&] {
    const int64_t window[2] = {windowH, windowW}, pads[2] = {padH, padW}, strides[2] = {strideH, strideW};
    setPooling(descToSet(desc, "desc"), enumValue(mode), enumValue(nan), 2, window, pads, strides);
  });
}

laminaStatus_t laminaSetPoolingNdDescriptor(laminaPoolingDescriptor_t desc, laminaPoolingMode_t mode,
                                            laminaNanPropagation_t nan, int spatialDims, const int64_t window[],
                                            const int64_t pads[], const int64_t strides[]) {
  return apiCall(__func__, [&] {
    setPooling(descToSet(desc, "desc"), enumValue(mode), enumValue(nan), spatialDims, window, pads, strides);
  });
}

laminaStatus_t laminaGetPoolingNdDescriptor(laminaPoolingDescriptor_t desc, int spatialDimsRequested,
                                            laminaPoolingMode_t *mode, laminaNanPropagation_t *nan, int *spatialDims,
                                            int64_t window[], int64_t pads[], int64_t strides[]) {
  return apiCall(__func__, [&] {
    const PoolingDesc &p = descArg(desc, "desc");
    if (spatialDimsRequested < 0)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'spatialDimsRequested' is negative");
    const int n = std::min(spatialDimsRequested, p.spatialDims);
    if (n > 0) {
      pointerArg(window, "window");
      pointerArg(pads, "pads");
      pointerArg(strides, "strides");
    }
    for (int i = 0; i < n; ++i) {
      window[i] = p.window[i];
      pads[i] = p.pads[i];
      strides[i] = p.strides[i];
    }
    if (mode)
      *mode = p.mode;
    if (nan)
      *nan = p.nan;
    if (spatialDims)
      *spatialDims = p.spatialDims;
  });
}

laminaStatus_t laminaSetPoolingCeilMode(laminaPoolingDescriptor_t desc, int ceilMode) {
  return apiCall(__func__, [&] {
    auto &p = descToSet(desc, "desc");
    if (ceilMode != 0 && ceilMode != 1)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'ceilMode' is %d; it must be 0 or 1", ceilMode);
    p.d.ceilMode = ceilMode == 1;
  });
}

laminaStatus_t laminaGetPoolingCeilMode(laminaPoolingDescriptor_t desc, int *ceilMode) {
  return apiCall(__func__, [&] {
    const PoolingDesc &p = descArg(desc, "desc");
    pointerArg(ceilMode, "ceilMode");
    *ceilMode = p.ceilMode ? 1 : 0;
  });
}

laminaStatus_t laminaGetPoolingNdForwardOutputDim(laminaPoolingDescriptor_t desc, laminaTensorDescriptor_t x,
                                                  int nbDims, int64_t outDims[]) {
  return apiCall(__func__, [&] {
    const PoolingDesc &p = descArg(desc, "desc");
    const TensorDesc &xd = descArg(x, "x");
    pointerArg(outDims, "outDims");
    if (nbDims != xd.nbDims)
      fail(LAMINA_STATUS_BAD_DIMS, "argument 'nbDims' is %d but x has %d dims", nbDims, xd.nbDims);
    int64_t out[LAMINA_DIM_MAX];
    poolOutputDims(p, xd, "x", out);
    std::copy(out, out + nbDims, outDims);
  });
}

laminaStatus_t laminaPoolingForward(laminaHandle_t handle, laminaPoolingDescriptor_t pool, const void *alpha,
                                    laminaTensorDescriptor_t x, const void *xData, const void *beta,
                                    laminaTensorDescriptor_t y, void *yData) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    const PoolingDesc &p = descArg(pool, "pool");
    const TensorDesc &xd = descArg(x, "x");
    const TensorDesc &yd = descArg(y, "y");
    floatTypeArg(xd.dataType, "x");
    sameTypeArg(xd.dataType, "x", yd.dataType, "y");
    outputShapeArg(p, xd, "x", yd, "y");
    outputArg(yd, "y");
    dataArg(h, xData, "xData");
    dataArg(h, yData, "yData");
    const double a = scalarArg(alpha, xd.dataType, "alpha"), b = scalarArg(beta, xd.dataType, "beta");
    switch (h.backend) {
    case LAMINA_BACKEND_CPU: cpu::poolingForward(h, p, a, xd, xData, b, yd, yData); break;
#ifdef LAMINA_WITH_CUDA
    case LAMINA_BACKEND_CUDA: cuda::poolingForward(h, p, a, xd, xData, b, yd, yData); break;
#endif
    default: fail(LAMINA_STATUS_NOT_SUPPORTED, "pooling forward is not implemented on this backend");
    }
  });
}

laminaStatus_t laminaPoolingBackward(laminaHandle_t handle, laminaPoolingDescriptor_t pool, const void *alpha,
                                     laminaTensorDescriptor_t y, const void *yData, laminaTensorDescriptor_t dy,
                                     const void *dyData, laminaTensorDescriptor_t x, const void *xData,
                                     const void *beta, laminaTensorDescriptor_t dx, void *dxData) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    const PoolingDesc &p = descArg(pool, "pool");
    const auto [yd, dyd, xd, dxd] = backwardTensorArgs(y, dy, x, dx);
    outputShapeArg(p, xd, "x", yd, "y");
    sameDimsArg(yd, "y", dyd, "dy");
    sameDimsArg(xd, "x", dxd, "dx");
    outputArg(dxd, "dx");
    dataArg(h, yData, "yData");
    dataArg(h, dyData, "dyData");
    dataArg(h, xData, "xData");
    dataArg(h, dxData, "dxData");
    const double a = scalarArg(alpha, xd.dataType, "alpha"), b = scalarArg(beta, xd.dataType, "beta");
    switch (h.backend) {
    case LAMINA_BACKEND_CPU: cpu::poolingBackward(h, p, a, dyd, dyData, xd, xData, b, dxd, dxData); break;
#ifdef LAMINA_WITH_CUDA
    case LAMINA_BACKEND_CUDA: cuda::poolingBackward(h, p, a, dyd, dyData, xd, xData, b, dxd, dxData); break;
#endif
    default: fail(LAMINA_STATUS_NOT_SUPPORTED, "pooling backward is not implemented on this backend");
    }
  });
}

} // extern "C"
