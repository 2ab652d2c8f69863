// Entry points: tensor and filter descriptors.
#include "core/checks.h"

#include <algorithm>

using namespace lamina;

namespace {

// Enum arguments arrive as raw ints (enumValue): any integer may be passed from C.
laminaDataType_t dataTypeArg(int t, const char *name) {
  if (t < LAMINA_DATA_FLOAT || t > LAMINA_DATA_UINT8)
    fail(LAMINA_STATUS_BAD_PARAM, "argument '%s' has invalid data type %d", name, t);
  return laminaDataType_t(t);
}

laminaTensorFormat_t formatArg(int f, const char *name) {
  if (f != LAMINA_TENSOR_NCHW && f != LAMINA_TENSOR_NHWC)
    fail(LAMINA_STATUS_BAD_PARAM, "argument '%s' has invalid format %d", name, f);
  return laminaTensorFormat_t(f);
}

void nbDimsArg(int nbDims, int lo, const char *name) {
  if (nbDims < lo || nbDims > LAMINA_DIM_MAX)
    fail(LAMINA_STATUS_BAD_DIMS, "argument '%s' is %d; it must be in [%d, %d]", name, nbDims, lo, LAMINA_DIM_MAX);
}

void dimsArg(int nbDims, const int64_t *dims, const char *name) {
  for (int i = 0; i < nbDims; ++i)
    if (dims[i] <= 0)
      fail(LAMINA_STATUS_BAD_DIMS, "%s[%d] is %lld; dims must be positive", name, i, (long long)dims[i]);
}

// Packed strides for dims in N, C, spatial order laid out in `format`.
void packedStrides(laminaTensorFormat_t format, int nbDims, const int64_t *dims, int64_t *strides) {
  int order[LAMINA_DIM_MAX]; // memory order, outermost first
  int n = 0;
  order[n++] = 0;
  if (format == LAMINA_TENSOR_NHWC && nbDims >= 3) {
    for (int i = 2; i < nbDims; ++i)
      order[n++] = i;
    order[n++] = 1;
  } else {
    for (int i = 1; i < nbDims; ++i)
      order[n++] = i;
  }
  int64_t s = 1;
  for (int j = nbDims - 1; j >= 0; --j) {
    strides[order[j]] = s;
    s = checkedMul(s, dims[order[j]], "the tensor's element count");
  }
}

// Validates and stores; everything is checked before the descriptor changes.
void setTensor(laminaTensorStruct &t, int dtValue, int nbDims, const int64_t *dims, const int64_t *strides) {
  laminaDataType_t dt = dataTypeArg(dtValue, "dataType");
  nbDimsArg(nbDims, 1, "nbDims");
  pointerArg(dims, "dims");
  pointerArg(strides, "strides");
  dimsArg(nbDims, dims, "dims");
  int64_t span = 1, count = 1;
  for (int i = 0; i < nbDims; ++i) {
    if (strides[i] < 0)
      fail(LAMINA_STATUS_BAD_STRIDES, "strides[%d] is %lld; strides must be >= 0", i, (long long)strides[i]);
    span = checkedAdd(span, checkedMul(dims[i] - 1, strides[i], "the tensor's extent"), "the tensor's extent");
    count = checkedMul(count, dims[i], "the tensor's element count");
  }
  checkedMul(span, int64_t(dataTypeSize(dt)), "the tensor's size in bytes");
  TensorDesc d;
  d.dataType = dt;
  d.nbDims = nbDims;
  std::copy(dims, dims + nbDims, d.dims);
  std::copy(strides, strides + nbDims, d.strides);
  t.d = d;
  t.h.isSet = true;
}

void setTensorPacked(laminaTensorStruct &t, int formatValue, int dt, int nbDims, const int64_t *dims) {
  laminaTensorFormat_t format = formatArg(formatValue, "format");
  nbDimsArg(nbDims, 1, "nbDims");
  pointerArg(dims, "dims");
  dimsArg(nbDims, dims, "dims");
  int64_t strides[LAMINA_DIM_MAX];
  packedStrides(format, nbDims, dims, strides);
  setTensor(t, dt, nbDims, dims, strides);
}

void setFilter(laminaFilterStruct &f, int dtValue, int formatValue, int nbDims, const int64_t *dims) {
  laminaDataType_t dataType = dataTypeArg(dtValue, "dataType");
  laminaTensorFormat_t format = formatArg(formatValue, "format");
  nbDimsArg(nbDims, 3, "nbDims");
  if (nbDims > 5)
    fail(LAMINA_STATUS_BAD_DIMS, "argument 'nbDims' is %d; filters have 3 to 5 dims", nbDims);
  pointerArg(dims, "dims");
  dimsArg(nbDims, dims, "dims");
  FilterDesc d;
  d.dataType = dataType;
  d.format = format;
  d.nbDims = nbDims;
  std::copy(dims, dims + nbDims, d.dims);
  packedStrides(format, nbDims, dims, d.strides);
  checkedMul(d.numel(), int64_t(dataTypeSize(dataType)), "the filter's size in bytes");
  f.d = d;
  f.h.isSet = true;
}

} // namespace

