/* Compiled as C: proves the public header is C and the basic calls link and work from C. */
#include <lamina/lamina.h>

#include <stdio.h>

#define CHECK(call)                                                                                                    \
  do {                                                                                                                 \
    laminaStatus_t s_ = (call);                                                                                        \
    if (s_ != LAMINA_STATUS_SUCCESS) {                                                                                 \
      fprintf(stderr, "%s failed: %s: %s\n", #call, laminaGetErrorString(s_), laminaGetLastErrorMessage());            \
      return 1;                                                                                                        \
    }                                                                                                                  \
  } while (0)

int main(void) {
  laminaHandle_t handle;
  laminaTensorDescriptor_t t;
  size_t bytes = 0;
  float host[24], back[24];
  void *dev = NULL;
  int i;
  CHECK(laminaCreateWithBackend(&handle, LAMINA_BACKEND_CPU));
  CHECK(laminaCreateTensorDescriptor(&t));
  CHECK(laminaSetTensor4dDescriptor(t, LAMINA_TENSOR_NCHW, LAMINA_DATA_FLOAT, 1, 2, 3, 4));
  CHECK(laminaGetTensorSizeInBytes(t, &bytes));
  if (bytes != sizeof host) {
    fprintf(stderr, "size %zu, expected %zu\n", bytes, sizeof host);
    return 1;
  }
  for (i = 0; i < 24; ++i)
    host[i] = (float)i - 3.5f;
  CHECK(laminaMalloc(handle, &dev, bytes));
  CHECK(laminaMemcpy(handle, dev, host, bytes, LAMINA_MEMCPY_HOST_TO_DEVICE));
  CHECK(laminaMemcpy(handle, back, dev, bytes, LAMINA_MEMCPY_DEVICE_TO_HOST));
  for (i = 0; i < 24; ++i)
    if (back[i] != host[i]) {
      fprintf(stderr, "element %d differs\n", i);
      return 1;
    }
  if (laminaSetTensor4dDescriptor(t, LAMINA_TENSOR_NCHW, LAMINA_DATA_FLOAT, 0, 1, 1, 1) != LAMINA_STATUS_BAD_DIMS) {
    fprintf(stderr, "zero dim accepted\n");
    return 1;
  }
  printf("c_api_test: %s\n", laminaGetLastErrorMessage());
  CHECK(laminaFree(handle, dev));
  CHECK(laminaDestroyTensorDescriptor(t));
  CHECK(laminaDestroy(handle));
  printf("c_api_test: ok\n");
  return 0;
}
