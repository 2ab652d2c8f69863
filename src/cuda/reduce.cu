// CUDA tensor reduction: each element of c reduces its block of a (the dims where c is 1 and a is
// not, row-major). Accumulates in double for every dtype, like the CPU (src/cpu/reduce.cpp), so
// results agree to rounding. Small blocks: one thread per output, walking its block in order. Large
// blocks: one thread block per output, each thread a strided share of the block, then a tree merge
// in shared memory. Arg-reductions merge order-independently (smaller index wins a tie; the first
// NaN wins under NaN propagation), which gives the CPU's sequential answer. No workspace, no atomics.
#include "cuda/device.cuh"
#include "cuda/ops.h"

#include <math_constants.h>

namespace lamina::cuda {
namespace {

struct Acc {
  double v;
  int64_t idx;
  bool any; // MIN/MAX/AMAX: v holds a candidate
  bool nan; // PROPAGATE_NAN: a NaN was seen (v is NaN, idx its index)
};

struct Reducer {
  laminaReduceTensorOp_t op;
  bool propagate;
  __device__ bool isArg() const {
    return op == LAMINA_REDUCE_TENSOR_MIN || op == LAMINA_REDUCE_TENSOR_MAX || op == LAMINA_REDUCE_TENSOR_AMAX;
  }
  __device__ Acc init() const { return Acc{op == LAMINA_REDUCE_TENSOR_MUL ? 1.0 : 0.0, 0, false, false}; }
  // Candidate b (any or nan set) against a; ties and NaNs go to the smaller index.
  __device__ void argMerge(Acc &a, const Acc &b) const {
    if (b.nan) {
      if (!a.nan || b.idx < a.idx)
        a = b;
      return;
    }
    if (a.nan || !b.any)
      return;
    if (!a.any) {
      a = b;
      return;
    }
    const bool better = op == LAMINA_REDUCE_TENSOR_MIN ? b.v < a.v : b.v > a.v;
    if (better || (b.v == a.v && b.idx < a.idx))
      a = b;
  }
  __device__ void step(Acc &a, double x, int64_t j) const {
    switch (op) {
    case LAMINA_REDUCE_TENSOR_ADD:
    case LAMINA_REDUCE_TENSOR_AVG: a.v += x; break;
    case LAMINA_REDUCE_TENSOR_MUL: a.v *= x; break;
    case LAMINA_REDUCE_TENSOR_NORM1: a.v += fabs(x); break;
    case LAMINA_REDUCE_TENSOR_NORM2: a.v += x * x; break;
    default: {
      const double v = op == LAMINA_REDUCE_TENSOR_AMAX ? fabs(x) : x;
      if (isnan(v)) {
        if (propagate)
          argMerge(a, Acc{v, j, false, true});
      } else {
        argMerge(a, Acc{v, j, true, false});
      }
    }
    }
  }
  __device__ void merge(Acc &a, const Acc &b) const {
    if (isArg())
      argMerge(a, b);
    else if (op == LAMINA_REDUCE_TENSOR_MUL)
      a.v *= b.v;
    else
      a.v += b.v;
  }
  __device__ double finish(const Acc &a, int64_t count) const {
    switch (op) {
    case LAMINA_REDUCE_TENSOR_AVG: return a.v / double(count);
    case LAMINA_REDUCE_TENSOR_NORM2: return sqrt(a.v);
    case LAMINA_REDUCE_TENSOR_MIN:
    case LAMINA_REDUCE_TENSOR_MAX:
    case LAMINA_REDUCE_TENSOR_AMAX: return a.any || a.nan ? a.v : CUDART_NAN; // all NaN, not propagated: NaN
    default: return a.v;
    }
  }
};

// The problem's geometry, built on the host: c's dims and strides, a's strides on c's dims (0 on the
// reduced ones), the reduced block (merged where contiguous, row-major order kept).
struct ReduceGeom {
  int nbDims;
  int64_t cDims[LAMINA_DIM_MAX], cStrides[LAMINA_DIM_MAX], keepStrides[LAMINA_DIM_MAX];
  int nr;
  int64_t rDims[LAMINA_DIM_MAX], rStrides[LAMINA_DIM_MAX];
  int64_t count;   // elements per block
  int64_t outputs; // elements of c
  // Offsets of output o in c and of its block's first element in a.
  __device__ void outputOffsets(int64_t o, int64_t &cOff, int64_t &aOff) const {
    cOff = 0;
    aOff = 0;
    for (int d = nbDims - 1; d >= 0; --d) {
      const int64_t i = o % cDims[d];
      o /= cDims[d];
      cOff += i * cStrides[d];
      aOff += i * keepStrides[d];
    }
  }
  __device__ int64_t blockOffset(int64_t j) const {
    int64_t off = 0;
    for (int q = nr - 1; q >= 0; --q) {
      off += (j % rDims[q]) * rStrides[q];
      j /= rDims[q];
    }
    return off;
  }
};

ReduceGeom makeGeom(const TensorDesc &a, const TensorDesc &c) {
  ReduceGeom g{};
  g.nbDims = c.nbDims;
  int nr = 0;
  int64_t rd[LAMINA_DIM_MAX], rs[LAMINA_DIM_MAX];
  g.count = 1;
  for (int i = 0; i < a.nbDims; ++i) {
    g.cDims[i] = c.dims[i];
    g.cStrides[i] = c.strides[i];
    if (c.dims[i] == 1 && a.dims[i] != 1) {
      rd[nr] = a.dims[i];
      rs[nr++] = a.strides[i];
      g.count *= a.dims[i];
      g.keepStrides[i] = 0;
    } else {
      g.keepStrides[i] = a.strides[i];
    }
  }
  int m = 0;
  for (int q = 0; q < nr; ++q) {
    if (m > 0 && g.rStrides[m - 1] == rs[q] * rd[q]) {
      g.rDims[m - 1] *= rd[q];
      g.rStrides[m - 1] = rs[q];
    } else {
      g.rDims[m] = rd[q];
      g.rStrides[m++] = rs[q];
    }
  }
  g.nr = m;
  if (g.nr == 0) { // nothing reduced: a block of one element
    g.rDims[0] = 1;
    g.rStrides[0] = 0;
    g.nr = 1;
  }
  g.outputs = c.numel();
  return g;
}

template <class T>
__device__ __forceinline__ void storeOutput(const ReduceGeom &g, const Reducer &red, const Acc &acc, int64_t o,
                                            int64_t cOff, T *c, int32_t *indices, acc_t<T> alpha, acc_t<T> beta) {
  storeScaled(c + cOff, acc_t<T>(red.finish(acc, g.count)), alpha, beta);
  if (indices)
    indices[o] = int32_t(acc.idx);
}

// One thread per output, its block in index order (blocks of at most kSerialMax elements).
template <class T>
__global__ void serialKernel(ReduceGeom g, Reducer red, const T *a, T *c, int32_t *indices, acc_t<T> alpha,
                             acc_t<T> beta) {
  LAMINA_GRID_STRIDE_LOOP(o, g.outputs) {
    int64_t cOff, aOff;
    g.outputOffsets(o, cOff, aOff);
    Acc acc = red.init();
    for (int64_t j = 0; j < g.count; ++j)
      red.step(acc, double(toAcc(a[aOff + g.blockOffset(j)])), j);
    storeOutput(g, red, acc, o, cOff, c, indices, alpha, beta);
  }
}

constexpr int kReduceBlock = 256; // a power of two (the tree halves it)

// One thread block per output (grid-stride over outputs): thread t takes block elements t, t + 256, ...
template <class T>
__global__ void __launch_bounds__(kReduceBlock)
    blockKernel(ReduceGeom g, Reducer red, const T *a, T *c, int32_t *indices, acc_t<T> alpha, acc_t<T> beta) {
  __shared__ Acc part[kReduceBlock];
  const int t = threadIdx.x;
  for (int64_t o = blockIdx.x; o < g.outputs; o += gridDim.x) { // uniform per block: barriers are safe
    int64_t cOff, aOff;
    g.outputOffsets(o, cOff, aOff);
    Acc acc = red.init();
    for (int64_t j = t; j < g.count; j += kReduceBlock)
      red.step(acc, double(toAcc(a[aOff + g.blockOffset(j)])), j);
    part[t] = acc;
    __syncthreads();
    for (int half = kReduceBlock / 2; half > 0; half /= 2) {
      if (t < half) {
        Acc mine = part[t];
        red.merge(mine, part[t + half]);
        part[t] = mine;
      }
      __syncthreads();
    }
    if (t == 0)
      storeOutput(g, red, part[0], o, cOff, c, indices, alpha, beta);
    __syncthreads(); // part[0] is read before the next output overwrites it
  }
}

constexpr int64_t kSerialMax = 64;

template <class T>
void reduceImpl(const laminaContext &h, const ReduceTensorDesc &d, int32_t *indices, double alpha, const TensorDesc &a,
                const void *aData, double beta, const TensorDesc &c, void *cData) {
  const ReduceGeom g = makeGeom(a, c);
  if (g.outputs == 0)
    return;
  const Reducer red{d.op, d.nan == LAMINA_PROPAGATE_NAN};
  const T *A = static_cast<const T *>(aData);
  T *Cp = static_cast<T *>(cData);
  const acc_t<T> al = acc_t<T>(alpha), be = acc_t<T>(beta);
  if (g.count <= kSerialMax) {
    serialKernel<T><<<gridFor(g.outputs), kBlock, 0, streamOf(h)>>>(g, red, A, Cp, indices, al, be);
  } else {
    const int64_t grid = g.outputs < (int64_t(1) << 20) ? g.outputs : (int64_t(1) << 20);
    blockKernel<T><<<unsigned(grid), kReduceBlock, 0, streamOf(h)>>>(g, red, A, Cp, indices, al, be);
  }
  LAMINA_CUDA_LAUNCHED();
}

} // namespace

size_t reduceWorkspaceBytes(const ReduceTensorDesc &, const TensorDesc &, const TensorDesc &) { return 0; }

void reduceTensor(const laminaContext &h, const ReduceTensorDesc &d, int32_t *indices, void *, size_t, double alpha,
                  const TensorDesc &a, const void *aData, double beta, const TensorDesc &c, void *cData) {
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(c.dataType, reduceImpl, h, d, indices, alpha, a, aData, beta, c, cData);
}

} // namespace lamina::cuda
