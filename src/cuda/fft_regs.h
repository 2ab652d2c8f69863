// Radix-2 FFTs on register arrays for the fused FFT transforms (conv_fft_fused.cu): the building blocks
// of a square power-of-two real 2-D transform, each the work of one thread. Host-callable too, so the
// unit test (tests/unit_fft_regs.cpp) checks them against a plain DFT without a GPU.
#pragma once

#include <vector_types.h>

#if defined(__CUDACC__)
#define LAMINA_HD __host__ __device__ __forceinline__
#else
#define LAMINA_HD inline
#endif
#if defined(__CUDA_ARCH__)
#define LAMINA_UNROLL _Pragma("unroll")
#else
#define LAMINA_UNROLL
#endif

namespace lamina::cuda::fft {

LAMINA_HD float2 mkf2(float x, float y) {
  float2 r;
  r.x = x, r.y = y;
  return r;
}

template <int N> LAMINA_HD constexpr int bitRev(int i) {
  int r = 0;
  for (int b = 1; b < N; b <<= 1, i >>= 1)
    r = (r << 1) | (i & 1);
  return r;
}

LAMINA_HD float2 cmul(float2 a, float2 b) { return mkf2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }

// In-place N-point FFT of z (forward: e^(-2 pi i nk/N); INV: e^(+...), unnormalised); tw[k] =
// e^(-2 pi i k / TW), TW a multiple of N.
template <int N, int TW, bool INV> LAMINA_HD void fftRegs(float2 (&z)[N], const float2 *tw) {
  float2 t[N];
  LAMINA_UNROLL
  for (int i = 0; i < N; ++i)
    t[i] = z[bitRev<N>(i)];
  LAMINA_UNROLL
  for (int s = 1; (1 << s) <= N; ++s) {
    LAMINA_UNROLL
    for (int b = 0; b < N / 2; ++b) {
      const int half = 1 << (s - 1), j = b % half, k = b / half * 2 * half;
      const float2 a = t[k + j];
      float2 c = t[k + j + half];
      if (j != 0) {
        float2 w = tw[j * (TW / (2 * half))];
        if (INV)
          w.y = -w.y;
        c = cmul(c, w);
      }
      t[k + j] = mkf2(a.x + c.x, a.y + c.y);
      t[k + j + half] = mkf2(a.x - c.x, a.y - c.y);
    }
  }
  LAMINA_UNROLL
  for (int i = 0; i < N; ++i)
    z[i] = t[i];
}

// One row, forward: n < L/2 holds (x[2n], x[2n + 1]) in (re, im); k <= L/2 gets the real row's half
// spectrum.
template <int L> LAMINA_HD void rowForward(float *re, float *im, const float2 *tw) {
  constexpr int H2 = L / 2;
  float2 z[H2];
  LAMINA_UNROLL
  for (int n = 0; n < H2; ++n)
    z[n] = mkf2(re[n], im[n]);
  fftRegs<H2, L, false>(z, tw);
  LAMINA_UNROLL
  for (int k = 0; k <= H2; ++k) {
    const float2 zk = z[k % H2], zc = z[(H2 - k) % H2]; // conj(zc) taken below
    const float2 e = mkf2(0.5f * (zk.x + zc.x), 0.5f * (zk.y - zc.y));
    float2 o = mkf2(0.5f * (zk.y + zc.y), -0.5f * (zk.x - zc.x));
    if (k != 0)
      o = cmul(o, tw[k]);
    re[k] = e.x + o.x, im[k] = e.y + o.y;
  }
}

// One row, inverse: k <= L/2 holds the half spectrum; n < L/2 gets (y[2n], y[2n + 1]), unnormalised.
// The half spectrum's self-conjugate ends (k = 0, L/2) count by their real parts, as C2R takes them.
template <int L> LAMINA_HD void rowInverse(float *re, float *im, const float2 *tw) {
  constexpr int H2 = L / 2;
  float2 z[H2];
  LAMINA_UNROLL
  for (int k = 0; k < H2; ++k) {
    float2 a = mkf2(re[k], im[k]), b = mkf2(re[H2 - k], -im[H2 - k]);
    if (k == 0)
      a.y = 0.f, b.y = 0.f;
    const float2 e = mkf2(a.x + b.x, a.y + b.y);
    float2 o = mkf2(a.x - b.x, a.y - b.y);
    if (k != 0)
      o = cmul(o, mkf2(tw[k].x, -tw[k].y));
    z[k] = mkf2(e.x - o.y, e.y + o.x);
  }
  fftRegs<H2, L, true>(z, tw);
  LAMINA_UNROLL
  for (int n = 0; n < H2; ++n)
    re[n] = z[n].x, im[n] = z[n].y;
}

// One column of L points at a stride, in place.
template <int L, bool INV> LAMINA_HD void column(float *re, float *im, int stride, const float2 *tw) {
  float2 z[L];
  LAMINA_UNROLL
  for (int u = 0; u < L; ++u)
    z[u] = mkf2(re[u * stride], im[u * stride]);
  fftRegs<L, L, INV>(z, tw);
  LAMINA_UNROLL
  for (int u = 0; u < L; ++u)
    re[u * stride] = z[u].x, im[u * stride] = z[u].y;
}

} // namespace lamina::cuda::fft
