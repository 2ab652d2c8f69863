/*
 * Lamina: GPU-accelerated deep-learning primitives behind one C API.
 *
 * Conventions shared by every call (docs/api.md has the long form):
 *  - Every function returns laminaStatus_t. On failure, laminaGetLastErrorMessage() names the
 *    call, the argument and the reason (thread-local).
 *  - Data pointers live in the handle's backend memory (laminaMalloc); on the CPU backend that is
 *    ordinary host memory. alpha/beta and other scalars are host pointers: double when the data
 *    type is LAMINA_DATA_DOUBLE, float otherwise.
 *  - Every op computes y = alpha * op(x) + beta * y. When *beta == 0, y is never read, so NaN or
 *    garbage in y cannot leak into the result.
 *  - Tensors are described by dims and strides in elements (any layout); sizes are int64_t.
 */
#ifndef LAMINA_LAMINA_H
#define LAMINA_LAMINA_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define LAMINA_API __declspec(dllexport)
#else
#define LAMINA_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define LAMINA_VERSION_MAJOR 0
#define LAMINA_VERSION_MINOR 1
#define LAMINA_VERSION_PATCH 0
#define LAMINA_VERSION (LAMINA_VERSION_MAJOR * 10000 + LAMINA_VERSION_MINOR * 100 + LAMINA_VERSION_PATCH)

/* Most dimensions a tensor may have; convolution and pooling take 4-D or 5-D tensors. */
#define LAMINA_DIM_MAX 8

/* ---------------------------------------------------------------- status and errors */

typedef enum {
  LAMINA_STATUS_SUCCESS = 0,
  LAMINA_STATUS_NOT_INITIALIZED = 1,         /* handle or descriptor created but never set */
  LAMINA_STATUS_ALLOC_FAILED = 2,            /* out of host or device memory */
  LAMINA_STATUS_BAD_PARAM = 3,               /* an argument value is out of its range */
  LAMINA_STATUS_NULL_POINTER = 4,            /* a required pointer is NULL */
  LAMINA_STATUS_WRONG_DESCRIPTOR = 5,        /* not a descriptor of the expected kind */
  LAMINA_STATUS_SHAPE_MISMATCH = 6,          /* tensor dims disagree with each other or the op */
  LAMINA_STATUS_TYPE_MISMATCH = 7,           /* data types disagree */
  LAMINA_STATUS_BAD_STRIDES = 8,             /* negative strides, or an output whose elements overlap */
  LAMINA_STATUS_BAD_DIMS = 9,                /* zero/negative dims, too few or too many dims */
  LAMINA_STATUS_SIZE_OVERFLOW = 10,          /* an element count or byte size overflows 64 bits */
  LAMINA_STATUS_INSUFFICIENT_WORKSPACE = 11, /* workspace smaller than the algorithm needs */
  LAMINA_STATUS_NOT_SUPPORTED = 12,          /* valid request this backend/algorithm cannot do */
  LAMINA_STATUS_BACKEND_UNAVAILABLE = 13,    /* backend not built in or no device present */
  LAMINA_STATUS_BAD_POINTER = 14,            /* pointer not in the handle's backend memory */
  LAMINA_STATUS_EXECUTION_FAILED = 15,       /* the backend failed while running */
  LAMINA_STATUS_INTERNAL_ERROR = 16          /* a bug in Lamina: please report it */
} laminaStatus_t;

/* Library version as LAMINA_VERSION (major*10000 + minor*100 + patch). */
LAMINA_API size_t laminaGetVersion(void);
/* Static name of a status, e.g. "LAMINA_STATUS_BAD_PARAM". */
LAMINA_API const char *laminaGetErrorString(laminaStatus_t status);
/* Message of the last call on this thread that failed: "laminaX: <reason naming the argument>".
 * Empty string when no call has failed. Valid until the next failing call on this thread. */
LAMINA_API const char *laminaGetLastErrorMessage(void);

/* ---------------------------------------------------------------- basic enums */

typedef enum {
  LAMINA_DATA_FLOAT = 0,
  LAMINA_DATA_DOUBLE = 1,
  LAMINA_DATA_HALF = 2,     /* IEEE binary16, stored as such, computed in float */
  LAMINA_DATA_BFLOAT16 = 3, /* bfloat16, stored as such, computed in float */
  LAMINA_DATA_INT32 = 4,    /* indices only (reduction indices) */
  LAMINA_DATA_INT8 = 5,     /* masks only */
  LAMINA_DATA_UINT8 = 6     /* masks only */
} laminaDataType_t;

typedef enum {
  LAMINA_TENSOR_NCHW = 0, /* also KCRS for filters; N-D: N, C, D..., packed */
  LAMINA_TENSOR_NHWC = 1  /* also KRSC for filters; N-D: N, D..., C, packed */
} laminaTensorFormat_t;

typedef enum { LAMINA_BACKEND_CPU = 0, LAMINA_BACKEND_CUDA = 1 } laminaBackend_t;

typedef enum { LAMINA_NOT_PROPAGATE_NAN = 0, LAMINA_PROPAGATE_NAN = 1 } laminaNanPropagation_t;

typedef enum {
  LAMINA_MEMCPY_HOST_TO_DEVICE = 0, /* "device" = the handle's backend memory */
  LAMINA_MEMCPY_DEVICE_TO_HOST = 1,
  LAMINA_MEMCPY_DEVICE_TO_DEVICE = 2
} laminaMemcpyKind_t;

/* ---------------------------------------------------------------- handle and memory */

typedef struct laminaContext *laminaHandle_t;

/* Handle on the best backend available: CUDA (current device) when a GPU is present, else CPU. */
LAMINA_API laminaStatus_t laminaCreate(laminaHandle_t *handle);
/* Handle on a named backend; BACKEND_UNAVAILABLE when it is not built in or has no device. */
LAMINA_API laminaStatus_t laminaCreateWithBackend(laminaHandle_t *handle, laminaBackend_t backend);
LAMINA_API laminaStatus_t laminaDestroy(laminaHandle_t handle);
LAMINA_API laminaStatus_t laminaGetBackend(laminaHandle_t handle, laminaBackend_t *backend);
/* *available = 1 when laminaCreateWithBackend(backend) would succeed. */
LAMINA_API laminaStatus_t laminaIsBackendAvailable(laminaBackend_t backend, int *available);
/* CUDA: the number of GPUs, and the calling thread's current GPU, which a CUDA handle binds to at
 * creation. BACKEND_UNAVAILABLE without the CUDA backend; BAD_PARAM for an ordinal out of range. */
