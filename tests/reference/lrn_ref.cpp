#include "reference/lrn_ref.h"

#include <cmath>

namespace ref {

namespace {

// The window of element i: the element indices whose squares enter its scale.
std::vector<int64_t> neighbours(const LrnParams &p, const std::vector<int64_t> &dims, int64_t i) {
  int64_t C = dims[1], S = 1;
  for (size_t d = 2; d < dims.size(); ++d)
    S *= dims[d];
  int64_t n = i / (C * S), c = (i / S) % C, s = i % S, r = p.n / 2;
  std::vector<int64_t> out;
  if (!p.withinChannel) {
    for (int64_t cc = c - r; cc <= c + r; ++cc)
      if (cc >= 0 && cc < C)
        out.push_back((n * C + cc) * S + s);
  } else {
    int64_t H = dims[2], W = dims[3], h = s / W, w = s % W;
    for (int64_t hh = h - r; hh <= h + r; ++hh)
      for (int64_t ww = w - r; ww <= w + r; ++ww)
        if (hh >= 0 && hh < H && ww >= 0 && ww < W)
          out.push_back((n * C + c) * S + hh * W + ww);
  }
  return out;
}

double coefficient(const LrnParams &p) { return p.withinChannel ? p.alpha / (p.n * p.n) : p.alpha / p.n; }

std::vector<double> scales(const LrnParams &p, const std::vector<int64_t> &dims, const std::vector<double> &x) {
  std::vector<double> sc(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    double sum = 0;
    for (int64_t j : neighbours(p, dims, int64_t(i)))
      sum += x[size_t(j)] * x[size_t(j)];
    sc[i] = p.k + coefficient(p) * sum;
  }
  return sc;
}

} // namespace

std::vector<double> lrnForward(const LrnParams &p, const std::vector<int64_t> &dims, const std::vector<double> &x) {
  std::vector<double> sc = scales(p, dims, x), y(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    y[i] = x[i] * std::pow(sc[i], -p.beta);
  return y;
}

std::vector<double> lrnBackward(const LrnParams &p, const std::vector<int64_t> &dims, const std::vector<double> &x,
                                const std::vector<double> &dy) {
  // y_i = x_i * s_i^-b with s_i = k + a' * sum_{j in W(i)} x_j^2, so
  // dy_i/dx_j = [i == j] s_i^-b - b * x_i * s_i^(-b-1) * a' * 2 x_j  for j in W(i).
  std::vector<double> sc = scales(p, dims, x), dx(x.size(), 0.0);
  for (size_t i = 0; i < x.size(); ++i) {
    dx[i] += dy[i] * std::pow(sc[i], -p.beta);
    double common = dy[i] * p.beta * x[i] * std::pow(sc[i], -p.beta - 1) * coefficient(p) * 2;
    for (int64_t j : neighbours(p, dims, int64_t(i)))
      dx[size_t(j)] -= common * x[size_t(j)];
  }
  return dx;
}

} // namespace ref