extern "C" {

laminaStatus_t laminaCreateTensorDescriptor(laminaTensorDescriptor_t *desc) {
  return apiCall(__func__, [&] { createDesc(desc, "desc"); });
}
laminaStatus_t laminaDestroyTensorDescriptor(laminaTensorDescriptor_t desc) {
  return apiCall(__func__, [&] { destroyDesc(desc, "desc"); });
}

laminaStatus_t laminaSetTensorNdDescriptor(laminaTensorDescriptor_t desc, laminaDataType_t dataType, int nbDims,
                                           const int64_t dims[], const int64_t strides[]) {
  return apiCall(__func__, [&] { setTensor(descToSet(desc, "desc"), enumValue(dataType), nbDims, dims, strides); });
}

laminaStatus_t laminaSetTensorNdDescriptorEx(laminaTensorDescriptor_t desc, laminaTensorFormat_t format,
                                             laminaDataType_t dataType, int nbDims, const int64_t dims[]) {
  return apiCall(__func__, [&] {
    setTensorPacked(descToSet(desc, "desc"), enumValue(format), enumValue(dataType), nbDims, dims);
  });
}

laminaStatus_t laminaSetTensor4dDescriptor(laminaTensorDescriptor_t desc, laminaTensorFormat_t format,
                                           laminaDataType_t dataType, int64_t n, int64_t c, int64_t h, int64_t w) {
  return apiCall(__func__, [&] {
    int64_t dims[4] = {n, c, h, w};
    setTensorPacked(descToSet(desc, "desc"), enumValue(format), enumValue(dataType), 4, dims);
  });
}

laminaStatus_t laminaSetTensor4dDescriptorEx(laminaTensorDescriptor_t desc, laminaDataType_t dataType, int64_t n,
                                             int64_t c, int64_t h, int64_t w, int64_t nStride, int64_t cStride,
                                             int64_t hStride, int64_t wStride) {
  return apiCall(__func__, [&] {
    int64_t dims[4] = {n, c, h, w};
    int64_t strides[4] = {nStride, cStride, hStride, wStride};
    setTensor(descToSet(desc, "desc"), enumValue(dataType), 4, dims, strides);
  });
}

laminaStatus_t laminaGetTensor4dDescriptor(laminaTensorDescriptor_t desc, laminaDataType_t *dataType, int64_t *n,
                                           int64_t *c, int64_t *h, int64_t *w, int64_t *nStride, int64_t *cStride,
                                           int64_t *hStride, int64_t *wStride) {
  return apiCall(__func__, [&] {
    const TensorDesc &t = descArg(desc, "desc");
    if (t.nbDims != 4)
      fail(LAMINA_STATUS_BAD_DIMS, "descriptor 'desc' has %d dims, not 4", t.nbDims);
    int64_t *outs[8] = {n, c, h, w, nStride, cStride, hStride, wStride};
    for (int i = 0; i < 4; ++i) {
      if (outs[i])
        *outs[i] = t.dims[i];
      if (outs[4 + i])
        *outs[4 + i] = t.strides[i];
    }
    if (dataType)
      *dataType = t.dataType;
  });
}

laminaStatus_t laminaGetTensorNdDescriptor(laminaTensorDescriptor_t desc, int nbDimsRequested,
                                           laminaDataType_t *dataType, int *nbDims, int64_t dims[], int64_t strides[]) {
  return apiCall(__func__, [&] {
    const TensorDesc &t = descArg(desc, "desc");
    if (nbDimsRequested < 0)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'nbDimsRequested' is negative");
    int n = std::min(nbDimsRequested, t.nbDims);
    if (n > 0) {
      pointerArg(dims, "dims");
      pointerArg(strides, "strides");
    }
    for (int i = 0; i < n; ++i) {
      dims[i] = t.dims[i];
      strides[i] = t.strides[i];
    }
    if (dataType)
      *dataType = t.dataType;
    if (nbDims)
      *nbDims = t.nbDims;
  });
}

laminaStatus_t laminaGetTensorSizeInBytes(laminaTensorDescriptor_t desc, size_t *bytes) {
  return apiCall(__func__, [&] {
    const TensorDesc &t = descArg(desc, "desc");
    pointerArg(bytes, "bytes");
    *bytes = t.sizeInBytes();
  });
}

laminaStatus_t laminaCreateFilterDescriptor(laminaFilterDescriptor_t *desc) {
  return apiCall(__func__, [&] { createDesc(desc, "desc"); });
}
laminaStatus_t laminaDestroyFilterDescriptor(laminaFilterDescriptor_t desc) {
  return apiCall(__func__, [&] { destroyDesc(desc, "desc"); });
}

laminaStatus_t laminaSetFilterNdDescriptor(laminaFilterDescriptor_t desc, laminaDataType_t dataType,
                                           laminaTensorFormat_t format, int nbDims, const int64_t dims[]) {
  return apiCall(__func__,
                 [&] { setFilter(descToSet(desc, "desc"), enumValue(dataType), enumValue(format), nbDims, dims); });
}

laminaStatus_t laminaSetFilter4dDescriptor(laminaFilterDescriptor_t desc, laminaDataType_t dataType,
                                           laminaTensorFormat_t format, int64_t k, int64_t c, int64_t h, int64_t w) {
  return apiCall(__func__, [&] {
    int64_t dims[4] = {k, c, h, w};
    setFilter(descToSet(desc, "desc"), enumValue(dataType), enumValue(format), 4, dims);
  });
}

laminaStatus_t laminaGetFilter4dDescriptor(laminaFilterDescriptor_t desc, laminaDataType_t *dataType,
                                           laminaTensorFormat_t *format, int64_t *k, int64_t *c, int64_t *h,
                                           int64_t *w) {
  return apiCall(__func__, [&] {
    const FilterDesc &f = descArg(desc, "desc");
    if (f.nbDims != 4)
      fail(LAMINA_STATUS_BAD_DIMS, "descriptor 'desc' has %d dims, not 4", f.nbDims);
    int64_t *outs[4] = {k, c, h, w};
    for (int i = 0; i < 4; ++i)
      if (outs[i])
        *outs[i] = f.dims[i];
    if (dataType)
      *dataType = f.dataType;
    if (format)
      *format = f.format;
  });
}

laminaStatus_t laminaGetFilterNdDescriptor(laminaFilterDescriptor_t desc, int nbDimsRequested,
                                           laminaDataType_t *dataType, laminaTensorFormat_t *format, int *nbDims,
                                           int64_t dims[]) {
  return apiCall(__func__, [&] {
    const FilterDesc &f = descArg(desc, "desc");
    if (nbDimsRequested < 0)
      fail(LAMINA_STATUS_BAD_PARAM, "argument 'nbDimsRequested' is negative");
    int n = std::min(nbDimsRequested, f.nbDims);
    if (n > 0)
      pointerArg(dims, "dims");
    for (int i = 0; i < n; ++i)
      dims[i] = f.dims[i];
    if (dataType)
      *dataType = f.dataType;
    if (format)
      *format = f.format;
    if (nbDims)
      *nbDims = f.nbDims;
  });
}

laminaStatus_t laminaGetFilterSizeInBytes(laminaFilterDescriptor_t desc, size_t *bytes) {
  return apiCall(__func__, [&] {
    const FilterDesc &f = descArg(desc, "desc");
    pointerArg(bytes, "bytes");
    *bytes = f.sizeInBytes();
  });
}

} // extern "C"