LAMINA_API laminaStatus_t laminaCudaGetDeviceCount(int *count);
LAMINA_API laminaStatus_t laminaCudaSetDevice(int device);
/* CPU: threads this handle's calls use (0 = all cores, the default). CUDA: ignored, returns 1. */
LAMINA_API laminaStatus_t laminaSetNumThreads(laminaHandle_t handle, int threads);
LAMINA_API laminaStatus_t laminaGetNumThreads(laminaHandle_t handle, int *threads);
/* CUDA: the cudaStream_t all work of this handle is queued on (NULL = default stream).
 * CPU: only NULL is accepted (calls are synchronous). */
LAMINA_API laminaStatus_t laminaSetStream(laminaHandle_t handle, void *stream);
LAMINA_API laminaStatus_t laminaGetStream(laminaHandle_t handle, void **stream);
/* Waits until all work queued by this handle has finished. */
LAMINA_API laminaStatus_t laminaSynchronize(laminaHandle_t handle);

/* Backend memory, so one program runs on either backend without CUDA calls of its own.
 * Allocations are aligned to at least 64 bytes. laminaFree(NULL) is a no-op. */
LAMINA_API laminaStatus_t laminaMalloc(laminaHandle_t handle, void **ptr, size_t bytes);
LAMINA_API laminaStatus_t laminaFree(laminaHandle_t handle, void *ptr);
/* Ordered with the handle's other work (asynchronous on CUDA for DEVICE_TO_DEVICE; host copies
 * return when the host buffer may be reused). */
LAMINA_API laminaStatus_t laminaMemcpy(laminaHandle_t handle, void *dst, const void *src, size_t bytes,
                                       laminaMemcpyKind_t kind);
LAMINA_API laminaStatus_t laminaMemset(laminaHandle_t handle, void *ptr, int byteValue, size_t bytes);

/* ---------------------------------------------------------------- tensor descriptors */

typedef struct laminaTensorStruct *laminaTensorDescriptor_t;

LAMINA_API laminaStatus_t laminaCreateTensorDescriptor(laminaTensorDescriptor_t *desc);
LAMINA_API laminaStatus_t laminaDestroyTensorDescriptor(laminaTensorDescriptor_t desc);
/* Packed 4-D tensor in NCHW or NHWC order (dims are always given as n, c, h, w). */
LAMINA_API laminaStatus_t laminaSetTensor4dDescriptor(laminaTensorDescriptor_t desc, laminaTensorFormat_t format,
                                                      laminaDataType_t dataType, int64_t n, int64_t c, int64_t h,
                                                      int64_t w);
/* 4-D tensor with explicit strides in elements. */
LAMINA_API laminaStatus_t laminaSetTensor4dDescriptorEx(laminaTensorDescriptor_t desc, laminaDataType_t dataType,
                                                        int64_t n, int64_t c, int64_t h, int64_t w, int64_t nStride,
                                                        int64_t cStride, int64_t hStride, int64_t wStride);
/* 1..LAMINA_DIM_MAX dims with explicit strides (dims[0] is N, dims[1] is C by convention). Strides
 * must be >= 0; a stride of 0 is allowed only on an input (broadcast) and is rejected for outputs. */
LAMINA_API laminaStatus_t laminaSetTensorNdDescriptor(laminaTensorDescriptor_t desc, laminaDataType_t dataType,
                                                      int nbDims, const int64_t dims[], const int64_t strides[]);
/* Packed N-D tensor in NCHW-like (N, C, spatial...) or NHWC-like (N, spatial..., C) memory order;
 * dims are given in N, C, spatial order either way. */
LAMINA_API laminaStatus_t laminaSetTensorNdDescriptorEx(laminaTensorDescriptor_t desc, laminaTensorFormat_t format,
                                                        laminaDataType_t dataType, int nbDims, const int64_t dims[]);
LAMINA_API laminaStatus_t laminaGetTensor4dDescriptor(laminaTensorDescriptor_t desc, laminaDataType_t *dataType,
                                                      int64_t *n, int64_t *c, int64_t *h, int64_t *w, int64_t *nStride,
                                                      int64_t *cStride, int64_t *hStride, int64_t *wStride);
/* Writes min(nbDimsRequested, actual) dims and strides; *nbDims gets the actual count. */
LAMINA_API laminaStatus_t laminaGetTensorNdDescriptor(laminaTensorDescriptor_t desc, int nbDimsRequested,
                                                      laminaDataType_t *dataType, int *nbDims, int64_t dims[],
                                                      int64_t strides[]);
/* Bytes a buffer must hold: (offset of the farthest element + 1) * element size. */
LAMINA_API laminaStatus_t laminaGetTensorSizeInBytes(laminaTensorDescriptor_t desc, size_t *bytes);

/* ---------------------------------------------------------------- filter descriptors */

typedef struct laminaFilterStruct *laminaFilterDescriptor_t;

LAMINA_API laminaStatus_t laminaCreateFilterDescriptor(laminaFilterDescriptor_t *desc);
LAMINA_API laminaStatus_t laminaDestroyFilterDescriptor(laminaFilterDescriptor_t desc);
/* k output channels, c input channels per group, h x w window. NCHW = KCRS, NHWC = KRSC. */
LAMINA_API laminaStatus_t laminaSetFilter4dDescriptor(laminaFilterDescriptor_t desc, laminaDataType_t dataType,
                                                      laminaTensorFormat_t format, int64_t k, int64_t c, int64_t h,
                                                      int64_t w);
/* nbDims = 2 + spatial dims; dims in K, C, spatial order; packed in the given format. */
LAMINA_API laminaStatus_t laminaSetFilterNdDescriptor(laminaFilterDescriptor_t desc, laminaDataType_t dataType,
                                                      laminaTensorFormat_t format, int nbDims, const int64_t dims[]);
LAMINA_API laminaStatus_t laminaGetFilter4dDescriptor(laminaFilterDescriptor_t desc, laminaDataType_t *dataType,
                                                      laminaTensorFormat_t *format, int64_t *k, int64_t *c, int64_t *h,
                                                      int64_t *w);
LAMINA_API laminaStatus_t laminaGetFilterNdDescriptor(laminaFilterDescriptor_t desc, int nbDimsRequested,
                                                      laminaDataType_t *dataType, laminaTensorFormat_t *format,
                                                      int *nbDims, int64_t dims[]);
LAMINA_API laminaStatus_t laminaGetFilterSizeInBytes(laminaFilterDescriptor_t desc, size_t *bytes);

/* ---------------------------------------------------------------- convolution */

typedef struct laminaConvolutionStruct *laminaConvolutionDescriptor_t;

typedef enum {
  LAMINA_CONVOLUTION = 0,      /* true convolution: the filter is flipped */
  LAMINA_CROSS_CORRELATION = 1 /* what deep-learning frameworks call convolution */
} laminaConvolutionMode_t;

