#include "reference/softmax_ref.h"

#include <cmath>

namespace ref {

namespace {
// Lists the element indices of every softmax group.
std::vector<std::vector<int64_t>> groups(bool channelMode, const std::vector<int64_t> &dims) {
  int64_t N = dims[0], C = dims[1], S = 1;
  for (size_t i = 2; i < dims.size(); ++i)
    S *= dims[i];
  std::vector<std::vector<int64_t>> g;
  for (int64_t n = 0; n < N; ++n) {
    if (channelMode) {
      for (int64_t s = 0; s < S; ++s) {
        std::vector<int64_t> idx;
        for (int64_t c = 0; c < C; ++c)
          idx.push_back((n * C + c) * S + s);
        g.push_back(idx);
      }
    } else {
      std::vector<int64_t> idx;
      for (int64_t i = 0; i < C * S; ++i)
        idx.push_back(n * C * S + i);
      g.push_back(idx);
    }
  }
  return g;
}
} // namespace

std::vector<double> softmaxForward(int algo, bool channelMode, const std::vector<int64_t> &dims,
                                   const std::vector<double> &x) {
  std::vector<double> y(x.size());
  for (const auto &idx : groups(channelMode, dims)) {
    double m = -INFINITY;
    for (int64_t i : idx)
      m = std::fmax(m, x[size_t(i)]);
    double sum = 0;
    for (int64_t i : idx)
      sum += std::exp(x[size_t(i)] - m);
    for (int64_t i : idx) {
      if (algo == 2)
        y[size_t(i)] = x[size_t(i)] - m - std::log(sum);
      else
        y[size_t(i)] = std::exp(x[size_t(i)] - m) / sum;
    }
  }
  return y;
}

std::vector<double> softmaxBackward(int algo, bool channelMode, const std::vector<int64_t> &dims,
                                    const std::vector<double> &y, const std::vector<double> &dy) {
  std::vector<double> dx(y.size());
  for (const auto &idx : groups(channelMode, dims)) {
    double s = 0;
    for (int64_t i : idx)
      s += algo == 2 ? dy[size_t(i)] : dy[size_t(i)] * y[size_t(i)];
    for (int64_t i : idx) {
      size_t k = size_t(i);
      dx[k] = algo == 2 ? dy[k] - std::exp(y[k]) * s : y[k] * (dy[k] - s);
    }
  }
  return dx;
}

} // namespace ref
