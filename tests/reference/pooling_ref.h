// fp64 reference for pooling over a row-major N x C x spatial (1..3 dims) tensor.
#pragma once

#include <cstdint>
#include <vector>

namespace ref {

struct PoolParams {
  int mode = 0; // 0 max, 1 average including padding, 2 average excluding padding
  bool nanPropagate = false;
  int spatialDims = 2;
  int64_t window[3] = {1, 1, 1}, pad[3] = {}, stride[3] = {1, 1, 1};
  bool ceilMode = false;
};

// Output dims N, C, out... (Caffe's ceil rule when ceilMode).
std::vector<int64_t> poolOutputDims(const PoolParams &p, const std::vector<int64_t> &inDims);
std::vector<double> poolForward(const PoolParams &p, const std::vector<int64_t> &inDims, const std::vector<double> &x);
// Gradient w.r.t. x of sum(dy * pool(x)).
std::vector<double> poolBackward(const PoolParams &p, const std::vector<int64_t> &inDims, const std::vector<double> &x,
                                 const std::vector<double> &dy);

} // namespace ref
