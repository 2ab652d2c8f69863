// Convolution algorithm selection (Get by preference, heuristics, Find, Find-Ex, workspace sizes)
// and bad input for every convolution entry point: specific status and a message naming the argument.
#include "test_conv_common.h"

#include <algorithm>

namespace {

const laminaDataType_t F = LAMINA_DATA_FLOAT;

lt::ref::ConvSpec smallSpec() {
  lt::ref::ConvSpec s;
  s.N = 2, s.C = 4, s.K = 6, s.in[0] = 9, s.in[1] = 8, s.filt[0] = 3, s.filt[1] = 3, s.pad[0] = 1, s.pad[1] = 1;
  return s;
}

// ---------------------------------------------------------------- selection

TEST(ConvSelect, MaxCounts) {
  LT_HANDLE_OR_SKIP(h);
  int n = 0;
  LAMINA_ASSERT_OK(laminaGetConvolutionForwardAlgorithmMaxCount(h, &n));
  EXPECT_EQ(n, LAMINA_CONVOLUTION_FWD_ALGO_COUNT);
  LAMINA_ASSERT_OK(laminaGetConvolutionBackwardDataAlgorithmMaxCount(h, &n));
  EXPECT_EQ(n, LAMINA_CONVOLUTION_BWD_DATA_ALGO_COUNT);
  LAMINA_ASSERT_OK(laminaGetConvolutionBackwardFilterAlgorithmMaxCount(h, &n));
  EXPECT_EQ(n, LAMINA_CONVOLUTION_BWD_FILTER_ALGO_COUNT);
  LAMINA_EXPECT_STATUS(laminaGetConvolutionForwardAlgorithmMaxCount(h, nullptr), LAMINA_STATUS_NULL_POINTER, "count");
  LAMINA_EXPECT_STATUS(laminaGetConvolutionBackwardDataAlgorithmMaxCount(nullptr, &n), LAMINA_STATUS_NULL_POINTER,
                       "handle");
  LAMINA_EXPECT_STATUS(laminaGetConvolutionBackwardFilterAlgorithmMaxCount(h, nullptr), LAMINA_STATUS_NULL_POINTER,
                       "count");
}

// Checks a ranked list: every value once, applicable ones first, time -1 for heuristics.
template <class Perf> void checkRanking(const Perf *perf, int n, int count, bool measured) {
  EXPECT_EQ(n, count);
  std::vector<int> seen;
  bool sawUnsupported = false;
  float lastTime = -1;
  for (int i = 0; i < n; ++i) {
    seen.push_back(int(perf[i].algo));
    if (perf[i].status == LAMINA_STATUS_SUCCESS) {
      EXPECT_FALSE(sawUnsupported) << "applicable algorithm ranked after an inapplicable one";
      if (measured) {
        EXPECT_GE(perf[i].time, lastTime) << "Find results not sorted by time";
        lastTime = perf[i].time;
      } else {
        EXPECT_EQ(perf[i].time, -1.f);
      }
    } else {
      sawUnsupported = true;
      EXPECT_EQ(perf[i].time, -1.f);
    }
  }
  std::sort(seen.begin(), seen.end());
  for (int i = 0; i < n; ++i)
    EXPECT_EQ(seen[size_t(i)], i);
}

TEST(ConvSelect, ForwardGetHeuristicsFind) {
  LT_HANDLE_OR_SKIP(h);
  auto s = smallSpec();
  ct::Setup st(s, F, lt::Layout::NCHW);
  // Heuristics: ranked, applicable first, FFT_TILING and fused Winograd not supported; WINOGRAD_NONFUSED
  // applies to this 3x3 stride-1 problem (and FFT on CUDA only).
  laminaConvolutionFwdAlgoPerf_t perf[8];
  int n = 0;
  LAMINA_ASSERT_OK(laminaGetConvolutionForwardAlgorithmHeuristics(h, *st.x, *st.w, st.conv, *st.y, 8, &n, perf));
  checkRanking(perf, n, LAMINA_CONVOLUTION_FWD_ALGO_COUNT, false);
  for (int i = 0; i < n; ++i)
    if (perf[i].algo == LAMINA_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED)
      EXPECT_EQ(perf[i].status, LAMINA_STATUS_SUCCESS);
    else if (perf[i].algo >= LAMINA_CONVOLUTION_FWD_ALGO_FFT_TILING)
      EXPECT_EQ(perf[i].status, LAMINA_STATUS_NOT_SUPPORTED);
  // Fewer requested than exist.
  LAMINA_ASSERT_OK(laminaGetConvolutionForwardAlgorithmHeuristics(h, *st.x, *st.w, st.conv, *st.y, 2, &n, perf));
  EXPECT_EQ(n, 2);
  // Get by preference: applicable and obeying the limit; PREFER_FASTEST is the heuristic's first.
  laminaConvolutionFwdAlgo_t algo;
  LAMINA_ASSERT_OK(laminaGetConvolutionForwardAlgorithmHeuristics(h, *st.x, *st.w, st.conv, *st.y, 8, &n, perf));
  LAMINA_ASSERT_OK(laminaGetConvolutionForwardAlgorithm(h, *st.x, *st.w, st.conv, *st.y,
                                                        LAMINA_CONVOLUTION_PREFER_FASTEST, 0, &algo));
  EXPECT_EQ(algo, perf[0].algo);
  size_t ws = 1;
  LAMINA_ASSERT_OK(laminaGetConvolutionForwardAlgorithm(h, *st.x, *st.w, st.conv, *st.y,
                                                        LAMINA_CONVOLUTION_NO_WORKSPACE, 12345, &algo));
  LAMINA_ASSERT_OK(laminaGetConvolutionForwardWorkspaceSize(h, *st.x, *st.w, st.conv, *st.y, algo, &ws));
  EXPECT_EQ(ws, 0u);
  size_t precompWs = 0, gemmWs = 0;
  LAMINA_ASSERT_OK(laminaGetConvolutionForwardWorkspaceSize(
      h, *st.x, *st.w, st.conv, *st.y, LAMINA_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, &precompWs));
  LAMINA_ASSERT_OK(laminaGetConvolutionForwardWorkspaceSize(h, *st.x, *st.w, st.conv, *st.y,
                                                            LAMINA_CONVOLUTION_FWD_ALGO_GEMM, &gemmWs));
  EXPECT_GT(precompWs, 0u);
  EXPECT_GT(gemmWs, precompWs);
  for (size_t limit : {size_t(0), precompWs, gemmWs, gemmWs * 2}) {
    LAMINA_ASSERT_OK(laminaGetConvolutionForwardAlgorithm(h, *st.x, *st.w, st.conv, *st.y,
                                                          LAMINA_CONVOLUTION_SPECIFY_WORKSPACE_LIMIT, limit, &algo));
    LAMINA_ASSERT_OK(laminaGetConvolutionForwardWorkspaceSize(h, *st.x, *st.w, st.conv, *st.y, algo, &ws));
    EXPECT_LE(ws, limit);
  }
  // Find: measured, sorted, every value reported.
  LAMINA_ASSERT_OK(laminaFindConvolutionForwardAlgorithm(h, *st.x, *st.w, st.conv, *st.y, 8, &n, perf));
  checkRanking(perf, n, LAMINA_CONVOLUTION_FWD_ALGO_COUNT, true);
  EXPECT_GT(perf[0].time, 0.f);
  EXPECT_EQ(perf[0].status, LAMINA_STATUS_SUCCESS);
  // Find-Ex on the caller's buffers with a workspace too small for GEMM: GEMM reported as such.
  lt::Buffer xb(h, st.x->bytes(), F), wb(h, st.w->bytes(), F), yb(h, st.y->bytes(), F), wsb(h, precompWs, F);
  lt::upload(h, *st.x, lt::randomValues(st.x->numel(), 1, F), xb.p);
  lt::upload(h, *st.w, lt::randomValues(st.w->numel(), 2, F), wb.p);
  LAMINA_ASSERT_OK(laminaFindConvolutionForwardAlgorithmEx(h, *st.x, xb.p, *st.w, wb.p, st.conv, *st.y, yb.p, 8, &n,
                                                           perf, wsb.p, precompWs));
  checkRanking(perf, n, LAMINA_CONVOLUTION_FWD_ALGO_COUNT, true);
  bool gemmTooBig = false;
  for (int i = 0; i < n; ++i)
    if (perf[i].algo == LAMINA_CONVOLUTION_FWD_ALGO_GEMM)
      gemmTooBig = perf[i].status == LAMINA_STATUS_INSUFFICIENT_WORKSPACE;
  EXPECT_TRUE(gemmTooBig);
}

TEST(ConvSelect, BackwardGetHeuristicsFind) {
  LT_HANDLE_OR_SKIP(h);
  auto s = smallSpec();
  ct::Setup st(s, F, lt::Layout::NHWC);
  laminaConvolutionBwdDataAlgoPerf_t dp[8];
  laminaConvolutionBwdFilterAlgoPerf_t fp[8];
  int n = 0;
  LAMINA_ASSERT_OK(laminaGetConvolutionBackwardDataAlgorithmHeuristics(h, *st.w, *st.y, st.conv, *st.x, 8, &n, dp));
  checkRanking(dp, n, LAMINA_CONVOLUTION_BWD_DATA_ALGO_COUNT, false);
  LAMINA_ASSERT_OK(laminaFindConvolutionBackwardDataAlgorithm(h, *st.w, *st.y, st.conv, *st.x, 8, &n, dp));
  checkRanking(dp, n, LAMINA_CONVOLUTION_BWD_DATA_ALGO_COUNT, true);
  LAMINA_ASSERT_OK(laminaGetConvolutionBackwardFilterAlgorithmHeuristics(h, *st.x, *st.y, st.conv, *st.w, 8, &n, fp));
  checkRanking(fp, n, LAMINA_CONVOLUTION_BWD_FILTER_ALGO_COUNT, false);
  LAMINA_ASSERT_OK(laminaFindConvolutionBackwardFilterAlgorithm(h, *st.x, *st.y, st.conv, *st.w, 8, &n, fp));
  checkRanking(fp, n, LAMINA_CONVOLUTION_BWD_FILTER_ALGO_COUNT, true);

  laminaConvolutionBwdDataAlgo_t da;
  laminaConvolutionBwdFilterAlgo_t fa;
  size_t ws = 1;
  LAMINA_ASSERT_OK(laminaGetConvolutionBackwardDataAlgorithm(h, *st.w, *st.y, st.conv, *st.x,
                                                             LAMINA_CONVOLUTION_NO_WORKSPACE, 0, &da));
  LAMINA_ASSERT_OK(laminaGetConvolutionBackwardDataWorkspaceSize(h, *st.w, *st.y, st.conv, *st.x, da, &ws));
  EXPECT_EQ(ws, 0u);
  if (lt::testBackend() == LAMINA_BACKEND_CPU) // on the GPU DIRECT (also without workspace) may rank first
    EXPECT_EQ(da, LAMINA_CONVOLUTION_BWD_DATA_ALGO_IMPLICIT_GEMM);
  LAMINA_ASSERT_OK(laminaGetConvolutionBackwardFilterAlgorithm(h, *st.x, *st.y, st.conv, *st.w,
                                                               LAMINA_CONVOLUTION_NO_WORKSPACE, 0, &fa));
  LAMINA_ASSERT_OK(laminaGetConvolutionBackwardFilterWorkspaceSize(h, *st.x, *st.y, st.conv, *st.w, fa, &ws));
  EXPECT_EQ(ws, 0u);
  LAMINA_ASSERT_OK(laminaGetConvolutionBackwardDataAlgorithm(h, *st.w, *st.y, st.conv, *st.x,
                                                             LAMINA_CONVOLUTION_PREFER_FASTEST, 0, &da));
  LAMINA_ASSERT_OK(laminaGetConvolutionBackwardFilterAlgorithm(h, *st.x, *st.y, st.conv, *st.w,
                                                               LAMINA_CONVOLUTION_SPECIFY_WORKSPACE_LIMIT, 100, &fa));
  LAMINA_ASSERT_OK(laminaGetConvolutionBackwardFilterWorkspaceSize(h, *st.x, *st.y, st.conv, *st.w, fa, &ws));
  EXPECT_LE(ws, 100u);

  lt::Buffer xb(h, st.x->bytes(), F), wb(h, st.w->bytes(), F), yb(h, st.y->bytes(), F);
  lt::upload(h, *st.x, lt::randomValues(st.x->numel(), 1, F), xb.p);
  lt::upload(h, *st.w, lt::randomValues(st.w->numel(), 2, F), wb.p);
  lt::upload(h, *st.y, lt::randomValues(st.y->numel(), 3, F), yb.p);
  lt::Buffer big(h, 1 << 22, F);
  LAMINA_ASSERT_OK(laminaFindConvolutionBackwardDataAlgorithmEx(h, *st.w, wb.p, *st.y, yb.p, st.conv, *st.x, xb.p, 8,
                                                                &n, dp, big.p, big.bytes));
  checkRanking(dp, n, LAMINA_CONVOLUTION_BWD_DATA_ALGO_COUNT, true);
  EXPECT_EQ(dp[2].status, LAMINA_STATUS_SUCCESS); // all three CPU algorithms measured
  LAMINA_ASSERT_OK(laminaFindConvolutionBackwardFilterAlgorithmEx(h, *st.x, xb.p, *st.y, yb.p, st.conv, *st.w, wb.p, 8,
                                                                  &n, fp, nullptr, 0));
  checkRanking(fp, n, LAMINA_CONVOLUTION_BWD_FILTER_ALGO_COUNT, true);
  EXPECT_EQ(fp[0].algo, LAMINA_CONVOLUTION_BWD_FILTER_ALGO_IMPLICIT_GEMM); // the only one without workspace
  EXPECT_EQ(fp[1].status, LAMINA_STATUS_INSUFFICIENT_WORKSPACE);
}

// On typical layers the heuristic prefers the BLAS paths for big channel counts (on the GPU, for 3x3
// and 5x5 stride-1 layers in exact float math, Winograd: 4x and 2.8x fewer multiplies) and an implicit
// kernel without workspace when asked.
TEST(ConvSelect, HeuristicPrefersGemmOnLargeLayers) {
  LT_HANDLE_OR_SKIP(h);
  for (int f : {3, 5}) {
    SCOPED_TRACE(f);
    lt::ref::ConvSpec s;
    s.N = 8, s.C = 256, s.K = 256, s.in[0] = 14, s.in[1] = 14;
    s.filt[0] = s.filt[1] = f, s.pad[0] = s.pad[1] = f / 2;
    ct::Setup st(s, F, lt::Layout::NCHW);
    laminaConvolutionFwdAlgo_t algo;
    LAMINA_ASSERT_OK(laminaGetConvolutionForwardAlgorithm(h, *st.x, *st.w, st.conv, *st.y,
                                                          LAMINA_CONVOLUTION_PREFER_FASTEST, 0, &algo));
    EXPECT_EQ(algo, lt::testBackend() == LAMINA_BACKEND_CUDA ? LAMINA_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED
                                                             : LAMINA_CONVOLUTION_FWD_ALGO_GEMM);
    LAMINA_ASSERT_OK(laminaGetConvolutionForwardAlgorithm(h, *st.x, *st.w, st.conv, *st.y,
                                                          LAMINA_CONVOLUTION_NO_WORKSPACE, 0, &algo));
    EXPECT_EQ(algo, LAMINA_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM);
  }
}

// An algorithm that does not apply says why: on the CPU, GEMM's column matrix of a huge image exceeds
// the 32-bit BLAS sizes (nothing is allocated to ask); the GPU's GEMM chunks it instead.
TEST(ConvSelect, InapplicableAlgorithmSaysWhy) {
  LT_HANDLE_OR_SKIP(h);
  lt::ref::ConvSpec s;
  s.N = 1, s.C = 1, s.K = 1, s.in[0] = 50000, s.in[1] = 50000, s.filt[0] = 3, s.filt[1] = 3;
  ct::Setup st(s, F, lt::Layout::NCHW);
  size_t ws = 0;
  if (lt::testBackend() == LAMINA_BACKEND_CUDA) {
    // The GPU's GEMM works through chunks of output positions: it applies, with a bounded workspace.
    LAMINA_ASSERT_OK(laminaGetConvolutionForwardWorkspaceSize(h, *st.x, *st.w, st.conv, *st.y,
                                                              LAMINA_CONVOLUTION_FWD_ALGO_GEMM, &ws));
    EXPECT_GT(ws, 0u);
    EXPECT_LE(ws, size_t(512) << 20);
    // FFT transforms whole planes: up to 256 a side, a phased filter up to 16 a side, one group.
    LAMINA_EXPECT_STATUS(
        laminaGetConvolutionForwardWorkspaceSize(h, *st.x, *st.w, st.conv, *st.y, LAMINA_CONVOLUTION_FWD_ALGO_FFT, &ws),
        LAMINA_STATUS_NOT_SUPPORTED, "256 a side");
    lt::ref::ConvSpec big;
    big.N = 2, big.C = 4, big.K = 4, big.in[0] = 20, big.in[1] = 20, big.filt[0] = 17, big.filt[1] = 3;
    ct::Setup sb(big, F, lt::Layout::NCHW);
    LAMINA_EXPECT_STATUS(laminaGetConvolutionBackwardFilterWorkspaceSize(h, *sb.x, *sb.y, sb.conv, *sb.w,
                                                                         LAMINA_CONVOLUTION_BWD_FILTER_ALGO_FFT, &ws),
                         LAMINA_STATUS_NOT_SUPPORTED, "16 points");
    big.filt[0] = 3, big.G = 2;
    ct::Setup sg(big, F, lt::Layout::NCHW);
    LAMINA_EXPECT_STATUS(laminaGetConvolutionBackwardDataWorkspaceSize(h, *sg.w, *sg.y, sg.conv, *sg.x,
                                                                       LAMINA_CONVOLUTION_BWD_DATA_ALGO_FFT, &ws),
                         LAMINA_STATUS_NOT_SUPPORTED, "one group");
    return;
  }
  LAMINA_EXPECT_STATUS(
      laminaGetConvolutionForwardWorkspaceSize(h, *st.x, *st.w, st.conv, *st.y, LAMINA_CONVOLUTION_FWD_ALGO_GEMM, &ws),
      LAMINA_STATUS_NOT_SUPPORTED, "32-bit");
  lt::Buffer dummy(h, 64, F);
  lt::Scalar one(1.0), zero(0.0);
  LAMINA_EXPECT_STATUS(laminaConvolutionForward(h, one.ptr(F), *st.x, dummy.p, *st.w, dummy.p, st.conv,
                                                LAMINA_CONVOLUTION_FWD_ALGO_GEMM, dummy.p, 64, zero.ptr(F), *st.y,
                                                dummy.p),
                       LAMINA_STATUS_NOT_SUPPORTED, "does not apply");
  laminaConvolutionFwdAlgoPerf_t perf[8];
  int n = 0;
  LAMINA_ASSERT_OK(laminaGetConvolutionForwardAlgorithmHeuristics(h, *st.x, *st.w, st.conv, *st.y, 8, &n, perf));
  for (int i = 0; i < n; ++i)
    if (perf[i].algo == LAMINA_CONVOLUTION_FWD_ALGO_GEMM)
      EXPECT_EQ(perf[i].status, LAMINA_STATUS_NOT_SUPPORTED);
  laminaConvolutionFwdAlgo_t algo;
  LAMINA_ASSERT_OK(laminaGetConvolutionForwardAlgorithm(h, *st.x, *st.w, st.conv, *st.y,
                                                        LAMINA_CONVOLUTION_PREFER_FASTEST, 0, &algo));
  EXPECT_NE(algo, LAMINA_CONVOLUTION_FWD_ALGO_GEMM);
}

// ---------------------------------------------------------------- bad input

struct Bufs {
  lt::Buffer x, w, y, ws;
  Bufs(const lt::Handle &h, ct::Setup &st, laminaDataType_t dt)
      : x(h, st.x->bytes(), dt), w(h, st.w->bytes(), dt), y(h, st.y->bytes(), dt), ws(h, 1 << 20, dt) {
    lt::upload(h, *st.x, lt::randomValues(st.x->numel(), 1, dt), x.p);
    lt::upload(h, *st.w, lt::randomValues(st.w->numel(), 2, dt), w.p);
    lt::upload(h, *st.y, lt::randomValues(st.y->numel(), 3, dt), y.p);
  }
};

TEST(ConvBadInput, Forward) {
  LT_HANDLE_OR_SKIP(h);
  auto s = smallSpec();
  ct::Setup st(s, F, lt::Layout::NCHW);
  Bufs b(h, st, F);
  lt::Scalar one(1.0), zero(0.0);
  const void *al = one.ptr(F), *be = zero.ptr(F);
  const auto A = LAMINA_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  auto fwd = [&](laminaHandle_t hh, const void *a, laminaTensorDescriptor_t x, const void *xp,
                 laminaFilterDescriptor_t w, const void *wp, laminaConvolutionDescriptor_t c,
                 laminaConvolutionFwdAlgo_t algo, void *ws, size_t wsb, const void *bt, laminaTensorDescriptor_t y,
                 void *yp) { return laminaConvolutionForward(hh, a, x, xp, w, wp, c, algo, ws, wsb, bt, y, yp); };
  LAMINA_EXPECT_OK(fwd(h, al, *st.x, b.x.p, *st.w, b.w.p, st.conv, A, nullptr, 0, be, *st.y, b.y.p));
  // Null pointers.
  LAMINA_EXPECT_STATUS(fwd(nullptr, al, *st.x, b.x.p, *st.w, b.w.p, st.conv, A, nullptr, 0, be, *st.y, b.y.p),
                       LAMINA_STATUS_NULL_POINTER, "handle");
  LAMINA_EXPECT_STATUS(fwd(h, nullptr, *st.x, b.x.p, *st.w, b.w.p, st.conv, A, nullptr, 0, be, *st.y, b.y.p),
                       LAMINA_STATUS_NULL_POINTER, "alpha");
  LAMINA_EXPECT_STATUS(fwd(h, al, *st.x, b.x.p, *st.w, b.w.p, st.conv, A, nullptr, 0, nullptr, *st.y, b.y.p),
                       LAMINA_STATUS_NULL_POINTER, "beta");
  LAMINA_EXPECT_STATUS(fwd(h, al, nullptr, b.x.p, *st.w, b.w.p, st.conv, A, nullptr, 0, be, *st.y, b.y.p),
                       LAMINA_STATUS_NULL_POINTER, "'x'");
  LAMINA_EXPECT_STATUS(fwd(h, al, *st.x, nullptr, *st.w, b.w.p, st.conv, A, nullptr, 0, be, *st.y, b.y.p),
                       LAMINA_STATUS_NULL_POINTER, "xData");
  LAMINA_EXPECT_STATUS(fwd(h, al, *st.x, b.x.p, nullptr, b.w.p, st.conv, A, nullptr, 0, be, *st.y, b.y.p),
                       LAMINA_STATUS_NULL_POINTER, "'w'");
  LAMINA_EXPECT_STATUS(fwd(h, al, *st.x, b.x.p, *st.w, nullptr, st.conv, A, nullptr, 0, be, *st.y, b.y.p),
                       LAMINA_STATUS_NULL_POINTER, "wData");
  LAMINA_EXPECT_STATUS(fwd(h, al, *st.x, b.x.p, *st.w, b.w.p, nullptr, A, nullptr, 0, be, *st.y, b.y.p),
                       LAMINA_STATUS_NULL_POINTER, "conv");
  LAMINA_EXPECT_STATUS(fwd(h, al, *st.x, b.x.p, *st.w, b.w.p, st.conv, A, nullptr, 0, be, nullptr, b.y.p),
                       LAMINA_STATUS_NULL_POINTER, "'y'");
  LAMINA_EXPECT_STATUS(fwd(h, al, *st.x, b.x.p, *st.w, b.w.p, st.conv, A, nullptr, 0, be, *st.y, nullptr),
                       LAMINA_STATUS_NULL_POINTER, "yData");
  // Wrong descriptor kinds.
  LAMINA_EXPECT_STATUS(fwd(h, al, reinterpret_cast<laminaTensorDescriptor_t>(st.w->d), b.x.p, *st.w, b.w.p, st.conv, A,
                           nullptr, 0, be, *st.y, b.y.p),
                       LAMINA_STATUS_WRONG_DESCRIPTOR, "'x'");
  // y of the wrong shape.
  lt::Tensor yBad(F, {s.N, s.K, 9, 7});
  LAMINA_EXPECT_STATUS(fwd(h, al, *st.x, b.x.p, *st.w, b.w.p, st.conv, A, nullptr, 0, be, yBad, b.y.p),
                       LAMINA_STATUS_SHAPE_MISMATCH, "'y'");
  // Mismatched channels between x and w.
  lt::Filter wBad(F, {s.K, 3, 3, 3});
  LAMINA_EXPECT_STATUS(fwd(h, al, *st.x, b.x.p, wBad, b.w.p, st.conv, A, nullptr, 0, be, *st.y, b.y.p),
                       LAMINA_STATUS_SHAPE_MISMATCH, "w has");
  // Mismatched types.
  lt::Tensor yHalf(LAMINA_DATA_HALF, s.yDims());
  LAMINA_EXPECT_STATUS(fwd(h, al, *st.x, b.x.p, *st.w, b.w.p, st.conv, A, nullptr, 0, be, yHalf, b.y.p),
                       LAMINA_STATUS_TYPE_MISMATCH, "'y'");
  // Overlapping output strides.
  lt::Tensor yOverlap(F, s.yDims(), std::vector<int64_t>{0, 1, 8, 1});
  LAMINA_EXPECT_STATUS(fwd(h, al, *st.x, b.x.p, *st.w, b.w.p, st.conv, A, nullptr, 0, be, yOverlap, b.y.p),
                       LAMINA_STATUS_BAD_STRIDES, "'y'");
  // Unknown algorithm, unimplemented algorithm.
  LAMINA_EXPECT_STATUS(
      fwd(h, al, *st.x, b.x.p, *st.w, b.w.p, st.conv, laminaConvolutionFwdAlgo_t(42), nullptr, 0, be, *st.y, b.y.p),
      LAMINA_STATUS_BAD_PARAM, "algo");
  LAMINA_EXPECT_STATUS(fwd(h, al, *st.x, b.x.p, *st.w, b.w.p, st.conv, LAMINA_CONVOLUTION_FWD_ALGO_FFT_TILING, nullptr,
                           0, be, *st.y, b.y.p),
                       LAMINA_STATUS_NOT_SUPPORTED, "algo");
  // Workspace: missing, too small.
  size_t need = 0;
  LAMINA_ASSERT_OK(laminaGetConvolutionForwardWorkspaceSize(h, *st.x, *st.w, st.conv, *st.y,
                                                            LAMINA_CONVOLUTION_FWD_ALGO_GEMM, &need));
  LAMINA_EXPECT_STATUS(fwd(h, al, *st.x, b.x.p, *st.w, b.w.p, st.conv, LAMINA_CONVOLUTION_FWD_ALGO_GEMM, nullptr, need,
                           be, *st.y, b.y.p),
                       LAMINA_STATUS_NULL_POINTER, "workspace");
  LAMINA_EXPECT_STATUS(fwd(h, al, *st.x, b.x.p, *st.w, b.w.p, st.conv, LAMINA_CONVOLUTION_FWD_ALGO_GEMM, b.ws.p,
                           need - 1, be, *st.y, b.y.p),
                       LAMINA_STATUS_INSUFFICIENT_WORKSPACE, "workspace");
  // Double data with float compute; a non-float type.
  ct::Setup sd(s, LAMINA_DATA_DOUBLE, lt::Layout::NCHW);
  LAMINA_ASSERT_OK(laminaSetConvolutionNdDescriptor(sd.conv, 2, s.pad, s.stride, s.dil, LAMINA_CROSS_CORRELATION,
                                                    LAMINA_DATA_FLOAT));
  LAMINA_EXPECT_STATUS(fwd(h, al, *sd.x, b.x.p, *sd.w, b.w.p, sd.conv, A, nullptr, 0, be, *sd.y, b.y.p),
                       LAMINA_STATUS_NOT_SUPPORTED, "compute type");
  // Unset descriptor.
  laminaConvolutionDescriptor_t unset;
  laminaCreateConvolutionDescriptor(&unset);
  LAMINA_EXPECT_STATUS(fwd(h, al, *st.x, b.x.p, *st.w, b.w.p, unset, A, nullptr, 0, be, *st.y, b.y.p),
                       LAMINA_STATUS_NOT_INITIALIZED, "conv");
  laminaDestroyConvolutionDescriptor(unset);
  // 3-D conv descriptor with 4-D tensors.
  ct::Setup s3(s, F, lt::Layout::NCHW);
  int64_t p3[3] = {0, 0, 0}, one3[3] = {1, 1, 1};
  LAMINA_ASSERT_OK(laminaSetConvolutionNdDescriptor(s3.conv, 3, p3, one3, one3, LAMINA_CROSS_CORRELATION, F));
  LAMINA_EXPECT_STATUS(fwd(h, al, *st.x, b.x.p, *st.w, b.w.p, s3.conv, A, nullptr, 0, be, *st.y, b.y.p),
                       LAMINA_STATUS_BAD_DIMS, "x needs");
}

TEST(ConvBadInput, SelectionQueries) {
  LT_HANDLE_OR_SKIP(h);
  auto s = smallSpec();
  ct::Setup st(s, F, lt::Layout::NCHW);
  Bufs b(h, st, F);
  size_t ws;
  laminaConvolutionFwdAlgo_t algo;
  laminaConvolutionFwdAlgoPerf_t perf[8];
  int n;
  LAMINA_EXPECT_STATUS(laminaGetConvolutionForwardWorkspaceSize(h, *st.x, *st.w, st.conv, *st.y,
                                                                LAMINA_CONVOLUTION_FWD_ALGO_GEMM, nullptr),
                       LAMINA_STATUS_NULL_POINTER, "bytes");
  LAMINA_EXPECT_STATUS(
      laminaGetConvolutionForwardWorkspaceSize(h, *st.x, *st.w, st.conv, *st.y, laminaConvolutionFwdAlgo_t(-1), &ws),
      LAMINA_STATUS_BAD_PARAM, "algo");
  LAMINA_EXPECT_STATUS(laminaGetConvolutionForwardWorkspaceSize(h, *st.x, *st.w, st.conv, *st.y,
                                                                LAMINA_CONVOLUTION_FWD_ALGO_WINOGRAD, &ws),
                       LAMINA_STATUS_NOT_SUPPORTED, "not implemented");
  LAMINA_EXPECT_STATUS(
      laminaGetConvolutionForwardAlgorithm(h, *st.x, *st.w, st.conv, *st.y, laminaConvolutionPreference_t(9), 0, &algo),
      LAMINA_STATUS_BAD_PARAM, "preference");
  LAMINA_EXPECT_STATUS(laminaGetConvolutionForwardAlgorithm(h, *st.x, *st.w, st.conv, *st.y,
                                                            LAMINA_CONVOLUTION_PREFER_FASTEST, 0, nullptr),
                       LAMINA_STATUS_NULL_POINTER, "algo");
  LAMINA_EXPECT_STATUS(laminaGetConvolutionForwardAlgorithmHeuristics(h, *st.x, *st.w, st.conv, *st.y, 0, &n, perf),
                       LAMINA_STATUS_BAD_PARAM, "requestedAlgoCount");
  LAMINA_EXPECT_STATUS(
      laminaGetConvolutionForwardAlgorithmHeuristics(h, *st.x, *st.w, st.conv, *st.y, 8, nullptr, perf),
      LAMINA_STATUS_NULL_POINTER, "returnedAlgoCount");
  LAMINA_EXPECT_STATUS(laminaFindConvolutionForwardAlgorithm(h, *st.x, *st.w, st.conv, *st.y, 8, &n, nullptr),
                       LAMINA_STATUS_NULL_POINTER, "perfResults");
  LAMINA_EXPECT_STATUS(laminaFindConvolutionForwardAlgorithm(h, *st.x, *st.w, nullptr, *st.y, 8, &n, perf),
                       LAMINA_STATUS_NULL_POINTER, "conv");
  LAMINA_EXPECT_STATUS(laminaFindConvolutionForwardAlgorithmEx(h, *st.x, nullptr, *st.w, b.w.p, st.conv, *st.y, b.y.p,
                                                               8, &n, perf, nullptr, 0),
                       LAMINA_STATUS_NULL_POINTER, "xData");
  LAMINA_EXPECT_STATUS(laminaFindConvolutionForwardAlgorithmEx(h, *st.x, b.x.p, *st.w, b.w.p, st.conv, *st.y, b.y.p, 8,
                                                               &n, perf, nullptr, 64),
                       LAMINA_STATUS_NULL_POINTER, "workspace");
  // Backward-data and backward-filter queries.
  laminaConvolutionBwdDataAlgo_t da;
  laminaConvolutionBwdFilterAlgo_t fa;
  laminaConvolutionBwdDataAlgoPerf_t dp[8];
  laminaConvolutionBwdFilterAlgoPerf_t fp[8];
  LAMINA_EXPECT_STATUS(laminaGetConvolutionBackwardDataWorkspaceSize(h, *st.w, *st.y, st.conv, *st.x,
                                                                     laminaConvolutionBwdDataAlgo_t(7), &ws),
                       LAMINA_STATUS_BAD_PARAM, "algo");
  LAMINA_EXPECT_STATUS(laminaGetConvolutionBackwardDataWorkspaceSize(h, *st.w, *st.y, st.conv, *st.x,
                                                                     LAMINA_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING, &ws),
                       LAMINA_STATUS_NOT_SUPPORTED, "algo");
  LAMINA_EXPECT_STATUS(laminaGetConvolutionBackwardDataAlgorithm(h, *st.w, *st.y, st.conv, *st.x,
                                                                 laminaConvolutionPreference_t(5), 0, &da),
                       LAMINA_STATUS_BAD_PARAM, "preference");
  LAMINA_EXPECT_STATUS(laminaGetConvolutionBackwardDataAlgorithmHeuristics(h, *st.w, *st.y, st.conv, *st.x, -1, &n, dp),
                       LAMINA_STATUS_BAD_PARAM, "requestedAlgoCount");
  LAMINA_EXPECT_STATUS(laminaFindConvolutionBackwardDataAlgorithm(h, nullptr, *st.y, st.conv, *st.x, 8, &n, dp),
                       LAMINA_STATUS_NULL_POINTER, "'w'");
  LAMINA_EXPECT_STATUS(laminaFindConvolutionBackwardDataAlgorithmEx(h, *st.w, b.w.p, *st.y, nullptr, st.conv, *st.x,
                                                                    b.x.p, 8, &n, dp, nullptr, 0),
                       LAMINA_STATUS_NULL_POINTER, "dyData");
  LAMINA_EXPECT_STATUS(laminaGetConvolutionBackwardFilterWorkspaceSize(h, *st.x, *st.y, st.conv, *st.w,
                                                                       laminaConvolutionBwdFilterAlgo_t(6), &ws),
                       LAMINA_STATUS_BAD_PARAM, "algo");
  LAMINA_EXPECT_STATUS(laminaGetConvolutionBackwardFilterAlgorithm(h, *st.x, *st.y, st.conv, *st.w,
                                                                   LAMINA_CONVOLUTION_PREFER_FASTEST, 0, nullptr),
                       LAMINA_STATUS_NULL_POINTER, "algo");
  (void)fa;
  LAMINA_EXPECT_STATUS(
      laminaGetConvolutionBackwardFilterAlgorithmHeuristics(h, *st.x, *st.y, st.conv, *st.w, 8, &n, nullptr),
      LAMINA_STATUS_NULL_POINTER, "perfResults");
  LAMINA_EXPECT_STATUS(laminaFindConvolutionBackwardFilterAlgorithm(h, *st.x, *st.y, st.conv, nullptr, 8, &n, fp),
                       LAMINA_STATUS_NULL_POINTER, "dw");
  LAMINA_EXPECT_STATUS(laminaFindConvolutionBackwardFilterAlgorithmEx(h, *st.x, b.x.p, *st.y, b.y.p, st.conv, *st.w,
                                                                      nullptr, 8, &n, fp, nullptr, 0),
                       LAMINA_STATUS_NULL_POINTER, "dwData");
}

TEST(ConvBadInput, BackwardDataAndFilter) {
  LT_HANDLE_OR_SKIP(h);
  auto s = smallSpec();
  ct::Setup st(s, F, lt::Layout::NCHW);
  Bufs b(h, st, F);
  lt::Scalar one(1.0), zero(0.0);
  const void *al = one.ptr(F), *be = zero.ptr(F);
  const auto DA = LAMINA_CONVOLUTION_BWD_DATA_ALGO_IMPLICIT_GEMM;
  const auto FA = LAMINA_CONVOLUTION_BWD_FILTER_ALGO_IMPLICIT_GEMM;
  LAMINA_EXPECT_OK(
      laminaConvolutionBackwardData(h, al, *st.w, b.w.p, *st.y, b.y.p, st.conv, DA, nullptr, 0, be, *st.x, b.x.p));
  LAMINA_EXPECT_STATUS(
      laminaConvolutionBackwardData(nullptr, al, *st.w, b.w.p, *st.y, b.y.p, st.conv, DA, nullptr, 0, be, *st.x, b.x.p),
      LAMINA_STATUS_NULL_POINTER, "handle");
  LAMINA_EXPECT_STATUS(
      laminaConvolutionBackwardData(h, nullptr, *st.w, b.w.p, *st.y, b.y.p, st.conv, DA, nullptr, 0, be, *st.x, b.x.p),
      LAMINA_STATUS_NULL_POINTER, "alpha");
  LAMINA_EXPECT_STATUS(
      laminaConvolutionBackwardData(h, al, *st.w, nullptr, *st.y, b.y.p, st.conv, DA, nullptr, 0, be, *st.x, b.x.p),
      LAMINA_STATUS_NULL_POINTER, "wData");
  LAMINA_EXPECT_STATUS(
      laminaConvolutionBackwardData(h, al, *st.w, b.w.p, nullptr, b.y.p, st.conv, DA, nullptr, 0, be, *st.x, b.x.p),
      LAMINA_STATUS_NULL_POINTER, "dy");
  LAMINA_EXPECT_STATUS(
      laminaConvolutionBackwardData(h, al, *st.w, b.w.p, *st.y, b.y.p, st.conv, DA, nullptr, 0, be, *st.x, nullptr),
      LAMINA_STATUS_NULL_POINTER, "dxData");
  lt::Tensor dyBad(F, {s.N, s.K, 9, 9});
  LAMINA_EXPECT_STATUS(
      laminaConvolutionBackwardData(h, al, *st.w, b.w.p, dyBad, b.y.p, st.conv, DA, nullptr, 0, be, *st.x, b.x.p),
      LAMINA_STATUS_SHAPE_MISMATCH, "'dy'");
  lt::Tensor dxOverlap(F, s.xDims(), std::vector<int64_t>{1, 1, 1, 1});
  LAMINA_EXPECT_STATUS(
      laminaConvolutionBackwardData(h, al, *st.w, b.w.p, *st.y, b.y.p, st.conv, DA, nullptr, 0, be, dxOverlap, b.x.p),
      LAMINA_STATUS_BAD_STRIDES, "'dx'");
  lt::Tensor dxDouble(LAMINA_DATA_DOUBLE, s.xDims());
  LAMINA_EXPECT_STATUS(
      laminaConvolutionBackwardData(h, al, *st.w, b.w.p, *st.y, b.y.p, st.conv, DA, nullptr, 0, be, dxDouble, b.x.p),
      LAMINA_STATUS_TYPE_MISMATCH, "'dx'");
  LAMINA_EXPECT_STATUS(laminaConvolutionBackwardData(h, al, *st.w, b.w.p, *st.y, b.y.p, st.conv,
                                                     laminaConvolutionBwdDataAlgo_t(99), nullptr, 0, be, *st.x, b.x.p),
                       LAMINA_STATUS_BAD_PARAM, "algo");
  size_t need = 0;
  LAMINA_ASSERT_OK(laminaGetConvolutionBackwardDataWorkspaceSize(h, *st.w, *st.y, st.conv, *st.x,
                                                                 LAMINA_CONVOLUTION_BWD_DATA_ALGO_GEMM, &need));
  LAMINA_EXPECT_STATUS(laminaConvolutionBackwardData(h, al, *st.w, b.w.p, *st.y, b.y.p, st.conv,
                                                     LAMINA_CONVOLUTION_BWD_DATA_ALGO_GEMM, b.ws.p, need / 2, be, *st.x,
                                                     b.x.p),
                       LAMINA_STATUS_INSUFFICIENT_WORKSPACE, "workspace");

  LAMINA_EXPECT_OK(
      laminaConvolutionBackwardFilter(h, al, *st.x, b.x.p, *st.y, b.y.p, st.conv, FA, nullptr, 0, be, *st.w, b.w.p));
  LAMINA_EXPECT_STATUS(laminaConvolutionBackwardFilter(h, al, *st.x, b.x.p, *st.y, b.y.p, st.conv, FA, nullptr, 0,
                                                       nullptr, *st.w, b.w.p),
                       LAMINA_STATUS_NULL_POINTER, "beta");
  LAMINA_EXPECT_STATUS(
      laminaConvolutionBackwardFilter(h, al, *st.x, nullptr, *st.y, b.y.p, st.conv, FA, nullptr, 0, be, *st.w, b.w.p),
      LAMINA_STATUS_NULL_POINTER, "xData");
  LAMINA_EXPECT_STATUS(
      laminaConvolutionBackwardFilter(h, al, *st.x, b.x.p, *st.y, nullptr, st.conv, FA, nullptr, 0, be, *st.w, b.w.p),
      LAMINA_STATUS_NULL_POINTER, "dyData");
  LAMINA_EXPECT_STATUS(
      laminaConvolutionBackwardFilter(h, al, *st.x, b.x.p, *st.y, b.y.p, st.conv, FA, nullptr, 0, be, nullptr, b.w.p),
      LAMINA_STATUS_NULL_POINTER, "dw");
  lt::Filter dwBad(F, {s.K, s.C, 5, 5});
  LAMINA_EXPECT_STATUS(
      laminaConvolutionBackwardFilter(h, al, *st.x, b.x.p, *st.y, b.y.p, st.conv, FA, nullptr, 0, be, dwBad, b.w.p),
      LAMINA_STATUS_SHAPE_MISMATCH, "'dy'");
  lt::Filter dwHalf(LAMINA_DATA_HALF, s.wDims());
  LAMINA_EXPECT_STATUS(
      laminaConvolutionBackwardFilter(h, al, *st.x, b.x.p, *st.y, b.y.p, st.conv, FA, nullptr, 0, be, dwHalf, b.w.p),
      LAMINA_STATUS_TYPE_MISMATCH, "'dw'");
  LAMINA_EXPECT_STATUS(laminaConvolutionBackwardFilter(h, al, *st.x, b.x.p, *st.y, b.y.p, st.conv,
                                                       LAMINA_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING, nullptr, 0, be,
                                                       *st.w, b.w.p),
                       LAMINA_STATUS_NOT_SUPPORTED, "algo");
  LAMINA_EXPECT_STATUS(laminaConvolutionBackwardFilter(h, al, *st.x, b.x.p, *st.y, b.y.p, st.conv,
                                                       LAMINA_CONVOLUTION_BWD_FILTER_ALGO_GEMM, nullptr, 0, be, *st.w,
                                                       b.w.p),
                       LAMINA_STATUS_NULL_POINTER, "workspace");
}

TEST(ConvBadInput, BackwardBias) {
  LT_HANDLE_OR_SKIP(h);
  lt::Tensor dy(F, {2, 3, 4, 5}), db(F, {1, 3, 1, 1});
  lt::Buffer dyb(h, dy.bytes(), F), dbb(h, db.bytes(), F);
  lt::upload(h, dy, lt::randomValues(dy.numel(), 3, F), dyb.p);
  lt::Scalar one(1.0), zero(0.0);
  const void *al = one.ptr(F), *be = zero.ptr(F);
  LAMINA_EXPECT_OK(laminaConvolutionBackwardBias(h, al, dy, dyb.p, be, db, dbb.p));
  LAMINA_EXPECT_STATUS(laminaConvolutionBackwardBias(nullptr, al, dy, dyb.p, be, db, dbb.p), LAMINA_STATUS_NULL_POINTER,
                       "handle");
  LAMINA_EXPECT_STATUS(laminaConvolutionBackwardBias(h, nullptr, dy, dyb.p, be, db, dbb.p), LAMINA_STATUS_NULL_POINTER,
                       "alpha");
  LAMINA_EXPECT_STATUS(laminaConvolutionBackwardBias(h, al, nullptr, dyb.p, be, db, dbb.p), LAMINA_STATUS_NULL_POINTER,
                       "dy");
  LAMINA_EXPECT_STATUS(laminaConvolutionBackwardBias(h, al, dy, nullptr, be, db, dbb.p), LAMINA_STATUS_NULL_POINTER,
                       "dyData");
  LAMINA_EXPECT_STATUS(laminaConvolutionBackwardBias(h, al, dy, dyb.p, nullptr, db, dbb.p), LAMINA_STATUS_NULL_POINTER,
                       "beta");
  LAMINA_EXPECT_STATUS(laminaConvolutionBackwardBias(h, al, dy, dyb.p, be, nullptr, dbb.p), LAMINA_STATUS_NULL_POINTER,
                       "db");
  LAMINA_EXPECT_STATUS(laminaConvolutionBackwardBias(h, al, dy, dyb.p, be, db, nullptr), LAMINA_STATUS_NULL_POINTER,
                       "dbData");
  lt::Tensor dbWrong(F, {1, 4, 1, 1}), dbSpatial(F, {1, 3, 4, 1}), dbHalf(LAMINA_DATA_HALF, {1, 3, 1, 1});
  LAMINA_EXPECT_STATUS(laminaConvolutionBackwardBias(h, al, dy, dyb.p, be, dbWrong, dbb.p),
                       LAMINA_STATUS_SHAPE_MISMATCH, "'db'");
  LAMINA_EXPECT_STATUS(laminaConvolutionBackwardBias(h, al, dy, dyb.p, be, dbSpatial, dbb.p),
                       LAMINA_STATUS_SHAPE_MISMATCH, "'db'");
  LAMINA_EXPECT_STATUS(laminaConvolutionBackwardBias(h, al, dy, dyb.p, be, dbHalf, dbb.p), LAMINA_STATUS_TYPE_MISMATCH,
                       "'db'");
  lt::Tensor dyInt(LAMINA_DATA_INT32, {2, 3, 4, 5});
  LAMINA_EXPECT_STATUS(laminaConvolutionBackwardBias(h, al, dyInt, dyb.p, be, db, dbb.p), LAMINA_STATUS_NOT_SUPPORTED,
                       "'dy'");
}

} // namespace
