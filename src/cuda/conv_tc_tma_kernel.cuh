// The TMA convolution kernel of conv_tc_tma.cu (forward and backward-data, half / bfloat16 / TF32) and
// its epilogues; included by that file only (the host side, planning and launch, lives there).
#pragma once

#include "cuda/conv_tc_common.cuh"
#include "cuda/conv_tc_tma.cuh"

namespace lamina::cuda::tc {
namespace {

// Forward: rows = y pixels (n, P, Q), columns = K, reduction (r, s, c). Backward-data (stride 1, the
// forward of dy with the flipped filter): rows = dx pixels, columns = C, reduction (r, s, k), the source
// box of tap (r, s) at pixel - (tap * dil - pad), B read MN-major (the filter's c is contiguous).
struct TmaParams {
  // How A is read. 0: boxes of output pixels (tiled mode). Rows over the N*P*Q output pixels in BM-row
  // slices: 1, the plain [N*H*W][channels] matrix (1x1, no padding, packed pixels); 2, im2col mode.
  int flat;
  int BW, BH, NB;                 // the output box of one block (flat: BW = BM, BH = NB = 1)
  int tilesQ, tilesP;             // boxes along Q and P (flat: tilesQ = row tiles, tilesP = 1)
  int tilesN;                     // boxes along the batch
  int N, P, Q, K;                 // batch, output rows and columns, output channels (backward-data: dx's, C)
  int S, kChunks, iters;          // filter width, reduction-channel slices per tap, slices
  int str[2], base[2], tapMul[2]; // h, w: source coordinate = output * str + base + tap * tapMul
  // Im2col (h, w): the box walks source coordinates output * str + lower; tap t reads at + offBase +
  // t * tapMul (>= 0: backward-data's negative tapMul starts from the last tap, offBase).
  int lower[2], offBase[2];
  int64_t ys[4]; // output strides: n, channel, h, w
  void *y;
  float alpha, beta;
  bool vec2; // output channels contiguous, pairs aligned: 4-byte pair stores
  bool vec8; // output channels contiguous, every pixel's row 16-byte aligned: the staged epilogue
  // Clusters of 2 (neighbouring column tiles, the same A box): each CTA loads half of the A box (its
  // rows halfRows * rank ..) and multicasts it to both; halfAxis: 0 flat rows, 1 images, 2 rows of P.
  int halfRows, halfAxis;
  // Split-K: splits blocks per output tile, each over itersPerSplit slices, write fp32 partials
  // [splits][N*P*Q][K] summed in split order (deterministic): by the tile's last block to finish
  // (counters: one per output tile, zero between calls; finishSplits), else by reduceTmaSplits.
  int splits, itersPerSplit;
  float *partial;
  int *counters;
  // Work items: output tiles x splits, in the order blocks take them (the column tile fastest). A
  // persistent launch (fewer blocks than items) takes items blockIdx.x, + gridDim.x, ...: only with
  // tmaStore, since storeTile stages through the pipeline's stages, which the producer refills there.
  int items;
  // The epilogue by bulk tensor stores through the output map (flat rows, packed pixels, beta = 0):
  // the consumers convert a 64-row chunk into shared memory and go on while TMA writes it out.
  int tmaStore;
};

// The TMA-store epilogue's shared memory, after the pipeline: two 64-row x 128-byte chunks per consumer
// warpgroup (one being written out while the other is filled).
constexpr int kEpiChunkBytes = 64 * 128;
constexpr int kEpiBytes = 2 * 2 * kEpiChunkBytes;
template <class Cfg> constexpr int epiOffset() { return (Cfg::SMEM_BYTES + 1023) / 1024 * 1024; }
template <class Cfg> constexpr int tmaSmemBytes() { return epiOffset<Cfg>() + kEpiBytes; }

// The consumers' accumulators to the output box (rows) x output channels k0 .. (columns).
template <class T, class Cfg>
__device__ __forceinline__ void storeTile(const TmaParams &p, const float (&acc)[Cfg::MI][Cfg::NI][4], uint8_t *smem,
                                          int q0, int p0, int n0, int k0) {
  const uint32_t rowsA = uint32_t(p.BW * p.BH * p.NB);
  T *y = static_cast<T *>(p.y);
  const float alpha = p.alpha, beta = p.beta;
  // Output offset of block row `row` (false: outside the output).
  auto rowOffset = [&](int row, int64_t &off) {
    if (uint32_t(row) >= rowsA)
      return false;
    int n, h, w;
    if (p.flat) { // row q0 + row of the [N*P*Q] pixels
      const int64_t m = int64_t(q0) + row;
      if (m >= int64_t(p.N) * p.P * p.Q)
        return false;
      w = int(m % p.Q);
      const int64_t t = m / p.Q;
      h = int(t % p.P), n = int(t / p.P);
    } else {
      w = q0 + row % p.BW;
      const int t = row / p.BW;
      h = p0 + t % p.BH, n = n0 + t / p.BH;
      if (w >= p.Q || h >= p.P || n >= p.N)
        return false;
    }
    off = int64_t(n) * p.ys[0] + int64_t(h) * p.ys[2] + int64_t(w) * p.ys[3];
    return true;
  };

  if (p.vec8) {
    // Coalesced: each consumer warpgroup stages its 128 x BN accumulators (fp32) in the now idle
    // pipeline stages, then writes whole 16-byte chunks of output rows (16 threads per 256-byte row
    // for BN = 128) instead of scattered pairs.
    constexpr int LD = Cfg::BN + 4, ROWS = Cfg::BM / 2, CPR = Cfg::BN / 8;
    const int row0 = (threadIdx.x / kThreads - 1) * ROWS, t = threadIdx.x % kThreads;
    const float *st = stageAccumulators<Cfg, LD>(acc, smem);
    for (int i = t; i < ROWS * CPR; i += kThreads) {
      const int r = i / CPR, ch = i - r * CPR, k = k0 + 8 * ch;
      int64_t off;
      if (k >= p.K || !rowOffset(row0 + r, off))
        continue;
      T *at = y + off + k;
      const float4 a0 = *reinterpret_cast<const float4 *>(&st[r * LD + 8 * ch]);
      const float4 a1 = *reinterpret_cast<const float4 *>(&st[r * LD + 8 * ch + 4]);
      float v[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
      constexpr int CHUNKS = 8 * int(sizeof(T)) / 16; // 16-byte chunks of 8 values: 1 (16-bit), 2 (float)
      alignas(16) T o[8];
      if (beta != 0.f) {
#pragma unroll
        for (int j = 0; j < CHUNKS; ++j)
          reinterpret_cast<uint4 *>(o)[j] = reinterpret_cast<const uint4 *>(at)[j];
#pragma unroll
        for (int j = 0; j < 8; ++j)
          o[j] = fromAcc<T>(alpha * v[j] + beta * toAcc(o[j]));
      } else {
#pragma unroll
        for (int j = 0; j < 8; ++j)
          o[j] = fromAcc<T>(alpha * v[j]);
      }
#pragma unroll
      for (int j = 0; j < CHUNKS; ++j)
        reinterpret_cast<uint4 *>(at)[j] = reinterpret_cast<const uint4 *>(o)[j];
    }
    return;
  }

  if (p.ys[1] != 1) {
    // Channels not contiguous (NCHW): stage as above (scalar stores, rows BN + 1 apart against bank
    // conflicts), then each thread keeps one output row and walks the columns, so a warp writes 32
    // neighbouring pixels of one channel.
    constexpr int LD = Cfg::BN + 1, ROWS = Cfg::BM / 2, COLSTEP = kThreads / ROWS;
    static_assert(kThreads % ROWS == 0, "whole rows per consumer warpgroup");
    const int row0 = (threadIdx.x / kThreads - 1) * ROWS, t = threadIdx.x % kThreads;
    const float *st = stageAccumulators<Cfg, LD>(acc, smem);
    const int r = t % ROWS;
    int64_t off;
    if (!rowOffset(row0 + r, off))
      return;
    T *at = y + off;
    for (int c = t / ROWS; c < Cfg::BN && k0 + c < p.K; c += COLSTEP) {
      T *o = at + int64_t(k0 + c) * p.ys[1];
      const float v = alpha * st[r * LD + c];
      *o = fromAcc<T>(beta != 0.f ? v + beta * toAcc(*o) : v);
    }
    return;
  }

  int64_t rowOff = 0;
  forEachRowPair<Cfg, true>(
      acc, [&](int row) { return rowOffset(row, rowOff); },
      [&](int col, float v0, float v1) {
        const int k = k0 + col;
        if (k >= p.K)
          return;
        storeScaledPair(y + rowOff + int64_t(k) * p.ys[1], p.ys[1], k + 1 < p.K, p.vec2, p.alpha, p.beta, v0, v1);
      });
}

// The TMA-store epilogue (beta = 0): each consumer warpgroup writes alpha * acc, converted, one chunk of
// 64 rows x 128 bytes of columns at a time into shared memory in the 128B swizzle (conflict-free: a
// warp's eight rows land in eight different 16-byte columns) and one thread stores it with TMA to
// rows m0 + .., columns k0 + .. of the output map; the chunk's buffer is reused two chunks later, once
// TMA has read it. `chunk` counts this warpgroup's chunks over the block's tiles (the buffer parity).
template <class T, class Cfg>
__device__ __forceinline__ void storeTileTma(const CUtensorMap *map, const float (&acc)[Cfg::MI][Cfg::NI][4],
                                             uint32_t epi, int m0, int k0, int K, float alpha, int &chunk) {
  constexpr int COLS = 128 / int(sizeof(T)), NB = Cfg::BN / 8; // columns per chunk, n8 blocks
  const int cw = threadIdx.x / kThreads - 1, t = threadIdx.x % kThreads, warp = t >> 5, lane = t & 31;
  const uint32_t buf = epi + uint32_t(cw * 2 * kEpiChunkBytes);
  const float *a = &acc[0][0][0];
#pragma unroll
  for (int h = 0; h < Cfg::MI; ++h)
#pragma unroll
    for (int c = 0; c < Cfg::BN / COLS; ++c) {
      if (k0 + c * COLS >= K) // no column of this chunk exists
        continue;
      const uint32_t slot = buf + uint32_t((chunk & 1) * kEpiChunkBytes);
      if (t == 0)
        bulkWaitRead<1>(); // the store that last read this slot is done reading
      asm volatile("bar.sync %0, 128;\n" ::"r"(2 + cw) : "memory");
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int r = 16 * warp + (lane >> 2) + 8 * e; // row within the chunk
#pragma unroll
        for (int jj = 0; jj < COLS / 8; ++jj) {
          const int j = c * (COLS / 8) + jj, byte = (8 * jj + 2 * (lane & 3)) * int(sizeof(T));
          const float v0 = alpha * a[h * 4 * NB + 4 * j + 2 * e], v1 = alpha * a[h * 4 * NB + 4 * j + 2 * e + 1];
          const uint32_t at = slot + uint32_t(r * 128 + ((((byte >> 4) ^ (r & 7))) << 4) + (byte & 15));
          if constexpr (sizeof(T) == 2) {
            const T lo = fromAcc<T>(v0), hi = fromAcc<T>(v1);
            const uint32_t bits = uint32_t(*reinterpret_cast<const uint16_t *>(&lo)) |
                                  (uint32_t(*reinterpret_cast<const uint16_t *>(&hi)) << 16);
            asm volatile("st.shared.b32 [%0], %1;\n" ::"r"(at), "r"(bits) : "memory");
          } else {
            asm volatile("st.shared.v2.f32 [%0], {%1, %2};\n" ::"r"(at), "f"(v0), "f"(v1) : "memory");
          }
        }
      }
      asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); // visible to the TMA unit
      asm volatile("bar.sync %0, 128;\n" ::"r"(2 + cw) : "memory");
      if (t == 0) {
        tmaStore2d(map, slot, k0 + c * COLS, m0 + cw * (Cfg::BM / 2) + h * 64);
        bulkCommit();
      }
      ++chunk;
    }
}

// Output pixel (n, h, w) of block row `row` as its index in N*P*Q order; false outside the output.
__device__ __forceinline__ bool pixelOf(const TmaParams &p, int row, int q0, int p0, int n0, int64_t &m) {
  if (uint32_t(row) >= uint32_t(p.BW * p.BH * p.NB))
    return false;
  if (p.flat) {
    m = int64_t(q0) + row;
    return m < int64_t(p.N) * p.P * p.Q;
  }
  const int w = q0 + row % p.BW, t = row / p.BW, h = p0 + t % p.BH, n = n0 + t / p.BH;
  if (w >= p.Q || h >= p.P || n >= p.N)
    return false;
  m = (int64_t(n) * p.P + h) * p.Q + w;
  return true;
}

// Split-K: this block's fp32 sums into its split's slice of the partials.
template <class Cfg>
__device__ __forceinline__ void storePartials(const TmaParams &p, const float (&acc)[Cfg::MI][Cfg::NI][4], int split,
                                              int q0, int p0, int n0, int k0) {
  float *part = p.partial + int64_t(split) * p.N * p.P * p.Q * p.K;
  int64_t m = 0;
  forEachRowPair<Cfg, true>(
      acc, [&](int row) { return pixelOf(p, row, q0, p0, n0, m); },
      [&](int col, float v0, float v1) {
        const int k = k0 + col;
        if (k >= p.K)
          return;
        float *at = part + m * p.K + k;
        if (k + 1 < p.K && (p.K & 1) == 0)
          *reinterpret_cast<float2 *>(at) = make_float2(v0, v1);
        else {
          at[0] = v0;
          if (k + 1 < p.K)
            at[1] = v1;
        }
      });
}

// Output element i of the [N*P*Q][K] order: alpha * (the splits' partials summed in split order) +
// beta * out, through the output strides.
template <class T> __device__ __forceinline__ void finishElement(const TmaParams &p, int64_t total, int64_t i) {
  float s = 0.f;
  for (int k = 0; k < p.splits; ++k)
    s += __ldcg(p.partial + k * total + i); // L2: other SMs wrote them
  const int64_t m = i / p.K;
  const int k = int(i - m * p.K), w = int(m % p.Q);
  const int64_t t = m / p.Q;
  const int h = int(t % p.P), n = int(t / p.P);
  T *at =
      static_cast<T *>(p.y) + int64_t(n) * p.ys[0] + int64_t(k) * p.ys[1] + int64_t(h) * p.ys[2] + int64_t(w) * p.ys[3];
  float v = p.alpha * s;
  if (p.beta != 0.f)
    v += p.beta * toAcc(*at);
  *at = fromAcc<T>(v);
}

constexpr int kMaxFusedSplits = 8; // tmaPlan's most splits: the fused sums' registers

// Split-K in one launch (LAMINA_TC_SPLIT_FUSED=1; a second kernel costs ~3.3 us of host time per call,
// as much as the batch-1 convolutions' own time): each block of output tile `tile` counts itself done once its partials
// are out; the last one (count splits - 1) resets the counter for the next call and writes the tile from every split's
// partials, in split order (the same sums as reduceTmaSplits). Consumer threads only; `flag` is an idle word of shared
// memory.
template <class T, class Cfg>
__device__ __forceinline__ void finishSplits(const TmaParams &p, int tile, int q0, int p0, int n0, int k0, int *flag) {
  const int ct = int(threadIdx.x) - kThreads; // 0 .. 255
  __threadfence();                            // this thread's partials before the count
  asm volatile("bar.sync 1, 256;\n" ::: "memory");
  if (ct == 0) {
    const bool last = atomicAdd(&p.counters[tile], 1) == p.splits - 1;
    if (last)
      p.counters[tile] = 0; // every block of the tile has counted
    *flag = last;
  }
  asm volatile("bar.sync 1, 256;\n" ::: "memory");
  if (!*flag)
    return;
  __threadfence(); // the other blocks' partials after their counts
  const int64_t total = int64_t(p.N) * p.P * p.Q * p.K;
  const int rows = p.BW * p.BH * p.NB;
  if ((p.K & 3) != 0 || p.splits > kMaxFusedSplits) {
    for (int e = ct; e < rows * Cfg::BN; e += 2 * kThreads) {
      const int row = e / Cfg::BN, k = k0 + e % Cfg::BN;
      int64_t m;
      if (k < p.K && pixelOf(p, row, q0, p0, n0, m))
        finishElement<T>(p, total, m * p.K + k);
    }
    return;
  }
  // One SM sums splits x BM x BN partials: 16-byte loads, every split's issued before the sums (in
  // split order) and two groups of 4 outputs per round (one scalar load at a time ran vgg16 conv3_2 at
  // batch 1 in 0.139 ms; this in 0.045, the second kernel 0.024: still latency-bound; bulk copies into
  // the idle stages would keep more in flight).
  constexpr int Q4 = Cfg::BN / 4, kRound = 2;
  const int64_t total4 = total / 4;
  const float4 *part = reinterpret_cast<const float4 *>(p.partial);
  for (int e0 = ct; e0 < rows * Q4; e0 += 2 * kThreads * kRound) {
    float4 v[kRound][kMaxFusedSplits];
    int64_t at[kRound];
#pragma unroll
    for (int u = 0; u < kRound; ++u) {
      const int e = e0 + u * 2 * kThreads, row = e / Q4, k = k0 + 4 * (e % Q4);
      int64_t m;
      at[u] = e < rows * Q4 && k < p.K && pixelOf(p, row, q0, p0, n0, m) ? (m * p.K + k) / 4 : -1;
#pragma unroll
      for (int sp = 0; sp < kMaxFusedSplits; ++sp)
        if (at[u] >= 0 && sp < p.splits)
          v[u][sp] = __ldcg(part + sp * total4 + at[u]);
    }
#pragma unroll
    for (int u = 0; u < kRound; ++u) {
      if (at[u] < 0)
        continue;
      float sum[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
      for (int sp = 0; sp < kMaxFusedSplits; ++sp)
        if (sp < p.splits)
          sum[0] += v[u][sp].x, sum[1] += v[u][sp].y, sum[2] += v[u][sp].z, sum[3] += v[u][sp].w;
      const int64_t m = at[u] * 4 / p.K;
      const int k = int(at[u] * 4 - m * p.K), w = int(m % p.Q);
      const int64_t t = m / p.Q;
      const int h = int(t % p.P), n = int(t / p.P);
      T *y = static_cast<T *>(p.y) + int64_t(n) * p.ys[0] + int64_t(k) * p.ys[1] + int64_t(h) * p.ys[2] +
             int64_t(w) * p.ys[3];
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        float o = p.alpha * sum[j];
        if (p.beta != 0.f)
          o += p.beta * toAcc(y[j * p.ys[1]]);
        y[j * p.ys[1]] = fromAcc<T>(o);
      }
    }
  }
}

// out = alpha * (the splits' partials summed in split order) + beta * out, through the output strides.
template <class T> __global__ void reduceTmaSplits(const TmaParams p) {
  const int64_t total = int64_t(p.N) * p.P * p.Q * p.K;
  LAMINA_GRID_STRIDE_LOOP(i, total) { finishElement<T>(p, total, i); }
}

#ifdef LAMINA_TC_TRACE
// Diagnostics builds: per work item, the block's start (globaltimer ns), SM, and cycles from its start to
// the item, to the first slice, through the loop and the epilogue; conv_tc_tma.cu prints them per launch.
constexpr int kTraceItems = 4096;
__device__ long long gTmaTrace[6 * kTraceItems];
#endif

// One block per SM. Non-persistent launches: one work item per block. Persistent (tmaStore, fewer
// blocks than items): the producer runs on into the next item's slices while the consumers write the
// last one out, so neither the pipeline's fill nor the epilogue leaves the tensor cores idle per tile.
template <class T, class Cfg, bool BWD, int CL>
__global__ void __launch_bounds__(Cfg::THREADS, 1)
    convTmaKernel(const __grid_constant__ CUtensorMap mapX, const __grid_constant__ CUtensorMap mapW,
                  const __grid_constant__ CUtensorMap mapY, const TmaParams p) {
  extern __shared__ __align__(1024) uint8_t smem[];
#ifdef LAMINA_TC_TRACE // diagnostics builds only (-DLAMINA_TC_TRACE): each item's phases in SM cycles, printed
  const long long trStart = clock64();
  unsigned long long trGlobal;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(trGlobal));
#endif
  const WsPipe<Cfg> pp(smem);
  wsInit<Cfg, 1, CL>(pp);
  const int tilesK = (p.K + Cfg::BN - 1) / Cfg::BN;
  const uint32_t rowsA = uint32_t(p.BW * p.BH * p.NB);
  const uint32_t txBytes = (rowsA + Cfg::BN) * Cfg::ROW_BYTES;
  // Work item -> (k tile, q box, p box, n box, split); the k tile varies fastest, so neighbouring blocks
  // share A.
  struct Item {
    int q0, p0, n0, k0, split, it0, iters;
  };
  auto itemAt = [&](unsigned b) {
    Item w;
    const int kt = int(b % unsigned(tilesK));
    b /= unsigned(tilesK);
    const int qt = int(b % unsigned(p.tilesQ));
    b /= unsigned(p.tilesQ);
    const int pt = int(b % unsigned(p.tilesP));
    b /= unsigned(p.tilesP);
    const int nt = int(b % unsigned(p.tilesN));
    w.split = int(b / unsigned(p.tilesN));
    w.q0 = qt * p.BW, w.p0 = pt * p.BH, w.n0 = nt * p.NB, w.k0 = kt * Cfg::BN;
    w.it0 = w.split * p.itersPerSplit, w.iters = min(p.itersPerSplit, p.iters - w.it0);
    return w;
  };
  const int rank = CL > 1 ? int(clusterRank()) : 0;