typedef enum {
  LAMINA_DEFAULT_MATH = 0,   /* exact FMA in the compute type */
  LAMINA_TENSOR_OP_MATH = 1, /* GPU: tensor cores (TF32 for float data); CPU: same as default */
  LAMINA_FMA_MATH = 2        /* never tensor cores */
} laminaMathType_t;

LAMINA_API laminaStatus_t laminaCreateConvolutionDescriptor(laminaConvolutionDescriptor_t *desc);
LAMINA_API laminaStatus_t laminaDestroyConvolutionDescriptor(laminaConvolutionDescriptor_t desc);
/* computeType is the accumulation type: LAMINA_DATA_FLOAT for float/half/bfloat16 data,
 * LAMINA_DATA_DOUBLE for double data. Defaults: groups 1, default math. */
LAMINA_API laminaStatus_t laminaSetConvolution2dDescriptor(laminaConvolutionDescriptor_t desc, int64_t padH,
                                                           int64_t padW, int64_t strideH, int64_t strideW,
                                                           int64_t dilationH, int64_t dilationW,
                                                           laminaConvolutionMode_t mode, laminaDataType_t computeType);
/* spatialDims = 1..3 (so 3-D convolution takes 5-D tensors). */
LAMINA_API laminaStatus_t laminaSetConvolutionNdDescriptor(laminaConvolutionDescriptor_t desc, int spatialDims,
                                                           const int64_t pads[], const int64_t strides[],
                                                           const int64_t dilations[], laminaConvolutionMode_t mode,
                                                           laminaDataType_t computeType);
LAMINA_API laminaStatus_t laminaGetConvolution2dDescriptor(laminaConvolutionDescriptor_t desc, int64_t *padH,
                                                           int64_t *padW, int64_t *strideH, int64_t *strideW,
                                                           int64_t *dilationH, int64_t *dilationW,
                                                           laminaConvolutionMode_t *mode,
                                                           laminaDataType_t *computeType);
LAMINA_API laminaStatus_t laminaGetConvolutionNdDescriptor(laminaConvolutionDescriptor_t desc, int spatialDimsRequested,
                                                           int *spatialDims, int64_t pads[], int64_t strides[],
                                                           int64_t dilations[], laminaConvolutionMode_t *mode,
                                                           laminaDataType_t *computeType);
LAMINA_API laminaStatus_t laminaSetConvolutionGroupCount(laminaConvolutionDescriptor_t desc, int64_t groups);
LAMINA_API laminaStatus_t laminaGetConvolutionGroupCount(laminaConvolutionDescriptor_t desc, int64_t *groups);
LAMINA_API laminaStatus_t laminaSetConvolutionMathType(laminaConvolutionDescriptor_t desc, laminaMathType_t math);
LAMINA_API laminaStatus_t laminaGetConvolutionMathType(laminaConvolutionDescriptor_t desc, laminaMathType_t *math);
/* Output dims (N, K, spatial...) of a forward convolution of x by w; nbDims = x's dim count. */
LAMINA_API laminaStatus_t laminaGetConvolutionNdForwardOutputDim(laminaConvolutionDescriptor_t conv,
                                                                 laminaTensorDescriptor_t x, laminaFilterDescriptor_t w,
                                                                 int nbDims, int64_t outDims[]);
LAMINA_API laminaStatus_t laminaGetConvolution2dForwardOutputDim(laminaConvolutionDescriptor_t conv,
                                                                 laminaTensorDescriptor_t x, laminaFilterDescriptor_t w,
                                                                 int64_t *n, int64_t *c, int64_t *h, int64_t *w_);

/* Algorithm numbers follow cuDNN's where the idea is the same. Not every backend implements every
 * algorithm: an algorithm that does not apply answers LAMINA_STATUS_NOT_SUPPORTED with the reason. */
typedef enum {
  LAMINA_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM = 0,         /* gathers input on the fly, no workspace */
  LAMINA_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM = 1, /* input offsets precomputed in workspace */
  LAMINA_CONVOLUTION_FWD_ALGO_GEMM = 2,                  /* explicit im2col in workspace + GEMM */
  LAMINA_CONVOLUTION_FWD_ALGO_DIRECT = 3,                /* direct loops over the window */
  LAMINA_CONVOLUTION_FWD_ALGO_FFT = 4,
  LAMINA_CONVOLUTION_FWD_ALGO_FFT_TILING = 5,
  LAMINA_CONVOLUTION_FWD_ALGO_WINOGRAD = 6,
  LAMINA_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED = 7,
  LAMINA_CONVOLUTION_FWD_ALGO_COUNT = 8
} laminaConvolutionFwdAlgo_t;

typedef enum {
  LAMINA_CONVOLUTION_BWD_DATA_ALGO_IMPLICIT_GEMM = 0, /* gathers dy per dx element, no workspace */
  LAMINA_CONVOLUTION_BWD_DATA_ALGO_GEMM = 1,          /* GEMM into columns, then col2im */
  LAMINA_CONVOLUTION_BWD_DATA_ALGO_DIRECT = 2,        /* direct loops */
  LAMINA_CONVOLUTION_BWD_DATA_ALGO_FFT = 3,
  LAMINA_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING = 4,
  LAMINA_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD = 5,
  LAMINA_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED = 6,
  LAMINA_CONVOLUTION_BWD_DATA_ALGO_COUNT = 7
} laminaConvolutionBwdDataAlgo_t;

typedef enum {
  LAMINA_CONVOLUTION_BWD_FILTER_ALGO_IMPLICIT_GEMM = 0, /* reduces over N*P*Q on the fly, no workspace */
  LAMINA_CONVOLUTION_BWD_FILTER_ALGO_GEMM = 1,          /* im2col in workspace + GEMM */
  LAMINA_CONVOLUTION_BWD_FILTER_ALGO_DIRECT = 2,        /* direct loops */
  LAMINA_CONVOLUTION_BWD_FILTER_ALGO_FFT = 3,
  LAMINA_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING = 4,
  LAMINA_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED = 5,
  LAMINA_CONVOLUTION_BWD_FILTER_ALGO_COUNT = 6
} laminaConvolutionBwdFilterAlgo_t;

typedef enum {
  LAMINA_CONVOLUTION_PREFER_FASTEST = 0,         /* fastest by the heuristic, any workspace */
  LAMINA_CONVOLUTION_NO_WORKSPACE = 1,           /* fastest that needs no workspace */
  LAMINA_CONVOLUTION_SPECIFY_WORKSPACE_LIMIT = 2 /* fastest within memoryLimitInBytes */
} laminaConvolutionPreference_t;

typedef enum { LAMINA_NON_DETERMINISTIC = 0, LAMINA_DETERMINISTIC = 1 } laminaDeterminism_t;

