// Entry points: softmax forward and backward.
#include "cpu/softmax.h"
#include "core/checks.h"
#ifdef LAMINA_WITH_CUDA
#include "cuda/ops.h"
#endif

#include <cstring>

using namespace lamina;

namespace {

void algoModeArgs(const laminaSoftmaxAlgorithm_t &algo, const laminaSoftmaxMode_t &mode) {
  const int a = enumValue(algo), m = enumValue(mode);
  if (a != LAMINA_SOFTMAX_FAST && a != LAMINA_SOFTMAX_ACCURATE && a != LAMINA_SOFTMAX_LOG)
    fail(LAMINA_STATUS_BAD_PARAM, "argument 'algo' has invalid value %d", a);
  if (m != LAMINA_SOFTMAX_MODE_INSTANCE && m != LAMINA_SOFTMAX_MODE_CHANNEL)
    fail(LAMINA_STATUS_BAD_PARAM, "argument 'mode' has invalid value %d", m);
}

void rankArg(const TensorDesc &t, const char *name) {
  if (t.nbDims < 2)
    fail(LAMINA_STATUS_BAD_DIMS, "'%s' has %d dims; softmax needs at least 2 (N, C, spatial...)", name, t.nbDims);
}

// Same pointer needs the same layout: each group is read fully before it is written.
void inPlaceArg(const void *in, const TensorDesc &inD, const char *inName, const void *out, const TensorDesc &outD,
                const char *outName) {
  if (in == out && !inD.sameLayout(outD))
    fail(LAMINA_STATUS_BAD_PARAM, "in-place call ('%sData' == '%sData') needs identical descriptors '%s' and '%s'",
         inName, outName, inName, outName);
}

} // namespace

extern "C" {

laminaStatus_t laminaSoftmaxForward(laminaHandle_t handle, laminaSoftmaxAlgorithm_t algo, laminaSoftmaxMode_t mode,
                                    const void *alpha, laminaTensorDescriptor_t x, const void *xData, const void *beta,
                                    laminaTensorDescriptor_t y, void *yData) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    algoModeArgs(algo, mode);
    const TensorDesc &xd = descArg(x, "x");
    const TensorDesc &yd = descArg(y, "y");
    floatTypeArg(xd.dataType, "x");
    sameTypeArg(xd.dataType, "x", yd.dataType, "y");
    rankArg(xd, "x");
    sameDimsArg(xd, "x", yd, "y");
    outputArg(yd, "y");
    dataArg(h, xData, "xData");
    dataArg(h, yData, "yData");
    inPlaceArg(xData, xd, "x", yData, yd, "y");
    const double a = scalarArg(alpha, xd.dataType, "alpha"), b = scalarArg(beta, xd.dataType, "beta");
    switch (h.backend) {
    case LAMINA_BACKEND_CPU: cpu::softmaxForward(h, algo, mode, a, xd, xData, b, yd, yData); break;
#ifdef LAMINA_WITH_CUDA
    case LAMINA_BACKEND_CUDA: cuda::softmaxForward(h, algo, mode, a, xd, xData, b, yd, yData); break;
#endif
    default: fail(LAMINA_STATUS_NOT_SUPPORTED, "softmax forward is not implemented on this backend");
    }
  });
}

laminaStatus_t laminaSoftmaxBackward(laminaHandle_t handle, laminaSoftmaxAlgorithm_t algo, laminaSoftmaxMode_t mode,
                                     const void *alpha, laminaTensorDescriptor_t y, const void *yData,
                                     laminaTensorDescriptor_t dy, const void *dyData, const void *beta,
                                     laminaTensorDescriptor_t dx, void *dxData) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    algoModeArgs(algo, mode);
    const TensorDesc &yd = descArg(y, "y");
    const TensorDesc &dyd = descArg(dy, "dy");
    const TensorDesc &dxd = descArg(dx, "dx");
    floatTypeArg(yd.dataType, "y");
    sameTypeArg(yd.dataType, "y", dyd.dataType, "dy");
    sameTypeArg(yd.dataType, "y", dxd.dataType, "dx");
    rankArg(yd, "y");
    sameDimsArg(yd, "y", dyd, "dy");
    sameDimsArg(yd, "y", dxd, "dx");
    outputArg(dxd, "dx");
    dataArg(h, yData, "yData");
    dataArg(h, dyData, "dyData");
    dataArg(h, dxData, "dxData");
    inPlaceArg(dyData, dyd, "dy", dxData, dxd, "dx");
    const double a = scalarArg(alpha, yd.dataType, "alpha"), b = scalarArg(beta, yd.dataType, "beta");
    switch (h.backend) {
    case LAMINA_BACKEND_CPU: cpu::softmaxBackward(h, algo, mode, a, yd, yData, dyd, dyData, b, dxd, dxData); break;
#ifdef LAMINA_WITH_CUDA
    case LAMINA_BACKEND_CUDA: cuda::softmaxBackward(h, algo, mode, a, yd, yData, dyd, dyData, b, dxd, dxData); break;
#endif
    default: fail(LAMINA_STATUS_NOT_SUPPORTED, "softmax backward is not implemented on this backend");
    }
  });
}

} // extern "C"
