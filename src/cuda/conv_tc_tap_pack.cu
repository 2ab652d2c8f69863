// Tap packing for the tensor-core paths: few input channels (C = 1 or 3: the first layer of a network)
// padded to a 16-byte chunk per tap waste most of each slice (resnet50.conv1 fp16: C = 3 padded to 8 over
// 49 taps, 392 reduction elements for 147 real ones; the cp.async plan ran 2.4x its model there, its
// packed-tap loader decoding 4 taps a slice). Packing the innermost filter dim into the channels instead,
//
//   x'[n][i0][i1][q][s*C + c] = x[n][c][i0][i1][q*str - pad + s*dil]   (zero outside x and past S*C)
//   w'[k][f0][f1][0][s*C + c] = w[k][c][f0][f1][s]
//
// turns the convolution into one with filter F0 x F1 x 1, stride and padding 1 and 0 along the packed
// dim, input width Q (= the output's) and C' = S*C channels rounded up to a chunk or a 64-byte slice:
// 7 x 32 = 224 reduction elements for resnet50.conv1, read in place (NHWC-packed, so the TMA path
// applies). One launch copies both operands into the workspace; x' costs Q*C' / (W*C) of x's bytes.
#include "cuda/conv_tc.h"
#include "cuda/conv_tc_common.cuh"
#include "cuda/conv_tc_stage.cuh"

#include "core/conv_geom.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace lamina::cuda::tc {
namespace {

// One packed operand: dst[n][d0][d1][q][cPad] from src (strides n, c, spatial 0..2 as ConvGeom's).
// Source position along the packed dim: q*str - pad + s*dil, read when in [0, inW).
struct PackSide {
  int64_t s[5];
  int64_t n, d0, d1, q;
  int64_t str, pad, dil, inW;
  int64_t pixels;             // n * d0 * d1 * q
  FastDiv divQ, divD1, divD0; // when every pixel index is below 2^31
};
struct PackArgs {
  PackSide x, w;
  int C, SC, cPad; // channels, S * C (the real packed channels), padded
  bool fast;       // FastDiv decodes (x's and w's pixels below 2^31)
};

// A thread per packed pixel, its cPad channels as 16-byte chunks: j = s*C + c walks the window of
// S taps, contiguous in x for NHWC-style strides.
template <class T>
__global__ void packTaps(const T *__restrict__ x, const T *__restrict__ w, PackArgs a, T *__restrict__ dx,
                         T *__restrict__ dw) {
  constexpr int EPC = 16 / int(sizeof(T));
  LAMINA_GRID_STRIDE_LOOP(i, a.x.pixels + a.w.pixels) {
    const bool isX = i < a.x.pixels;
    const PackSide &sd = isX ? a.x : a.w;
    const int64_t pix = isX ? i : i - a.x.pixels;
    int64_t q, d1, d0, n;
    if (a.fast) {
      uint32_t t = uint32_t(pix), u = sd.divQ.div(t);
      q = t - u * uint32_t(sd.q), t = u, u = sd.divD1.div(t);
      d1 = t - u * uint32_t(sd.d1), t = u, u = sd.divD0.div(t);
      d0 = t - u * uint32_t(sd.d0), n = u;
    } else {
      int64_t t = pix;
      q = t % sd.q, t /= sd.q;
      d1 = t % sd.d1, t /= sd.d1;
      d0 = t % sd.d0, n = t / sd.d0;
    }
    const T *at = (isX ? x : w) + n * sd.s[0] + d0 * sd.s[2] + d1 * sd.s[3];
    const int64_t pos0 = q * sd.str - sd.pad;
    uint4 *out = reinterpret_cast<uint4 *>((isX ? dx : dw) + pix * a.cPad);
    int s = 0, c = 0;
    for (int j0 = 0; j0 < a.cPad; j0 += EPC) {
      alignas(16) T v[EPC];
#pragma unroll
      for (int k = 0; k < EPC; ++k) {
        const int64_t pos = pos0 + int64_t(s) * sd.dil;
        v[k] =
            j0 + k < a.SC && pos >= 0 && pos < sd.inW ? stagedValue(at[c * sd.s[1] + pos * sd.s[4]]) : fromAcc<T>(0.f);
        if (++c == a.C)
          c = 0, ++s;
      }
      out[j0 / EPC] = *reinterpret_cast<const uint4 *>(v);
    }
  }
}

} // namespace

