// Tensor-core implicit GEMM, forward and backward-data (half / bfloat16, and float as TF32 under
// TENSOR_OP math; NHWC-style strides):
//
// forward, per group:  y[m = (n, o)][k] = sum over j = (tap, c) of x[n][o*str - pad + tap*dil][c] * w[k][tap][c]
// backward-data:       dx[m = (n, i)][c] = sum over j = (tap, k) of dy[n][(i + pad - tap*dil) / str][k] * w[k][tap][c]
//
// Both are "A gathered per output pixel, K-major (channels contiguous)". Backward-data is split into
// str^d phases (blockIdx.y): the dx pixels i = a + u*str of one phase receive only from the taps with
// (a + pad - tap*dil) divisible by str, an arithmetic progression of taps, so no block multiplies
// by taps that do not reach it (the strided layers cost no more than stride-1 ones). With those
// progressions both directions read the source at (row origin + tap offset), rows and taps linear:
//   forward:  row origin o*str - pad,  tap offset i*dil          (i = 0..filt-1)
//   bwd-data: row origin u,            tap offset off0 - i*dil/g (taps r0 + i*str/g, g = gcd(dil, str))
// The filter is K-major for forward (w[k][tap][c], c contiguous) and MN-major for backward-data
// (the reduction runs over k, the columns over c).
#include "cuda/conv_tc.h"
#include "cuda/conv_tc_common.cuh"
#include "cuda/conv_tc_stage.cuh"

#include "core/conv_geom.h"
#include "core/plan_memo.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <numeric>

