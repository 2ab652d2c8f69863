// Entry points: the reduce-tensor descriptor, its size queries and ReduceTensor.
#include "cpu/reduce.h"
#include "core/checks.h"
#ifdef LAMINA_WITH_CUDA
#include "cuda/ops.h"
#endif

#include <climits>

using namespace lamina;

namespace {

// a and c have the same rank; each dim of c equals a's or is 1 (1 where a is not = reduced).
void reduceShapeArg(const TensorDesc &a, const TensorDesc &c) {
  bool ok = a.nbDims == c.nbDims;
  for (int d = 0; ok && d < a.nbDims; ++d)
    ok = c.dims[d] == a.dims[d] || c.dims[d] == 1;
  if (!ok)
    fail(LAMINA_STATUS_SHAPE_MISMATCH, "'c' is %s but 'a' is %s; each dim of c must equal a's or be 1",
         dimsString(c.dims, c.nbDims).c_str(), dimsString(a.dims, a.nbDims).c_str());
}

bool wantsIndices(const ReduceTensorDesc &d) {
  return d.indices == LAMINA_REDUCE_TENSOR_FLATTENED_INDICES &&
         (d.op == LAMINA_REDUCE_TENSOR_MIN || d.op == LAMINA_REDUCE_TENSOR_MAX || d.op == LAMINA_REDUCE_TENSOR_AMAX);
}

// Validates the tensors of a reduction; returns the bytes of indices it writes (one int32 per
// element of c, row-major over c's dims), 0 when the descriptor asks for none.
size_t checkReduce(const ReduceTensorDesc &d, const TensorDesc &a, const TensorDesc &c) {
  floatTypeArg(c.dataType, "c");
  sameTypeArg(a.dataType, "a", c.dataType, "c");
  reduceShapeArg(a, c);
  if (!wantsIndices(d))
    return 0;
  if (a.numel() / c.numel() > INT32_MAX)
    fail(LAMINA_STATUS_NOT_SUPPORTED, "the reduced block of 'a' has more elements than int32 indices can address");
  return size_t(c.numel()) * sizeof(int32_t);
}

} // namespace

extern "C" {

laminaStatus_t laminaCreateReduceTensorDescriptor(laminaReduceTensorDescriptor_t *desc) {
  return apiCall(__func__, [&] { createDesc(desc, "desc"); });
}
laminaStatus_t laminaDestroyReduceTensorDescriptor(laminaReduceTensorDescriptor_t desc) {
  return apiCall(__func__, [&] { destroyDesc(desc, "desc"); });
}

laminaStatus_t laminaSetReduceTensorDescriptor(laminaReduceTensorDescriptor_t desc, laminaReduceTensorOp_t op,
                                               laminaDataType_t computeType, laminaNanPropagation_t nan,
                                               laminaReduceTensorIndices_t indices) {
  return apiCall(__func__, [&] {
    auto &d = descToSet(desc, "desc");
    if (enumValue(op) < LAMINA_REDUCE_TENSOR_ADD || enumValue(op) > LAMINA_REDUCE_TENSOR_NORM2)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'op' has invalid value %d", enumValue(op));
    // The CPU accumulates in double whatever computeType says; it records the request.
    if (enumValue(computeType) != LAMINA_DATA_FLOAT && enumValue(computeType) != LAMINA_DATA_DOUBLE)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'computeType' has value %d; it must be float or double",
           enumValue(computeType));
    if (enumValue(nan) != LAMINA_NOT_PROPAGATE_NAN && enumValue(nan) != LAMINA_PROPAGATE_NAN)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'nan' has invalid value %d", enumValue(nan));
    if (enumValue(indices) != LAMINA_REDUCE_TENSOR_NO_INDICES &&
        enumValue(indices) != LAMINA_REDUCE_TENSOR_FLATTENED_INDICES)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'indices' has invalid value %d", enumValue(indices));
    d.d = ReduceTensorDesc{op, computeType, nan, indices};
    d.h.isSet = true;
  });
}