/* One entry of a heuristic or measured ranking. time is in milliseconds (-1 when not measured). */
typedef struct {
  laminaConvolutionFwdAlgo_t algo;
  laminaStatus_t status;
  float time;
  size_t memory;
  laminaDeterminism_t determinism;
  laminaMathType_t mathType;
} laminaConvolutionFwdAlgoPerf_t;

typedef struct {
  laminaConvolutionBwdDataAlgo_t algo;
  laminaStatus_t status;
  float time;
  size_t memory;
  laminaDeterminism_t determinism;
  laminaMathType_t mathType;
} laminaConvolutionBwdDataAlgoPerf_t;

typedef struct {
  laminaConvolutionBwdFilterAlgo_t algo;
  laminaStatus_t status;
  float time;
  size_t memory;
  laminaDeterminism_t determinism;
  laminaMathType_t mathType;
} laminaConvolutionBwdFilterAlgoPerf_t;

/* Forward: y = alpha * conv(x, w) + beta * y. */
LAMINA_API laminaStatus_t laminaGetConvolutionForwardAlgorithmMaxCount(laminaHandle_t handle, int *count);
LAMINA_API laminaStatus_t laminaGetConvolutionForwardWorkspaceSize(laminaHandle_t handle, laminaTensorDescriptor_t x,
                                                                   laminaFilterDescriptor_t w,
                                                                   laminaConvolutionDescriptor_t conv,
                                                                   laminaTensorDescriptor_t y,
                                                                   laminaConvolutionFwdAlgo_t algo, size_t *bytes);
/* Picks by preference without running anything. */
LAMINA_API laminaStatus_t laminaGetConvolutionForwardAlgorithm(
    laminaHandle_t handle, laminaTensorDescriptor_t x, laminaFilterDescriptor_t w, laminaConvolutionDescriptor_t conv,
    laminaTensorDescriptor_t y, laminaConvolutionPreference_t preference, size_t memoryLimitInBytes,
    laminaConvolutionFwdAlgo_t *algo);
/* Every algorithm ranked by the heuristic, applicable ones first (time = -1). */
LAMINA_API laminaStatus_t laminaGetConvolutionForwardAlgorithmHeuristics(
    laminaHandle_t handle, laminaTensorDescriptor_t x, laminaFilterDescriptor_t w, laminaConvolutionDescriptor_t conv,
    laminaTensorDescriptor_t y, int requestedAlgoCount, int *returnedAlgoCount, laminaConvolutionFwdAlgoPerf_t *perf);
/* Runs every applicable algorithm on scratch buffers it allocates and returns them fastest first. */
LAMINA_API laminaStatus_t laminaFindConvolutionForwardAlgorithm(
    laminaHandle_t handle, laminaTensorDescriptor_t x, laminaFilterDescriptor_t w, laminaConvolutionDescriptor_t conv,
    laminaTensorDescriptor_t y, int requestedAlgoCount, int *returnedAlgoCount, laminaConvolutionFwdAlgoPerf_t *perf);
/* Same, on the caller's buffers and workspace (y is overwritten). */
LAMINA_API laminaStatus_t laminaFindConvolutionForwardAlgorithmEx(
    laminaHandle_t handle, laminaTensorDescriptor_t x, const void *xData, laminaFilterDescriptor_t w, const void *wData,
    laminaConvolutionDescriptor_t conv, laminaTensorDescriptor_t y, void *yData, int requestedAlgoCount,
    int *returnedAlgoCount, laminaConvolutionFwdAlgoPerf_t *perf, void *workspace, size_t workspaceBytes);
LAMINA_API laminaStatus_t laminaConvolutionForward(laminaHandle_t handle, const void *alpha, laminaTensorDescriptor_t x,
                                                   const void *xData, laminaFilterDescriptor_t w, const void *wData,
                                                   laminaConvolutionDescriptor_t conv, laminaConvolutionFwdAlgo_t algo,
                                                   void *workspace, size_t workspaceBytes, const void *beta,
                                                   laminaTensorDescriptor_t y, void *yData);

/* Backward data: dx = alpha * conv_transpose(dy, w) + beta * dx. */
LAMINA_API laminaStatus_t laminaGetConvolutionBackwardDataAlgorithmMaxCount(laminaHandle_t handle, int *count);
LAMINA_API laminaStatus_t laminaGetConvolutionBackwardDataWorkspaceSize(
    laminaHandle_t handle, laminaFilterDescriptor_t w, laminaTensorDescriptor_t dy, laminaConvolutionDescriptor_t conv,
    laminaTensorDescriptor_t dx, laminaConvolutionBwdDataAlgo_t algo, size_t *bytes);
LAMINA_API laminaStatus_t laminaGetConvolutionBackwardDataAlgorithm(
    laminaHandle_t handle, laminaFilterDescriptor_t w, laminaTensorDescriptor_t dy, laminaConvolutionDescriptor_t conv,
    laminaTensorDescriptor_t dx, laminaConvolutionPreference_t preference, size_t memoryLimitInBytes,
    laminaConvolutionBwdDataAlgo_t *algo);
LAMINA_API laminaStatus_t laminaGetConvolutionBackwardDataAlgorithmHeuristics(
    laminaHandle_t handle, laminaFilterDescriptor_t w, laminaTensorDescriptor_t dy, laminaConvolutionDescriptor_t conv,
    laminaTensorDescriptor_t dx, int requestedAlgoCount, int *returnedAlgoCount,
    laminaConvolutionBwdDataAlgoPerf_t *perf);
LAMINA_API laminaStatus_t laminaFindConvolutionBackwardDataAlgorithm(laminaHandle_t handle, laminaFilterDescriptor_t w,
                                                                     laminaTensorDescriptor_t dy,
                                                                     laminaConvolutionDescriptor_t conv,
                                                                     laminaTensorDescriptor_t dx,
                                                                     int requestedAlgoCount, int *returnedAlgoCount,
                                                                     laminaConvolutionBwdDataAlgoPerf_t *perf);
LAMINA_API laminaStatus_t laminaFindConvolutionBackwardDataAlgorithmEx(
    laminaHandle_t handle, laminaFilterDescriptor_t w, const void *wData, laminaTensorDescriptor_t dy,
    const void *dyData, laminaConvolutionDescriptor_t conv, laminaTensorDescriptor_t dx, void *dxData,
    int requestedAlgoCount, int *returnedAlgoCount, laminaConvolutionBwdDataAlgoPerf_t *perf, void *workspace,
    size_t workspaceBytes);
LAMINA_API laminaStatus_t laminaConvolutionBackwardData(laminaHandle_t handle, const void *alpha,
                                                        laminaFilterDescriptor_t w, const void *wData,
                                                        laminaTensorDescriptor_t dy, const void *dyData,
                                                        laminaConvolutionDescriptor_t conv,
                                                        laminaConvolutionBwdDataAlgo_t algo, void *workspace,
                                                        size_t workspaceBytes, const void *beta,
                                                        laminaTensorDescriptor_t dx, void *dxData);

