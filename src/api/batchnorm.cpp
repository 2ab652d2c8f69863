// Entry points: batch normalisation. epsilon: any finite value > 0 is accepted (cuDNN's 1e-5 floor
// is not imposed; the CPU computes 1/sqrt(var + eps) in double).
#include "cpu/batchnorm.h"
#include "core/checks.h"
#ifdef LAMINA_WITH_CUDA
#include "cuda/ops.h"
#endif

#include <cmath>

using namespace lamina;

namespace {

laminaDataType_t paramType(laminaDataType_t x) {
  return x == LAMINA_DATA_DOUBLE ? LAMINA_DATA_DOUBLE : LAMINA_DATA_FLOAT;
}

void modeArg(const laminaBatchNormMode_t &mode) {
  if (enumValue(mode) != LAMINA_BATCHNORM_PER_ACTIVATION && enumValue(mode) != LAMINA_BATCHNORM_SPATIAL)
    fail(LAMINA_STATUS_BAD_PARAM, "argument 'mode' has invalid value %d", enumValue(mode));
}

// x is N x C x spatial... with at least 2 dims; float type.
void xArg(const TensorDesc &x, const char *name) {
  if (x.nbDims < 2)
    fail(LAMINA_STATUS_BAD_DIMS, "'%s' has %d dims; batch norm needs at least 2 (N, C)", name, x.nbDims);
  floatTypeArg(x.dataType, name);
}

// The shape of scale/bias/mean/variance for x in `mode`.
TensorDesc derivedDesc(const TensorDesc &x, laminaBatchNormMode_t mode) {
  TensorDesc d;
  d.dataType = paramType(x.dataType);
  d.nbDims = x.nbDims;
  for (int i = 0; i < x.nbDims; ++i)
    d.dims[i] = (i == 1 || (i >= 2 && mode == LAMINA_BATCHNORM_PER_ACTIVATION)) ? x.dims[i] : 1;
  int64_t s = 1;
  for (int i = x.nbDims - 1; i >= 0; --i) {
    d.strides[i] = s;
    s *= d.dims[i];
  }
  return d;
}

void paramDescArg(const TensorDesc &bn, const TensorDesc &x, laminaBatchNormMode_t mode, const char *name) {
  TensorDesc want = derivedDesc(x, mode);
  if (!bn.sameDims(want))
    fail(LAMINA_STATUS_SHAPE_MISMATCH, "'%s' is %s but x needs %s (see laminaDeriveBNTensorDescriptor)", name,
         dimsString(bn.dims, bn.nbDims).c_str(), dimsString(want.dims, want.nbDims).c_str());
  if (bn.dataType != want.dataType)
    fail(LAMINA_STATUS_TYPE_MISMATCH, "'%s' is %s but must be %s for %s x", name, dataTypeName(bn.dataType),
         dataTypeName(want.dataType), dataTypeName(x.dataType));
}

void epsilonArg(double eps) {
  if (!(eps > 0) || !std::isfinite(eps))
    fail(LAMINA_STATUS_BAD_PARAM, "argument 'epsilon' is %g; it must be finite and > 0", eps);
}

// Two optional pointers that go together.
void pairArg(const laminaContext &h, const void *a, const char *aName, const void *b, const char *bName) {
  if ((a == nullptr) != (b == nullptr))
    fail(LAMINA_STATUS_BAD_PARAM, "'%s' and '%s' must both be NULL or both be set", aName, bName);
  if (a) {
    dataArg(h, a, aName);
    dataArg(h, b, bName);
  }
}

void inPlaceArg(const void *in, const TensorDesc &ti, const char *inName, const void *out, const TensorDesc &to,
                const char *outName) {
  if (in == out && !ti.sameLayout(to))
    fail(LAMINA_STATUS_BAD_PARAM, "'%s' and '%s' share memory but their descriptors differ", inName, outName);
}

cpu::BNArgs forwardArgs(const laminaBatchNormMode_t &mode, const TensorDesc &x, const TensorDesc &y,
                        const TensorDesc &bn, double eps) {
  modeArg(mode);
  xArg(x, "x");
  sameTypeArg(x.dataType, "x", y.dataType, "y");
  sameDimsArg(x, "x", y, "y");
  outputArg(y, "y");
  paramDescArg(bn, x, mode, "scaleBiasMeanVar");
  epsilonArg(eps);
  cpu::BNArgs a;
  a.mode = mode;
  a.x = x;
  a.y = y;
  a.bn = bn;
  a.epsilon = eps;
  return a;
}

void notImplemented(const laminaContext &h) {
  fail(LAMINA_STATUS_NOT_SUPPORTED, "batch normalisation is not implemented on backend %d", int(h.backend));
}

} // namespace

