// wgmma.mma_async wrappers (sm_90a): D[64 x N] (fp32) += A[64 x 16] * B[16 x N]^T (TF32: k8), both operands read
// from shared memory through matrix descriptors (K-major, or MN-major with TRANS_A / TRANS_B), for N = 64, 128, 256 and
// half / bfloat16 inputs (scale-d from a register: 0 overwrites the accumulators). Accumulator layout (per thread of
// the warpgroup, warp w, lane l): d[4 j + 2 e + i] is row 16 w + l / 4 + 8 e, column 8 j + 2 (l % 4) + i. One wrapper
// per shape and type because inline PTX needs literal operand lists (the LAMINA_WGMMA_* macros spell them).
#pragma once

#include <cuda_bf16.h>

#include <cstdint>
#include <type_traits>

namespace lamina::cuda::tc {

// The accumulator operands of one wgmma: "{%0,...,%M-1}" for the instruction text and the matching
// read-write outputs d[0] .. d[M-1] (M = N / 2 floats per thread), for M = 32, 64 and 128.
#define LAMINA_WGMMA_REGS32                                                                                            \
  "{%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%"   \
  "30,%31}"
#define LAMINA_WGMMA_REGS64                                                                                            \
  "{%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%"   \
  "30,%31,%32,%33,%34,%35,%36,%37,%38,%39,%40,%41,%42,%43,%44,%45,%46,%47,%48,%49,%50,%51,%52,%53,%54,%55,%56,%57,%"   \
  "58,%59,%60,%61,%62,%63}"
#define LAMINA_WGMMA_REGS128                                                                                           \
  "{%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%"   \
  "30,%31,%32,%33,%34,%35,%36,%37,%38,%39,%40,%41,%42,%43,%44,%45,%46,%47,%48,%49,%50,%51,%52,%53,%54,%55,%56,%57,%"   \
  "58,%59,%60,%61,%62,%63,%64,%65,%66,%67,%68,%69,%70,%71,%72,%73,%74,%75,%76,%77,%78,%79,%80,%81,%82,%83,%84,%85,%"   \
  "86,%87,%88,%89,%90,%91,%92,%93,%94,%95,%96,%97,%98,%99,%100,%101,%102,%103,%104,%105,%106,%107,%108,%109,%110,%"    \
  "111,%112,%113,%114,%115,%116,%117,%118,%119,%120,%121,%122,%123,%124,%125,%126,%127}"
#define LAMINA_WGMMA_D8(d, i)                                                                                          \
  "+f"(d[(i)]), "+f"(d[(i) + 1]), "+f"(d[(i) + 2]), "+f"(d[(i) + 3]), "+f"(d[(i) + 4]), "+f"(d[(i) + 5]),              \
      "+f"(d[(i) + 6]), "+f"(d[(i) + 7])
#define LAMINA_WGMMA_D32(d, i)                                                                                         \
  LAMINA_WGMMA_D8(d, i), LAMINA_WGMMA_D8(d, (i) + 8), LAMINA_WGMMA_D8(d, (i) + 16), LAMINA_WGMMA_D8(d, (i) + 24)
#define LAMINA_WGMMA_OUT32(d) LAMINA_WGMMA_D32(d, 0)
#define LAMINA_WGMMA_OUT64(d) LAMINA_WGMMA_D32(d, 0), LAMINA_WGMMA_D32(d, 32)
#define LAMINA_WGMMA_OUT128(d)                                                                                         \
  LAMINA_WGMMA_D32(d, 0), LAMINA_WGMMA_D32(d, 32), LAMINA_WGMMA_D32(d, 64), LAMINA_WGMMA_D32(d, 96)

template <int TRANS_A, int TRANS_B>
__device__ __forceinline__ void wgmma64_f16(float (&d)[32], uint64_t descA, uint64_t descB, int scaleD) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 " LAMINA_WGMMA_REGS32
               ", %32, %33, p, 1, 1, %36, %35;\n}\n"
               : LAMINA_WGMMA_OUT32(d)
               : "l"(descA), "l"(descB), "r"(scaleD), "n"(TRANS_B), "n"(TRANS_A));
}

