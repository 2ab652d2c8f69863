// Reduction: each element of c reduces its block of a (the reduced dims, row-major). Accumulates in
// double on the CPU. Many outputs: one task per output; few outputs (e.g. a full reduction): the
// block is split into pieces reduced in parallel and merged in order, so ties keep the first index.
#include "cpu/reduce.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace lamina::cpu {

namespace {

struct Acc {
  double v = 0;
  int64_t idx = 0;
  bool any = false; // MIN/MAX/AMAX: v holds a candidate
  bool nan = false; // PROPAGATE_NAN: a NaN was seen (v is NaN, idx its index)
};

struct Reducer {
  laminaReduceTensorOp_t op;
  bool propagate;
  double init() const { return op == LAMINA_REDUCE_TENSOR_MUL ? 1.0 : 0.0; }
  bool isArg() const {
    return op == LAMINA_REDUCE_TENSOR_MIN || op == LAMINA_REDUCE_TENSOR_MAX || op == LAMINA_REDUCE_TENSOR_AMAX;
  }
  // Candidate `x` at index j enters the arg-reduction accumulator; earlier indices win ties.
  void argStep(Acc &a, double x, int64_t j) const {
    if (a.nan)
      return;
    if (std::isnan(x)) {
      if (propagate)
        a = Acc{x, j, true, true};
      return;
    }
    bool better = !a.any || (op == LAMINA_REDUCE_TENSOR_MIN ? x < a.v : x > a.v);
    if (better)
      a = Acc{x, j, true, false};
  }
  void step(Acc &a, double x, int64_t j) const {
    switch (op) {
    case LAMINA_REDUCE_TENSOR_ADD:
    case LAMINA_REDUCE_TENSOR_AVG: a.v += x; break;
    case LAMINA_REDUCE_TENSOR_MUL: a.v *= x; break;
    case LAMINA_REDUCE_TENSOR_NORM1: a.v += std::fabs(x); break;
    case LAMINA_REDUCE_TENSOR_NORM2: a.v += x * x; break;
    case LAMINA_REDUCE_TENSOR_AMAX: argStep(a, std::fabs(x), j); break;
    default: argStep(a, x, j); break;
    }
  }
  // step over len elements p[t * stride] with indices j0 + t; the switch stays out of the loops.
  template <class T> void stepRun(Acc &a, const T *p, int64_t stride, int64_t len, int64_t j0) const {
    double v = a.v;
    switch (op) {
    case LAMINA_REDUCE_TENSOR_ADD:
    case LAMINA_REDUCE_TENSOR_AVG:
      for (int64_t t = 0; t < len; ++t)
        v += double(toFloat(p[t * stride]));
      break;
    case LAMINA_REDUCE_TENSOR_MUL:
      for (int64_t t = 0; t < len; ++t)
        v *= double(toFloat(p[t * stride]));
      break;
    case LAMINA_REDUCE_TENSOR_NORM1:
      for (int64_t t = 0; t < len; ++t)
        v += std::fabs(double(toFloat(p[t * stride])));
      break;
    case LAMINA_REDUCE_TENSOR_NORM2:
      for (int64_t t = 0; t < len; ++t) {
        double x = double(toFloat(p[t * stride]));
        v += x * x;
      }
      break;
    default:
      for (int64_t t = 0; t < len; ++t)
        step(a, double(toFloat(p[t * stride])), j0 + t);
      return;
    }
    a.v = v;
  }
  // b covers indices after a's.
  void merge(Acc &a, const Acc &b) const {
    if (isArg()) {
      if (b.nan) {
        if (!a.nan)
          a = b;
      } else if (b.any) {
        argStep(a, b.v, b.idx);
      }
    } else if (op == LAMINA_REDUCE_TENSOR_MUL) {
      a.v *= b.v;
    } else {
      a.v += b.v;
    }
  }
  double finish(const Acc &a, int64_t count) const {
    switch (op) {
    case LAMINA_REDUCE_TENSOR_AVG: return a.v / double(count);
    case LAMINA_REDUCE_TENSOR_NORM2: return std::sqrt(a.v);
    case LAMINA_REDUCE_TENSOR_MIN:
    case LAMINA_REDUCE_TENSOR_MAX:
    case LAMINA_REDUCE_TENSOR_AMAX: return a.any || a.nan ? a.v : NAN; // all NaN, not propagated: NaN
    default: return a.v;
    }
  }
};

template <class T>
void reduceImpl(const laminaContext &h, const ReduceTensorDesc &d, int32_t *indices, double alpha, const TensorDesc &a,
                const void *aData, double beta, const TensorDesc &c, void *cData) {
  using C = compute_t<T>;
  const T *A = static_cast<const T *>(aData);
  T *Cp = static_cast<T *>(cData);
  // The reduced block: dims where c is 1 and a is not, in a's dim order.
  int nr = 0;
  int64_t rdims[LAMINA_DIM_MAX], rstr[LAMINA_DIM_MAX];
  int64_t keepStr[LAMINA_DIM_MAX]; // a's strides for c's dims (0 on reduced dims: c is 1 there)
  int64_t count = 1;
  for (int i = 0; i < a.nbDims; ++i) {
    if (c.dims[i] == 1 && a.dims[i] != 1) {
      rdims[nr] = a.dims[i];
      rstr[nr++] = a.strides[i];
      count *= a.dims[i];
      keepStr[i] = 0;
    } else {
      keepStr[i] = a.strides[i];
    }
  }
  // Merge reduced dims contiguous in memory (keeps the row-major index order the indices use).
  int m = 0;
  for (int q = 0; q < nr; ++q) {
    if (m > 0 && rstr[m - 1] == rstr[q] * rdims[q]) {
      rdims[m - 1] *= rdims[q];
      rstr[m - 1] = rstr[q];
    } else {
      rdims[m] = rdims[q];
      rstr[m++] = rstr[q];
    }
  }
  nr = m;
  if (nr == 0) { // nothing reduced: a block of one element
    rdims[0] = 1;
    rstr[0] = 0;
    nr = 1;
  }
  const Reducer red{d.op, d.nan == LAMINA_PROPAGATE_NAN};
  // Reduces block elements [j0, j1) of the block starting at base, walking the reduced dims with a
  // carried multi-index instead of a division per element.
  auto range = [&](const T *base, int64_t j0, int64_t j1) {
    Acc acc;
    acc.v = red.init();
    int64_t idx[LAMINA_DIM_MAX], off = 0, r = j0;
    for (int q = nr - 1; q >= 0; --q) {
      idx[q] = r % rdims[q];
      r /= rdims[q];
      off += idx[q] * rstr[q];
    }
    const int last = nr - 1;
    for (int64_t j = j0; j < j1;) {
      // A run along the innermost reduced dim, then one carry into the outer ones.
      const int64_t run = std::min(rdims[last] - idx[last], j1 - j);
      red.stepRun(acc, base + off, rstr[last], run, j);
      j += run;
      off += run * rstr[last];
      idx[last] += run;
      for (int q = last; q > 0 && idx[q] == rdims[q]; --q) {
        off += rstr[q - 1] - rstr[q] * rdims[q];
        idx[q] = 0;
        ++idx[q - 1];
      }
    }
    return acc;
  };
  const int64_t outputs = c.numel();
  const C al = C(alpha), be = C(beta);
  auto store = [&](int64_t o, const Acc &acc) {
    storeScaled(Cp + offsetOf(c, o), C(red.finish(acc, count)), al, be);
    if (indices)
      indices[o] = int32_t(acc.idx);
  };
  auto aBase = [&](int64_t o) {
    int64_t off = 0;
    for (int i = c.nbDims - 1; i >= 0; --i) {
      off += (o % c.dims[i]) * keepStr[i];
      o /= c.dims[i];
    }
    return A + off;
  };
  const int nt = threads(h);
  constexpr int64_t kPiece = 1 << 16;
  if (outputs >= nt || count < 2 * kPiece) {
    parallelFor(h, outputs, [&](int64_t o) { store(o, range(aBase(o), 0, count)); });
    return;
  }
  const int64_t pieces = (count + kPiece - 1) / kPiece;
  std::vector<Acc> part(static_cast<size_t>(pieces));
  for (int64_t o = 0; o < outputs; ++o) {
    const T *base = aBase(o);
    parallelFor(h, pieces,
                [&](int64_t p) { part[size_t(p)] = range(base, p * kPiece, std::min(count, (p + 1) * kPiece)); });
    Acc acc = part[0];
    for (int64_t p = 1; p < pieces; ++p)
      red.merge(acc, part[size_t(p)]);
    store(o, acc);
  }
}

} // namespace

void reduceTensor(const laminaContext &h, const ReduceTensorDesc &d, int32_t *indices, double alpha,
                  const TensorDesc &a, const void *aData, double beta, const TensorDesc &c, void *cData) {
  LAMINA_DISPATCH_FLOAT_TYPES(c.dataType, reduceImpl, h, d, indices, alpha, a, aData, beta, c, cData);
}

} // namespace lamina::cpu
