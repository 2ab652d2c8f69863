// fp64 reference for softmax over a row-major N x C x spatial... tensor.
#pragma once

#include <cstdint>
#include <vector>

namespace ref {

// algo: 0 fast, 1 accurate, 2 log; channelMode: over C per (n, position), else over C*spatial per n.
std::vector<double> softmaxForward(int algo, bool channelMode, const std::vector<int64_t> &dims,
                                   const std::vector<double> &x);
std::vector<double> softmaxBackward(int algo, bool channelMode, const std::vector<int64_t> &dims,
                                    const std::vector<double> &y, const std::vector<double> &dy);

} // namespace ref
