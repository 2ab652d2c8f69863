#include "reference/dropout_ref.h"

namespace ref {

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> x, std::array<uint32_t, 2> k) {
  const uint64_t M0 = 0xD2511F53, M1 = 0xCD9E8D57;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k[0] += 0x9E3779B9;
      k[1] += 0xBB67AE85;
    }
    uint64_t p0 = M0 * x[0], p1 = M1 * x[2];
    x = {uint32_t(p1 >> 32) ^ x[1] ^ k[0], uint32_t(p1), uint32_t(p0 >> 32) ^ x[3] ^ k[1], uint32_t(p0)};
  }
  return x;
}

std::vector<uint8_t> dropoutMask(uint64_t seed, uint64_t call, int64_t n, float dropout) {
  std::vector<uint8_t> m(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    uint64_t blk = uint64_t(i) / 4;
    auto r = philox4x32_10({uint32_t(blk), uint32_t(blk >> 32), uint32_t(call), uint32_t(call >> 32)},
                           {uint32_t(seed), uint32_t(seed >> 32)});
    double u = double(r[size_t(i % 4)]) / 4294967296.0;
    m[size_t(i)] = u >= double(dropout) ? 1 : 0;
  }
  return m;
}

} // namespace ref
