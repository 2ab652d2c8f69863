// Entry points: AddTensor, SetTensor, ScaleTensor, TransformTensor, OpTensor and its descriptor.
#include "cpu/tensor_ops.h"
#include "core/checks.h"
#ifdef LAMINA_WITH_CUDA
#include "cuda/ops.h"
#endif

using namespace lamina;

namespace {

// Each dim of `a` equals c's or is 1 (SHAPE_MISMATCH naming both).
void broadcastArg(const TensorDesc &a, const char *aName, const TensorDesc &c, const char *cName) {
  bool ok = a.nbDims == c.nbDims;
  for (int d = 0; ok && d < c.nbDims; ++d)
    ok = a.dims[d] == c.dims[d] || a.dims[d] == 1;
  if (!ok)
    fail(LAMINA_STATUS_SHAPE_MISMATCH, "'%s' is %s, which does not broadcast to '%s' %s (each dim must match or be 1)",
         aName, dimsString(a.dims, a.nbDims).c_str(), cName, dimsString(c.dims, c.nbDims).c_str());
}

// An input that is also the output must be described exactly like it (elementwise in place).
void aliasArg(const void *in, const TensorDesc &ti, const char *inName, const void *out, const TensorDesc &to,
              const char *outName) {
  if (in == out && !ti.sameLayout(to))
    fail(LAMINA_STATUS_BAD_PARAM,
         "'%s' and '%s' share memory but their descriptors differ; in place needs identical ones", inName, outName);
}

void dispatchNotImplemented(const laminaContext &h) {
  fail(LAMINA_STATUS_NOT_SUPPORTED, "this operation is not implemented on backend %d", int(h.backend));
}

} // namespace

extern "C" {

laminaStatus_t laminaAddTensor(laminaHandle_t handle, const void *alpha, laminaTensorDescriptor_t a, const void *aData,
                               const void *beta, laminaTensorDescriptor_t c, void *cData) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    const TensorDesc &ta = descArg(a, "a");
    const TensorDesc &tc = descArg(c, "c");
    floatTypeArg(tc.dataType, "c");
    sameTypeArg(ta.dataType, "a", tc.dataType, "c");
    broadcastArg(ta, "a", tc, "c");
    outputArg(tc, "c");
    double al = scalarArg(alpha, tc.dataType, "alpha"), be = scalarArg(beta, tc.dataType, "beta");
    dataArg(h, aData, "aData");
    dataArg(h, cData, "cData");
    aliasArg(aData, ta, "a", cData, tc, "c");
    switch (h.backend) {
    case LAMINA_BACKEND_CPU: cpu::addTensor(h, al, ta, aData, be, tc, cData); break;
#ifdef LAMINA_WITH_CUDA
    case LAMINA_BACKEND_CUDA: cuda::addTensor(h, al, ta, aData, be, tc, cData); break;
#endif
    default: dispatchNotImplemented(h);
    }
  });
}

laminaStatus_t laminaSetTensor(laminaHandle_t handle, laminaTensorDescriptor_t y, void *yData, const void *value) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    const TensorDesc &ty = descArg(y, "y");
    floatTypeArg(ty.dataType, "y");
    outputArg(ty, "y");
    double v = scalarArg(value, ty.dataType, "value");
    dataArg(h, yData, "yData");
    switch (h.backend) {
    case LAMINA_BACKEND_CPU: cpu::setTensor(h, ty, yData, v); break;
#ifdef LAMINA_WITH_CUDA
    case LAMINA_BACKEND_CUDA: cuda::setTensor(h, ty, yData, v); break;
#endif
    default: dispatchNotImplemented(h);
    }
  });
}

laminaStatus_t laminaScaleTensor(laminaHandle_t handle, laminaTensorDescriptor_t y, void *yData, const void *alpha) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    const TensorDesc &ty = descArg(y, "y");
    floatTypeArg(ty.dataType, "y");
    outputArg(ty, "y");
    double al = scalarArg(alpha, ty.dataType, "alpha");
    dataArg(h, yData, "yData");
    switch (h.backend) {
    case LAMINA_BACKEND_CPU: cpu::scaleTensor(h, ty, yData, al); break;
#ifdef LAMINA_WITH_CUDA
    case LAMINA_BACKEND_CUDA: cuda::scaleTensor(h, ty, yData, al); break;
#endif
    default: dispatchNotImplemented(h);
    }
  });
}

