// Dropout reference: an independent Philox-4x32-10 and the documented mask rule.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ref {

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key);

// Mask of forward call `call` (0 for the first after laminaSetDropoutDescriptor) over n elements:
// bits of element i = word i%4 of Philox(counter {i/4 lo, i/4 hi, call lo, call hi}, key {seed lo,
// seed hi}); kept (1) when bits / 2^32 >= dropout.
std::vector<uint8_t> dropoutMask(uint64_t seed, uint64_t call, int64_t n, float dropout);

} // namespace ref
