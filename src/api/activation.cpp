// Entry points: activation descriptor, forward and backward.
#include "cpu/activation.h"
#include "core/checks.h"
#ifdef LAMINA_WITH_CUDA
#include "cuda/ops.h"
#endif

#include <cmath>
#include <cstring>

using namespace lamina;

namespace {

// In-place use (same pointer) needs one layout, else an element would be overwritten before use.
void inPlaceArg(const void *in, const TensorDesc &inD, const char *inName, const void *out, const TensorDesc &outD,
                const char *outName) {
  if (in == out && !inD.sameLayout(outD))
    fail(LAMINA_STATUS_BAD_PARAM, "in-place call ('%sData' == '%sData') needs identical descriptors '%s' and '%s'",
         inName, outName, inName, outName);
}

} // namespace

extern "C" {

laminaStatus_t laminaCreateActivationDescriptor(laminaActivationDescriptor_t *desc) {
  return apiCall(__func__, [&] { createDesc(desc, "desc"); });
}
laminaStatus_t laminaDestroyActivationDescriptor(laminaActivationDescriptor_t desc) {
  return apiCall(__func__, [&] { destroyDesc(desc, "desc"); });
}

laminaStatus_t laminaSetActivationDescriptor(laminaActivationDescriptor_t desc, laminaActivationMode_t mode,
                                             laminaNanPropagation_t nan, double coef) {
  return apiCall(__func__, [&] {
    auto &a = descToSet(desc, "desc");
    const int m = enumValue(mode), n = enumValue(nan);
    if (m < LAMINA_ACTIVATION_SIGMOID || m > LAMINA_ACTIVATION_LEAKY_RELU)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'mode' has invalid value %d", m);
    if (n != LAMINA_NOT_PROPAGATE_NAN && n != LAMINA_PROPAGATE_NAN)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'nan' has invalid value %d", n);
    // coef matters for three modes: the clipped-ReLU ceiling must be > 0, the ELU alpha >= 0, the
    // leaky slope finite. Other modes ignore it.
    const bool finite = std::isfinite(coef);
    if (mode == LAMINA_ACTIVATION_CLIPPED_RELU && !(finite && coef > 0))
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'coef' is %g; the clipped ReLU ceiling must be finite and > 0", coef);
    if (mode == LAMINA_ACTIVATION_ELU && !(finite && coef >= 0))
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'coef' is %g; the ELU alpha must be finite and >= 0", coef);
    if (mode == LAMINA_ACTIVATION_LEAKY_RELU && !finite)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'coef' is %g; the leaky ReLU slope must be finite", coef);
    a.d.mode = mode;
    a.d.nan = nan;
    a.d.coef = coef;
    a.h.isSet = true;
  });
}

laminaStatus_t laminaGetActivationDescriptor(laminaActivationDescriptor_t desc, laminaActivationMode_t *mode,
                                             laminaNanPropagation_t *nan, double *coef) {
  return apiCall(__func__, [&] {
    const ActivationDesc &a = descArg(desc, "desc");
    if (mode)
      *mode = a.mode;
    if (nan)
      *nan = a.nan;
    if (coef)
      *coef = a.coef;
  });
}

laminaStatus_t laminaActivationForward(laminaHandle_t handle, laminaActivationDescriptor_t act, const void *alpha,
                                       laminaTensorDescriptor_t x, const void *xData, const void *beta,
                                       laminaTensorDescriptor_t y, void *yData) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    const ActivationDesc &ad = descArg(act, "act");
    const TensorDesc &xd = descArg(x, "x");
    const TensorDesc &yd = descArg(y, "y");
    floatTypeArg(xd.dataType, "x");
    sameTypeArg(xd.dataType, "x", yd.dataType, "y");
    sameDimsArg(xd, "x", yd, "y");
    outputArg(yd, "y");
    dataArg(h, xData, "xData");
    dataArg(h, yData, "yData");
    inPlaceArg(xData, xd, "x", yData, yd, "y");
    const double a = scalarArg(alpha, xd.dataType, "alpha"), b = scalarArg(beta, xd.dataType, "beta");
    switch (h.backend) {
    case LAMINA_BACKEND_CPU: cpu::activationForward(h, ad, a, xd, xData, b, yd, yData); break;
#ifdef LAMINA_WITH_CUDA
    case LAMINA_BACKEND_CUDA: cuda::activationForward(h, ad, a, xd, xData, b, yd, yData); break;
#endif
    default: fail(LAMINA_STATUS_NOT_SUPPORTED, "activation forward is not implemented on this backend");
    }
  });
}

laminaStatus_t laminaActivationBackward(laminaHandle_t handle, laminaActivationDescriptor_t act, const void *alpha,
                                        laminaTensorDescriptor_t y, const void *yData, laminaTensorDescriptor_t dy,
                                        const void *dyData, laminaTensorDescriptor_t x, const void *xData,
                                        const void *beta, laminaTensorDescriptor_t dx, void *dxData) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    const ActivationDesc &ad = descArg(act, "act");
    const auto [yd, dyd, xd, dxd] = backwardTensorArgs(y, dy, x, dx);
    sameDimsArg(xd, "x", yd, "y");
    sameDimsArg(xd, "x", dyd, "dy");
    sameDimsArg(xd, "x", dxd, "dx");
    outputArg(dxd, "dx");
    dataArg(h, yData, "yData");
    dataArg(h, dyData, "dyData");
    dataArg(h, xData, "xData");
    dataArg(h, dxData, "dxData");
    inPlaceArg(dyData, dyd, "dy", dxData, dxd, "dx");
    const double a = scalarArg(alpha, xd.dataType, "alpha"), b = scalarArg(beta, xd.dataType, "beta");
    switch (h.backend) {
    case LAMINA_BACKEND_CPU:
      cpu::activationBackward(h, ad, a, yd, yData, dyd, dyData, xd, xData, b, dxd, dxData);
      break;
#ifdef LAMINA_WITH_CUDA
    case LAMINA_BACKEND_CUDA:
      cuda::activationBackward(h, ad, a, yd, yData, dyd, dyData, xd, xData, b, dxd, dxData);
      break;
#endif
    default: fail(LAMINA_STATUS_NOT_SUPPORTED, "activation backward is not implemented on this backend");
    }
  });
}

} // extern "C"
