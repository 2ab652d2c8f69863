#include "reference/reduce_ref.h"

#include <cmath>

namespace ref {

std::vector<double> reduce(Reduce op, const std::vector<int64_t> &aDims, const std::vector<double> &a,
                           const std::vector<int64_t> &cDims, std::vector<int32_t> *indices) {
  size_t nd = aDims.size();
  int64_t cn = 1;
  for (auto d : cDims)
    cn *= d;
  std::vector<double> acc(size_t(cn), op == Reduce::Mul ? 1.0 : 0.0), cnt(size_t(cn), 0.0);
  std::vector<bool> seen(size_t(cn), false);
  std::vector<int32_t> idx(size_t(cn), 0);
  std::vector<int64_t> m(nd);
  for (size_t i = 0; i < a.size(); ++i) {
    int64_t r = int64_t(i);
    for (size_t d = nd; d-- > 0;) {
      m[d] = r % aDims[d];
      r /= aDims[d];
    }
    // Output index over c's dims and position inside the reduced block (reduced dims, row-major).
    int64_t o = 0, k = 0;
    for (size_t d = 0; d < nd; ++d) {
      bool reduced = cDims[d] == 1 && aDims[d] != 1;
      o = o * cDims[d] + (reduced ? 0 : m[d]);
      if (reduced)
        k = k * aDims[d] + m[d];
    }
    double v = a[i];
    size_t oo = size_t(o);
    cnt[oo] += 1;
    switch (op) {
    case Reduce::Add:
    case Reduce::Avg: acc[oo] += v; break;
    case Reduce::Mul: acc[oo] *= v; break;
    case Reduce::Norm1: acc[oo] += std::fabs(v); break;
    case Reduce::Norm2: acc[oo] += v * v; break;
    case Reduce::Min:
    case Reduce::Max:
    case Reduce::Amax: {
      double x = op == Reduce::Amax ? std::fabs(v) : v;
      if (std::isnan(x))
        break;
      bool better = !seen[oo] || (op == Reduce::Min ? x < acc[oo] : x > acc[oo]);
      if (better) {
        acc[oo] = x;
        idx[oo] = int32_t(k);
        seen[oo] = true;
      }
      break;
    }
    }
  }
  for (size_t o = 0; o < acc.size(); ++o) {
    if (op == Reduce::Avg)
      acc[o] /= cnt[o];
    if (op == Reduce::Norm2)
      acc[o] = std::sqrt(acc[o]);
  }
  if (indices)
    *indices = idx;
  return acc;
}

} // namespace ref