  // Registers to the consumers (their 128 accumulators each), from the producer warpgroup (one thread
  // issuing copies): 128 x 40 + 256 x 232 of the SM's 64K.
  if (threadIdx.x < kThreads) {
    asm volatile("setmaxnreg.dec.sync.aligned.u32 40;\n" ::: "memory");
  }
  if (threadIdx.x == 0) { // the producer
    int g = 0;            // the block's running slice
    for (unsigned b = blockIdx.x; b < unsigned(p.items); b += gridDim.x) {
      const Item w = itemAt(b);
      int tap = w.it0 / p.kChunks, kc = w.it0 - tap * p.kChunks;
      int imW = 0, imH = 0, imN = 0; // im2col: the box position of the tile's first output pixel
      if (p.flat == 2) {
        const int pq = p.P * p.Q, rem = w.q0 % pq;
        imN = w.q0 / pq, imH = rem / p.Q * p.str[0] + p.lower[0], imW = rem % p.Q * p.str[1] + p.lower[1];
      }
      auto produce = [&](uint32_t sA, uint32_t sB, uint32_t fullBar, int) {
        const int r = tap / p.S, s = tap - r * p.S, c0 = kc * int(Cfg::ROW_BYTES / sizeof(T));
        mbarExpectTx(fullBar, txBytes);
        const int qx = w.q0 * p.str[1] + p.base[1] + s * p.tapMul[1],
                  px = w.p0 * p.str[0] + p.base[0] + r * p.tapMul[0];
        if constexpr (CL == 1) {
          if (p.flat == 1)
            tmaLoad2d(sA, &mapX, c0, w.q0, fullBar);
          else if (p.flat == 2)
            tmaLoadIm2col4d(sA, &mapX, c0, imW, imH, imN, uint16_t(p.offBase[1] + s * p.tapMul[1]),
                            uint16_t(p.offBase[0] + r * p.tapMul[0]), fullBar);
          else
            tmaLoad4d(sA, &mapX, c0, qx, px, w.n0, fullBar);
        } else { // this CTA's half of the box, to both CTAs
          const uint32_t dst = sA + uint32_t(rank * p.halfRows * Cfg::ROW_BYTES);
          const uint16_t both = 3;
          if (p.halfAxis == 0)
            tmaLoad2dMulticast(dst, &mapX, c0, w.q0 + rank * p.halfRows, fullBar, both);
          else if (p.halfAxis == 1)
            tmaLoad4dMulticast(dst, &mapX, c0, qx, px, w.n0 + rank * (p.NB / 2), fullBar, both);
          else
            tmaLoad4dMulticast(dst, &mapX, c0, qx, px + rank * (p.BH / 2) * p.str[0], w.n0, fullBar, both);
        }
        if constexpr (BWD) { // 64-column blocks of w[c0 ..+depth)[r][s][k0 ..+64), depth x 128 bytes each
#pragma unroll
          for (int j = 0; j < Cfg::BN / 64; ++j)
            tmaLoad4d(sB + j * (64 * Cfg::ROW_BYTES), &mapW, w.k0 + 64 * j, s, r, c0, fullBar);
        } else {
          tmaLoad4d(sB, &mapW, c0, s, r, w.k0, fullBar);
        }
        if (++kc == p.kChunks)
          kc = 0, ++tap;
      };
      wsProduce(pp, g, w.iters, produce);
      g += w.iters;
    }
  } else if (threadIdx.x >= kThreads) { // the consumers
    asm volatile("setmaxnreg.inc.sync.aligned.u32 232;\n" ::: "memory");
    int g = 0, chunk = 0;
    for (unsigned b = blockIdx.x; b < unsigned(p.items); b += gridDim.x) {
      float acc[Cfg::MI][Cfg::NI][4];
#ifdef LAMINA_TC_TRACE
      const long long trItem = clock64();
      long long trFirst = trItem, trLoop = trItem;
#endif
      { // the item's place is worked out again after the loop, not held in registers through it
        const int split = int(b / unsigned(tilesK * p.tilesQ * p.tilesP * p.tilesN)), it0 = split * p.itersPerSplit;
        const int iters = min(p.itersPerSplit, p.iters - it0);
#ifdef LAMINA_TC_TRACE
        if (g == 0) { // the first slice's arrival (waiting on a completed phase again returns at once)
          mbarWait(pp.full, 0u);
          trFirst = clock64();
        }
#endif
        wsConsume<Cfg, T, BWD, false, CL>(pp, g, iters, acc, true, false);
        g += iters;
#ifdef LAMINA_TC_TRACE
        trLoop = clock64();
#endif
      }
      const Item w = itemAt(b);
      if (p.tmaStore) {
        storeTileTma<T, Cfg>(&mapY, acc, smemAddr(smem) + epiOffset<Cfg>(), w.q0, w.k0, p.K, p.alpha, chunk);
      } else if (p.splits > 1) {
        storePartials<Cfg>(p, acc, w.split, w.q0, w.p0, w.n0, w.k0);
        if (p.counters) // the stages are idle: every slice was consumed
          finishSplits<T, Cfg>(p, int(b) - w.split * (p.items / p.splits), w.q0, w.p0, w.n0, w.k0,
                               reinterpret_cast<int *>(smem));
      } else {
        storeTile<T, Cfg>(p, acc, smem, w.q0, w.p0, w.n0, w.k0);
      }
#ifdef LAMINA_TC_TRACE
      if (threadIdx.x == kThreads && b < unsigned(kTraceItems)) { // start -> first slice, loop, epilogue
        unsigned smid;
        asm volatile("mov.u32 %0, %%smid;" : "=r"(smid));
        long long *t = gTmaTrace + 6 * b;
        t[0] = (long long)trGlobal, t[1] = smid, t[2] = trItem - trStart, t[3] = trFirst - trItem;
        t[4] = trLoop - trFirst, t[5] = clock64() - trLoop;
      }
#endif
    }
    if (p.tmaStore && threadIdx.x % kThreads == 0)
      bulkWaitAll(); // the stores have read the chunks before the block's shared memory goes
  }
  if constexpr (CL > 1)
    clusterSync(); // no CTA leaves while its peer may still arrive on its barriers
}
} // namespace
} // namespace lamina::cuda::tc
