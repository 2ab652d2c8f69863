// Argument checks for the API layer. Each throws lamina::Error with a specific status and a message
// that names the argument, so entry points read as a list of checks followed by one dispatch.
#pragma once

#include "core/descriptors.h"
#include "core/error.h"
#include "core/handle.h"

#include <cstring>
#include <string>
#include <type_traits>

namespace lamina {

laminaContext &handleArg(laminaHandle_t h); // NULL_POINTER / BAD_PARAM (not a live handle)

// A descriptor that must be set: NULL_POINTER, WRONG_DESCRIPTOR (other kind or destroyed),
// NOT_INITIALIZED (never set). Returns the payload.
template <class S> auto &descArg(S *d, const char *name) {
  if (!d)
    fail(LAMINA_STATUS_NULL_POINTER, "argument '%s' is NULL", name);
  constexpr DescKind want = S::kKind;
  if (d->h.kind != want)
    fail(LAMINA_STATUS_WRONG_DESCRIPTOR, "argument '%s' is not a live %s descriptor (found %s)", name,
         descKindName(want), descKindName(d->h.kind));
  if (!d->h.isSet)
    fail(LAMINA_STATUS_NOT_INITIALIZED, "descriptor '%s' was created but never set", name);
  return d->d;
}
// The same for a descriptor about to be set (it may be unset).
template <class S> S &descToSet(S *d, const char *name) {
  if (!d)
    fail(LAMINA_STATUS_NULL_POINTER, "argument '%s' is NULL", name);
  constexpr DescKind want = S::kKind;
  if (d->h.kind != want)
    fail(LAMINA_STATUS_WRONG_DESCRIPTOR, "argument '%s' is not a live %s descriptor (found %s)", name,
         descKindName(want), descKindName(d->h.kind));
  return *d;
}

// Creates/destroys descriptor S for laminaCreateX / laminaDestroyX.
template <class S> void createDesc(S **out, const char *name) {
  if (!out)
    fail(LAMINA_STATUS_NULL_POINTER, "argument '%s' is NULL", name);
  *out = new S();
}
template <class S> void destroyDesc(S *d, const char *name) {
  if (!d)
    return; // destroying NULL is a no-op, like free()
  descToSet(d, name);
  d->h.kind = DescKind::Dead;
  delete d;
}

// The tensors of a backward op: the forward's output y and its gradient dy, the forward's input x and
// its gradient dx; all set, and all of x's floating type (checked in that order).
struct BackwardTensors {
  const TensorDesc &y, &dy, &x, &dx;
};
BackwardTensors backwardTensorArgs(laminaTensorDescriptor_t y, laminaTensorDescriptor_t dy, laminaTensorDescriptor_t x,
                                   laminaTensorDescriptor_t dx);

void pointerArg(const void *p, const char *name); // NULL_POINTER
// A data pointer the handle's backend must be able to access: NULL_POINTER, BAD_POINTER.
void dataArg(const laminaContext &h, const void *p, const char *name);
// An output tensor: no two elements may share memory (BAD_STRIDES).
void outputArg(const TensorDesc &t, const char *name);
void sameDimsArg(const TensorDesc &a, const char *aName, const TensorDesc &b, const char *bName);
void sameTypeArg(laminaDataType_t a, const char *aName, laminaDataType_t b, const char *bName);
void floatTypeArg(laminaDataType_t t, const char *name); // float/double/half/bf16, else NOT_SUPPORTED
// alpha/beta: NULL_POINTER, else the value (double for double data, float otherwise).
double scalarArg(const void *p, laminaDataType_t dataType, const char *name);
// Workspace: NULL with need > 0 is NULL_POINTER; have < need is INSUFFICIENT_WORKSPACE.
void workspaceArg(const void *ws, size_t have, size_t need, const char *name);

// Overflow-checked arithmetic for sizes (SIZE_OVERFLOW naming `what`).
int64_t checkedMul(int64_t a, int64_t b, const char *what);
int64_t checkedAdd(int64_t a, int64_t b, const char *what);

// An enum argument's value read without an enum-typed load: callers may pass any integer, and
// UBSan (-fsanitize=enum) traps loads of out-of-range enum values.
template <class E> int enumValue(const E &e) {
  std::underlying_type_t<E> v;
  std::memcpy(&v, &e, sizeof v);
  return int(v);
}

// "2x3x4x5" for messages.
std::string dimsString(const int64_t *dims, int n);

} // namespace lamina