laminaStatus_t laminaGetReduceTensorDescriptor(laminaReduceTensorDescriptor_t desc, laminaReduceTensorOp_t *op,
                                               laminaDataType_t *computeType, laminaNanPropagation_t *nan,
                                               laminaReduceTensorIndices_t *indices) {
  return apiCall(__func__, [&] {
    const ReduceTensorDesc &d = descArg(desc, "desc");
    if (op)
      *op = d.op;
    if (computeType)
      *computeType = d.computeType;
    if (nan)
      *nan = d.nan;
    if (indices)
      *indices = d.indices;
  });
}

laminaStatus_t laminaGetReductionIndicesSize(laminaHandle_t handle, laminaReduceTensorDescriptor_t desc,
                                             laminaTensorDescriptor_t a, laminaTensorDescriptor_t c, size_t *bytes) {
  return apiCall(__func__, [&] {
    handleArg(handle);
    const ReduceTensorDesc &d = descArg(desc, "desc");
    const TensorDesc &ta = descArg(a, "a");
    const TensorDesc &tc = descArg(c, "c");
    pointerArg(bytes, "bytes");
    *bytes = checkReduce(d, ta, tc);
  });
}

laminaStatus_t laminaGetReductionWorkspaceSize(laminaHandle_t handle, laminaReduceTensorDescriptor_t desc,
                                               laminaTensorDescriptor_t a, laminaTensorDescriptor_t c, size_t *bytes) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    const ReduceTensorDesc &d = descArg(desc, "desc");
    const TensorDesc &ta = descArg(a, "a");
    const TensorDesc &tc = descArg(c, "c");
    pointerArg(bytes, "bytes");
    checkReduce(d, ta, tc);
    switch (h.backend) {
    case LAMINA_BACKEND_CPU: *bytes = 0; break; // partial results live on the stack/heap
#ifdef LAMINA_WITH_CUDA
    case LAMINA_BACKEND_CUDA: *bytes = cuda::reduceWorkspaceBytes(d, ta, tc); break;
#endif
    default: fail(LAMINA_STATUS_NOT_SUPPORTED, "reduction is not implemented on backend %d", int(h.backend));
    }
  });
}

laminaStatus_t laminaReduceTensor(laminaHandle_t handle, laminaReduceTensorDescriptor_t desc, void *indices,
                                  size_t indicesBytes, void *workspace, size_t workspaceBytes, const void *alpha,
                                  laminaTensorDescriptor_t a, const void *aData, const void *beta,
                                  laminaTensorDescriptor_t c, void *cData) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    const ReduceTensorDesc &d = descArg(desc, "desc");
    const TensorDesc &ta = descArg(a, "a");
    const TensorDesc &tc = descArg(c, "c");
    const size_t needIdx = checkReduce(d, ta, tc);
    outputArg(tc, "c");
    double al = scalarArg(alpha, tc.dataType, "alpha"), be = scalarArg(beta, tc.dataType, "beta");
    dataArg(h, aData, "aData");
    dataArg(h, cData, "cData");
    if (needIdx) {
      dataArg(h, indices, "indices");
      if (indicesBytes < needIdx)
        fail(LAMINA_STATUS_INSUFFICIENT_WORKSPACE, "'indicesBytes' is %zu but the indices need %zu", indicesBytes,
             needIdx);
    }
    switch (h.backend) {
    case LAMINA_BACKEND_CPU:
      workspaceArg(workspace, workspaceBytes, 0, "workspace");
      cpu::reduceTensor(h, d, needIdx ? static_cast<int32_t *>(indices) : nullptr, al, ta, aData, be, tc, cData);
      break;
#ifdef LAMINA_WITH_CUDA
    case LAMINA_BACKEND_CUDA: {
      const size_t need = cuda::reduceWorkspaceBytes(d, ta, tc);
      workspaceArg(workspace, workspaceBytes, need, "workspace");
      cuda::reduceTensor(h, d, needIdx ? static_cast<int32_t *>(indices) : nullptr, workspace, workspaceBytes, al, ta,
                         aData, be, tc, cData);
      break;
    }
#endif
    default: fail(LAMINA_STATUS_NOT_SUPPORTED, "reduction is not implemented on backend %d", int(h.backend));
    }
  });
}

} // extern "C"
