// Teams of threads that each own one work item (a softmax row, a batch-norm parameter) and reduce
// over it: one thread, one warp, or one block. Reductions run in a fixed order, so results do not
// depend on timing, and every thread of a team gets the same result.
#pragma once

#include <cstdint>

namespace lamina::cuda {

constexpr int kWarp = 32;
// Team kinds: one thread, one warp, or the whole block (blockDim.x a multiple of 32, <= 1024).
constexpr int kTeamThread = 1, kTeamWarp = 32, kTeamBlock = 0;

// The CPU's std::max(m, v): keeps m unless m < v.
template <class A> struct MaxOp {
  __device__ __forceinline__ A operator()(A m, A v) const { return m < v ? v : m; }
};
template <class A> struct SumOp {
  __device__ __forceinline__ A operator()(A a, A b) const { return a + b; }
};

// Reduction over the team; every thread of the team must call it (uniform control flow per team).
// Warp part: xor butterfly (each step combines the same two values on both lanes, and + and max are
// commutative, so all lanes agree bit for bit). Block part: one partial per warp in shared memory,
// combined by every thread in warp order.
template <int kTeam, class A, class Op> __device__ __forceinline__ A teamReduce(A v, Op op) {
  if constexpr (kTeam == kTeamThread) {
    return v;
  } else {
    for (int o = kWarp / 2; o > 0; o /= 2)
      v = op(v, __shfl_xor_sync(0xffffffffu, v, o));
    if constexpr (kTeam == kTeamWarp) {
      return v;
    } else {
      __shared__ A part[32]; // one per warp
      const int warp = threadIdx.x / kWarp, nWarps = (blockDim.x + kWarp - 1) / kWarp;
      __syncthreads(); // every thread is done reading `part` from the previous reduction
      if (threadIdx.x % kWarp == 0)
        part[warp] = v;
      __syncthreads();
      A r = part[0];
      for (int w = 1; w < nWarps; ++w)
        r = op(r, part[w]);
      return r;
    }
  }
}

// Team geometry: the first item of this thread's team, the number of teams (the item stride), the
// thread's rank in its team and the team size.
template <int kTeam> struct Team {
  int64_t first, count;
  int rank, size;
  __device__ __forceinline__ Team() {
    if constexpr (kTeam == kTeamBlock) {
      first = blockIdx.x;
      count = gridDim.x;
      rank = threadIdx.x;
      size = blockDim.x;
    } else {
      const int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
      first = t / kTeam;
      count = int64_t(gridDim.x) * blockDim.x / kTeam;
      rank = int(t % kTeam);
      size = kTeam;
    }
  }
};

// Blocks for `items` team items of kind `team` at kBlock-thread blocks (grid-stride beyond the cap).
inline unsigned gridForTeams(int team, int64_t items, int block) {
  int64_t threads = team == kTeamBlock ? items * block : items * team;
  int64_t g = (threads + block - 1) / block;
  return unsigned(g < 1 ? 1 : g > 65536 ? 65536 : g);
}

} // namespace lamina::cuda
