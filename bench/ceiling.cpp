// The GPU's measured ceilings for lamina-bench --ceiling (built with the CUDA backend): one large
// square GEMM per data type through cuBLAS (linked by the bench only), on the bench's stream, timed
// with its clock like the convolutions. The math of each matches the config it is the ceiling of:
//   fp16, bf16: half / bfloat16 in and out, fp32 accumulation (CUBLAS_COMPUTE_32F: tensor cores);
//   tf32:       float, CUBLAS_COMPUTE_32F_FAST_TF32 (tensor cores, TF32 inputs);
//   fp32:       float, CUBLAS_COMPUTE_32F under CUBLAS_DEFAULT_MATH (what Lamina's fp32 GEMM path asks
//               for: no tensor cores); fp32_pedantic (CUBLAS_COMPUTE_32F_PEDANTIC) is shown beside it
//               as a check that no reduced precision slipped in;
//   fp64:       double, CUBLAS_COMPUTE_64F.
#include "peer.h"

#include "common/test_util.h" // lt::storeValue: the test side's own type conversions

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {
namespace {

void check(cudaError_t e, const char *what) {
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
  }
}
void check(cublasStatus_t s, const char *what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string(what) + ": " + cublasGetStatusString(s));
}
#define CK(call) check((call), #call)

struct DevMem {
  void *p = nullptr;
  explicit DevMem(size_t bytes) { CK(cudaMalloc(&p, bytes)); }
  ~DevMem() { cudaFree(p); }
  DevMem(const DevMem &) = delete;
  DevMem &operator=(const DevMem &) = delete;
};

struct Variant {
  const char *name;
  laminaDataType_t dt; // of A, B and C
  cudaDataType_t type;
  cublasComputeType_t compute;
  const char *how;
};

size_t elemSize(laminaDataType_t dt) { return dt == LAMINA_DATA_DOUBLE ? 8 : dt == LAMINA_DATA_FLOAT ? 4 : 2; }

// Fills the first `count` elements of dev with uniform values in [-1, 1) of type dt: one random
// chunk from the host, then doubled on the device (the data need not be unique, only not constant:
// zeros would flatter the power-limited clock).
void fillRandom(void *dev, int64_t count, laminaDataType_t dt, uint64_t seed, cudaStream_t stream) {
  const int64_t chunk = std::min<int64_t>(count, int64_t(1) << 20);
  const size_t es = elemSize(dt);
  std::vector<unsigned char> host(size_t(chunk) * es);
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int64_t i = 0; i < chunk; ++i) {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    lt::storeValue(dt, host.data(), i, double((s * 0x2545F4914F6CDD1Dull) >> 11) / double(1ull << 53) * 2.0 - 1.0);
  }
  char *base = static_cast<char *>(dev);
  CK(cudaMemcpyAsync(base, host.data(), host.size(), cudaMemcpyHostToDevice, stream));
  for (int64_t have = chunk; have < count; have *= 2) {
    const int64_t n = std::min(have, count - have);
    CK(cudaMemcpyAsync(base + size_t(have) * es, base, size_t(n) * es, cudaMemcpyDeviceToDevice, stream));
  }
  CK(cudaStreamSynchronize(stream)); // the host chunk dies here
}

} // namespace

std::vector<GemmCeiling> measureGemmCeilings(void *streamPtr, int64_t n, const TimingOptions &t) {
  static const Variant variants[] = {
      {"fp16", LAMINA_DATA_HALF, CUDA_R_16F, CUBLAS_COMPUTE_32F, "half in/out, fp32 accumulation, tensor cores"},
      {"bf16", LAMINA_DATA_BFLOAT16, CUDA_R_16BF, CUBLAS_COMPUTE_32F, "bfloat16 in/out, fp32 accumulation"},
      {"tf32", LAMINA_DATA_FLOAT, CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32, "float, COMPUTE_32F_FAST_TF32"},
      {"fp32", LAMINA_DATA_FLOAT, CUDA_R_32F, CUBLAS_COMPUTE_32F, "float, COMPUTE_32F, default math (no TF32)"},
      {"fp32_pedantic", LAMINA_DATA_FLOAT, CUDA_R_32F, CUBLAS_COMPUTE_32F_PEDANTIC, "float, COMPUTE_32F_PEDANTIC"},
      {"fp64", LAMINA_DATA_DOUBLE, CUDA_R_64F, CUBLAS_COMPUTE_64F, "double, COMPUTE_64F"},
  };
  std::vector<GemmCeiling> out;
  cudaStream_t stream = static_cast<cudaStream_t>(streamPtr);
  cublasHandle_t blas = nullptr;
  try {
    CK(cublasCreate(&blas));
    CK(cublasSetStream(blas, stream));
    CK(cublasSetMathMode(blas, CUBLAS_DEFAULT_MATH));
  } catch (const std::exception &e) {
    GemmCeiling c;
    c.name = "all";
    c.err = e.what();
    out.push_back(c);
    return out;
  }
  // One set of buffers for the widest type; each variant refills A and B in its own type.
  const size_t bytes = size_t(n) * size_t(n) * 8;
  std::unique_ptr<DevMem> a, b, c;
  try {
    a = std::make_unique<DevMem>(bytes);
    b = std::make_unique<DevMem>(bytes);
    c = std::make_unique<DevMem>(bytes);
  } catch (const std::exception &e) {
    GemmCeiling g;
    g.name = "all";
    g.err = e.what();
    out.push_back(g);
    cublasDestroy(blas);
    return out;
  }
  // More runs than a convolution gets: the figure every fraction is taken of should be steady.
  TimingOptions ct = t;
  ct.warmup = std::max(2, t.warmup); // the first run loads cuBLAS's kernels
  ct.iters = std::max(10, t.iters);
  ct.maxSeconds = std::max(1.0, t.maxSeconds);
  for (const Variant &v : variants) {
    GemmCeiling g;
    g.name = v.name;
    g.how = v.how;
    try {
      fillRandom(a->p, n * n, v.dt, 1, stream);
      fillRandom(b->p, n * n, v.dt, 2, stream);
      const float f1 = 1.f, f0 = 0.f;
      const double d1 = 1.0, d0 = 0.0;
      const bool dbl = v.compute == CUBLAS_COMPUTE_64F;
      const void *alpha = dbl ? static_cast<const void *>(&d1) : &f1;
      const void *beta = dbl ? static_cast<const void *>(&d0) : &f0;
      const int dim = int(n);
      cublasStatus_t st = CUBLAS_STATUS_SUCCESS;
      g.ms = timeMedianMs(ct, [&](int) {
        if (st == CUBLAS_STATUS_SUCCESS)
          st = cublasGemmEx(blas, CUBLAS_OP_N, CUBLAS_OP_N, dim, dim, dim, alpha, a->p, v.type, dim, b->p, v.type, dim,
                            beta, c->p, v.type, dim, v.compute, CUBLAS_GEMM_DEFAULT);
      });
      check(st, "cublasGemmEx");
      g.tflops = 2.0 * double(n) * double(n) * double(n) / (g.ms * 1e9);
    } catch (const std::exception &e) {
      g.ms = g.tflops = -1;
      g.err = e.what();
    }
    out.push_back(g);
  }
  cublasDestroy(blas);
  return out;
}

} // namespace bench