extern "C" {

laminaStatus_t laminaDeriveBNTensorDescriptor(laminaTensorDescriptor_t derived, laminaTensorDescriptor_t x,
                                              laminaBatchNormMode_t mode) {
  return apiCall(__func__, [&] {
    auto &d = descToSet(derived, "derived");
    const TensorDesc &tx = descArg(x, "x");
    modeArg(mode);
    xArg(tx, "x");
    d.d = derivedDesc(tx, mode);
    d.h.isSet = true;
  });
}

laminaStatus_t laminaBatchNormalizationForwardTraining(laminaHandle_t handle, laminaBatchNormMode_t mode,
                                                       const void *alpha, const void *beta, laminaTensorDescriptor_t x,
                                                       const void *xData, laminaTensorDescriptor_t y, void *yData,
                                                       laminaTensorDescriptor_t scaleBiasMeanVar, const void *scale,
                                                       const void *bias, double exponentialAverageFactor,
                                                       void *runningMean, void *runningVariance, double epsilon,
                                                       void *saveMean, void *saveInvVariance) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    const TensorDesc &tx = descArg(x, "x");
    const TensorDesc &ty = descArg(y, "y");
    const TensorDesc &tb = descArg(scaleBiasMeanVar, "scaleBiasMeanVar");
    cpu::BNArgs a = forwardArgs(mode, tx, ty, tb, epsilon);
    if (!(exponentialAverageFactor >= 0 && exponentialAverageFactor <= 1))
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'exponentialAverageFactor' is %g; it must be in [0, 1]",
           exponentialAverageFactor);
    double al = scalarArg(alpha, tx.dataType, "alpha"), be = scalarArg(beta, tx.dataType, "beta");
    dataArg(h, xData, "xData");
    dataArg(h, yData, "yData");
    inPlaceArg(xData, tx, "x", yData, ty, "y");
    dataArg(h, scale, "scale");
    dataArg(h, bias, "bias");
    pairArg(h, runningMean, "runningMean", runningVariance, "runningVariance");
    pairArg(h, saveMean, "saveMean", saveInvVariance, "saveInvVariance");
    if (runningMean || saveMean)
      outputArg(tb, "scaleBiasMeanVar");
    switch (h.backend) {
    case LAMINA_BACKEND_CPU:
      cpu::bnForwardTraining(h, a, al, be, xData, yData, scale, bias, exponentialAverageFactor, runningMean,
                             runningVariance, saveMean, saveInvVariance);
      break;
#ifdef LAMINA_WITH_CUDA
    case LAMINA_BACKEND_CUDA:
      cuda::bnForwardTraining(h, a, al, be, xData, yData, scale, bias, exponentialAverageFactor, runningMean,
                              runningVariance, saveMean, saveInvVariance);
      break;
#endif
    default: notImplemented(h);
    }
  });
}