template <int TRANS_A, int TRANS_B>
__device__ __forceinline__ void wgmma64_bf16(float (&d)[32], uint64_t descA, uint64_t descB, int scaleD) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 " LAMINA_WGMMA_REGS32
               ", %32, %33, p, 1, 1, %36, %35;\n}\n"
               : LAMINA_WGMMA_OUT32(d)
               : "l"(descA), "l"(descB), "r"(scaleD), "n"(TRANS_B), "n"(TRANS_A));
}

template <int TRANS_A, int TRANS_B>
__device__ __forceinline__ void wgmma128_f16(float (&d)[64], uint64_t descA, uint64_t descB, int scaleD) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 " LAMINA_WGMMA_REGS64
               ", %64, %65, p, 1, 1, %68, %67;\n}\n"
               : LAMINA_WGMMA_OUT64(d)
               : "l"(descA), "l"(descB), "r"(scaleD), "n"(TRANS_B), "n"(TRANS_A));
}

template <int TRANS_A, int TRANS_B>
__device__ __forceinline__ void wgmma128_bf16(float (&d)[64], uint64_t descA, uint64_t descB, int scaleD) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 " LAMINA_WGMMA_REGS64
               ", %64, %65, p, 1, 1, %68, %67;\n}\n"
               : LAMINA_WGMMA_OUT64(d)
               : "l"(descA), "l"(descB), "r"(scaleD), "n"(TRANS_B), "n"(TRANS_A));
}

template <int TRANS_A, int TRANS_B>
__device__ __forceinline__ void wgmma256_f16(float (&d)[128], uint64_t descA, uint64_t descB, int scaleD) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n256k16.f32.f16.f16 " LAMINA_WGMMA_REGS128
               ", %128, %129, p, 1, 1, %132, %131;\n}\n"
               : LAMINA_WGMMA_OUT128(d)
               : "l"(descA), "l"(descB), "r"(scaleD), "n"(TRANS_B), "n"(TRANS_A));
}

template <int TRANS_A, int TRANS_B>
__device__ __forceinline__ void wgmma256_bf16(float (&d)[128], uint64_t descA, uint64_t descB, int scaleD) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 " LAMINA_WGMMA_REGS128
               ", %128, %129, p, 1, 1, %132, %131;\n}\n"
               : LAMINA_WGMMA_OUT128(d)
               : "l"(descA), "l"(descB), "r"(scaleD), "n"(TRANS_B), "n"(TRANS_A));
}

// TF32 (float data, 10 mantissa bits read, the rest ignored): m64nNk8, both operands K-major (wgmma
// has no transposed form for 32-bit types). A k8 step is 32 bytes of a row, as half's k16.
__device__ __forceinline__ void wgmma64_tf32(float (&d)[32], uint64_t descA, uint64_t descB, int scaleD) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n64k8.f32.tf32.tf32 " LAMINA_WGMMA_REGS32 ", %32, %33, p, 1, 1;\n}\n"
               : LAMINA_WGMMA_OUT32(d)
               : "l"(descA), "l"(descB), "r"(scaleD));
}

__device__ __forceinline__ void wgmma128_tf32(float (&d)[64], uint64_t descA, uint64_t descB, int scaleD) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n128k8.f32.tf32.tf32 " LAMINA_WGMMA_REGS64 ", %64, %65, p, 1, 1;\n}\n"
               : LAMINA_WGMMA_OUT64(d)
               : "l"(descA), "l"(descB), "r"(scaleD));
}

__device__ __forceinline__ void wgmma256_tf32(float (&d)[128], uint64_t descA, uint64_t descB, int scaleD) {
  asm volatile("{\n.reg .pred p;\nsetp.ne.b32 p, %130, 0;\n"
               "wgmma.mma_async.sync.aligned.m64n256k8.f32.tf32.tf32 " LAMINA_WGMMA_REGS128
               ", %128, %129, p, 1, 1;\n}\n"
               : LAMINA_WGMMA_OUT128(d)
               : "l"(descA), "l"(descB), "r"(scaleD));
}

