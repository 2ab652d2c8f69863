// runOnScratch, prepareByRunning: the prepare hook (ConvAlgorithm::prepare) of the cuBLAS algorithms.
// CUDA loads a library's kernels on their first launch (lazy loading, the default since CUDA 12):
// on the H200 the first call of a 1x1 convolution through cuBLAS took 2-15 ms where later ones took
// 0.02-0.13 (v12/v13 bench: first > 2x a later call on 51 of 110 fp16 rows), and which kernels
// cuBLAS runs depends on the GEMM's shape, so no fixed warm-up at handle creation covers them. The
// per-algorithm workspace query runs the algorithm once on scratch buffers instead, as its first call
// would, so that call runs as fast as the next ones. Our own kernels need none of this: they are
// loaded at handle creation (preloadConvKernels).
#include "core/plan_memo.h"
#include "cuda/conv_algorithms.h"
#include "cuda/conv_gemm_common.cuh"
#include "cuda/cuda_common.h"

#include <mutex>
#include <unordered_set>

namespace lamina::cuda {
namespace {
// Scratch above this (x, w, y and the workspace together) is not worth a query's allocation: the
// first call then loads what it needs itself. Covers the benchmark layers at batch 64 but the largest.
constexpr size_t kPrepareBytes = size_t(1) << 30;
} // namespace

bool runOnScratch(const laminaContext &h, const ConvProblem &p, const ConvAlgorithm &alg) {
  const cudaStream_t stream = streamOf(h);
  cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(stream, &capturing) != cudaSuccess || capturing != cudaStreamCaptureStatusNone) {
    (void)cudaGetLastError();
    return false; // a run (or a cudaMalloc) would join or break the capture
  }
  const bool fwd = alg.direction == ConvDirection::Forward, data = alg.direction == ConvDirection::BackwardData;
  const size_t xb = alignUp(p.x.sizeInBytes()), wb = alignUp(p.w.sizeInBytes()), yb = alignUp(p.y.sizeInBytes());
  const size_t wsb = alg.workspaceBytes(p), total = xb + wb + yb + alignUp(wsb);
  if (total > kPrepareBytes || total < xb) // (or wrapped around)
    return false;
  // Once per problem, algorithm and device (the key's flags slot holds the algorithm's value).
  static std::mutex mu;
  static std::unordered_set<PlanKey, PlanKeyHash> done;
  const PlanKey key(p, int(alg.direction), unsigned(alg.algo), h.device);
  {
    std::lock_guard<std::mutex> lock(mu);
    if (key.valid() && done.count(key))
      return true;
  }
  void *buf = nullptr;
  if (cudaMalloc(&buf, total) != cudaSuccess) {
    (void)cudaGetLastError();
    return false; // best effort: the first call loads what it needs
  }
  char *base = static_cast<char *>(buf);
  // Zeros in (finite inputs; the output is written with beta = 0, so its contents do not matter).
  bool ok = cudaMemsetAsync(base, 0, total, stream) == cudaSuccess;
  if (ok) {
    ConvArgs a;
    a.handle = &h;
    a.p = &p;
    void *x = base, *w = base + xb, *y = base + xb + wb;
    a.x = x, a.w = w, a.dy = y;
    if (fwd)
      a.y = y;
    else if (data)
      a.dx = x;
    else
      a.dw = w;
    a.workspace = wsb ? base + xb + wb + yb : nullptr;
    a.workspaceBytes = wsb;
    try {
      alg.run(a);
    } catch (...) {
      ok = false; // the real call reports what is wrong
    }
  }
  ok = cudaStreamSynchronize(stream) == cudaSuccess && ok;
  cudaFree(buf);
  (void)cudaGetLastError();
  if (ok && key.valid()) {
    std::lock_guard<std::mutex> lock(mu);
    done.insert(key);
  }
  return ok;
}

void prepareByRunning(const laminaContext &h, const ConvProblem &p, const ConvAlgorithm &alg) {
  (void)runOnScratch(h, p, alg);
}

} // namespace lamina::cuda