/* Backward filter: dw = alpha * (x correlated with dy) + beta * dw. */
LAMINA_API laminaStatus_t laminaGetConvolutionBackwardFilterAlgorithmMaxCount(laminaHandle_t handle, int *count);
LAMINA_API laminaStatus_t laminaGetConvolutionBackwardFilterWorkspaceSize(
    laminaHandle_t handle, laminaTensorDescriptor_t x, laminaTensorDescriptor_t dy, laminaConvolutionDescriptor_t conv,
    laminaFilterDescriptor_t dw, laminaConvolutionBwdFilterAlgo_t algo, size_t *bytes);
LAMINA_API laminaStatus_t laminaGetConvolutionBackwardFilterAlgorithm(
    laminaHandle_t handle, laminaTensorDescriptor_t x, laminaTensorDescriptor_t dy, laminaConvolutionDescriptor_t conv,
    laminaFilterDescriptor_t dw, laminaConvolutionPreference_t preference, size_t memoryLimitInBytes,
    laminaConvolutionBwdFilterAlgo_t *algo);
LAMINA_API laminaStatus_t laminaGetConvolutionBackwardFilterAlgorithmHeuristics(
    laminaHandle_t handle, laminaTensorDescriptor_t x, laminaTensorDescriptor_t dy, laminaConvolutionDescriptor_t conv,
    laminaFilterDescriptor_t dw, int requestedAlgoCount, int *returnedAlgoCount,
    laminaConvolutionBwdFilterAlgoPerf_t *perf);
LAMINA_API laminaStatus_t laminaFindConvolutionBackwardFilterAlgorithm(
    laminaHandle_t handle, laminaTensorDescriptor_t x, laminaTensorDescriptor_t dy, laminaConvolutionDescriptor_t conv,
    laminaFilterDescriptor_t dw, int requestedAlgoCount, int *returnedAlgoCount,
    laminaConvolutionBwdFilterAlgoPerf_t *perf);
LAMINA_API laminaStatus_t laminaFindConvolutionBackwardFilterAlgorithmEx(
    laminaHandle_t handle, laminaTensorDescriptor_t x, const void *xData, laminaTensorDescriptor_t dy,
    const void *dyData, laminaConvolutionDescriptor_t conv, laminaFilterDescriptor_t dw, void *dwData,
    int requestedAlgoCount, int *returnedAlgoCount, laminaConvolutionBwdFilterAlgoPerf_t *perf, void *workspace,
    size_t workspaceBytes);
LAMINA_API laminaStatus_t laminaConvolutionBackwardFilter(laminaHandle_t handle, const void *alpha,
                                                          laminaTensorDescriptor_t x, const void *xData,
                                                          laminaTensorDescriptor_t dy, const void *dyData,
                                                          laminaConvolutionDescriptor_t conv,
                                                          laminaConvolutionBwdFilterAlgo_t algo, void *workspace,
                                                          size_t workspaceBytes, const void *beta,
                                                          laminaFilterDescriptor_t dw, void *dwData);

/* Backward bias: db = alpha * sum of dy over every dim but C + beta * db; db is 1 x C x 1 x 1 (N-D alike). */
LAMINA_API laminaStatus_t laminaConvolutionBackwardBias(laminaHandle_t handle, const void *alpha,
                                                        laminaTensorDescriptor_t dy, const void *dyData,
                                                        const void *beta, laminaTensorDescriptor_t db, void *dbData);

/* ---------------------------------------------------------------- pooling */

typedef struct laminaPoolingStruct *laminaPoolingDescriptor_t;

typedef enum {
  LAMINA_POOLING_MAX = 0,
  LAMINA_POOLING_AVERAGE_COUNT_INCLUDE_PADDING = 1, /* divides by the window size */
  LAMINA_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING = 2  /* divides by the in-image part of the window */
} laminaPoolingMode_t;

LAMINA_API laminaStatus_t laminaCreatePoolingDescriptor(laminaPoolingDescriptor_t *desc);
LAMINA_API laminaStatus_t laminaDestroyPoolingDescriptor(laminaPoolingDescriptor_t desc);
LAMINA_API laminaStatus_t laminaSetPooling2dDescriptor(laminaPoolingDescriptor_t desc, laminaPoolingMode_t mode,
                                                       laminaNanPropagation_t nan, int64_t windowH, int64_t windowW,
                                                       int64_t padH, int64_t padW, int64_t strideH, int64_t strideW);
/* spatialDims = 1..3. Padding is zero padding (ignored by MAX). */
LAMINA_API laminaStatus_t laminaSetPoolingNdDescriptor(laminaPoolingDescriptor_t desc, laminaPoolingMode_t mode,
                                                       laminaNanPropagation_t nan, int spatialDims,
                                                       const int64_t window[], const int64_t pads[],
                                                       const int64_t strides[]);
LAMINA_API laminaStatus_t laminaGetPoolingNdDescriptor(laminaPoolingDescriptor_t desc, int spatialDimsRequested,
                                                       laminaPoolingMode_t *mode, laminaNanPropagation_t *nan,
                                                       int *spatialDims, int64_t window[], int64_t pads[],
                                                       int64_t strides[]);
/* ceilMode = 1: output size rounds up, as in Caffe: out = ceil((in + 2*pad - window) / stride) + 1,
 * less one if the last window would start in the padding. Windows running past the padded input
 * are clipped; AVERAGE_COUNT_INCLUDE_PADDING then divides by the clipped window. Default 0 (floor). */
LAMINA_API laminaStatus_t laminaSetPoolingCeilMode(laminaPoolingDescriptor_t desc, int ceilMode);
LAMINA_API laminaStatus_t laminaGetPoolingCeilMode(laminaPoolingDescriptor_t desc, int *ceilMode);
/* Output dims (N, C, spatial...) for input x; nbDims = x's dim count. */
LAMINA_API laminaStatus_t laminaGetPoolingNdForwardOutputDim(laminaPoolingDescriptor_t desc, laminaTensorDescriptor_t x,
                                                             int nbDims, int64_t outDims[]);
LAMINA_API laminaStatus_t laminaPoolingForward(laminaHandle_t handle, laminaPoolingDescriptor_t pool, const void *alpha,
                                               laminaTensorDescriptor_t x, const void *xData, const void *beta,
                                               laminaTensorDescriptor_t y, void *yData);
