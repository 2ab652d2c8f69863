#include "reference/batchnorm_ref.h"

#include <cmath>

namespace ref {

namespace {
// Parameter index of element i.
size_t paramOf(bool spatial, const std::vector<int64_t> &dims, size_t i) {
  int64_t S = 1;
  for (size_t d = 2; d < dims.size(); ++d)
    S *= dims[d];
  int64_t within = int64_t(i) % (dims[1] * S); // c * S + s
  return size_t(spatial ? within / S : within);
}
size_t paramCount(bool spatial, const std::vector<int64_t> &dims) {
  int64_t S = 1;
  for (size_t d = 2; d < dims.size(); ++d)
    S *= dims[d];
  return size_t(spatial ? dims[1] : dims[1] * S);
}
} // namespace

BNStats bnStats(bool spatial, const std::vector<int64_t> &dims, const std::vector<double> &x, double eps) {
  size_t P = paramCount(spatial, dims);
  BNStats s;
  s.mean.assign(P, 0);
  s.var.assign(P, 0);
  s.invStd.assign(P, 0);
  std::vector<double> cnt(P, 0);
  for (size_t i = 0; i < x.size(); ++i) {
    size_t p = paramOf(spatial, dims, i);
    s.mean[p] += x[i];
    cnt[p] += 1;
  }
  for (size_t p = 0; p < P; ++p)
    s.mean[p] /= cnt[p];
  for (size_t i = 0; i < x.size(); ++i) {
    size_t p = paramOf(spatial, dims, i);
    s.var[p] += (x[i] - s.mean[p]) * (x[i] - s.mean[p]);
  }
  for (size_t p = 0; p < P; ++p) {
    s.var[p] /= cnt[p];
    s.invStd[p] = 1.0 / std::sqrt(s.var[p] + eps);
  }
  return s;
}

std::vector<double> bnApply(bool spatial, const std::vector<int64_t> &dims, const std::vector<double> &x,
                            const std::vector<double> &scale, const std::vector<double> &bias,
                            const std::vector<double> &mean, const std::vector<double> &invStd) {
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    size_t p = paramOf(spatial, dims, i);
    y[i] = scale[p] * (x[i] - mean[p]) * invStd[p] + bias[p];
  }
  return y;
}

void bnBackward(bool spatial, const std::vector<int64_t> &dims, const std::vector<double> &x,
                const std::vector<double> &dy, const std::vector<double> &scale, double eps, std::vector<double> &dx,
                std::vector<double> &dScale, std::vector<double> &dBias) {
  BNStats s = bnStats(spatial, dims, x, eps);
  size_t P = paramCount(spatial, dims);
  double M = double(x.size()) / double(P);
  dScale.assign(P, 0);
  dBias.assign(P, 0);
  for (size_t i = 0; i < x.size(); ++i) {
    size_t p = paramOf(spatial, dims, i);
    dBias[p] += dy[i];
    dScale[p] += dy[i] * (x[i] - s.mean[p]) * s.invStd[p];
  }
  dx.resize(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    size_t p = paramOf(spatial, dims, i);
    double xhat = (x[i] - s.mean[p]) * s.invStd[p];
    dx[i] = scale[p] * s.invStd[p] / M * (M * dy[i] - dBias[p] - xhat * dScale[p]);
  }
}

} // namespace ref
