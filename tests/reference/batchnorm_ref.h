// fp64 batch-normalisation references on logical N x C x spatial... values. Parameters (scale,
// bias, statistics) are indexed by channel (spatial mode) or by c * S + s (per-activation mode).
#pragma once

#include <cstdint>
#include <vector>

namespace ref {

struct BNStats {
  std::vector<double> mean, var, invStd; // var biased; invStd = 1 / sqrt(var + eps)
};

// Batch statistics of x.
BNStats bnStats(bool spatial, const std::vector<int64_t> &dims, const std::vector<double> &x, double eps);
// y = scale * (x - mean) * invStd + bias (before alpha/beta).
std::vector<double> bnApply(bool spatial, const std::vector<int64_t> &dims, const std::vector<double> &x,
                            const std::vector<double> &scale, const std::vector<double> &bias,
                            const std::vector<double> &mean, const std::vector<double> &invStd);
// Gradients of sum(dy * y) for y = bnApply with batch statistics (before alpha/beta).
void bnBackward(bool spatial, const std::vector<int64_t> &dims, const std::vector<double> &x,
                const std::vector<double> &dy, const std::vector<double> &scale, double eps, std::vector<double> &dx,
                std::vector<double> &dScale, std::vector<double> &dBias);

} // namespace ref