/* y, x: the forward's output and input (MAX routes dy to the first maximum of each window). */
LAMINA_API laminaStatus_t laminaPoolingBackward(laminaHandle_t handle, laminaPoolingDescriptor_t pool,
                                                const void *alpha, laminaTensorDescriptor_t y, const void *yData,
                                                laminaTensorDescriptor_t dy, const void *dyData,
                                                laminaTensorDescriptor_t x, const void *xData, const void *beta,
                                                laminaTensorDescriptor_t dx, void *dxData);

/* ---------------------------------------------------------------- activation */

typedef struct laminaActivationStruct *laminaActivationDescriptor_t;

typedef enum {
  LAMINA_ACTIVATION_SIGMOID = 0,
  LAMINA_ACTIVATION_RELU = 1,
  LAMINA_ACTIVATION_TANH = 2,
  LAMINA_ACTIVATION_CLIPPED_RELU = 3, /* min(max(x, 0), coef) */
  LAMINA_ACTIVATION_ELU = 4,          /* x > 0 ? x : coef * (exp(x) - 1) */
  LAMINA_ACTIVATION_IDENTITY = 5,
  LAMINA_ACTIVATION_LEAKY_RELU = 6 /* x > 0 ? x : coef * x (Caffe's ReLU negative_slope) */
} laminaActivationMode_t;

LAMINA_API laminaStatus_t laminaCreateActivationDescriptor(laminaActivationDescriptor_t *desc);
LAMINA_API laminaStatus_t laminaDestroyActivationDescriptor(laminaActivationDescriptor_t desc);
LAMINA_API laminaStatus_t laminaSetActivationDescriptor(laminaActivationDescriptor_t desc, laminaActivationMode_t mode,
                                                        laminaNanPropagation_t nan, double coef);
LAMINA_API laminaStatus_t laminaGetActivationDescriptor(laminaActivationDescriptor_t desc, laminaActivationMode_t *mode,
                                                        laminaNanPropagation_t *nan, double *coef);
/* In place allowed (xData == yData with identical descriptors). */
LAMINA_API laminaStatus_t laminaActivationForward(laminaHandle_t handle, laminaActivationDescriptor_t act,
                                                  const void *alpha, laminaTensorDescriptor_t x, const void *xData,
                                                  const void *beta, laminaTensorDescriptor_t y, void *yData);
/* y, x: the forward's output and input; in place allowed (dyData == dxData). */
LAMINA_API laminaStatus_t laminaActivationBackward(laminaHandle_t handle, laminaActivationDescriptor_t act,
                                                   const void *alpha, laminaTensorDescriptor_t y, const void *yData,
                                                   laminaTensorDescriptor_t dy, const void *dyData,
                                                   laminaTensorDescriptor_t x, const void *xData, const void *beta,
                                                   laminaTensorDescriptor_t dx, void *dxData);

/* Fused forward (cuDNN's ConvolutionBiasActivationForward): y = act(alpha1 * conv(x, w) + alpha2 * z + bias).
 * z has y's dims and type and may be y itself (zData == yData, same descriptor layout); with alpha2 = 0 it is
 * not read. bias is 1 x K x 1 ... (y's rank). act: any activation descriptor (IDENTITY for none). The
 * workspace is algo's forward workspace (laminaGetConvolutionForwardWorkspaceSize). */
LAMINA_API laminaStatus_t laminaConvolutionBiasActivationForward(
    laminaHandle_t handle, const void *alpha1, laminaTensorDescriptor_t x, const void *xData,
    laminaFilterDescriptor_t w, const void *wData, laminaConvolutionDescriptor_t conv, laminaConvolutionFwdAlgo_t algo,
    void *workspace, size_t workspaceBytes, const void *alpha2, laminaTensorDescriptor_t z, const void *zData,
    laminaTensorDescriptor_t bias, const void *biasData, laminaActivationDescriptor_t act, laminaTensorDescriptor_t y,
    void *yData);

/* ---------------------------------------------------------------- softmax */

typedef enum {
  LAMINA_SOFTMAX_FAST = 0,     /* exp(x) / sum exp(x), no max subtraction */
  LAMINA_SOFTMAX_ACCURATE = 1, /* subtracts the max first */
  LAMINA_SOFTMAX_LOG = 2       /* log-softmax */
} laminaSoftmaxAlgorithm_t;

typedef enum {
  LAMINA_SOFTMAX_MODE_INSTANCE = 0, /* over C*H*W... for each n */
  LAMINA_SOFTMAX_MODE_CHANNEL = 1   /* over C for each n and spatial position */
} laminaSoftmaxMode_t;

LAMINA_API laminaStatus_t laminaSoftmaxForward(laminaHandle_t handle, laminaSoftmaxAlgorithm_t algo,
                                               laminaSoftmaxMode_t mode, const void *alpha, laminaTensorDescriptor_t x,
                                               const void *xData, const void *beta, laminaTensorDescriptor_t y,
                                               void *yData);
LAMINA_API laminaStatus_t laminaSoftmaxBackward(laminaHandle_t handle, laminaSoftmaxAlgorithm_t algo,
                                                laminaSoftmaxMode_t mode, const void *alpha, laminaTensorDescriptor_t y,
                                                const void *yData, laminaTensorDescriptor_t dy, const void *dyData,
                                                const void *beta, laminaTensorDescriptor_t dx, void *dxData);

/* ---------------------------------------------------------------- local response normalisation */

typedef struct laminaLRNStruct *laminaLRNDescriptor_t;

typedef enum {
  /* y = x / (k + alpha/n * sum over n neighbouring channels of x^2)^beta (Caffe ACROSS_CHANNELS) */
  LAMINA_LRN_CROSS_CHANNEL = 0,
  /* y = x / (k + alpha/(n*n) * sum over an n x n spatial window (zero padded) of x^2)^beta
   * (Caffe WITHIN_CHANNEL, with k = 1 there) */
  LAMINA_LRN_WITHIN_CHANNEL = 1
} laminaLRNMode_t;

LAMINA_API laminaStatus_t laminaCreateLRNDescriptor(laminaLRNDescriptor_t *desc);
LAMINA_API laminaStatus_t laminaDestroyLRNDescriptor(laminaLRNDescriptor_t desc);
/* n: window (odd, 1..15 for cross channel); defaults n=5, alpha=1e-4, beta=0.75, k=2. */
LAMINA_API laminaStatus_t laminaSetLRNDescriptor(laminaLRNDescriptor_t desc, unsigned n, double alpha, double beta,
                                                 double k);
LAMINA_API laminaStatus_t laminaGetLRNDescriptor(laminaLRNDescriptor_t desc, unsigned *n, double *alpha, double *beta,
                                                 double *k);
LAMINA_API laminaStatus_t laminaLRNForward(laminaHandle_t handle, laminaLRNDescriptor_t lrn, laminaLRNMode_t mode,
                                           const void *alpha, laminaTensorDescriptor_t x, const void *xData,
                                           const void *beta, laminaTensorDescriptor_t y, void *yData);
