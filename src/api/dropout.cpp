// Entry points: dropout descriptor, state and reserve sizes, forward and backward.
//
// States (backend memory, kStateBytes): the seed and the number of forward calls made with them, as
// two uint64. The c-th forward call (c from 0) uses Philox counter words 2-3 = c, so the masks are a
// pure function of (seed, c, element index) on every backend.
#include "cpu/dropout.h"
#include "core/checks.h"
#ifdef LAMINA_WITH_CUDA
#include "cuda/ops.h"
#endif

#include <cmath>

using namespace lamina;

namespace {

constexpr size_t kStateBytes = 2 * sizeof(uint64_t);

void dropoutValueArg(float p) {
  if (!(p >= 0.f && p < 1.f))
    fail(LAMINA_STATUS_BAD_PARAM, "argument 'dropout' is %g; it must be in [0, 1)", double(p));
}

size_t reserveBytesFor(const TensorDesc &x) { return size_t(x.numel()); }

// The descriptor's states must belong to this handle's backend.
const DropoutDesc &dropoutArg(const laminaContext &h, laminaDropoutDescriptor_t desc) {
  const DropoutDesc &d = descArg(desc, "desc");
  if (d.backend != h.backend)
    fail(LAMINA_STATUS_BAD_PARAM, "descriptor 'desc' was set with a handle of another backend");
  return d;
}

void reserveArg(const laminaContext &h, const void *reserve, size_t have, const TensorDesc &x) {
  dataArg(h, reserve, "reserveSpace");
  size_t need = reserveBytesFor(x);
  if (have < need)
    fail(LAMINA_STATUS_INSUFFICIENT_WORKSPACE, "'reserveBytes' is %zu but the mask needs %zu", have, need);
}

} // namespace

extern "C" {

laminaStatus_t laminaCreateDropoutDescriptor(laminaDropoutDescriptor_t *desc) {
  return apiCall(__func__, [&] { createDesc(desc, "desc"); });
}
laminaStatus_t laminaDestroyDropoutDescriptor(laminaDropoutDescriptor_t desc) {
  return apiCall(__func__, [&] { destroyDesc(desc, "desc"); });
}

laminaStatus_t laminaDropoutGetStatesSize(laminaHandle_t handle, size_t *bytes) {
  return apiCall(__func__, [&] {
    handleArg(handle);
    pointerArg(bytes, "bytes");
    *bytes = kStateBytes;
  });
}

laminaStatus_t laminaDropoutGetReserveSpaceSize(laminaTensorDescriptor_t x, size_t *bytes) {
  return apiCall(__func__, [&] {
    const TensorDesc &tx = descArg(x, "x");
    pointerArg(bytes, "bytes");
    *bytes = reserveBytesFor(tx);
  });
}

laminaStatus_t laminaSetDropoutDescriptor(laminaDropoutDescriptor_t desc, laminaHandle_t handle, float dropout,
                                          void *states, size_t stateBytes, unsigned long long seed) {
  return apiCall(__func__, [&] {
    auto &d = descToSet(desc, "desc");
    laminaContext &h = handleArg(handle);
    dropoutValueArg(dropout);
    dataArg(h, states, "states");
    if (stateBytes < kStateBytes)
      fail(LAMINA_STATUS_INSUFFICIENT_WORKSPACE, "'stateBytes' is %zu but the states need %zu", stateBytes,
           kStateBytes);
    const uint64_t init[2] = {uint64_t(seed), 0};
    backendMemcpy(h, states, init, sizeof init, LAMINA_MEMCPY_HOST_TO_DEVICE);
    backendSynchronize(h);
    d.d = DropoutDesc{dropout, states, stateBytes, seed, h.backend};
    d.h.isSet = true;
  });
}

laminaStatus_t laminaGetDropoutDescriptor(laminaDropoutDescriptor_t desc, float *dropout, void **states,
                                          unsigned long long *seed) {
  return apiCall(__func__, [&] {
    const DropoutDesc &d = descArg(desc, "desc");
    if (dropout)
      *dropout = d.dropout;
    if (states)
      *states = d.states;
    if (seed)
      *seed = d.seed;
  });
}

laminaStatus_t laminaDropoutForward(laminaHandle_t handle, laminaDropoutDescriptor_t desc, laminaTensorDescriptor_t x,
                                    const void *xData, laminaTensorDescriptor_t y, void *yData, void *reserveSpace,
                                    size_t reserveBytes) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    const DropoutDesc &d = dropoutArg(h, desc);
    const TensorDesc &tx = descArg(x, "x");
    const TensorDesc &ty = descArg(y, "y");
    floatTypeArg(tx.dataType, "x");
    sameTypeArg(tx.dataType, "x", ty.dataType, "y");
    sameDimsArg(tx, "x", ty, "y");
    outputArg(ty, "y");
    dataArg(h, xData, "xData");
    dataArg(h, yData, "yData");
    reserveArg(h, reserveSpace, reserveBytes, tx);
    if (xData == yData && !tx.sameLayout(ty))
      fail(LAMINA_STATUS_BAD_PARAM, "'x' and 'y' share memory but their descriptors differ");
    switch (h.backend) {
    case LAMINA_BACKEND_CPU: {
      uint64_t st[2];
      backendMemcpy(h, st, d.states, sizeof st, LAMINA_MEMCPY_DEVICE_TO_HOST);
      backendSynchronize(h);
      cpu::dropoutForward(h, d.dropout, st[0], st[1], tx, xData, ty, yData, static_cast<uint8_t *>(reserveSpace));
      ++st[1]; // the next call draws a fresh mask
      backendMemcpy(h, d.states, st, sizeof st, LAMINA_MEMCPY_HOST_TO_DEVICE);
      backendSynchronize(h);
      break;
    }
#ifdef LAMINA_WITH_CUDA
    case LAMINA_BACKEND_CUDA:
      // The kernels read the states and advance the call counter on the device, in stream order.
      cuda::dropoutForward(h, d.dropout, static_cast<uint64_t *>(d.states), tx, xData, ty, yData,
                           static_cast<uint8_t *>(reserveSpace));
      break;
#endif
    default: fail(LAMINA_STATUS_NOT_SUPPORTED, "dropout is not implemented on backend %d", int(h.backend));
    }
  });
}

