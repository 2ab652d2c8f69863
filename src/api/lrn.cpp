// Entry points: LRN descriptor, forward and backward.
#include "cpu/lrn.h"
#include "core/checks.h"
#ifdef LAMINA_WITH_CUDA
#include "cuda/ops.h"
#endif

#include <cmath>
#include <cstring>

using namespace lamina;

namespace {

void modeArg(const laminaLRNMode_t &mode) {
  const int m = enumValue(mode);
  if (m != LAMINA_LRN_CROSS_CHANNEL && m != LAMINA_LRN_WITHIN_CHANNEL)
    fail(LAMINA_STATUS_BAD_PARAM, "argument 'mode' has invalid value %d", m);
}

// Cross channel: N, C and any spatial dims; within channel: exactly N x C x H x W.
void rankArg(laminaLRNMode_t mode, const TensorDesc &t, const char *name) {
  if (mode == LAMINA_LRN_CROSS_CHANNEL && t.nbDims < 3)
    fail(LAMINA_STATUS_BAD_DIMS, "'%s' has %d dims; cross-channel LRN needs at least 3 (N, C, spatial...)", name,
         t.nbDims);
  if (mode == LAMINA_LRN_WITHIN_CHANNEL && t.nbDims != 4)
    fail(LAMINA_STATUS_BAD_DIMS, "'%s' has %d dims; within-channel LRN needs 4 (N, C, H, W)", name, t.nbDims);
}

} // namespace

extern "C" {

// A new LRN descriptor holds the documented defaults and is usable at once.
laminaStatus_t laminaCreateLRNDescriptor(laminaLRNDescriptor_t *desc) {
  return apiCall(__func__, [&] {
    createDesc(desc, "desc");
    (*desc)->h.isSet = true;
  });
}
laminaStatus_t laminaDestroyLRNDescriptor(laminaLRNDescriptor_t desc) {
  return apiCall(__func__, [&] { destroyDesc(desc, "desc"); });
}

laminaStatus_t laminaSetLRNDescriptor(laminaLRNDescriptor_t desc, unsigned n, double alpha, double beta, double k) {
  return apiCall(__func__, [&] {
    auto &l = descToSet(desc, "desc");
    // Both modes centre the window on the element, so n must be odd.
    if (n < 1 || n > 15 || n % 2 == 0)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'n' is %u; it must be odd and in [1, 15]", n);
    if (!(std::isfinite(alpha) && alpha >= 0))
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'alpha' is %g; it must be finite and >= 0", alpha);
    if (!(std::isfinite(beta) && beta >= 0))
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'beta' is %g; it must be finite and >= 0", beta);
    // k > 0 keeps the scale positive (alpha >= 0), so scale^-beta is finite.
    if (!(std::isfinite(k) && k > 0))
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'k' is %g; it must be finite and > 0", k);
    l.d.n = n;
    l.d.alpha = alpha;
    l.d.beta = beta;
    l.d.k = k;
    l.h.isSet = true;
  });
}

laminaStatus_t laminaGetLRNDescriptor(laminaLRNDescriptor_t desc, unsigned *n, double *alpha, double *beta, double *k) {
  return apiCall(__func__, [&] {
    const LRNDesc &l = descArg(desc, "desc");
    if (n)
      *n = l.n;
    if (alpha)
      *alpha = l.alpha;
    if (beta)
      *beta = l.beta;
    if (k)
      *k = l.k;
  });
}

laminaStatus_t laminaLRNForward(laminaHandle_t handle, laminaLRNDescriptor_t lrn, laminaLRNMode_t mode,
                                const void *alpha, laminaTensorDescriptor_t x, const void *xData, const void *beta,
                                laminaTensorDescriptor_t y, void *yData) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    const LRNDesc &l = descArg(lrn, "lrn");
    modeArg(mode);
    const TensorDesc &xd = descArg(x, "x");
    const TensorDesc &yd = descArg(y, "y");
    floatTypeArg(xd.dataType, "x");
    sameTypeArg(xd.dataType, "x", yd.dataType, "y");
    rankArg(mode, xd, "x");
    sameDimsArg(xd, "x", yd, "y");
    outputArg(yd, "y");
    dataArg(h, xData, "xData");
    dataArg(h, yData, "yData");
    if (xData == yData && !xd.sameLayout(yd))
      fail(LAMINA_STATUS_BAD_PARAM, "in-place call ('xData' == 'yData') needs identical descriptors 'x' and 'y'");
    const double a = scalarArg(alpha, xd.dataType, "alpha"), b = scalarArg(beta, xd.dataType, "beta");
    switch (h.backend) {
    case LAMINA_BACKEND_CPU: cpu::lrnForward(h, l, mode, a, xd, xData, b, yd, yData); break;
#ifdef LAMINA_WITH_CUDA
    case LAMINA_BACKEND_CUDA: cuda::lrnForward(h, l, mode, a, xd, xData, b, yd, yData); break;
#endif
    default: fail(LAMINA_STATUS_NOT_SUPPORTED, "LRN forward is not implemented on this backend");
    }
  });
}

laminaStatus_t laminaLRNBackward(laminaHandle_t handle, laminaLRNDescriptor_t lrn, laminaLRNMode_t mode,
                                 const void *alpha, laminaTensorDescriptor_t y, const void *yData,
                                 laminaTensorDescriptor_t dy, const void *dyData, laminaTensorDescriptor_t x,
                                 const void *xData, const void *beta, laminaTensorDescriptor_t dx, void *dxData) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    const LRNDesc &l = descArg(lrn, "lrn");
    modeArg(mode);
    const auto [yd, dyd, xd, dxd] = backwardTensorArgs(y, dy, x, dx);
    rankArg(mode, xd, "x");
    sameDimsArg(xd, "x", yd, "y");
    sameDimsArg(xd, "x", dyd, "dy");
    sameDimsArg(xd, "x", dxd, "dx");
    outputArg(dxd, "dx");
    dataArg(h, yData, "yData");
    dataArg(h, dyData, "dyData");
    dataArg(h, xData, "xData");
    dataArg(h, dxData, "dxData");
    const double a = scalarArg(alpha, xd.dataType, "alpha"), b = scalarArg(beta, xd.dataType, "beta");
    switch (h.backend) {
    case LAMINA_BACKEND_CPU: cpu::lrnBackward(h, l, mode, a, dyd, dyData, xd, xData, b, dxd, dxData); break;
#ifdef LAMINA_WITH_CUDA
    case LAMINA_BACKEND_CUDA: cuda::lrnBackward(h, l, mode, a, dyd, dyData, xd, xData, b, dxd, dxData); break;
#endif
    default: fail(LAMINA_STATUS_NOT_SUPPORTED, "LRN backward is not implemented on this backend");
    }
  });
}

} // extern "C"