int tapPackForcing() {
  const char *e = std::getenv("LAMINA_TC_PACK");
  return !e || !*e ? -1 : std::strcmp(e, "0") == 0 ? 0 : 1;
}

TapPack tapPackFor(const ConvProblem &p, ConvDirection dir) {
  TapPack t;
  const bool fwd = dir == ConvDirection::Forward;
  if (dir == ConvDirection::BackwardData) {
    t.why = "tap packing: forward and backward-filter only";
    return t;
  }
  const bool tcType =
      p.dataType == LAMINA_DATA_HALF || p.dataType == LAMINA_DATA_BFLOAT16 || p.dataType == LAMINA_DATA_FLOAT;
  if (!tcType || p.math != LAMINA_TENSOR_OP_MATH || p.G != 1) {
    t.why = "tap packing: ungrouped tensor-core convolutions only";
    return t;
  }
  const int j = p.spatialDims - 1; // the packed (innermost) spatial dim
  const int64_t es = p.dataType == LAMINA_DATA_FLOAT ? 4 : 2, epc = 16 / es, bk = 64 / es;
  const int64_t S = p.filt[j], C = p.C, SC = S * C;
  if (S < 2 || p.N == 0 || p.K == 0 || C == 0) {
    t.why = "tap packing: a filter of one tap along the innermost dim";
    return t;
  }
  // Several packed pixels per slice when they fit a chunk or two (the cp.async plan's taps per slice),
  // else whole 64-byte slices; taken where the reduction shrinks by 1.5x or more.
  const int64_t cPad = SC <= epc ? epc : SC <= 2 * epc ? 2 * epc : (SC + bk - 1) / bk * bk;
  const int64_t rest = p.filtSize() / S;
  if (cPad > 4096) {
    t.why = "tap packing: more than 4096 packed channels";
    return t;
  }
  if (p.filtSize() * ((C + epc - 1) / epc * epc) * 2 < rest * cPad * 3) {
    t.why = "tap packing: saves less than a third of the reduction";
    return t;
  }
  t.cPad = cPad;
  ConvProblem &q = t.q;
  q = p;
  q.C = cPad;
  q.in[j] = p.out[j], q.filt[j] = 1, q.pad[j] = 0, q.stride[j] = 1, q.dil[j] = 1;
  q.flip = false;
  q.x.dims[1] = cPad;
  for (int i = 0; i < p.spatialDims; ++i)
    q.x.dims[2 + i] = q.in[i];
  packedChannelsLast(p.spatialDims, q.in, cPad, q.x.strides);
  // The filter as [K][f...][cPad] (KRSC-style strides; the format only keys plan memos past descriptors).
  q.w.format = LAMINA_TENSOR_NHWC;
  q.w.dims[1] = cPad;
  for (int i = 0; i < p.spatialDims; ++i)
    q.w.dims[2 + i] = q.filt[i];
  packedChannelsLast(p.spatialDims, q.filt, cPad, q.w.strides);
  t.xBytes = alignUp(size_t(q.x.numel()) * size_t(es));
  t.wBytes = alignUp(size_t(q.w.numel()) * size_t(es));
  t.packW = fwd;
  return t;
}

double tapPackMs(const ConvProblem &p, const TapPack &t) {
  // Forward: one launch packing x and w. Backward-filter: x's packing, then dw' unpacked into dw.
  const double es = p.dataType == LAMINA_DATA_FLOAT ? 4 : 2;
  return (double(p.x.numel()) * es + double(t.xBytes) + 2.0 * double(t.wBytes)) / 2.5e9 + (t.packW ? 0.004 : 0.008);
}