laminaStatus_t laminaBatchNormalizationForwardInference(laminaHandle_t handle, laminaBatchNormMode_t mode,
                                                        const void *alpha, const void *beta, laminaTensorDescriptor_t x,
                                                        const void *xData, laminaTensorDescriptor_t y, void *yData,
                                                        laminaTensorDescriptor_t scaleBiasMeanVar, const void *scale,
                                                        const void *bias, const void *estimatedMean,
                                                        const void *estimatedVariance, double epsilon) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    const TensorDesc &tx = descArg(x, "x");
    const TensorDesc &ty = descArg(y, "y");
    const TensorDesc &tb = descArg(scaleBiasMeanVar, "scaleBiasMeanVar");
    cpu::BNArgs a = forwardArgs(mode, tx, ty, tb, epsilon);
    double al = scalarArg(alpha, tx.dataType, "alpha"), be = scalarArg(beta, tx.dataType, "beta");
    dataArg(h, xData, "xData");
    dataArg(h, yData, "yData");
    inPlaceArg(xData, tx, "x", yData, ty, "y");
    dataArg(h, scale, "scale");
    dataArg(h, bias, "bias");
    dataArg(h, estimatedMean, "estimatedMean");
    dataArg(h, estimatedVariance, "estimatedVariance");
    switch (h.backend) {
    case LAMINA_BACKEND_CPU:
      cpu::bnForwardInference(h, a, al, be, xData, yData, scale, bias, estimatedMean, estimatedVariance);
      break;
#ifdef LAMINA_WITH_CUDA
    case LAMINA_BACKEND_CUDA:
      cuda::bnForwardInference(h, a, al, be, xData, yData, scale, bias, estimatedMean, estimatedVariance);
      break;
#endif
    default: notImplemented(h);
    }
  });
}

laminaStatus_t laminaBatchNormalizationBackward(laminaHandle_t handle, laminaBatchNormMode_t mode,
                                                const void *alphaData, const void *betaData, const void *alphaParam,
                                                const void *betaParam, laminaTensorDescriptor_t x, const void *xData,
                                                laminaTensorDescriptor_t dy, const void *dyData,
                                                laminaTensorDescriptor_t dx, void *dxData,
                                                laminaTensorDescriptor_t scaleBiasDiff, const void *scale, void *dScale,
                                                void *dBias, double epsilon, const void *savedMean,
                                                const void *savedInvVariance) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    const TensorDesc &tx = descArg(x, "x");
    const TensorDesc &tdy = descArg(dy, "dy");
    const TensorDesc &tdx = descArg(dx, "dx");
    const TensorDesc &tb = descArg(scaleBiasDiff, "scaleBiasDiff");
    modeArg(mode);
    xArg(tx, "x");
    sameTypeArg(tx.dataType, "x", tdy.dataType, "dy");
    sameTypeArg(tx.dataType, "x", tdx.dataType, "dx");
    sameDimsArg(tx, "x", tdy, "dy");
    sameDimsArg(tx, "x", tdx, "dx");
    outputArg(tdx, "dx");
    paramDescArg(tb, tx, mode, "scaleBiasDiff");
    outputArg(tb, "scaleBiasDiff");
    epsilonArg(epsilon);
    const laminaDataType_t dt = tx.dataType;
    double aD = scalarArg(alphaData, dt, "alphaData"), bD = scalarArg(betaData, dt, "betaData");
    double aP = scalarArg(alphaParam, dt, "alphaParam"), bP = scalarArg(betaParam, dt, "betaParam");
    dataArg(h, xData, "xData");
    dataArg(h, dyData, "dyData");
    dataArg(h, dxData, "dxData");
    inPlaceArg(dyData, tdy, "dy", dxData, tdx, "dx");
    if (xData == dxData)
      fail(LAMINA_STATUS_BAD_PARAM, "'dx' may not overwrite 'x' (x is read again)");
    dataArg(h, scale, "scale");
    dataArg(h, dScale, "dScale");
    dataArg(h, dBias, "dBias");
    pairArg(h, savedMean, "savedMean", savedInvVariance, "savedInvVariance");
    cpu::BNArgs a;
    a.mode = mode;
    a.x = tx;
    a.y = tdy;
    a.dx = tdx;
    a.bn = tb;
    a.epsilon = epsilon;
    switch (h.backend) {
    case LAMINA_BACKEND_CPU:
      cpu::bnBackward(h, a, aD, bD, aP, bP, xData, dyData, dxData, scale, dScale, dBias, savedMean, savedInvVariance);
      break;
#ifdef LAMINA_WITH_CUDA
    case LAMINA_BACKEND_CUDA:
      cuda::bnBackward(h, a, aD, bD, aP, bP, xData, dyData, dxData, scale, dScale, dBias, savedMean, savedInvVariance);
      break;
#endif
    default: notImplemented(h);
    }
  });
}

} // extern "C"
