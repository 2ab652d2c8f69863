// fp64 reference for LRN over a row-major N x C x spatial... tensor.
#pragma once

#include <cstdint>
#include <vector>

namespace ref {

struct LrnParams {
  int n = 5;
  double alpha = 1e-4, beta = 0.75, k = 2.0;
  bool withinChannel = false; // else across channels; within channel needs N x C x H x W
};

std::vector<double> lrnForward(const LrnParams &p, const std::vector<int64_t> &dims, const std::vector<double> &x);
// Gradient w.r.t. x of sum(dy * lrn(x)), by the chain rule written out term by term.
std::vector<double> lrnBackward(const LrnParams &p, const std::vector<int64_t> &dims, const std::vector<double> &x,
                                const std::vector<double> &dy);

} // namespace ref