laminaStatus_t laminaTransformTensor(laminaHandle_t handle, const void *alpha, laminaTensorDescriptor_t x,
                                     const void *xData, const void *beta, laminaTensorDescriptor_t y, void *yData) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    const TensorDesc &tx = descArg(x, "x");
    const TensorDesc &ty = descArg(y, "y");
    floatTypeArg(tx.dataType, "x");
    floatTypeArg(ty.dataType, "y");
    sameDimsArg(tx, "x", ty, "y");
    outputArg(ty, "y");
    double al = scalarArg(alpha, ty.dataType, "alpha"), be = scalarArg(beta, ty.dataType, "beta");
    dataArg(h, xData, "xData");
    dataArg(h, yData, "yData");
    if (xData == yData && !(tx.sameLayout(ty) && tx.dataType == ty.dataType))
      fail(LAMINA_STATUS_BAD_PARAM, "'x' and 'y' share memory but differ in layout or data type");
    switch (h.backend) {
    case LAMINA_BACKEND_CPU: cpu::transformTensor(h, al, tx, xData, be, ty, yData); break;
#ifdef LAMINA_WITH_CUDA
    case LAMINA_BACKEND_CUDA: cuda::transformTensor(h, al, tx, xData, be, ty, yData); break;
#endif
    default: dispatchNotImplemented(h);
    }
  });
}

laminaStatus_t laminaCreateOpTensorDescriptor(laminaOpTensorDescriptor_t *desc) {
  return apiCall(__func__, [&] { createDesc(desc, "desc"); });
}
laminaStatus_t laminaDestroyOpTensorDescriptor(laminaOpTensorDescriptor_t desc) {
  return apiCall(__func__, [&] { destroyDesc(desc, "desc"); });
}

laminaStatus_t laminaSetOpTensorDescriptor(laminaOpTensorDescriptor_t desc, laminaOpTensorOp_t op,
                                           laminaDataType_t computeType, laminaNanPropagation_t nan) {
  return apiCall(__func__, [&] {
    auto &d = descToSet(desc, "desc");
    if (enumValue(op) < LAMINA_OP_TENSOR_ADD || enumValue(op) > LAMINA_OP_TENSOR_CMP_GE)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'op' has invalid value %d", enumValue(op));
    // The CPU computes in float (double for double data); computeType records the request.
    if (enumValue(computeType) != LAMINA_DATA_FLOAT && enumValue(computeType) != LAMINA_DATA_DOUBLE)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'computeType' has value %d; it must be float or double",
           enumValue(computeType));
    if (enumValue(nan) != LAMINA_NOT_PROPAGATE_NAN && enumValue(nan) != LAMINA_PROPAGATE_NAN)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'nan' has invalid value %d", enumValue(nan));
    d.d.op = op;
    d.d.computeType = computeType;
    d.d.nan = nan;
    d.h.isSet = true;
  });
}

laminaStatus_t laminaGetOpTensorDescriptor(laminaOpTensorDescriptor_t desc, laminaOpTensorOp_t *op,
                                           laminaDataType_t *computeType, laminaNanPropagation_t *nan) {
  return apiCall(__func__, [&] {
    const OpTensorDesc &d = descArg(desc, "desc");
    if (op)
      *op = d.op;
    if (computeType)
      *computeType = d.computeType;
    if (nan)
      *nan = d.nan;
  });
}

laminaStatus_t laminaOpTensor(laminaHandle_t handle, laminaOpTensorDescriptor_t opDesc, const void *alpha1,
                              laminaTensorDescriptor_t a, const void *aData, const void *alpha2,
                              laminaTensorDescriptor_t b, const void *bData, const void *beta,
                              laminaTensorDescriptor_t c, void *cData) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    const OpTensorDesc &op = descArg(opDesc, "op");
    const bool unary = op.unary();
    const TensorDesc &ta = descArg(a, "a");
    const TensorDesc &tc = descArg(c, "c");
    floatTypeArg(tc.dataType, "c");
    sameTypeArg(ta.dataType, "a", tc.dataType, "c");
    sameDimsArg(ta, "a", tc, "c");
    const TensorDesc *tb = nullptr;
    if (!unary) {
      tb = &descArg(b, "b");
      sameTypeArg(tb->dataType, "b", tc.dataType, "c");
      broadcastArg(*tb, "b", tc, "c");
    }
    outputArg(tc, "c");
    double a1 = scalarArg(alpha1, tc.dataType, "alpha1"), be = scalarArg(beta, tc.dataType, "beta");
    double a2 = unary ? 0.0 : scalarArg(alpha2, tc.dataType, "alpha2");
    dataArg(h, aData, "aData");
    if (!unary)
      dataArg(h, bData, "bData");
    dataArg(h, cData, "cData");
    aliasArg(aData, ta, "a", cData, tc, "c");
    if (!unary)
      aliasArg(bData, *tb, "b", cData, tc, "c");
    switch (h.backend) {
    case LAMINA_BACKEND_CPU: cpu::opTensor(h, op, a1, ta, aData, a2, tb, unary ? nullptr : bData, be, tc, cData); break;
#ifdef LAMINA_WITH_CUDA
    case LAMINA_BACKEND_CUDA:
      cuda::opTensor(h, op, a1, ta, aData, a2, tb, unary ? nullptr : bData, be, tc, cData);
      break;
#endif
    default: dispatchNotImplemented(h);
    }
  });
}

} // extern "C"