LAMINA_API laminaStatus_t laminaLRNBackward(laminaHandle_t handle, laminaLRNDescriptor_t lrn, laminaLRNMode_t mode,
                                            const void *alpha, laminaTensorDescriptor_t y, const void *yData,
                                            laminaTensorDescriptor_t dy, const void *dyData, laminaTensorDescriptor_t x,
                                            const void *xData, const void *beta, laminaTensorDescriptor_t dx,
                                            void *dxData);

/* ---------------------------------------------------------------- batch normalisation */

typedef enum {
  LAMINA_BATCHNORM_PER_ACTIVATION = 0, /* statistics per C*H*W element, over N */
  LAMINA_BATCHNORM_SPATIAL = 1         /* statistics per channel, over N*H*W */
} laminaBatchNormMode_t;

/* Sets derived to the shape of scale/bias/mean/variance for x: 1xCx1x1 (spatial) or 1xCxHxW
 * (per activation); float for half/bfloat16/float x, double for double x. */
LAMINA_API laminaStatus_t laminaDeriveBNTensorDescriptor(laminaTensorDescriptor_t derived, laminaTensorDescriptor_t x,
                                                         laminaBatchNormMode_t mode);
/* Training: normalises with the batch statistics. runningMean/runningVariance (both or neither may be
 * NULL) become (1-factor)*running + factor*batch, the variance unbiased (n/(n-1)). saveMean and
 * saveInvVariance (both or neither may be NULL) receive mean and 1/sqrt(var + epsilon) for backward. */
LAMINA_API laminaStatus_t laminaBatchNormalizationForwardTraining(
    laminaHandle_t handle, laminaBatchNormMode_t mode, const void *alpha, const void *beta, laminaTensorDescriptor_t x,
    const void *xData, laminaTensorDescriptor_t y, void *yData, laminaTensorDescriptor_t scaleBiasMeanVar,
    const void *scale, const void *bias, double exponentialAverageFactor, void *runningMean, void *runningVariance,
    double epsilon, void *saveMean, void *saveInvVariance);
LAMINA_API laminaStatus_t laminaBatchNormalizationForwardInference(
    laminaHandle_t handle, laminaBatchNormMode_t mode, const void *alpha, const void *beta, laminaTensorDescriptor_t x,
    const void *xData, laminaTensorDescriptor_t y, void *yData, laminaTensorDescriptor_t scaleBiasMeanVar,
    const void *scale, const void *bias, const void *estimatedMean, const void *estimatedVariance, double epsilon);
/* dx = alphaData*grad + betaData*dx; dScale, dBias = alphaParam*grad + betaParam*old. savedMean and
 * savedInvVariance may both be NULL, and are then recomputed from x. */
LAMINA_API laminaStatus_t laminaBatchNormalizationBackward(
    laminaHandle_t handle, laminaBatchNormMode_t mode, const void *alphaData, const void *betaData,
    const void *alphaParam, const void *betaParam, laminaTensorDescriptor_t x, const void *xData,
    laminaTensorDescriptor_t dy, const void *dyData, laminaTensorDescriptor_t dx, void *dxData,
    laminaTensorDescriptor_t scaleBiasDiff, const void *scale, void *dScale, void *dBias, double epsilon,
    const void *savedMean, const void *savedInvVariance);

/* ---------------------------------------------------------------- dropout */

typedef struct laminaDropoutStruct *laminaDropoutDescriptor_t;

LAMINA_API laminaStatus_t laminaCreateDropoutDescriptor(laminaDropoutDescriptor_t *desc);
LAMINA_API laminaStatus_t laminaDestroyDropoutDescriptor(laminaDropoutDescriptor_t desc);
/* Bytes of backend memory the random state needs. */
LAMINA_API laminaStatus_t laminaDropoutGetStatesSize(laminaHandle_t handle, size_t *bytes);
/* Bytes the reserve space (the mask kept for backward) needs for x. */
LAMINA_API laminaStatus_t laminaDropoutGetReserveSpaceSize(laminaTensorDescriptor_t x, size_t *bytes);
/* Initialises states from seed. The mask is a counter-based (Philox) function of seed, the number of
 * forward calls made with these states, and the element index: the same seed gives the same masks,
 * on any backend. */
LAMINA_API laminaStatus_t laminaSetDropoutDescriptor(laminaDropoutDescriptor_t desc, laminaHandle_t handle,
                                                     float dropout, void *states, size_t stateBytes,
                                                     unsigned long long seed);
LAMINA_API laminaStatus_t laminaGetDropoutDescriptor(laminaDropoutDescriptor_t desc, float *dropout, void **states,
                                                     unsigned long long *seed);
/* y = x * mask / (1 - dropout); the mask is written to reserveSpace. */
LAMINA_API laminaStatus_t laminaDropoutForward(laminaHandle_t handle, laminaDropoutDescriptor_t desc,
                                               laminaTensorDescriptor_t x, const void *xData,
                                               laminaTensorDescriptor_t y, void *yData, void *reserveSpace,
                                               size_t reserveBytes);
/* dx = dy * mask / (1 - dropout) with the mask of the matching forward. */
LAMINA_API laminaStatus_t laminaDropoutBackward(laminaHandle_t handle, laminaDropoutDescriptor_t desc,
                                                laminaTensorDescriptor_t dy, const void *dyData,
                                                laminaTensorDescriptor_t dx, void *dxData, void *reserveSpace,
                                                size_t reserveBytes);

/* ---------------------------------------------------------------- tensor operations */

/* c = alpha * a + beta * c, a broadcast: each dim of a equals c's or is 1 (e.g. a bias 1xCx1x1). */
LAMINA_API laminaStatus_t laminaAddTensor(laminaHandle_t handle, const void *alpha, laminaTensorDescriptor_t a,
                                          const void *aData, const void *beta, laminaTensorDescriptor_t c, void *cData);
/* Every element of y = *value (value typed as alpha is). */
LAMINA_API laminaStatus_t laminaSetTensor(laminaHandle_t handle, laminaTensorDescriptor_t y, void *yData,
                                          const void *value);
/* y = *alpha * y. */
LAMINA_API laminaStatus_t laminaScaleTensor(laminaHandle_t handle, laminaTensorDescriptor_t y, void *yData,
                                            const void *alpha);
/* y = alpha * x + beta * y with the same dims: converts layout (strides) and data type. alpha/beta
 * are typed by y's data type. */
LAMINA_API laminaStatus_t laminaTransformTensor(laminaHandle_t handle, const void *alpha, laminaTensorDescriptor_t x,
                                                const void *xData, const void *beta, laminaTensorDescriptor_t y,
                                                void *yData);

