// The fused FFT transforms' per-thread building blocks (src/cuda/fft_regs.h), run on the host against
// a plain fp64 DFT: a real L x L plane through rows then columns (forward), and back (inverse,
// unnormalised), for every plane size the GPU kernels take.
#include "cuda/fft_regs.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <complex>
#include <random>
#include <vector>

namespace {
using namespace lamina::cuda::fft;

// tw[k] = e^(-2 pi i k / L), as the kernels' shared table holds it.
template <int L> std::array<float2, L> twiddles() {
  std::array<float2, L> tw;
  for (int k = 0; k < L; ++k)
    tw[k] = mkf2(float(std::cos(2 * M_PI * k / L)), float(-std::sin(2 * M_PI * k / L)));
  return tw;
}

template <int L> void checkPlane() {
  constexpr int Fw = L / 2 + 1;
  const std::array<float2, L> tw = twiddles<L>();
  std::mt19937 rng(L);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<double> x(L * L);
  for (double &v : x)
    v = dist(rng);
  // Row i holds (x[i][2n], x[i][2n + 1]) at n < L/2, as the kernel loads it.
  std::vector<float> re(L * Fw), im(L * Fw);
  for (int i = 0; i < L; ++i)
    for (int n = 0; n < L / 2; ++n)
      re[i * Fw + n] = float(x[i * L + 2 * n]), im[i * Fw + n] = float(x[i * L + 2 * n + 1]);
  for (int i = 0; i < L; ++i)
    rowForward<L>(&re[i * Fw], &im[i * Fw], tw.data());
  for (int v = 0; v < Fw; ++v)
    column<L, false>(&re[v], &im[v], Fw, tw.data());
  // |X| is up to ~L; float rounding over log2(L) stages stays far below 1e-5 * L.
  for (int u = 0; u < L; ++u)
    for (int v = 0; v < Fw; ++v) {
      std::complex<double> s = 0;
      for (int i = 0; i < L; ++i)
        for (int j = 0; j < L; ++j)
          s += x[i * L + j] * std::polar(1.0, -2 * M_PI * double((u * i + v * j) % L) / L);
      ASSERT_NEAR(re[u * Fw + v], s.real(), 1e-5 * L) << "L " << L << " u " << u << " v " << v;
      ASSERT_NEAR(im[u * Fw + v], s.imag(), 1e-5 * L) << "L " << L << " u " << u << " v " << v;
    }
  for (int v = 0; v < Fw; ++v)
    column<L, true>(&re[v], &im[v], Fw, tw.data());
  for (int i = 0; i < L; ++i)
    rowInverse<L>(&re[i * Fw], &im[i * Fw], tw.data());
  for (int i = 0; i < L; ++i)
    for (int j = 0; j < L; ++j) {
      const float y = j % 2 ? im[i * Fw + j / 2] : re[i * Fw + j / 2];
      ASSERT_NEAR(y / double(L * L), x[i * L + j], 1e-6) << "L " << L << " i " << i << " j " << j;
    }
}

TEST(FftRegs, PlaneRoundTrip16) { checkPlane<16>(); }
TEST(FftRegs, PlaneRoundTrip32) { checkPlane<32>(); }
TEST(FftRegs, PlaneRoundTrip64) { checkPlane<64>(); }

// The inverse takes the self-conjugate ends (k = 0, L/2) by their real parts, as C2R transforms do.
TEST(FftRegs, InverseIgnoresImaginaryEnds) {
  constexpr int L = 16, Fw = L / 2 + 1;
  const std::array<float2, L> tw = twiddles<L>();
  float re[Fw] = {}, im[Fw] = {}, re2[Fw] = {}, im2[Fw] = {};
  for (int k = 0; k < Fw; ++k)
    re[k] = re2[k] = float(k + 1), im[k] = im2[k] = float(k % 3);
  im2[0] = 5.f, im2[L / 2] = -7.f;
  im[0] = 0.f, im[L / 2] = 0.f;
  rowInverse<L>(re, im, tw.data());
  rowInverse<L>(re2, im2, tw.data());
  for (int n = 0; n < L / 2; ++n) {
    EXPECT_FLOAT_EQ(re[n], re2[n]);
    EXPECT_FLOAT_EQ(im[n], im2[n]);
  }
}
} // namespace