laminaStatus_t laminaDropoutBackward(laminaHandle_t handle, laminaDropoutDescriptor_t desc, laminaTensorDescriptor_t dy,
                                     const void *dyData, laminaTensorDescriptor_t dx, void *dxData, void *reserveSpace,
                                     size_t reserveBytes) {
  return apiCall(__func__, [&] {
    laminaContext &h = handleArg(handle);
    const DropoutDesc &d = dropoutArg(h, desc);
    const TensorDesc &tdy = descArg(dy, "dy");
    const TensorDesc &tdx = descArg(dx, "dx");
    floatTypeArg(tdy.dataType, "dy");
    sameTypeArg(tdy.dataType, "dy", tdx.dataType, "dx");
    sameDimsArg(tdy, "dy", tdx, "dx");
    outputArg(tdx, "dx");
    dataArg(h, dyData, "dyData");
    dataArg(h, dxData, "dxData");
    reserveArg(h, reserveSpace, reserveBytes, tdy);
    if (dyData == dxData && !tdy.sameLayout(tdx))
      fail(LAMINA_STATUS_BAD_PARAM, "'dy' and 'dx' share memory but their descriptors differ");
    switch (h.backend) {
    case LAMINA_BACKEND_CPU:
      cpu::dropoutBackward(h, d.dropout, tdy, dyData, tdx, dxData, static_cast<const uint8_t *>(reserveSpace));
      break;
#ifdef LAMINA_WITH_CUDA
    case LAMINA_BACKEND_CUDA:
      cuda::dropoutBackward(h, d.dropout, tdy, dyData, tdx, dxData, static_cast<const uint8_t *>(reserveSpace));
      break;
#endif
    default: fail(LAMINA_STATUS_NOT_SUPPORTED, "dropout is not implemented on backend %d", int(h.backend));
    }
  });
}

} // extern "C"