typedef struct laminaOpTensorStruct *laminaOpTensorDescriptor_t;

typedef enum {
  LAMINA_OP_TENSOR_ADD = 0,
  LAMINA_OP_TENSOR_MUL = 1,
  LAMINA_OP_TENSOR_MIN = 2,
  LAMINA_OP_TENSOR_MAX = 3,
  LAMINA_OP_TENSOR_SQRT = 4,   /* unary: uses a only */
  LAMINA_OP_TENSOR_NOT = 5,    /* unary: 1 - a */
  LAMINA_OP_TENSOR_DIV = 6,    /* a / b */
  LAMINA_OP_TENSOR_POW = 7,    /* a ^ b (pow) */
  LAMINA_OP_TENSOR_EXP = 8,    /* unary: exp(a) */
  LAMINA_OP_TENSOR_LOG = 9,    /* unary: natural log of a */
  LAMINA_OP_TENSOR_ABS = 10,   /* unary: |a| */
  LAMINA_OP_TENSOR_SIGN = 11,  /* unary: -1, 0 or 1 (NaN stays NaN) */
  LAMINA_OP_TENSOR_CMP_GE = 12 /* 1 where a >= b, else 0 */
} laminaOpTensorOp_t;

LAMINA_API laminaStatus_t laminaCreateOpTensorDescriptor(laminaOpTensorDescriptor_t *desc);
LAMINA_API laminaStatus_t laminaDestroyOpTensorDescriptor(laminaOpTensorDescriptor_t desc);
LAMINA_API laminaStatus_t laminaSetOpTensorDescriptor(laminaOpTensorDescriptor_t desc, laminaOpTensorOp_t op,
                                                      laminaDataType_t computeType, laminaNanPropagation_t nan);
LAMINA_API laminaStatus_t laminaGetOpTensorDescriptor(laminaOpTensorDescriptor_t desc, laminaOpTensorOp_t *op,
                                                      laminaDataType_t *computeType, laminaNanPropagation_t *nan);
/* c = op(alpha1 * a, alpha2 * b) + beta * c; a has c's dims, b is broadcast like laminaAddTensor. In
 * place allowed (cData == aData with identical descriptors). For unary ops b may be NULL. */
LAMINA_API laminaStatus_t laminaOpTensor(laminaHandle_t handle, laminaOpTensorDescriptor_t op, const void *alpha1,
                                         laminaTensorDescriptor_t a, const void *aData, const void *alpha2,
                                         laminaTensorDescriptor_t b, const void *bData, const void *beta,
                                         laminaTensorDescriptor_t c, void *cData);

typedef struct laminaReduceTensorStruct *laminaReduceTensorDescriptor_t;

typedef enum {
  LAMINA_REDUCE_TENSOR_ADD = 0,
  LAMINA_REDUCE_TENSOR_MUL = 1,
  LAMINA_REDUCE_TENSOR_MIN = 2,
  LAMINA_REDUCE_TENSOR_MAX = 3,
  LAMINA_REDUCE_TENSOR_AMAX = 4, /* max of |a| */
  LAMINA_REDUCE_TENSOR_AVG = 5,
  LAMINA_REDUCE_TENSOR_NORM1 = 6, /* sum of |a| */
  LAMINA_REDUCE_TENSOR_NORM2 = 7  /* sqrt of the sum of a^2 */
} laminaReduceTensorOp_t;

typedef enum {
  LAMINA_REDUCE_TENSOR_NO_INDICES = 0,
  LAMINA_REDUCE_TENSOR_FLATTENED_INDICES = 1 /* MIN/MAX/AMAX: int32 index within the reduced block */
} laminaReduceTensorIndices_t;

LAMINA_API laminaStatus_t laminaCreateReduceTensorDescriptor(laminaReduceTensorDescriptor_t *desc);
LAMINA_API laminaStatus_t laminaDestroyReduceTensorDescriptor(laminaReduceTensorDescriptor_t desc);
LAMINA_API laminaStatus_t laminaSetReduceTensorDescriptor(laminaReduceTensorDescriptor_t desc,
                                                          laminaReduceTensorOp_t op, laminaDataType_t computeType,
                                                          laminaNanPropagation_t nan,
                                                          laminaReduceTensorIndices_t indices);
LAMINA_API laminaStatus_t laminaGetReduceTensorDescriptor(laminaReduceTensorDescriptor_t desc,
                                                          laminaReduceTensorOp_t *op, laminaDataType_t *computeType,
                                                          laminaNanPropagation_t *nan,
                                                          laminaReduceTensorIndices_t *indices);
LAMINA_API laminaStatus_t laminaGetReductionIndicesSize(laminaHandle_t handle, laminaReduceTensorDescriptor_t desc,
                                                        laminaTensorDescriptor_t a, laminaTensorDescriptor_t c,
                                                        size_t *bytes);
LAMINA_API laminaStatus_t laminaGetReductionWorkspaceSize(laminaHandle_t handle, laminaReduceTensorDescriptor_t desc,
                                                          laminaTensorDescriptor_t a, laminaTensorDescriptor_t c,
                                                          size_t *bytes);
/* c = alpha * reduce(a) + beta * c: every dim where c is 1 and a is not is reduced. */
LAMINA_API laminaStatus_t laminaReduceTensor(laminaHandle_t handle, laminaReduceTensorDescriptor_t desc, void *indices,
                                             size_t indicesBytes, void *workspace, size_t workspaceBytes,
                                             const void *alpha, laminaTensorDescriptor_t a, const void *aData,
                                             const void *beta, laminaTensorDescriptor_t c, void *cData);

/* ---------------------------------------------------------------- matrix multiply */

typedef enum {
  LAMINA_OP_N = 0, /* as stored */
  LAMINA_OP_T = 1  /* transposed */
} laminaOperation_t;

/* Row-major batched GEMM: for b in [0, batch):
 *   C_b[m x n] = alpha * op(A_b)[m x k] * op(B_b)[k x n] + beta * C_b
 * ld* are row strides in elements (A stored m x k when LAMINA_OP_N, k x m when LAMINA_OP_T), stride*
 * the distance between batch entries. All three matrices have dataType; math as for convolution. */
LAMINA_API laminaStatus_t laminaMatmul(laminaHandle_t handle, laminaDataType_t dataType, laminaMathType_t math,
                                       laminaOperation_t transA, laminaOperation_t transB, int64_t m, int64_t n,
                                       int64_t k, const void *alpha, const void *A, int64_t lda, int64_t strideA,
                                       const void *B, int64_t ldb, int64_t strideB, const void *beta, void *C,
                                       int64_t ldc, int64_t strideC, int64_t batch);

#ifdef __cplusplus
}
#endif

#endif /* LAMINA_LAMINA_H */
