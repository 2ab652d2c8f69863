#include "reference/pooling_ref.h"

#include <algorithm>
#include <cmath>

namespace ref {

namespace {

int64_t outSize(const PoolParams &p, int i, int64_t in) {
  double span = double(in + 2 * p.pad[i] - p.window[i]) / double(p.stride[i]);
  if (!p.ceilMode)
    return int64_t(std::floor(span)) + 1;
  int64_t out = int64_t(std::ceil(span)) + 1;
  if ((out - 1) * p.stride[i] - p.pad[i] >= in)
    --out; // last window may not start in the padding
  return out;
}

// One window: its in-image element indices (row-major within the plane, scan order) and divisor.
struct Window {
  std::vector<int64_t> elems;
  int64_t divisor;
};

Window window(const PoolParams &p, const std::vector<int64_t> &in, const std::vector<int64_t> &o) {
  int sd = p.spatialDims;
  int64_t lo[3], hi[3], clipped = 1, inside = 1;
  for (int i = 0; i < sd; ++i) {
    int64_t start = o[size_t(i)] * p.stride[i] - p.pad[i];
    int64_t end = std::min(start + p.window[i], in[size_t(i)] + p.pad[i]);
    clipped *= end - start;
    lo[i] = std::max<int64_t>(start, 0);
    hi[i] = std::min(end, in[size_t(i)]);
    inside *= std::max<int64_t>(hi[i] - lo[i], 0);
  }
  Window w;
  w.divisor = p.mode == 1 ? clipped : inside;
  // enumerate the box in row-major order
  std::vector<int64_t> idx(lo, lo + sd);
  if (inside == 0)
    return w;
  while (true) {
    int64_t lin = 0;
    for (int i = 0; i < sd; ++i)
      lin = lin * in[size_t(i)] + idx[size_t(i)];
    w.elems.push_back(lin);
    int d = sd - 1;
    while (d >= 0 && ++idx[size_t(d)] == hi[d]) {
      idx[size_t(d)] = lo[d];
      --d;
    }
    if (d < 0)
      break;
  }
  return w;
}

// Index within the window of the max (first in scan order); NaN rule as documented.
size_t argmax(const PoolParams &p, const std::vector<double> &v) {
  if (p.nanPropagate)
    for (size_t i = 0; i < v.size(); ++i)
      if (std::isnan(v[i]))
        return i; // the first NaN wins
  // NaNs skipped; the first of equal maxima wins; a NaN-only window gives its first element
  long best = -1;
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isnan(v[i]) && (best < 0 || v[i] > v[size_t(best)]))
      best = long(i);
  return best < 0 ? 0 : size_t(best);
}

// Calls f(nc, outPos, window) for every output element, in row-major order of the output.
template <class F> void forEachOutput(const PoolParams &p, const std::vector<int64_t> &inDims, F &&f) {
  std::vector<int64_t> out = poolOutputDims(p, inDims);
  std::vector<int64_t> in(inDims.begin() + 2, inDims.end()), osp(out.begin() + 2, out.end());
  int64_t outPlane = 1;
  for (auto o : osp)
    outPlane *= o;
  for (int64_t nc = 0; nc < inDims[0] * inDims[1]; ++nc)
    for (int64_t q = 0; q < outPlane; ++q) {
      std::vector<int64_t> o(osp.size());
      int64_t r = q;
      for (size_t i = osp.size(); i-- > 0;) {
        o[i] = r % osp[i];
        r /= osp[i];
      }
      f(nc, nc * outPlane + q, window(p, in, o));
    }
}

int64_t plane(const std::vector<int64_t> &inDims) {
  int64_t s = 1;
  for (size_t i = 2; i < inDims.size(); ++i)
    s *= inDims[i];
  return s;
}

} // namespace

std::vector<int64_t> poolOutputDims(const PoolParams &p, const std::vector<int64_t> &inDims) {
  std::vector<int64_t> out = {inDims[0], inDims[1]};
  for (int i = 0; i < p.spatialDims; ++i)
    out.push_back(outSize(p, i, inDims[size_t(2 + i)]));
  return out;
}

std::vector<double> poolForward(const PoolParams &p, const std::vector<int64_t> &inDims, const std::vector<double> &x) {
  const int64_t P = plane(inDims);
  std::vector<double> y;
  forEachOutput(p, inDims, [&](int64_t nc, int64_t, const Window &w) {
    std::vector<double> v;
    for (int64_t e : w.elems)
      v.push_back(x[size_t(nc * P + e)]);
    if (p.mode == 0) {
      y.push_back(v.empty() ? 0.0 : v[argmax(p, v)]);
    } else {
      double s = 0;
      for (double e : v)
        s += e;
      y.push_back(s / double(w.divisor));
    }
  });
  return y;
}

std::vector<double> poolBackward(const PoolParams &p, const std::vector<int64_t> &inDims, const std::vector<double> &x,
                                 const std::vector<double> &dy) {
  const int64_t P = plane(inDims);
  std::vector<double> dx(x.size(), 0.0);
  forEachOutput(p, inDims, [&](int64_t nc, int64_t oi, const Window &w) {
    if (w.elems.empty())
      return;
    double d = dy[size_t(oi)];
    if (p.mode == 0) {
      std::vector<double> v;
      for (int64_t e : w.elems)
        v.push_back(x[size_t(nc * P + e)]);
      dx[size_t(nc * P + w.elems[argmax(p, v)])] += d;
    } else {
      for (int64_t e : w.elems)
        dx[size_t(nc * P + e)] += d / double(w.divisor);
    }
  });
  return dx;
}

} // namespace ref
