#include "reference/conv_ref.h"

#include <cstddef>

namespace lt::ref {
using std::size_t;

int64_t ConvSpec::outSize(int d) const {
  if (d >= spatialDims)
    return 1;
  return (in[d] + 2 * pad[d] - dil[d] * (filt[d] - 1) - 1) / stride[d] + 1;
}
std::vector<int64_t> ConvSpec::xDims() const {
  std::vector<int64_t> v = {N, C};
  for (int d = 0; d < spatialDims; ++d)
    v.push_back(in[d]);
  return v;
}
std::vector<int64_t> ConvSpec::wDims() const {
  std::vector<int64_t> v = {K, C / G};
  for (int d = 0; d < spatialDims; ++d)
    v.push_back(filt[d]);
  return v;
}
std::vector<int64_t> ConvSpec::yDims() const {
  std::vector<int64_t> v = {N, K};
  for (int d = 0; d < spatialDims; ++d)
    v.push_back(outSize(d));
  return v;
}

namespace {
// Visits every (n, k, output position, c, tap) whose input position is inside x, calling
// f(yIndex, xIndex, wIndex) with row-major logical indices. Unused spatial dims have size 1.
template <class F> void forEachTerm(const ConvSpec &s, F f) {
  int64_t out[3] = {s.outSize(0), s.outSize(1), s.outSize(2)};
  int64_t in[3], filt[3], pad[3], str[3], dil[3];
  for (int d = 0; d < 3; ++d) {
    bool used = d < s.spatialDims;
    in[d] = used ? s.in[d] : 1;
    filt[d] = used ? s.filt[d] : 1;
    pad[d] = used ? s.pad[d] : 0;
    str[d] = used ? s.stride[d] : 1;
    dil[d] = used ? s.dil[d] : 1;
  }
  int64_t Cg = s.C / s.G, Kg = s.K / s.G;
  for (int64_t n = 0; n < s.N; ++n)
    for (int64_t k = 0; k < s.K; ++k) {
      int64_t g = k / Kg;
      for (int64_t a = 0; a < out[0]; ++a)
        for (int64_t b = 0; b < out[1]; ++b)
          for (int64_t c3 = 0; c3 < out[2]; ++c3) {
            int64_t yi = (((n * s.K + k) * out[0] + a) * out[1] + b) * out[2] + c3;
            for (int64_t c = 0; c < Cg; ++c)
              for (int64_t t = 0; t < filt[0]; ++t)
                for (int64_t r = 0; r < filt[1]; ++r)
                  for (int64_t q = 0; q < filt[2]; ++q) {
                    int64_t i0 = a * str[0] - pad[0] + t * dil[0];
                    int64_t i1 = b * str[1] - pad[1] + r * dil[1];
                    int64_t i2 = c3 * str[2] - pad[2] + q * dil[2];
                    if (i0 < 0 || i0 >= in[0] || i1 < 0 || i1 >= in[1] || i2 < 0 || i2 >= in[2])
                      continue;
                    int64_t xi = (((n * s.C + g * Cg + c) * in[0] + i0) * in[1] + i1) * in[2] + i2;
                    // Convolution mode reads the filter mirrored in every spatial dim.
                    int64_t tt = s.convolutionMode ? filt[0] - 1 - t : t;
                    int64_t rr = s.convolutionMode ? filt[1] - 1 - r : r;
                    int64_t qq = s.convolutionMode ? filt[2] - 1 - q : q;
                    int64_t wi = (((k * Cg + c) * filt[0] + tt) * filt[1] + rr) * filt[2] + qq;
                    f(yi, xi, wi);
                  }
          }
    }
}
int64_t count(const std::vector<int64_t> &d) {
  int64_t p = 1;
  for (int64_t v : d)
    p *= v;
  return p;
}
} // namespace

std::vector<double> convForward(const ConvSpec &s, const std::vector<double> &x, const std::vector<double> &w) {
  std::vector<double> y(size_t(count(s.yDims())), 0.0);
  forEachTerm(s, [&](int64_t yi, int64_t xi, int64_t wi) { y[size_t(yi)] += x[size_t(xi)] * w[size_t(wi)]; });
  return y;
}

std::vector<double> convBackwardData(const ConvSpec &s, const std::vector<double> &dy, const std::vector<double> &w) {
  std::vector<double> dx(size_t(count(s.xDims())), 0.0);
  forEachTerm(s, [&](int64_t yi, int64_t xi, int64_t wi) { dx[size_t(xi)] += dy[size_t(yi)] * w[size_t(wi)]; });
  return dx;
}

std::vector<double> convBackwardFilter(const ConvSpec &s, const std::vector<double> &x, const std::vector<double> &dy) {
  std::vector<double> dw(size_t(count(s.wDims())), 0.0);
  forEachTerm(s, [&](int64_t yi, int64_t xi, int64_t wi) { dw[size_t(wi)] += dy[size_t(yi)] * x[size_t(xi)]; });
  return dw;
}

std::vector<double> convBackwardBias(const std::vector<int64_t> &dims, const std::vector<double> &dy) {
  int64_t C = dims[1], inner = 1;
  for (size_t i = 2; i < dims.size(); ++i)
    inner *= dims[i];
  std::vector<double> db(size_t(C), 0.0);
  for (int64_t n = 0; n < dims[0]; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < inner; ++i)
        db[size_t(c)] += dy[size_t((n * C + c) * inner + i)];
  return db;
}

} // namespace lt::ref