void runTapPack(const ConvArgs &a, const TapPack &t, void *ws, cudaStream_t stream) {
  const ConvProblem &p = *a.p;
  const ConvGeom g = makeConvGeom(p);
  PackArgs pa{};
  pa.C = int(g.C), pa.SC = int(g.C * g.filt[2]), pa.cPad = int(t.cPad);
  PackSide &x = pa.x;
  for (int i = 0; i < 5; ++i)
    x.s[i] = g.xs[i];
  x.n = g.N, x.d0 = g.in[0], x.d1 = g.in[1], x.q = g.out[2];
  x.str = g.str[2], x.pad = g.pad[2], x.dil = g.dil[2], x.inW = g.in[2];
  PackSide &w = pa.w;
  w.n = 1, w.d0 = 1, w.d1 = 1, w.q = 1;
  if (t.packW) {
    for (int i = 0; i < 5; ++i)
      w.s[i] = g.ws[i];
    w.n = g.K, w.d0 = g.filt[0], w.d1 = g.filt[1];
    w.str = 0, w.pad = 0, w.dil = 1, w.inW = g.filt[2];
  }
  x.pixels = x.n * x.d0 * x.d1 * x.q, w.pixels = t.packW ? w.n * w.d0 * w.d1 : 0;
  pa.fast = x.pixels < INT32_MAX && w.pixels < INT32_MAX;
  for (PackSide *sd : {&x, &w})
    if (pa.fast)
      sd->divQ = FastDiv(uint32_t(sd->q)), sd->divD1 = FastDiv(uint32_t(sd->d1)), sd->divD0 = FastDiv(uint32_t(sd->d0));
  char *dst = static_cast<char *>(ws);
  withTcType(p.dataType, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T *wp = t.packW ? static_cast<const T *>(a.w) + g.wOff : nullptr;
    packTaps<T><<<gridFor(x.pixels + w.pixels), kBlock, 0, stream>>>(
        static_cast<const T *>(a.x), wp, pa, reinterpret_cast<T *>(dst), reinterpret_cast<T *>(dst + t.xBytes));
    LAMINA_CUDA_LAUNCHED();
  });
}

namespace {
// dw[k][c][f0][f1][s] (through ConvGeom's strides, the flip folded) = alpha * dw'[k][f0][f1][s*C + c]
// + beta * dw; dw unread when beta is 0. A thread per element of dw.
struct UnpackArgs {
  int64_t ws[5], K, F0, F1, S, C, cPad;
  float alpha, beta;
};
template <class T> __global__ void unpackTaps(const T *__restrict__ packed, UnpackArgs u, T *__restrict__ dw) {
  LAMINA_GRID_STRIDE_LOOP(i, u.K * u.C * u.F0 * u.F1 * u.S) {
    int64_t t = i;
    const int64_t s = t % u.S;
    t /= u.S;
    const int64_t c = t % u.C;
    t /= u.C;
    const int64_t f1 = t % u.F1;
    t /= u.F1;
    const int64_t f0 = t % u.F0, k = t / u.F0;
    const float v = toAcc(packed[((k * u.F0 + f0) * u.F1 + f1) * u.cPad + s * u.C + c]);
    T *out = dw + k * u.ws[0] + c * u.ws[1] + f0 * u.ws[2] + f1 * u.ws[3] + s * u.ws[4];
    *out = fromAcc<T>(u.beta != 0.f ? u.alpha * v + u.beta * toAcc(*out) : u.alpha * v);
  }
}
} // namespace

void runTapUnpack(const ConvArgs &a, const TapPack &t, const void *packed, cudaStream_t stream) {
  const ConvProblem &p = *a.p;
  const ConvGeom g = makeConvGeom(p);
  UnpackArgs u{};
  for (int i = 0; i < 5; ++i)
    u.ws[i] = g.ws[i];
  u.K = g.K, u.F0 = g.filt[0], u.F1 = g.filt[1], u.S = g.filt[2], u.C = g.C, u.cPad = t.cPad;
  u.alpha = float(a.alpha), u.beta = float(a.beta);
  const int64_t n = u.K * u.C * u.F0 * u.F1 * u.S;
  withTcType(p.dataType, [&](auto tag) {
    using T = typename decltype(tag)::type;
    unpackTaps<T>
        <<<gridFor(n), kBlock, 0, stream>>>(static_cast<const T *>(packed), u, static_cast<T *>(a.dw) + g.wOff);
    LAMINA_CUDA_LAUNCHED();
  });
}

void preloadTapPackKernels() {
  preloadKernel(unpackTaps<__half>);
  preloadKernel(unpackTaps<__nv_bfloat16>);
  preloadKernel(unpackTaps<float>);
  cudaFuncAttributes attr;
  LAMINA_CUDA_CALL(cudaFuncGetAttributes(&attr, packTaps<__half>));
  LAMINA_CUDA_CALL(cudaFuncGetAttributes(&attr, packTaps<__nv_bfloat16>));
  LAMINA_CUDA_CALL(cudaFuncGetAttributes(&attr, packTaps<float>));
}

} // namespace lamina::cuda::tc
