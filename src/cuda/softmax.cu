// CUDA softmax (FAST, ACCURATE, LOG; INSTANCE and CHANNEL modes), forward and backward, any strides.
// A softmax row is a group of K elements: INSTANCE: one row per image over C x spatial; CHANNEL: one
// row per (image, spatial position) over C. Rows and their elements are two strided walks (Shape<K>
// over the row index, Shape<K> within a row). A "team" of threads owns a row:
//   - one thread, for CHANNEL rows whose C stride is not 1 (NCHW): neighbouring threads take
//     neighbouring positions, so every pass over the channels reads coalesced memory;
//   - one warp (shuffle reductions) for rows of up to kWarpRowMax elements;
//   - one block (warp shuffles, then shared memory across warps) for longer rows.
// Element k of a row is read and written by the same thread in every pass, so in-place calls (x and y,
// or dy and dx, sharing memory with one layout) are safe. Reductions run in a fixed order: results
// do not depend on the launch.
#include "cuda/device.cuh"
#include "cuda/ops.h"
#include "cuda/team.cuh"

namespace lamina::cuda {
namespace {

constexpr int64_t kWarpRowMax = 1024;

__device__ __forceinline__ float expAcc(float v) { return expf(v); }
__device__ __forceinline__ double expAcc(double v) { return exp(v); }
__device__ __forceinline__ float logAcc(float v) { return logf(v); }
__device__ __forceinline__ double logAcc(double v) { return log(v); }

// rows: the walk over row indices; elems: the walk within a row; tensors 0 = x, 1 = y.
template <class T, int kTeam>
__global__ void softmaxForwardKernel(Shape<2> rows, Shape<2> elems, laminaSoftmaxAlgorithm_t algo, const T *X, T *Y,
                                     acc_t<T> alpha, acc_t<T> beta) {
  using A = acc_t<T>;
  const Team<kTeam> team;
  const int64_t K = elems.numel;
  // The row loop's bound is uniform over a team, so the team's shuffles and barriers are not divergent.
  for (int64_t row = team.first; row < rows.numel; row += team.count) {
    int64_t base[2], off[2];
    rows.offsets(row, base);
    const T *xr = X + base[0];
    T *yr = Y + base[1];
    A m = A(0);
    if (algo != LAMINA_SOFTMAX_FAST) {
      bool any = false;
      for (int64_t k = team.rank; k < K; k += team.size) {
        elems.offsets(k, off);
        const A v = toAcc(xr[off[0]]);
        m = any ? MaxOp<A>()(m, v) : v;
        any = true;
      }
      // threads without an element hold -inf, which never wins (a NaN anywhere makes the sum, and so
      // every output, NaN whatever the max)
      if (!any)
        m = -INFINITY;
      m = teamReduce<kTeam>(m, MaxOp<A>());
      if (isinf(m))
        m = A(0); // all -inf, or +inf present: no shift (gives NaN, as the math does)
    }
    A sum = A(0);
    for (int64_t k = team.rank; k < K; k += team.size) {
      elems.offsets(k, off);
      sum += expAcc(toAcc(xr[off[0]]) - m);
    }
    sum = teamReduce<kTeam>(sum, SumOp<A>());
    if (algo == LAMINA_SOFTMAX_LOG) {
      const A lse = m + logAcc(sum);
      for (int64_t k = team.rank; k < K; k += team.size) {
        elems.offsets(k, off);
        storeScaled(yr + off[1], toAcc(xr[off[0]]) - lse, alpha, beta);
      }
    } else {
      const A inv = A(1) / sum;
      for (int64_t k = team.rank; k < K; k += team.size) {
        elems.offsets(k, off);
        storeScaled(yr + off[1], expAcc(toAcc(xr[off[0]]) - m) * inv, alpha, beta);
      }
    }
  }
}

// tensors 0 = y, 1 = dy, 2 = dx.
template <class T, int kTeam>
__global__ void softmaxBackwardKernel(Shape<3> rows, Shape<3> elems, laminaSoftmaxAlgorithm_t algo, const T *Y,
                                      const T *DY, T *DX, acc_t<T> alpha, acc_t<T> beta) {
  using A = acc_t<T>;
  const Team<kTeam> team;
  const int64_t K = elems.numel;
  const bool log = algo == LAMINA_SOFTMAX_LOG;
  for (int64_t row = team.first; row < rows.numel; row += team.count) {
    int64_t base[3], off[3];
    rows.offsets(row, base);
    const T *yr = Y + base[0], *dyr = DY + base[1];
    T *dxr = DX + base[2];
    A s = A(0);
    for (int64_t k = team.rank; k < K; k += team.size) {
      elems.offsets(k, off);
      const A d = toAcc(dyr[off[1]]);
      s += log ? d : d * toAcc(yr[off[0]]);
    }
    s = teamReduce<kTeam>(s, SumOp<A>());
    for (int64_t k = team.rank; k < K; k += team.size) {
      elems.offsets(k, off);
      const A yv = toAcc(yr[off[0]]), d = toAcc(dyr[off[1]]);
      storeScaled(dxr + off[2], log ? d - expAcc(yv) * s : yv * (d - s), alpha, beta);
    }
  }
}

// Row and element walks of the K tensors ts (same dims) for `mode`.
template <int K>
void rowWalks(laminaSoftmaxMode_t mode, const TensorDesc *const ts[K], Shape<K> &rows, Shape<K> &elems) {
  const TensorDesc &t0 = *ts[0];
  int64_t rowDims[LAMINA_DIM_MAX], elemDims[LAMINA_DIM_MAX];
  int64_t rowStrides[K][LAMINA_DIM_MAX], elemStrides[K][LAMINA_DIM_MAX];
  int nr = 0, ne = 0;
  if (mode == LAMINA_SOFTMAX_MODE_INSTANCE) {
    rowDims[nr++] = t0.dims[0];
    for (int d = 1; d < t0.nbDims; ++d)
      elemDims[ne++] = t0.dims[d];
    for (int k = 0; k < K; ++k) {
      rowStrides[k][0] = ts[k]->strides[0];
      for (int d = 1; d < t0.nbDims; ++d)
        elemStrides[k][d - 1] = ts[k]->strides[d];
    }
  } else {
    rowDims[nr++] = t0.dims[0];
    for (int d = 2; d < t0.nbDims; ++d)
      rowDims[nr++] = t0.dims[d];
    elemDims[ne++] = t0.dims[1];
    for (int k = 0; k < K; ++k) {
      rowStrides[k][0] = ts[k]->strides[0];
      for (int d = 2; d < t0.nbDims; ++d)
        rowStrides[k][d - 1] = ts[k]->strides[d];
      elemStrides[k][0] = ts[k]->strides[1];
    }
  }
  const int64_t *rs[K], *es[K];
  for (int k = 0; k < K; ++k) {
    rs[k] = rowStrides[k];
    es[k] = elemStrides[k];
  }
  rows = makeShape<K>(nr, rowDims, rs);
  elems = makeShape<K>(ne, elemDims, es);
}

// The team for rows of K elements, `out` the tensor written.
int pickTeam(laminaSoftmaxMode_t mode, const TensorDesc &out, int64_t K) {
  if (mode == LAMINA_SOFTMAX_MODE_CHANNEL && out.strides[1] != 1 && out.nbDims > 2)
    return kTeamThread;
  return K <= kWarpRowMax ? kTeamWarp : kTeamBlock;
}

template <class T>
void forwardT(const laminaContext &h, laminaSoftmaxAlgorithm_t algo, laminaSoftmaxMode_t mode, double alpha,
              const TensorDesc &x, const void *xData, double beta, const TensorDesc &y, void *yData) {
  const TensorDesc *ts[2] = {&x, &y};
  Shape<2> rows, elems;
  rowWalks<2>(mode, ts, rows, elems);
  if (rows.numel == 0 || elems.numel == 0)
    return;
  const T *X = static_cast<const T *>(xData);
  T *Y = static_cast<T *>(yData);
  const acc_t<T> a = acc_t<T>(alpha), b = acc_t<T>(beta);
  const int team = pickTeam(mode, y, elems.numel);
  const unsigned grid = gridForTeams(team, rows.numel, kBlock);
  cudaStream_t s = streamOf(h);
  switch (team) {
  case kTeamThread: softmaxForwardKernel<T, kTeamThread><<<grid, kBlock, 0, s>>>(rows, elems, algo, X, Y, a, b); break;
  case kTeamWarp: softmaxForwardKernel<T, kTeamWarp><<<grid, kBlock, 0, s>>>(rows, elems, algo, X, Y, a, b); break;
  default: softmaxForwardKernel<T, kTeamBlock><<<grid, kBlock, 0, s>>>(rows, elems, algo, X, Y, a, b); break;
  }
  LAMINA_CUDA_LAUNCHED();
}

template <class T>
void backwardT(const laminaContext &h, laminaSoftmaxAlgorithm_t algo, laminaSoftmaxMode_t mode, double alpha,
               const TensorDesc &y, const void *yData, const TensorDesc &dy, const void *dyData, double beta,
               const TensorDesc &dx, void *dxData) {
  const TensorDesc *ts[3] = {&y, &dy, &dx};
  Shape<3> rows, elems;
  rowWalks<3>(mode, ts, rows, elems);
  if (rows.numel == 0 || elems.numel == 0)
    return;
  const T *Yp = static_cast<const T *>(yData), *DY = static_cast<const T *>(dyData);
  T *DX = static_cast<T *>(dxData);
  const acc_t<T> a = acc_t<T>(alpha), b = acc_t<T>(beta);
  const int team = pickTeam(mode, dx, elems.numel);
  const unsigned grid = gridForTeams(team, rows.numel, kBlock);
  cudaStream_t s = streamOf(h);
  switch (team) {
  case kTeamThread:
    softmaxBackwardKernel<T, kTeamThread><<<grid, kBlock, 0, s>>>(rows, elems, algo, Yp, DY, DX, a, b);
    break;
  case kTeamWarp:
    softmaxBackwardKernel<T, kTeamWarp><<<grid, kBlock, 0, s>>>(rows, elems, algo, Yp, DY, DX, a, b);
    break;
  default: softmaxBackwardKernel<T, kTeamBlock><<<grid, kBlock, 0, s>>>(rows, elems, algo, Yp, DY, DX, a, b); break;
  }
  LAMINA_CUDA_LAUNCHED();
}

} // namespace

void softmaxForward(const laminaContext &h, laminaSoftmaxAlgorithm_t algo, laminaSoftmaxMode_t mode, double alpha,
                    const TensorDesc &x, const void *xData, double beta, const TensorDesc &y, void *yData) {
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(x.dataType, forwardT, h, algo, mode, alpha, x, xData, beta, y, yData);
}

void softmaxBackward(const laminaContext &h, laminaSoftmaxAlgorithm_t algo, laminaSoftmaxMode_t mode, double alpha,
                     const TensorDesc &y, const void *yData, const TensorDesc &dy, const void *dyData, double beta,
                     const TensorDesc &dx, void *dxData) {
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(y.dataType, backwardT, h, algo, mode, alpha, y, yData, dy, dyData, beta, dx, dxData);
}

} // namespace lamina::cuda