namespace lamina::cuda::tc {
namespace {

struct Params {
  const void *src; // x (forward) or dy (backward-data)
  int64_t ss[5];   // its strides: n, channel (1), spatial 0..2
  int srcExt[3];   // its spatial extent
  const void *w;   // filter at logical tap 0 (flip folded into ws)
  int64_t ws[5];   // k, c, spatial 0..2
  void *dst;       // y or dx
  int64_t ds[5];
  int N, G, RC, NC; // batch, groups, reduction channels (Cg or Kg), output columns (Kg or Cg) per group
  int Kw;           // backward-data: filter rows per group (Kg; RC may be padded beyond it)
  int kChunks;      // ceil(RC / BK)
  int tps;          // taps per slice: BK / RC when RC is EPC or 2 EPC (several taps share a slice), else 1
  int filt[3], pad[3], str[3], dil[3];
  int rows[3];   // forward: output dims; backward-data: dx dims
  int phases[3]; // 1 (forward) or str (backward-data)
  int tilesM;    // row tiles (the largest phase's)
  int splits, itersPerSplit;
  float *partial; // [G][splits][M][NC] when splits > 1 (forward only)
  int64_t M;      // forward rows N * P (partials)
  float alpha, beta;
  bool vec2; // dst aligned to two elements with unit column stride: pairs stored as one 2-element word
};

__host__ __device__ inline int gcdInt(int a, int b) {
  while (b) {
    const int t = a % b;
    a = b, b = t;
  }
  return a;
}

// Rows and taps of one block (see the file comment).
struct Layout {
  int E[3], rbMul[3], rbAdd[3], dMul[3], dAdd[3];
  int cnt[3], off0[3], offStep[3], r0[3], rStep[3];
};

template <bool BWD> __device__ __forceinline__ Layout layoutFor(const Params &p, int phase) {
  Layout l;
#pragma unroll
  for (int d = 2; d >= 0; --d) {
    if (!BWD) {
      l.E[d] = p.rows[d], l.rbMul[d] = p.str[d], l.rbAdd[d] = -p.pad[d], l.dMul[d] = 1, l.dAdd[d] = 0;
      l.cnt[d] = p.filt[d], l.off0[d] = 0, l.offStep[d] = p.dil[d], l.r0[d] = 0, l.rStep[d] = 1;
    } else {
      const int s = p.str[d], a = phase % p.phases[d];
      phase /= p.phases[d];
      l.E[d] = a < p.rows[d] ? (p.rows[d] - a + s - 1) / s : 0;
      l.rbMul[d] = 1, l.rbAdd[d] = 0, l.dMul[d] = s, l.dAdd[d] = a;
      int first = -1;
      for (int r = 0; r < p.filt[d]; ++r) {
        const int v = a + p.pad[d] - r * p.dil[d];
        if (((v % s) + s) % s == 0) {
          first = r;
          break;
        }
      }
      const int g = gcdInt(p.dil[d], s);
      l.rStep[d] = s / g;
      l.r0[d] = first < 0 ? 0 : first;
      l.cnt[d] = first < 0 ? 0 : (p.filt[d] - 1 - first) / l.rStep[d] + 1;
      l.off0[d] = (a + p.pad[d] - l.r0[d] * p.dil[d]) / s; // exact
      l.offStep[d] = -(p.dil[d] / g);
    }
  }
  return l;
}

template <class T, class Cfg, bool BWD> __global__ void __launch_bounds__(Cfg::THREADS) convKernel(const Params p) {
  constexpr int BK = kBK<T>, EPC = kEPC<T>; // reduction elements per stage, elements per 16-byte chunk
  static_assert(!Cfg::WS || (!BWD && sizeof(T) == 2), "warp-specialized tiles: forward half/bf16");
  extern __shared__ __align__(1024) uint8_t smem[]; // wgmma's swizzle repeats every 512 bytes
  // The loaders below run in threads 0..127 (all of them, or the producer warpgroup of a TileWs).
  const int tid = threadIdx.x;
  const int mt = int(blockIdx.x % unsigned(p.tilesM)), nt = int(blockIdx.x / unsigned(p.tilesM));
  const int phase = blockIdx.y;
  const int grp = int(blockIdx.z) / p.splits, split = int(blockIdx.z) % p.splits;
  const Layout l = layoutFor<BWD>(p, phase);
  const int64_t Mrows = int64_t(p.N) * l.E[0] * l.E[1] * l.E[2];
  if (int64_t(mt) * Cfg::BM >= Mrows)
    return; // a phase with fewer rows than the largest

  const int taps = l.cnt[0] * l.cnt[1] * l.cnt[2];
  const int total = p.tps > 1 ? (taps + p.tps - 1) / p.tps : taps * p.kChunks;
  const int itBegin = split * p.itersPerSplit;
  const int iters = max(0, min(total, itBegin + p.itersPerSplit) - itBegin);

  const T *src = static_cast<const T *>(p.src);
  const T *w = static_cast<const T *>(p.w);

  // A rows of this thread: (tid / 4) + 32 i, chunk tid % 4.
  constexpr int AR = Cfg::BM / 32;
  const int aChunk = tid & 3;
  int rb[AR][3];
  int64_t aRowOff[AR];
  bool aValid[AR];
#pragma unroll
  for (int i = 0; i < AR; ++i) {
    const int64_t m = int64_t(mt) * Cfg::BM + (tid >> 2) + 32 * i;
    aValid[i] = m < Mrows;
    uint32_t t = aValid[i] ? uint32_t(m) : 0u; // Mrows < 2^30 (whyNotConv)
    int u[3];
#pragma unroll
    for (int d = 2; d >= 0; --d) {
      u[d] = int(t % uint32_t(l.E[d]));
      t /= uint32_t(l.E[d]);
    }
    aRowOff[i] = int64_t(t) * p.ss[0] + int64_t(grp) * p.RC;
#pragma unroll
    for (int d = 0; d < 3; ++d) {
      rb[i][d] = u[d] * l.rbMul[d] + l.rbAdd[d];
      aRowOff[i] += int64_t(rb[i][d]) * p.ss[2 + d];
    }
  }
  // B: forward rows n = output channel ((tid / 4) + 32 i, chunk tid % 4); backward-data rows k of
  // the slice (tid / CH + (128 / CH) i, BK of them) at column chunk tid % CH.
  constexpr int BR = Cfg::BN / 32;
  constexpr int CH = Cfg::BN / EPC;
  static_assert(BK * CH == BR * kThreads, "one pass of the threads per BN / 32 loads");
  int64_t bRowOff[BR];
  bool bValid[BR];
  const int bCol = BWD ? nt * Cfg::BN + (tid % CH) * EPC : 0;
#pragma unroll
  for (int i = 0; i < BR; ++i) {
    if (!BWD) {
      const int n = nt * Cfg::BN + (tid >> 2) + 32 * i;
      bValid[i] = n < p.NC;
      bRowOff[i] = (int64_t(grp) * p.NC + (bValid[i] ? n : 0)) * p.ws[0];
    } else {
      bValid[i] = bCol < p.NC;
      bRowOff[i] = int64_t(grp) * p.RC * p.ws[0] + bCol;
    }
  }

  // The running position of the loader: channel chunk kc of tap (i0, i1, i2), or with several taps
  // per slice, the slice index sl.
  int kc, ti[3], sl = itBegin;
  {
    int t = itBegin;
    kc = t % p.kChunks, t /= p.kChunks;
    ti[2] = t % max(l.cnt[2], 1), t /= max(l.cnt[2], 1);
    ti[1] = t % max(l.cnt[1], 1), t /= max(l.cnt[1], 1);
    ti[0] = t;
  }
  // Source offset and filter offset of flat tap T (T < taps), with its displacement per slot.
  auto tapAt = [&](int flat, int toff[3], int64_t &tapSrc, int64_t &tapW) {
    int tt[3];
    tt[2] = flat % l.cnt[2], flat /= l.cnt[2];
    tt[1] = flat % l.cnt[1], tt[0] = flat / l.cnt[1];
    tapSrc = 0, tapW = 0;
#pragma unroll
    for (int d = 0; d < 3; ++d) {
      toff[d] = l.off0[d] + tt[d] * l.offStep[d];
      tapSrc += int64_t(toff[d]) * p.ss[2 + d];
      tapW += int64_t(l.r0[d] + tt[d] * l.rStep[d]) * p.ws[2 + d];
    }
  };
  // Several taps per slice (RC = EPC or 2 EPC): chunk q of a row is tap sl * tps + q / (RC / EPC).
  auto loadPacked = [&](uint32_t sA, uint32_t sB) {
    const int cpt = p.RC / EPC;
    {
      const int tap = sl * p.tps + aChunk / cpt, ca = (aChunk % cpt) * EPC;
      int toff[3];
      int64_t tapSrc, tapW;
      tapAt(tap < taps ? tap : 0, toff, tapSrc, tapW);
#pragma unroll
      for (int i = 0; i < AR; ++i) {
        bool ok = aValid[i] && tap < taps;
#pragma unroll
        for (int d = 0; d < 3; ++d)
          ok = ok && unsigned(rb[i][d] + toff[d]) < unsigned(p.srcExt[d]);
        const T *g = src + (aRowOff[i] + tapSrc + ca);
        cpAsync16(sA + kMajorOffset((tid >> 2) + 32 * i, aChunk), ok ? g : src, ok);
      }
      if constexpr (!BWD) {
#pragma unroll
        for (int i = 0; i < BR; ++i) {
          const bool ok = bValid[i] && tap < taps;
          const T *g = w + (bRowOff[i] + tapW + ca);
          cpAsync16(sB + kMajorOffset((tid >> 2) + 32 * i, aChunk), ok ? g : w, ok);
        }
      }
    }
    if constexpr (BWD) {
#pragma unroll
      for (int i = 0; i < BR; ++i) {
        const int krow = tid / CH + (kThreads / CH) * i;
        const int tap = sl * p.tps + krow / p.RC, k = krow % p.RC;
        int toff[3];
        int64_t tapSrc, tapW;
        tapAt(tap < taps ? tap : 0, toff, tapSrc, tapW);
        const bool ok = bValid[i] && tap < taps && k < p.Kw;
        const T *g = w + (bRowOff[i] + int64_t(k) * p.ws[0] + tapW);
        cpAsync16(sB + mnMajorChunk<T, Cfg::BN>(krow, tid % CH), ok ? g : w, ok);
      }
    }
    ++sl;
  };
  auto load = [&](uint32_t sA, uint32_t sB, int) {
    if (p.tps > 1) {
      loadPacked(sA, sB);
      return;
    }
    int toff[3];
    int64_t tapSrc = 0, tapW = 0;
#pragma unroll
    for (int d = 0; d < 3; ++d) {
      toff[d] = l.off0[d] + ti[d] * l.offStep[d];
      tapSrc += int64_t(toff[d]) * p.ss[2 + d];
      tapW += int64_t(l.r0[d] + ti[d] * l.rStep[d]) * p.ws[2 + d];
    }
    const int cBase = kc * BK;
    const int ca = cBase + aChunk * EPC;
#pragma unroll
    for (int i = 0; i < AR; ++i) {
      bool ok = aValid[i] && ca < p.RC;
#pragma unroll
      for (int d = 0; d < 3; ++d)
        ok = ok && unsigned(rb[i][d] + toff[d]) < unsigned(p.srcExt[d]);
      const T *g = src + (aRowOff[i] + tapSrc + ca);
      cpAsync16(sA + kMajorOffset((tid >> 2) + 32 * i, aChunk), ok ? g : src, ok);
    }
#pragma unroll
    for (int i = 0; i < BR; ++i) {
      if constexpr (!BWD) {
        const bool ok = bValid[i] && ca < p.RC;
        const T *g = w + (bRowOff[i] + tapW + ca);
        cpAsync16(sB + kMajorOffset((tid >> 2) + 32 * i, aChunk), ok ? g : w, ok);
      } else {
        const int krow = tid / CH + (kThreads / CH) * i;
        const int k = cBase + krow;
        const bool ok = bValid[i] && k < p.Kw;
        const T *g = w + (bRowOff[i] + int64_t(k) * p.ws[0] + tapW);
        cpAsync16(sB + mnMajorChunk<T, Cfg::BN>(krow, tid % CH), ok ? g : w, ok);
      }
    }
    if (++kc == p.kChunks) {
      kc = 0;
      if (++ti[2] == l.cnt[2]) {
        ti[2] = 0;
        if (++ti[1] == l.cnt[1]) {
          ti[1] = 0;
          ++ti[0];
        }
      }
    }
  };

  float acc[Cfg::MI][Cfg::NI][4];
  constexpr bool WG = useWgmma<Cfg, T, !BWD>();
  if constexpr (Cfg::WS) {
    // The producer warpgroup runs the loader above (a per-row tap-mask loader measured slower: 320 vs
    // 387 TFLOP/s on vgg16.conv4_2, docs/perf_notes.md).
    auto produce = [&](uint32_t sA, uint32_t sB, uint32_t fullBar, int it) {
      load(sA, sB, it);
      cpAsyncArriveNoinc(fullBar);
    };
    if (!mainLoopWs<Cfg, T, kThreads, kThreads>(smem, iters, acc, produce))
      return; // the producer warpgroup
  } else if constexpr (WG) {
    mainLoopWgmma<Cfg, T>(smem, iters, acc, load);
  } else {
    mainLoop<Cfg, true, !BWD, T>(smem, iters, acc, load);
  }

  const int64_t m0 = int64_t(mt) * Cfg::BM;
  const int n0 = nt * Cfg::BN;
  if (p.splits > 1) { // fp32 partials, reduced by reduceSplits
    float *part = p.partial + (int64_t(grp) * p.splits + split) * p.M * p.NC;
    int64_t m = 0;
    forEachRowPair<Cfg, WG>(
        acc,
        [&](int row) {
          m = m0 + row;
          return m < Mrows;
        },
        [&](int col, float v0, float v1) {
          const int n = n0 + col;
          if (n >= p.NC)
            return;
          part[m * p.NC + n] = v0;
          if (n + 1 < p.NC)
            part[m * p.NC + n + 1] = v1;
        });
    return;
  }
  T *dst = static_cast<T *>(p.dst);
  int64_t rowOff = 0;
  forEachRowPair<Cfg, WG>(
      acc,
      [&](int row) {
        const int64_t m = m0 + row;
        if (m >= Mrows)
          return false;
        uint32_t t = uint32_t(m); // Mrows < 2^30 (whyNotConv)
        rowOff = int64_t(grp) * p.NC * p.ds[1];
#pragma unroll
        for (int d = 2; d >= 0; --d) {
          const uint32_t u = t % uint32_t(l.E[d]);
          t /= uint32_t(l.E[d]);
          rowOff += int64_t(int(u) * l.dMul[d] + l.dAdd[d]) * p.ds[2 + d];
        }
        rowOff += int64_t(t) * p.ds[0];
        return true;
      },
      [&](int col, float v0, float v1) {
        const int n = n0 + col;
        if (n >= p.NC)
          return;
        storeScaledPair(dst + rowOff + int64_t(n) * p.ds[1], p.ds[1], n + 1 < p.NC, p.vec2, p.alpha, p.beta, v0, v1);
      });
}

// Forward split-K: y = alpha * (sum of the partials in split order) + beta * y.
template <class T> __global__ void reduceSplits(const Params p) {
  const int64_t perGroup = p.M * p.NC;
  T *dst = static_cast<T *>(p.dst);
  LAMINA_GRID_STRIDE_LOOP(idx, perGroup * p.G) {
    const int64_t grp = idx / perGroup, r = idx - grp * perGroup;
    const int64_t m = r / p.NC;
    const int n = int(r - m * p.NC);
    const float *part = p.partial + grp * p.splits * perGroup + r;
    float s = 0.f;
    for (int k = 0; k < p.splits; ++k)
      s += part[k * perGroup];
    int64_t t = m, off = 0;
    for (int d = 2; d >= 0; --d) {
      const int64_t u = t % p.rows[d];
      t /= p.rows[d];
      off += u * p.ds[2 + d];
    }
    off += t * p.ds[0] + (grp * p.NC + n) * p.ds[1];
    float v = p.alpha * s;
    if (p.beta != 0.f)
      v += p.beta * toAcc(dst[off]);
    dst[off] = fromAcc<T>(v);
  }
}

// ---- Host side ----------------------------------------------------------------------------------

// How a run reads its operands: directly, or from channel-padded packed copies in the workspace.
struct Setup {
  TcTypeInfo ti;
  bool stageSrc = false, stageW = false;
  StageShape srcShape{}, wShape{};
  int64_t RC = 0, NC = 0; // reduction channels as the kernel sees them (padded when staged), output columns
  int tps = 1;            // taps per BK-wide slice
  std::string why;        // not empty: the path does not apply
};

Setup setupFor(const ConvProblem &p, Dir dir, unsigned flags) {
  Setup st;
  // Float only under TENSOR_OP (TF32): DEFAULT and FMA math keep exact FMA on the general kernels.
  if (p.dataType != LAMINA_DATA_HALF && p.dataType != LAMINA_DATA_BFLOAT16 && p.dataType != LAMINA_DATA_FLOAT) {
    st.why = "tensor-core path: half, bfloat16 or float (TF32) only";
    return st;
  }
  if (p.math != LAMINA_TENSOR_OP_MATH) {
    st.why = "tensor-core path: needs TENSOR_OP math";
    return st;
  }
  st.ti = tcTypeInfo(p.dataType);
  const int epc = st.ti.epc;
  const ConvGeom g = makeConvGeom(p);
  const bool fwd = dir == Dir::Forward;
  const int64_t *ss = fwd ? g.xs : g.ys;
  const int64_t RC = fwd ? g.Cg : g.Kg, NC = fwd ? g.Kg : g.Cg;
  // Forward reads w's channels (the reduction) in chunks, backward-data w's channels (the columns).
  const bool srcDirect = stridesOk(ss, epc) && RC % epc == 0;
  const bool wDirect = stridesOk(g.ws, epc) && g.Cg % epc == 0;
  st.stageSrc = !srcDirect;
  st.stageW = !wDirect || (fwd && st.stageSrc); // forward: both padded alike
  st.RC = st.stageSrc ? roundUp(RC, epc) : RC;
  st.NC = NC;
  if ((st.stageSrc || st.stageW) && (!(flags & kStage) || g.G != 1)) {
    st.why = flags & kStage ? "tensor-core path: staging copies only for ungrouped convolutions"
                            : "tensor-core path: channels must be contiguous in 16-byte chunks (NHWC, KRSC) "
                              "without a workspace";
    return st;
  }
  if (st.stageSrc) {
    StageShape &sh = st.srcShape;
    sh.n = g.N, sh.c = RC, sh.cPad = st.RC;
    for (int i = 0; i < 3; ++i)
      sh.dims[i] = fwd ? g.in[i] : g.out[i];
    for (int i = 0; i < 5; ++i)
      sh.s[i] = ss[i];
  }
  if (st.stageW) {
    StageShape &sh = st.wShape; // [K][taps][CgPad], flip-free
    sh.n = g.K, sh.c = g.Cg, sh.cPad = roundUp(g.Cg, epc);
    for (int i = 0; i < 3; ++i)
      sh.dims[i] = g.filt[i];
    for (int i = 0; i < 5; ++i)
      sh.s[i] = g.ws[i];
  }
  st.tps = (st.RC == epc || st.RC == 2 * epc) ? int(st.ti.bk / st.RC) : 1;
  return st;
}

struct Plan {
  int tile = kTileL;
  int splits = 1, itersPerSplit = 0;
  int64_t tilesM = 0, tilesN = 0, M = 0;
  int phases = 1;
  double cost = 0; // model ms
};

struct Dims {
  int64_t M;     // rows of the largest phase
  int64_t iters; // slices of the largest phase
  int phases;
};

Dims dimsOf(const ConvProblem &p, Dir dir, const Setup &st) {
  const ConvGeom g = makeConvGeom(p);
  Dims d;
  int64_t taps = 1;
  if (dir == Dir::Forward) {
    d.M = g.N * g.P, d.phases = 1, taps = g.F;
  } else {
    d.M = g.N, d.phases = 1;
    for (int s = 0; s < 3; ++s) {
      d.M *= ceilDiv(g.in[s], g.str[s]);
      d.phases *= int(g.str[s]);
      const int64_t gg = std::gcd(g.dil[s], g.str[s]);
      taps *= ceilDiv(g.filt[s], g.str[s] / gg); // the most taps any phase has
    }
  }
  d.iters = st.tps > 1 ? ceilDiv(taps, st.tps) : taps * ceilDiv(st.RC, st.ti.bk);
  return d;
}

Plan makePlan(const ConvProblem &p, Dir dir, const Setup &st, unsigned flags) {
  const Dims d = dimsOf(p, dir, st);
  Plan best;
  best.cost = INFINITY;
  const double kFlopsPerMsPerSM = st.ti.flopsPerMs / kPlanSMs; // the largest tile's sustained rate, per SM
  const bool ws = dir == Dir::Forward && st.ti.esize == 2 && wgmmaReady();
  int forced = forcedTile();
  if (forced >= 0 && isWsTile(forced) && !ws)
    forced = -1; // a forced tile that cannot run here: the usual choice
  for (int t = 0; t < kTileCount; ++t) {
    // The warp-specialized tiles run only when forced: measured slower than TileL on wgmma so far
    // (their single producer warpgroup cannot issue the cp.async loads fast enough; docs/perf_notes.md).
    if ((isWsTile(t) && (!ws || forced != t)) || (forced >= 0 && t != forced))
      continue;
    const TileInfo &ti = kTiles[t];
    const int64_t tilesM = ceilDiv(d.M, ti.bm), tilesN = ceilDiv(st.NC, ti.bn);
    const int64_t tiles = tilesM * tilesN * p.G * d.phases;
    int maxSplits = 1;
    if ((flags & kSplitK) && dir == Dir::Forward)
      maxSplits = int(std::min<int64_t>({16, d.iters / 4, 65535 / std::max<int64_t>(p.G, 1)}));
    for (int s = 1; s <= std::max(1, maxSplits); ++s) {
      const int64_t ips = std::max<int64_t>(1, ceilDiv(d.iters, s));
      if (s > 1 && ceilDiv(d.iters, ips) != s)
        continue; // the same split as a smaller s
      const double slots = double(kPlanSMs) * ti.blocksPerSM;
      const double waves = std::ceil(double(tiles * s) / slots);
      const double blockFlops = 2.0 * ti.bm * ti.bn * double(ips) * st.ti.bk;
      double cost = waves * blockFlops * ti.blocksPerSM / (ti.eff * kFlopsPerMsPerSM);
      if (s > 1) // partials written and read back, plus a launch
        cost += double(s) * d.M * st.NC * p.G * 8.0 / 2.5e9 +
                0.004; // a launch; 10 us (2026-11-30) made GEMM the batch-1 pick where split plans ran 3x faster
      if (cost < best.cost * 0.97) {
        best.tile = t, best.splits = s, best.itersPerSplit = int(ips);
        best.tilesM = tilesM, best.tilesN = tilesN, best.M = d.M, best.phases = d.phases;
        best.cost = cost;
      }
    }
  }
  return best;
}

template <class T, class Cfg, bool BWD> void launchAs(const Params &prm, dim3 grid, cudaStream_t stream) {
  auto kernel = convKernel<T, Cfg, BWD>;
  // The shared-memory limit once per device (preloadKernels sets it at handle creation; this covers
  // a device made current later), not on every launch.
  static std::atomic<uint64_t> set{0};
  setSmemLimitOncePerDevice(set, Cfg::SMEM_BYTES, kernel);
  kernel<<<grid, Cfg::THREADS, Cfg::SMEM_BYTES, stream>>>(prm);
  LAMINA_CUDA_LAUNCHED();
}

template <class T, bool BWD> void launchTile(int tile, const Params &prm, dim3 grid, cudaStream_t stream) {
  switch (tile) {
  case kTileL: launchAs<T, TileL, BWD>(prm, grid, stream); break;
  case kTileM: launchAs<T, TileM, BWD>(prm, grid, stream); break;
  case kTileS: launchAs<T, TileS, BWD>(prm, grid, stream); break;
  case kTileT: launchAs<T, TileT, BWD>(prm, grid, stream); break;
  default:
    if constexpr (!BWD && sizeof(T) == 2) { // planned only there (makePlan)
      if (tile == kTileW)
        launchAs<T, TileW, BWD>(prm, grid, stream);
      else if (tile == kTileWN)
        launchAs<T, TileWN, BWD>(prm, grid, stream);
      else
        launchAs<T, TileWK, BWD>(prm, grid, stream);
    } else {
      ::lamina::fail(LAMINA_STATUS_INTERNAL_ERROR, "tensor-core path: tile %d planned for this direction/type", tile);
    }
  }
}

// Workspace: [staged source][staged filter][split-K partials], each 256-byte aligned, plus slack
// for aligning the caller's pointer.
struct WsLayout {
  size_t src = 0, w = 0, partial = 0, total = 0;
};
WsLayout wsLayout(const ConvProblem &p, const Setup &st, const Plan &pl) {
  WsLayout l;
  const size_t srcB = st.stageSrc ? alignUp(st.srcShape.bytes(st.ti.esize)) : 0;
  const size_t wB = st.stageW ? alignUp(st.wShape.bytes(st.ti.esize)) : 0;
  const size_t partB = pl.splits > 1 ? alignUp(size_t(pl.splits) * size_t(pl.M) * size_t(st.NC) * size_t(p.G) * 4) : 0;
  l.src = 0, l.w = srcB, l.partial = srcB + wB;
  l.total = srcB + wB + partB;
  if (l.total)
    l.total += 256;
  return l;
}

std::string limits(const ConvProblem &p, Dir dir, const Setup &st) {
  const ConvGeom g = makeConvGeom(p);
  const Dims d = dimsOf(p, dir, st);
  if (d.M >= INT32_MAX / 2 || ceilDiv(d.M, 64) * ceilDiv(st.NC, 32) >= INT32_MAX || d.iters * st.ti.bk >= INT32_MAX ||
      g.N > INT32_MAX || d.phases > 65535 || p.G > 4096)
    return "tensor-core path: sizes beyond its 32-bit tile indices";
  for (int s = 0; s < 3; ++s)
    if (g.in[s] > INT32_MAX / 4 || g.out[s] > INT32_MAX / 4 || g.filt[s] * g.dil[s] > INT32_MAX / 4 ||
        g.pad[s] > INT32_MAX / 4 || g.str[s] > INT32_MAX / 4)
      return "tensor-core path: sizes beyond its 32-bit coordinates";
  return {};
}

template <class T, class Cfg, bool BWD> void preloadAs() {
  LAMINA_CUDA_CALL(
      cudaFuncSetAttribute(convKernel<T, Cfg, BWD>, cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::SMEM_BYTES));
}
template <class T> void preloadT() {
  preloadAs<T, TileL, false>(), preloadAs<T, TileM, false>(), preloadAs<T, TileS, false>(),
      preloadAs<T, TileT, false>();
  if constexpr (sizeof(T) == 2)
    preloadAs<T, TileW, false>(), preloadAs<T, TileWN, false>(), preloadAs<T, TileWK, false>();
  preloadAs<T, TileL, true>(), preloadAs<T, TileM, true>(), preloadAs<T, TileS, true>(), preloadAs<T, TileT, true>();
  cudaFuncAttributes attr;
  LAMINA_CUDA_CALL(cudaFuncGetAttributes(&attr, reduceSplits<T>));
  LAMINA_CUDA_CALL(cudaFuncGetAttributes(&attr, stageChannels<T>));
  LAMINA_CUDA_CALL(cudaFuncGetAttributes(&attr, stagePlanes<T>));
}

// The cp.async plan's model time.
// costScale multiplies the tiles' compute time (not the launch or memory terms).
double planEstimateMs(const ConvProblem &p, Dir dir, const Setup &st, unsigned flags, double costScale = 1.0) {
  const Plan pl = makePlan(p, dir, st, flags);
  double bytes = double(p.x.numel() + p.w.numel() + p.y.numel()) * st.ti.esize;
  if (st.stageSrc)
    bytes += 2.0 * double(st.srcShape.bytes(st.ti.esize));
  return 0.004 + pl.cost * costScale + bytes / 3.0e9 + (st.stageSrc || st.stageW ? 0.004 : 0.0);
}

} // namespace

namespace {
// The TMA path on staged operands (kStage, ungrouped): when it cannot read the source or the filter in
// place (NCHW, KCRS, the flip, reduction channels not in 16-byte chunks), they are copied as for the
// cp.async plan, channel-padded channels-last; float's backward-data always reads a [C][R][S][K] copy
// (TF32 wgmma takes K-major operands only). `p` is the problem as the TMA path then sees it: the
// staged operands' strides and padded reduction channels; the output is written in place.
struct TmaStaging {
  ConvProblem p;
  bool src = false, w = false;
  StageShape srcShape{}, wShape{};
  size_t srcBytes = 0, wBytes = 0; // each alignUp'ed
  size_t splitBytes = 0;           // the TMA run's own (split-K partials), after the copies
  std::string why;                 // not empty: no staged TMA run
  size_t total() const { return srcBytes + wBytes + splitBytes + 256; }
};

TmaStaging tmaStagingFor(const ConvProblem &p, Dir dir, unsigned flags) {
  TmaStaging t;
  t.p = p;
  if (std::string why = whyNotTmaDevice(p); !why.empty()) {
    t.why = why;
    return t;
  }
  if (!(flags & kStage) || p.G != 1) {
    t.why = "TMA path: staging copies only for ungrouped convolutions with a workspace";
    return t;
  }
  const ConvGeom g = makeConvGeom(p);
  const bool fwd = dir == Dir::Forward;
  const int es = p.dataType == LAMINA_DATA_FLOAT ? 4 : 2, epc = 16 / es;
  const int64_t RC = fwd ? g.C : g.K, NC = fwd ? g.K : g.C, rcPad = roundUp(RC, epc);
  const int64_t *ss = fwd ? g.xs : g.ys;
  if (rcPad * es < 64) { // one slice of the TMA tiles is 64 bytes of channels per tap
    t.why = "TMA path: fewer reduction channels than a 64-byte slice (the cp.async plan packs taps)";
    return t;
  }
  const auto positiveChunks = [&](const int64_t *st) {
    return st[2 + 1] % epc == 0 && st[2 + 2] % epc == 0 && (p.spatialDims < 3 || st[2] % epc == 0);
  };
  t.src = !(stridesOk(ss, epc) && RC % epc == 0);
  bool wInPlace;
  if (fwd)
    wInPlace = g.ws[1] == 1 && g.ws[0] > 0 && g.ws[0] % epc == 0 && g.ws[3] > 0 && g.ws[4] > 0 && positiveChunks(g.ws);
  else // 16-bit reads KRSC-style filters MN-major in place; float needs the K-major copy
    wInPlace = es == 2 && g.ws[1] == 1 && g.ws[0] > 0 && g.ws[0] % epc == 0 && g.ws[3] > 0 && g.ws[4] > 0 &&
               positiveChunks(g.ws) && NC % epc == 0;
  t.w = !wInPlace || (t.src && rcPad != RC);
  if (!t.src && !t.w) {
    t.why = "TMA path: reads its operands in place";
    return t;
  }
  ConvProblem &q = t.p;
  if (t.src) {
    StageShape &sh = t.srcShape;
    sh.n = g.N, sh.c = RC, sh.cPad = rcPad;
    for (int i = 0; i < 3; ++i)
      sh.dims[i] = fwd ? g.in[i] : g.out[i];
    for (int i = 0; i < 5; ++i)
      sh.s[i] = ss[i];
    t.srcBytes = alignUp(sh.bytes(es));
    TensorDesc &d = fwd ? q.x : q.y;
    d.dims[1] = rcPad;
    packedChannelsLast(p.spatialDims, fwd ? p.in : p.out, rcPad, d.strides);
  }
  (fwd ? q.C : q.K) = rcPad; // == RC unless the source is staged padded, and then the filter is too
  if (t.w) {
    StageShape &sh = t.wShape; // forward [K][taps][Cpad]; backward-data [C][taps][Kpad]; the flip applied
    sh.n = NC, sh.c = RC, sh.cPad = rcPad;
    for (int i = 0; i < 3; ++i)
      sh.dims[i] = g.filt[i];
    for (int i = 0; i < 5; ++i)
      sh.s[i] = g.ws[i];
    if (!fwd)
      std::swap(sh.s[0], sh.s[1]);
    t.wBytes = alignUp(sh.bytes(es));
    FilterDesc &w = q.w;
    int64_t st[2 + 3];
    packedChannelsLast(p.spatialDims, p.filt, rcPad, st); // [NC][taps][rcPad]
    w.strides[fwd ? 0 : 1] = st[0], w.strides[fwd ? 1 : 0] = 1;
    for (int i = 0; i < p.spatialDims; ++i)
      w.strides[2 + i] = st[2 + i];
    w.dims[fwd ? 1 : 0] = rcPad;
    q.flip = false;
  }
  if (std::string why = whyNotTma(q, dir); !why.empty())
    t.why = why;
  else
    t.splitBytes = tmaWorkspace(q, dir, flags);
  return t;
}

// Model time of the staging copies (read and write once each, plus their launches).
double stagingMs(const TmaStaging &t) {
  return double(t.srcBytes + t.wBytes) * 2 / 2.5e9 + (t.src ? 0.004 : 0) + (t.w ? 0.004 : 0);
}

// The TF32 kernels (mma.sync m16n8k8) ran at 1.8-2x the model's time over the benchmark layers at
// batch 64 on the H200, the 16-bit ones at 1.2x (lamina-heuristic-replay --all): TF32's compute term
// is scaled (1.4 ranked best on the recorded run, 92% of rows within 10%; the launch and memory
// terms, which decide batch 1, are not), so it ranks fairly against the cuBLAS paths.
// Strided backward-data (one plan per phase) ran 1.2-2.2x its model on every such benchmark row (v7:
// 16-bit alexnet.conv1 1.21 ms against 0.546, resnet50.conv1 1.23 / 0.64, res3_proj 0.176 / 0.144;
// TF32 1.4-1.9x past its own scale), so GEMM (col2im) now takes alexnet.conv1 and res3_proj (0.89, 0.153).
double cpAsyncEstimateMs(const ConvProblem &p, Dir dir, unsigned flags) {
  const ConvGeom g = makeConvGeom(p);
  const bool phased = dir == Dir::BackwardData && (g.str[0] > 1 || g.str[1] > 1 || g.str[2] > 1);
  const double scale = (p.dataType == LAMINA_DATA_FLOAT ? 1.4 : 1.0) * (phased ? 1.8 : 1.0);
  return planEstimateMs(p, dir, setupFor(p, dir, flags), flags, scale);
}

// The TMA path, in place or on staged operands, where it applies: always when forced
// (LAMINA_TC_TILE=TMA), never when another tile is forced, else when its estimate beats the cp.async
// plan's (small outputs keep split-K).
enum class TmaUse { None, InPlace, Staged };
TmaUse pickTmaFresh(const ConvProblem &p, Dir dir, unsigned flags, TmaStaging *staging) {
  const int forcing = tmaForcing();
  if (forcing < 0)
    return TmaUse::None;
  // Against TMA, the cp.async TF32 plans count at 2x their model: what they ran at over the benchmark
  // layers on the H200 (1.8-2x; the 1.4 of cpAsyncEstimateMs ranks them against cuBLAS at batch 1),
  // where TMA's TF32 model held within 5% (vgg16.conv4_2 0.77 model / 0.78 ms, alexnet.conv3 0.134 /
  // 0.128) and ran 1.3-2.3x faster on every layer forced both ways (alexnet conv2-5, resnet50 res5).
  const auto cpAsync = [&] {
    const Setup st = setupFor(p, dir, flags);
    if (!st.why.empty() || !limits(p, dir, st).empty())
      return double(INFINITY);
    if (p.dataType == LAMINA_DATA_FLOAT)
      return planEstimateMs(p, dir, st, flags, 2.0);
    // Under 50 us, 16-bit cp.async forward plans of 0.6+ GFLOP ran 1.3-1.55x their model (fp16 batch 1
    // on the H200, v8: vgg16 conv1_2 0.0243 ms, conv2_2 0.0279, conv3_2 0.0412, conv4_2 0.0368; model
    // 0.016-0.028), where TMA's held (0.0226, 0.0203, 0.0235, 0.0208); res3_proj at batch 8: cp.async
    // 0.0157, TMA 0.0118. Smaller ones (0.23-0.45 GFLOP: alexnet conv3-5, resnet50 res3-5 3x3) ran
    // cp.async at 0.012-0.016 ms, TMA's split plans at 0.015-0.02. Backward-data: near ties go to TMA
    // (vgg16 conv4_2 at batch 64: cp.async 0.78-0.79 ms, TMA 0.51; conv3_2 0.85 / 0.49).
    const double ms = cpAsyncEstimateMs(p, dir, flags);
    if (dir == Dir::BackwardData)
      return ms * 1.1;
    return p.flops() >= 0.6e9 && ms < 0.05 ? ms * 1.25 : ms;
  };
  // Against a persistent TMA launch, 16-bit cp.async plans count at 2x their model: what they ran at on
  // the H200 where they won the comparison against it (v11, batch 64 and 8: resnet50 res2_1x1b forward
  // 0.127 ms against 0.058 modelled, 0.0192 / 0.011; res2_1x1a backward-data 0.059 / 0.024), where the
  // persistent TMA ran res2_1x1b in 0.040 and 0.0092 ms.
  if (whyNotTma(p, dir).empty()) {
    const double cp = cpAsync() * (p.dataType != LAMINA_DATA_FLOAT && tmaPersistent(p, dir, flags) ? 2.0 : 1.0);
    return forcing > 0 || tmaEstimateMs(p, dir, flags) <= cp ? TmaUse::InPlace : TmaUse::None;
  }
  TmaStaging t = tmaStagingFor(p, dir, flags);
  if (!t.why.empty())
    return TmaUse::None;
  const bool take = forcing > 0 || tmaEstimateMs(t.p, dir, flags) + stagingMs(t) <= cpAsync();
  if (take && staging)
    *staging = std::move(t);
  return take ? TmaUse::Staged : TmaUse::None;
}

// Everything the entry points ask of a problem, planned once (plan_memo.h): whether a path applies,
// which one, its workspace and model time, and the cp.async launch's plan (the path itself, or the
// fallback when a TMA run declines at run time).
struct ConvChoice {
  std::string why; // not empty: no tensor-core path applies
  TmaUse use = TmaUse::None;
  TmaStaging staging; // use == Staged
  size_t workspace = 0;
  double ms = INFINITY;
  Setup st; // the cp.async plan, where cpOk
  bool cpOk = false;
  Plan plan;
  WsLayout wl;
  std::shared_ptr<const TapPack> pack;      // set: tap-packed copies, then `packed` on them
  std::shared_ptr<const ConvChoice> packed; // the choice for pack->q
};

std::shared_ptr<const ConvChoice> choiceFor(const ConvProblem &p, Dir dir, unsigned flags);

std::shared_ptr<const ConvChoice> choiceFresh(const ConvProblem &p, Dir dir, unsigned flags) {
  auto c = std::make_shared<ConvChoice>();
  c->st = setupFor(p, dir, flags);
  const std::string cpWhy = c->st.why.empty() ? limits(p, dir, c->st) : c->st.why;
  c->cpOk = cpWhy.empty();
  if (c->cpOk) {
    c->plan = makePlan(p, dir, c->st, flags);
    c->wl = wsLayout(p, c->st, c->plan);
  }
  c->use = pickTmaFresh(p, dir, flags, &c->staging);
  c->why = c->cpOk || c->use != TmaUse::None ? std::string() : cpWhy;
  switch (c->use) {
  case TmaUse::InPlace: c->workspace = tmaWorkspace(p, dir, flags), c->ms = tmaEstimateMs(p, dir, flags); break;
  case TmaUse::Staged:
    c->workspace = c->staging.total(), c->ms = tmaEstimateMs(c->staging.p, dir, flags) + stagingMs(c->staging);
    break;
  default: c->workspace = c->cpOk ? c->wl.total : 0, c->ms = cpAsyncEstimateMs(p, dir, flags);
  }
  // Few input channels: the same paths on tap-packed copies (conv_tc_tap_pack.cu). The unpacked plans ran
  // 1.4-2.4x their model on such layers (H200, v13: resnet50.conv1 fp16 0.40 ms against 0.168), so
  // they count at 2x against it. LAMINA_TC_PACK=1 packs wherever it applies, 0 never (tests, measuring).
  const int packing = tapPackForcing();
  if (dir == Dir::Forward && (flags & kStage) && packing != 0) {
    TapPack t = tapPackFor(p, ConvDirection::Forward);
    if (t.why.empty()) {
      std::shared_ptr<const ConvChoice> child = choiceFor(t.q, dir, flags);
      const double ms = child->ms + tapPackMs(p, t);
      if (child->why.empty() && (!c->why.empty() || packing > 0 || ms < 2.0 * c->ms)) {
        c->why.clear();
        c->ms = ms;
        c->workspace = t.xBytes + t.wBytes + child->workspace + 256;
        c->pack = std::make_shared<const TapPack>(std::move(t));
        c->packed = std::move(child);
      }
    }
  }
  return c;
}

std::shared_ptr<const ConvChoice> choiceFor(const ConvProblem &p, Dir dir, unsigned flags) {
  static PlanMemo<std::shared_ptr<const ConvChoice>> memo;
  return memo.get(planKey(p, dir, flags), [&] { return choiceFresh(p, dir, flags); });
}
} // namespace

void preloadKernels() {
  probeWgmma();
  if (wgmmaReady())
    preloadTmaKernels();
  preloadT<__half>();
  preloadT<__nv_bfloat16>();
  preloadT<float>();
  preloadBwdFilterKernels();
  preloadTapPackKernels();
}

PlanKey planKey(const ConvProblem &p, Dir dir, unsigned flags) {
  int dev = 0;
  (void)cudaGetDevice(&dev);
  return PlanKey(p, int(dir), flags, dev);
}

// Applies when the cp.async plan or the TMA path does.
std::string whyNotConv(const ConvProblem &p, Dir dir, unsigned flags) { return choiceFor(p, dir, flags)->why; }

size_t convWorkspace(const ConvProblem &p, Dir dir, unsigned flags) { return choiceFor(p, dir, flags)->workspace; }

double convEstimateMs(const ConvProblem &p, Dir dir, unsigned flags) { return choiceFor(p, dir, flags)->ms; }

std::string convPathName(const ConvProblem &p, Dir dir, unsigned flags) {
  const std::shared_ptr<const ConvChoice> c = choiceFor(p, dir, flags);
  if (!c->why.empty())
    return {};
  if (c->pack)
    return "packed " + convPathName(c->pack->q, dir, flags);
  const char *name = c->use == TmaUse::InPlace ? "tma" : c->use == TmaUse::Staged ? "tma staged" : "cp.async";
  const double tma = whyNotTma(p, dir).empty() ? tmaEstimateMs(p, dir, flags) : c->use == TmaUse::Staged ? c->ms : NAN;
  const double cp = c->cpOk ? cpAsyncEstimateMs(p, dir, flags) : NAN;
  char b[96];
  std::snprintf(b, sizeof b, "%s (tma %.3g, cp.async %.3g ms)", name, tma, cp);
  return b;
}

namespace {
// Copies the operands t names into the workspace and runs the TMA path on them; false when the
// workspace is too small or the TMA path declines (nothing launched but the copies, which are harmless).
bool runTmaStaged(const ConvArgs &a, Dir dir, unsigned flags, const TmaStaging &t) {
  if (a.workspaceBytes < t.total())
    return false;
  const ConvProblem &p = *a.p;
  const ConvGeom g = makeConvGeom(p);
  const bool fwd = dir == Dir::Forward;
  char *ws = alignedWorkspace(a.workspace);
  const cudaStream_t stream = streamOf(*a.handle);
  ConvArgs b = a;
  b.p = &t.p;
  withTcType(p.dataType, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (t.src) {
      stage<T>(fwd ? a.x : a.dy, t.srcShape, ws, stream);
      (fwd ? b.x : b.dy) = ws;
    }
    if (t.w) {
      stage<T>(static_cast<const T *>(a.w) + g.wOff, t.wShape, ws + t.srcBytes, stream);
      b.w = ws + t.srcBytes;
    }
  });
  b.workspace = ws + t.srcBytes + t.wBytes, b.workspaceBytes = t.splitBytes;
  return runTma(b, dir, flags);
}

// Runs a's problem as c (its choice) plans it; the packed problem's choice is at hand, not looked up again.
bool runChoice(const ConvArgs &a, Dir dir, unsigned flags, const ConvChoice &c) {
  const ConvProblem &p = *a.p;
  if (c.pack) { // x' and w' at the workspace's start, the packed problem's own workspace after them
    if (a.workspaceBytes < c.workspace)
      return false;
    const TapPack &t = *c.pack;
    char *ws = alignedWorkspace(a.workspace);
    runTapPack(a, t, ws, streamOf(*a.handle));
    ConvArgs b = a;
    b.p = &t.q, b.x = ws, b.w = ws + t.xBytes;
    b.workspace = ws + t.xBytes + t.wBytes, b.workspaceBytes = c.packed->workspace;
    return runChoice(b, dir, flags, *c.packed);
  }
  if (c.use == TmaUse::InPlace && runTma(a, dir, flags))
    return true;
  if (c.use == TmaUse::Staged && runTmaStaged(a, dir, flags, c.staging))
    return true;
  if (!c.cpOk)
    return false; // only the TMA path applied
  const ConvGeom g = makeConvGeom(p);
  const Setup &st = c.st;
  const int esize = st.ti.esize;
  const bool fwd = dir == Dir::Forward;
  const void *src = fwd ? a.x : a.dy;
  const void *wp = static_cast<const char *>(a.w) + g.wOff * esize;
  void *dst = fwd ? a.y : a.dx;
  if ((!st.stageSrc && !aligned16(src)) || (!st.stageW && !aligned16(wp)))
    return false;
  const Plan &pl = c.plan;
  const WsLayout &wl = c.wl;
  if (a.workspaceBytes < wl.total)
    return false; // the caller's fallback runs without it
  char *ws = alignedWorkspace(a.workspace);
  const cudaStream_t stream = streamOf(*a.handle);

  Params prm{};
  const int64_t *ss = fwd ? g.xs : g.ys, *ds = fwd ? g.ys : g.xs;
  for (int i = 0; i < 5; ++i)
    prm.ss[i] = ss[i], prm.ws[i] = g.ws[i], prm.ds[i] = ds[i];
  prm.src = src, prm.w = wp, prm.dst = dst;
  if (st.stageSrc) { // packed [n][s0][s1][s2][cPad]
    const StageShape &sh = st.srcShape;
    withTcType(p.dataType, [&](auto tag) { stage<typename decltype(tag)::type>(src, sh, ws + wl.src, stream); });
    prm.src = ws + wl.src;
    sh.packedStrides(prm.ss);
  }
  if (st.stageW) { // packed [k][f0][f1][f2][cPad], the flip already applied
    const StageShape &sh = st.wShape;
    withTcType(p.dataType, [&](auto tag) { stage<typename decltype(tag)::type>(wp, sh, ws + wl.w, stream); });
    prm.w = ws + wl.w;
    sh.packedStrides(prm.ws);
  }
  prm.N = int(g.N), prm.G = int(g.G);
  prm.RC = int(st.RC), prm.NC = int(st.NC), prm.Kw = int(g.Kg);
  prm.kChunks = int(ceilDiv(prm.RC, st.ti.bk));
  prm.tps = st.tps;
  for (int s = 0; s < 3; ++s) {
    prm.srcExt[s] = int(fwd ? g.in[s] : g.out[s]);
    prm.filt[s] = int(g.filt[s]), prm.pad[s] = int(g.pad[s]), prm.str[s] = int(g.str[s]), prm.dil[s] = int(g.dil[s]);
    prm.rows[s] = int(fwd ? g.out[s] : g.in[s]);
    prm.phases[s] = fwd ? 1 : int(g.str[s]);
  }
  prm.tilesM = int(pl.tilesM);
  prm.splits = pl.splits, prm.itersPerSplit = pl.itersPerSplit;
  prm.M = pl.M;
  prm.alpha = float(a.alpha), prm.beta = float(a.beta);
  prm.vec2 = ds[1] == 1 && (reinterpret_cast<uintptr_t>(dst) & uintptr_t(2 * esize - 1)) == 0;
  if (pl.splits > 1)
    prm.partial = reinterpret_cast<float *>(ws + wl.partial);
  if (pl.tilesM * pl.tilesN == 0 || g.N == 0)
    return true;
  const dim3 grid(unsigned(pl.tilesM * pl.tilesN), unsigned(pl.phases), unsigned(p.G * pl.splits));
  withTcType(p.dataType, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (fwd) {
      launchTile<T, false>(pl.tile, prm, grid, stream);
      if (pl.splits > 1) {
        const int64_t items = pl.M * prm.NC * p.G;
        reduceSplits<T><<<gridFor(items), kBlock, 0, stream>>>(prm);
        LAMINA_CUDA_LAUNCHED();
      }
    } else {
      launchTile<T, true>(pl.tile, prm, grid, stream);
    }
  });
  return true;
}

} // namespace

bool runConv(const ConvArgs &a, Dir dir, unsigned flags) {
  return runChoice(a, dir, flags, *choiceFor(*a.p, dir, flags));
}

} // namespace lamina::cuda::tc
