#include "core/checks.h"

#include <string>

namespace lamina {

laminaContext &handleArg(laminaHandle_t h) {
  if (!h)
    fail(LAMINA_STATUS_NULL_POINTER, "argument 'handle' is NULL");
  if (h->magic != kHandleMagic)
    fail(LAMINA_STATUS_BAD_PARAM, "argument 'handle' is not a live Lamina handle");
  return *h;
}

BackwardTensors backwardTensorArgs(laminaTensorDescriptor_t y, laminaTensorDescriptor_t dy, laminaTensorDescriptor_t x,
                                   laminaTensorDescriptor_t dx) {
  BackwardTensors t{descArg(y, "y"), descArg(dy, "dy"), descArg(x, "x"), descArg(dx, "dx")};
  floatTypeArg(t.x.dataType, "x");
  sameTypeArg(t.x.dataType, "x", t.y.dataType, "y");
  sameTypeArg(t.x.dataType, "x", t.dy.dataType, "dy");
  sameTypeArg(t.x.dataType, "x", t.dx.dataType, "dx");
  return t;
}

void pointerArg(const void *p, const char *name) {
  if (!p)
    fail(LAMINA_STATUS_NULL_POINTER, "argument '%s' is NULL", name);
}

bool cudaPointerIsDevice(const laminaContext &h, const void *p); // src/cuda (or a CPU-only stub)

void dataArg(const laminaContext &h, const void *p, const char *name) {
  pointerArg(p, name);
  if (h.backend == LAMINA_BACKEND_CUDA && !cudaPointerIsDevice(h, p))
    fail(LAMINA_STATUS_BAD_POINTER, "argument '%s' is not device memory of the handle's GPU %d", name, h.device);
}

void outputArg(const TensorDesc &t, const char *name) {
  if (t.hasOverlap())
    fail(LAMINA_STATUS_BAD_STRIDES, "output tensor '%s' has strides under which elements overlap", name);
}

std::string dimsString(const int64_t *dims, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    if (i)
      s += 'x';
    s += std::to_string(dims[i]);
  }
  return s;
}

void sameDimsArg(const TensorDesc &a, const char *aName, const TensorDesc &b, const char *bName) {
  if (!a.sameDims(b))
    fail(LAMINA_STATUS_SHAPE_MISMATCH, "'%s' is %s but '%s' is %s", aName, dimsString(a.dims, a.nbDims).c_str(), bName,
         dimsString(b.dims, b.nbDims).c_str());
}

void sameTypeArg(laminaDataType_t a, const char *aName, laminaDataType_t b, const char *bName) {
  if (a != b)
    fail(LAMINA_STATUS_TYPE_MISMATCH, "'%s' is %s but '%s' is %s", aName, dataTypeName(a), bName, dataTypeName(b));
}

void floatTypeArg(laminaDataType_t t, const char *name) {
  if (!isFloatingType(t))
    fail(LAMINA_STATUS_NOT_SUPPORTED, "'%s' has data type %s; this operation takes float, double, half or bfloat16",
         name, dataTypeName(t));
}

double scalarArg(const void *p, laminaDataType_t dataType, const char *name) {
  pointerArg(p, name);
  return readScalar(p, dataType);
}

void workspaceArg(const void *ws, size_t have, size_t need, const char *name) {
  if (need == 0)
    return;
  if (!ws)
    fail(LAMINA_STATUS_NULL_POINTER, "argument '%s' is NULL but %zu bytes are needed", name, need);
  if (have < need)
    fail(LAMINA_STATUS_INSUFFICIENT_WORKSPACE, "'%s' has %zu bytes but the algorithm needs %zu", name, have, need);
}

int64_t checkedMul(int64_t a, int64_t b, const char *what) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    fail(LAMINA_STATUS_SIZE_OVERFLOW, "%s overflows 64 bits", what);
  return r;
}

int64_t checkedAdd(int64_t a, int64_t b, const char *what) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    fail(LAMINA_STATUS_SIZE_OVERFLOW, "%s overflows 64 bits", what);
  return r;
}

} // namespace lamina
