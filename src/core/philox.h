// Philox-4x32-10 counter-based generator (Salmon et al., "Parallel random numbers: as easy as 1, 2,
// 3", SC'11). Header-only and free of host-only calls so CUDA code can include it: the dropout mask
// must be the same function of (seed, call, element) on every backend.
#pragma once

#include <stdint.h>

#ifdef __CUDACC__
#define LAMINA_HOST_DEVICE __host__ __device__
#else
#define LAMINA_HOST_DEVICE
#endif

namespace lamina {

struct Philox4x32 {
  uint32_t v[4];
};

LAMINA_HOST_DEVICE inline void philoxMulHiLo(uint32_t a, uint32_t b, uint32_t *hi, uint32_t *lo) {
  uint64_t p = uint64_t(a) * uint64_t(b);
  *hi = uint32_t(p >> 32);
  *lo = uint32_t(p);
}

// Ten rounds of Philox-4x32 on counter c with key (k0, k1).
LAMINA_HOST_DEVICE inline Philox4x32 philox4x32_10(Philox4x32 c, uint32_t k0, uint32_t k1) {
  for (int r = 0; r < 10; ++r) {
    uint32_t hi0, lo0, hi1, lo1;
    philoxMulHiLo(0xD2511F53u, c.v[0], &hi0, &lo0);
    philoxMulHiLo(0xCD9E8D57u, c.v[2], &hi1, &lo1);
    Philox4x32 n;
    n.v[0] = hi1 ^ c.v[1] ^ k0;
    n.v[1] = lo1;
    n.v[2] = hi0 ^ c.v[3] ^ k1;
    n.v[3] = lo0;
    c = n;
    k0 += 0x9E3779B9u; // key schedule (Weyl sequence)
    k1 += 0xBB67AE85u;
  }
  return c;
}

// Random words of elements 4*block .. 4*block+3 in dropout call `call` with `seed`: counter
// (block low, block high, call low, call high), key (seed low, seed high).
LAMINA_HOST_DEVICE inline Philox4x32 dropoutBlock(uint64_t seed, uint64_t call, uint64_t block) {
  Philox4x32 c = {{uint32_t(block), uint32_t(block >> 32), uint32_t(call), uint32_t(call >> 32)}};
  return philox4x32_10(c, uint32_t(seed), uint32_t(seed >> 32));
}

// The 32 random bits of element i: word i%4 of block i/4.
LAMINA_HOST_DEVICE inline uint32_t dropoutBits(uint64_t seed, uint64_t call, uint64_t i) {
  return dropoutBlock(seed, call, i >> 2).v[i & 3];
}

// Kept when u = bits * 2^-32 (uniform in [0, 1)) is >= dropout; compared exactly in double.
LAMINA_HOST_DEVICE inline bool dropoutKeep(uint32_t bits, float dropout) {
  return double(bits) * (1.0 / 4294967296.0) >= double(dropout);
}

} // namespace lamina