// TRANS_B / TRANS_A: B / A is MN-major in shared memory (its columns / rows contiguous; 16-bit types
// only).
// scaleD = 0: D = A * B (the accumulators' old values are ignored), else D += A * B.
template <int N, bool BF16, int TRANS_B = 0, int TRANS_A = 0>
__device__ __forceinline__ void wgmmaK16(float (&d)[N / 2], uint64_t a, uint64_t b, int scaleD = 1) {
  if constexpr (N == 64)
    BF16 ? wgmma64_bf16<TRANS_A, TRANS_B>(d, a, b, scaleD) : wgmma64_f16<TRANS_A, TRANS_B>(d, a, b, scaleD);
  else if constexpr (N == 128)
    BF16 ? wgmma128_bf16<TRANS_A, TRANS_B>(d, a, b, scaleD) : wgmma128_f16<TRANS_A, TRANS_B>(d, a, b, scaleD);
  else
    BF16 ? wgmma256_bf16<TRANS_A, TRANS_B>(d, a, b, scaleD) : wgmma256_f16<TRANS_A, TRANS_B>(d, a, b, scaleD);
}

// One 32-byte reduction step for storage type T: k16 of half / bfloat16, k8 of float as TF32.
template <class T, int N, int TRANS_B = 0, int TRANS_A = 0>
__device__ __forceinline__ void wgmmaStep(float (&d)[N / 2], uint64_t a, uint64_t b, int scaleD = 1) {
  if constexpr (sizeof(T) == 4) {
    static_assert(TRANS_A == 0 && TRANS_B == 0, "TF32 wgmma reads K-major operands only");
    if constexpr (N == 64)
      wgmma64_tf32(d, a, b, scaleD);
    else if constexpr (N == 128)
      wgmma128_tf32(d, a, b, scaleD);
    else
      wgmma256_tf32(d, a, b, scaleD);
  } else {
    wgmmaK16<N, std::is_same_v<T, __nv_bfloat16>, TRANS_B, TRANS_A>(d, a, b, scaleD);
  }
}

__device__ __forceinline__ void wgmmaFence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmmaCommit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int N> __device__ __forceinline__ void wgmmaWait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
// Shared-memory matrix descriptor of a K-major tile with 64-byte rows in the 64B swizzle (8-row
// groups 512 bytes apart); the leading byte offset is unused for swizzled K-major tiles.
__device__ __forceinline__ uint64_t smemDesc64B(uint32_t addr) {
  return uint64_t((addr & 0x3FFFF) >> 4) | (uint64_t(1) << 16) | (uint64_t(512 >> 4) << 32) | (uint64_t(2) << 62);
}
// Shared-memory matrix descriptor of a K-major tile with 128-byte rows in the 128B swizzle (8-row groups
// 1024 bytes apart).
__device__ __forceinline__ uint64_t smemDesc128B(uint32_t addr) {
  return uint64_t((addr & 0x3FFFF) >> 4) | (uint64_t(1) << 16) | (uint64_t(1024 >> 4) << 32) | (uint64_t(1) << 62);
}
// K-major descriptor for rows of ROW_BYTES (64: 64B swizzle, 128: 128B swizzle).
template <int ROW_BYTES> __device__ __forceinline__ uint64_t smemDescK(uint32_t addr) {
  static_assert(ROW_BYTES == 64 || ROW_BYTES == 128, "64B or 128B swizzle");
  if constexpr (ROW_BYTES == 64)
    return smemDesc64B(addr);
  else
    return smemDesc128B(addr);
}
// Descriptor of an MN-major tile in the 128B swizzle: 64 columns (128 bytes) per row of the
// reduction, rows 128 bytes apart, 8-row groups SBO bytes apart, 64-column blocks LBO bytes apart
// (CUTLASS's canonical ((8,8,m),(8,k)):((1,8,LBO),(64,SBO)) layout in 16-bit elements).
__device__ __forceinline__ uint64_t smemDescMn128B(uint32_t addr, uint32_t lbo, uint32_t sbo) {
  return uint64_t((addr & 0x3FFFF) >> 4) | (uint64_t(lbo >> 4) << 16) | (uint64_t(sbo >> 4) << 32) |
         (uint64_t(1) << 62);
}

} // namespace lamina::cuda::tc
