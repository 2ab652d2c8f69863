// Helpers shared by the convolution test programs: problem-list loading and descriptor setup.
#pragma once

#include "common/problem_list.h"
#include "common/test_util.h"
#include "reference/conv_ref.h"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace ct {

struct NamedSpec {
  std::string name;
  lt::ref::ConvSpec spec;
};

inline lt::ref::ConvSpec specFromShape(const lt::ConvShape &s, bool convMode) {
  lt::ref::ConvSpec r;
  r.spatialDims = s.spatialDims;
  r.N = s.N, r.C = s.C, r.K = s.K, r.G = s.G;
  for (int i = 0; i < 3; ++i) {
    r.in[i] = s.in[i], r.filt[i] = s.filt[i], r.pad[i] = s.pad[i], r.stride[i] = s.stride[i], r.dil[i] = s.dil[i];
  }
  r.convolutionMode = convMode;
  return r;
}

// The committed list (tests run with tests/ as working directory).
inline std::vector<NamedSpec> loadSpecs(const std::string &file = "problems/conv_conformance.csv") {
  std::vector<NamedSpec> out;
  for (const auto &row : lt::loadProblemList(file)) {
    lt::ConvShape s = lt::convShapeFromRow(row, 1);
    out.push_back({s.name, specFromShape(s, row.str("mode", "xcorr") == "conv")});
  }
  return out;
}

inline laminaDataType_t computeTypeFor(laminaDataType_t dt) {
  return dt == LAMINA_DATA_DOUBLE ? LAMINA_DATA_DOUBLE : LAMINA_DATA_FLOAT;
}

// Descriptors of one problem in one dtype and layout (NHWC tensors get a KRSC filter).
struct Setup {
  std::unique_ptr<lt::Tensor> x, y;
  std::unique_ptr<lt::Filter> w;
  laminaConvolutionDescriptor_t conv = nullptr;
  Setup(const lt::ref::ConvSpec &s, laminaDataType_t dt, lt::Layout layout) {
    x = std::make_unique<lt::Tensor>(dt, s.xDims(), layout);
    y = std::make_unique<lt::Tensor>(dt, s.yDims(), layout);
    w = std::make_unique<lt::Filter>(dt, s.wDims(),
                                     layout == lt::Layout::NHWC ? LAMINA_TENSOR_NHWC : LAMINA_TENSOR_NCHW);
    laminaCreateConvolutionDescriptor(&conv);
    laminaStatus_t st = laminaSetConvolutionNdDescriptor(
        conv, s.spatialDims, s.pad, s.stride, s.dil, s.convolutionMode ? LAMINA_CONVOLUTION : LAMINA_CROSS_CORRELATION,
        computeTypeFor(dt));
    if (st == LAMINA_STATUS_SUCCESS)
      st = laminaSetConvolutionGroupCount(conv, s.G);
    if (st != LAMINA_STATUS_SUCCESS)
      ADD_FAILURE() << "conv descriptor: " << laminaGetLastErrorMessage();
  }
  ~Setup() { laminaDestroyConvolutionDescriptor(conv); }
  Setup(const Setup &) = delete;
  Setup &operator=(const Setup &) = delete;
};

// expected = alpha * ref + beta * old, rounded like a stored result would be compared.
inline std::vector<double> blend(const std::vector<double> &ref, const std::vector<double> &old, double alpha,
                                 double beta) {
  std::vector<double> e(ref.size());
  for (size_t i = 0; i < ref.size(); ++i)
    e[i] = alpha * ref[i] + (beta != 0 ? beta * old[i] : 0.0);
  return e;
}

enum class Dir { Forward, BackwardData, BackwardFilter };

struct AlphaBeta {
  double alpha, beta;
};
// (1, 0) and (0.7, 0.3) for every type; (-1.5, 1) for float as well.
inline std::vector<AlphaBeta> alphaBetas(laminaDataType_t dt) {
  std::vector<AlphaBeta> v = {{1.0, 0.0}, {0.7, 0.3}};
  if (dt == LAMINA_DATA_FLOAT)
    v.push_back({-1.5, 1.0});
  return v;
}
// LAMINA_TEST_LAYOUTS=nhwc,... (names as lt::layoutName) keeps only those.
inline const std::vector<lt::Layout> &layouts() {
  static const std::vector<lt::Layout> l = lt::keepListed<lt::Layout>(
      {lt::Layout::NCHW, lt::Layout::NHWC, lt::Layout::Strided}, "LAMINA_TEST_LAYOUTS", lt::layoutName);
  return l;
}

// Algorithms the backend reports as applicable for a direction (heuristics list, status SUCCESS).
inline std::vector<int> applicableAlgos(const lt::Handle &h, Dir d, Setup &st) {
  std::vector<int> out;
  int n = 0;
  laminaConvolutionFwdAlgoPerf_t fp[16];
  laminaConvolutionBwdDataAlgoPerf_t dp[16];
  laminaConvolutionBwdFilterAlgoPerf_t wp[16];
  laminaStatus_t s;
  switch (d) {
  case Dir::Forward:
    s = laminaGetConvolutionForwardAlgorithmHeuristics(h, *st.x, *st.w, st.conv, *st.y, 16, &n, fp);
    for (int i = 0; i < n && s == LAMINA_STATUS_SUCCESS; ++i)
      if (fp[i].status == LAMINA_STATUS_SUCCESS)
        out.push_back(int(fp[i].algo));
    break;
  case Dir::BackwardData:
    s = laminaGetConvolutionBackwardDataAlgorithmHeuristics(h, *st.w, *st.y, st.conv, *st.x, 16, &n, dp);
    for (int i = 0; i < n && s == LAMINA_STATUS_SUCCESS; ++i)
      if (dp[i].status == LAMINA_STATUS_SUCCESS)
        out.push_back(int(dp[i].algo));
    break;
  case Dir::BackwardFilter:
    s = laminaGetConvolutionBackwardFilterAlgorithmHeuristics(h, *st.x, *st.y, st.conv, *st.w, 16, &n, wp);
    for (int i = 0; i < n && s == LAMINA_STATUS_SUCCESS; ++i)
      if (wp[i].status == LAMINA_STATUS_SUCCESS)
        out.push_back(int(wp[i].algo));
    break;
  }
  EXPECT_EQ(s, LAMINA_STATUS_SUCCESS) << laminaGetLastErrorMessage();
  std::sort(out.begin(), out.end());
  return out;
}

// Algorithms that apply to some shapes only: the general conformance tests leave them out and a list
// of their own shapes runs them (ConformanceWinograd, ConformanceFft).
inline bool isShapeLimited(Dir d, int algo) {
  switch (d) {
  case Dir::Forward:
    return algo == LAMINA_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED || algo == LAMINA_CONVOLUTION_FWD_ALGO_FFT;
  case Dir::BackwardData:
    return algo == LAMINA_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED || algo == LAMINA_CONVOLUTION_BWD_DATA_ALGO_FFT;
  case Dir::BackwardFilter:
    return algo == LAMINA_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED ||
           algo == LAMINA_CONVOLUTION_BWD_FILTER_ALGO_FFT || algo == LAMINA_CONVOLUTION_BWD_FILTER_ALGO_DIRECT;
  }
  return false;
}

// Winograd F(4x4, 3x3) trades accuracy for multiplies: its transforms scale values by up to ~100 and
// float rounding grows with them (3e-5 of the rms at 1152-long reductions, where direct sums keep
// 1e-6). Float runs of it get 5x the float tolerance (1e-4); the other types keep theirs. FFT's
// rounding grows with the plane's log size and the sums over all frequencies: the same allowance.
inline double toleranceFactor(Dir d, int algo, laminaDataType_t dt) {
  return dt == LAMINA_DATA_FLOAT && isShapeLimited(d, algo) ? 5.0 : 1.0;
}

// The conformance driver: every problem of the committed list x applicable algorithm x dtype x
// layout (NCHW/KCRS, NHWC/KRSC, odd strides) x math type (lt::mathTypes) x (alpha, beta), against
// the fp64 reference.
// Outputs and workspaces start as NaN. Returns the number of runs. `file`: the problem list.
constexpr const char *kConformanceList = "problems/conv_conformance.csv";
inline int runConformance(Dir d, const std::vector<int> &expectAlgos, const std::string &file = kConformanceList) {
  lt::Handle h;
  if (!h.ok())
    return 0;
  auto specs = loadSpecs(file);
  const size_t minRows = file == kConformanceList ? 10u : 1u;
  EXPECT_GE(specs.size(), lt::maxProblems() ? std::min<size_t>(lt::maxProblems(), minRows) : minRows);
  int runs = 0;
  uint64_t seed = 1;
  for (const auto &ns : specs) {
    const auto &s = ns.spec;
    for (laminaDataType_t dt : lt::floatTypes()) {
      auto x = lt::randomValues(lt::Tensor(dt, s.xDims()).numel(), seed++, dt);
      auto w = lt::randomValues(lt::Filter(dt, s.wDims()).numel(), seed++, dt);
      auto dy = lt::randomValues(lt::Tensor(dt, s.yDims()).numel(), seed++, dt);
      std::vector<double> ref = d == Dir::Forward        ? lt::ref::convForward(s, x, w)
                                : d == Dir::BackwardData ? lt::ref::convBackwardData(s, dy, w)
                                                         : lt::ref::convBackwardFilter(s, x, dy);
      for (lt::Layout layout : layouts()) {
        Setup st(s, dt, layout);
        SCOPED_TRACE(ns.name + " " + lt::dtypeName(dt) + " " + lt::layoutName(layout));
        lt::Buffer xb(h, st.x->bytes(), dt), wb(h, st.w->bytes(), dt), yb(h, st.y->bytes(), dt);
        // Inputs of the direction; the output buffer is re-made per run below.
        if (d != Dir::BackwardData)
          lt::upload(h, *st.x, x, xb.p);
        if (d != Dir::BackwardFilter)
          lt::upload(h, *st.w, w, wb.p);
        if (d != Dir::Forward)
          lt::upload(h, *st.y, dy, yb.p);
        auto algos = applicableAlgos(h, d, st);
        // Algorithms limited to some shapes (Winograd: 3x3 stride 1) run where a test expects them.
        algos.erase(std::remove_if(algos.begin(), algos.end(),
                                   [&](int a) {
                                     return isShapeLimited(d, a) &&
                                            std::find(expectAlgos.begin(), expectAlgos.end(), a) == expectAlgos.end();
                                   }),
                    algos.end());
        EXPECT_EQ(algos, expectAlgos);
        for (laminaMathType_t math : lt::mathTypes())
          for (int algo : algos) {
            laminaSetConvolutionMathType(st.conv, math);
            size_t wsBytes = 0;
            laminaStatus_t q =
                d == Dir::Forward ? laminaGetConvolutionForwardWorkspaceSize(h, *st.x, *st.w, st.conv, *st.y,
                                                                             laminaConvolutionFwdAlgo_t(algo), &wsBytes)
                : d == Dir::BackwardData
                    ? laminaGetConvolutionBackwardDataWorkspaceSize(h, *st.w, *st.y, st.conv, *st.x,
                                                                    laminaConvolutionBwdDataAlgo_t(algo), &wsBytes)
                    : laminaGetConvolutionBackwardFilterWorkspaceSize(h, *st.x, *st.y, st.conv, *st.w,
                                                                      laminaConvolutionBwdFilterAlgo_t(algo), &wsBytes);
            EXPECT_EQ(q, LAMINA_STATUS_SUCCESS) << laminaGetLastErrorMessage();
            lt::Buffer ws(h, wsBytes, dt);
            for (const auto &ab : alphaBetas(dt)) {
              SCOPED_TRACE("algo " + std::to_string(algo) + " math " + std::to_string(int(math)) + " alpha " +
                           std::to_string(ab.alpha) + " beta " + std::to_string(ab.beta));
              lt::Scalar al(ab.alpha), be(ab.beta);
              laminaStatus_t r;
              std::vector<double> got, old;
              if (d == Dir::Forward) {
                lt::Buffer out(h, st.y->bytes(), dt);
                old = lt::randomValues(st.y->numel(), seed++, dt);
                if (ab.beta != 0)
                  lt::upload(h, *st.y, old, out.p);
                r = laminaConvolutionForward(h, al.ptr(dt), *st.x, xb.p, *st.w, wb.p, st.conv,
                                             laminaConvolutionFwdAlgo_t(algo), ws.p, wsBytes, be.ptr(dt), *st.y, out.p);
                got = lt::download(h, *st.y, out.p);
              } else if (d == Dir::BackwardData) {
                lt::Buffer out(h, st.x->bytes(), dt);
                old = lt::randomValues(st.x->numel(), seed++, dt);
                if (ab.beta != 0)
                  lt::upload(h, *st.x, old, out.p);
                r = laminaConvolutionBackwardData(h, al.ptr(dt), *st.w, wb.p, *st.y, yb.p, st.conv,
                                                  laminaConvolutionBwdDataAlgo_t(algo), ws.p, wsBytes, be.ptr(dt),
                                                  *st.x, out.p);
                got = lt::download(h, *st.x, out.p);
              } else {
                lt::Buffer out(h, st.w->bytes(), dt);
                old = lt::randomValues(st.w->numel(), seed++, dt);
                if (ab.beta != 0)
                  lt::upload(h, *st.w, old, out.p);
                r = laminaConvolutionBackwardFilter(h, al.ptr(dt), *st.x, xb.p, *st.y, yb.p, st.conv,
                                                    laminaConvolutionBwdFilterAlgo_t(algo), ws.p, wsBytes, be.ptr(dt),
                                                    *st.w, out.p);
                got = lt::download(h, *st.w, out.p);
              }
              EXPECT_EQ(r, LAMINA_STATUS_SUCCESS) << laminaGetLastErrorMessage();
              EXPECT_TRUE(lt::allClose(got, blend(ref, old, ab.alpha, ab.beta),
                                       lt::tolerance(dt, math) * toleranceFactor(d, algo, dt)));
              ++runs;
            }
          }
      }
    }
  }
  return runs;
}

// Runs expected for the committed list with `algos` applicable everywhere.
inline int expectedRuns(size_t algos, const std::string &file = kConformanceList) {
  size_t perLayout = 0;
  for (laminaDataType_t dt : lt::floatTypes())
    perLayout += alphaBetas(dt).size();
  return int(loadSpecs(file).size() * perLayout * layouts().size() * algos * lt::mathTypes().size());
}

// The Winograd lists (tests/problems/conv_winograd.csv: 3x3; conv_winograd5x5.csv: 5x5) over `algos`
// (WINOGRAD_NONFUSED among them; on the 5x5 list without notOn5x5, the algorithm that does not take
// them), with chunks of 50 tiles on both backends so their small problems span several (wino_chunks:
// 121 tiles in three chunks).
inline void expectWinogradConformance(Dir d, std::vector<int> algos, int notOn5x5 = -1) {
  std::sort(algos.begin(), algos.end());
  setenv("LAMINA_CPU_WINOGRAD_CHUNK", "50", 1);
  setenv("LAMINA_CUDA_WINOGRAD_CHUNK", "50", 1);
  const char *list3 = "problems/conv_winograd.csv", *list5 = "problems/conv_winograd5x5.csv";
  EXPECT_EQ(runConformance(d, algos, list3), expectedRuns(algos.size(), list3));
  algos.erase(std::remove(algos.begin(), algos.end(), notOn5x5), algos.end());
  EXPECT_EQ(runConformance(d, algos, list5), expectedRuns(algos.size(), list5));
}

// The FFT list (tests/problems/conv_fft.csv) over the general `algos` and, on the CUDA backend (the
// CPU has no FFT), `fft`; 2 images a chunk so its batches of 3-5 span several.
inline void expectFftConformance(Dir d, std::vector<int> algos, int fft) {
  if (lt::testBackend() == LAMINA_BACKEND_CUDA)
    algos.push_back(fft);
  std::sort(algos.begin(), algos.end());
  setenv("LAMINA_CUDA_FFT_CHUNK", "2", 1);
  const char *list = "problems/conv_fft.csv";
  EXPECT_EQ(runConformance(d, algos, list), expectedRuns(algos.size(), list));
}

// One run of `algo` of direction d on the buffers (x, w, dy/y as the direction reads them), beta 0,
// output poisoned NaN first; the output downloaded.
inline std::vector<double> runOnce(const lt::Handle &h, Dir d, int algo, Setup &st, laminaDataType_t dt, const void *x,
                                   const void *w, const void *y, lt::Buffer &out) {
  size_t wsBytes = 0;
  laminaStatus_t q =
      d == Dir::Forward ? laminaGetConvolutionForwardWorkspaceSize(h, *st.x, *st.w, st.conv, *st.y,
                                                                   laminaConvolutionFwdAlgo_t(algo), &wsBytes)
      : d == Dir::BackwardData
          ? laminaGetConvolutionBackwardDataWorkspaceSize(h, *st.w, *st.y, st.conv, *st.x,
                                                          laminaConvolutionBwdDataAlgo_t(algo), &wsBytes)
          : laminaGetConvolutionBackwardFilterWorkspaceSize(h, *st.x, *st.y, st.conv, *st.w,
                                                            laminaConvolutionBwdFilterAlgo_t(algo), &wsBytes);
  EXPECT_EQ(q, LAMINA_STATUS_SUCCESS) << laminaGetLastErrorMessage();
  lt::Buffer ws(h, wsBytes, dt);
  out.poison();
  lt::Scalar al(1.0), be(0.0);
  laminaStatus_t r;
  switch (d) {
  case Dir::Forward:
    r = laminaConvolutionForward(h, al.ptr(dt), *st.x, x, *st.w, w, st.conv, laminaConvolutionFwdAlgo_t(algo), ws.p,
                                 wsBytes, be.ptr(dt), *st.y, out.p);
    EXPECT_EQ(r, LAMINA_STATUS_SUCCESS) << laminaGetLastErrorMessage();
    return lt::download(h, *st.y, out.p);
  case Dir::BackwardData:
    r = laminaConvolutionBackwardData(h, al.ptr(dt), *st.w, w, *st.y, y, st.conv, laminaConvolutionBwdDataAlgo_t(algo),
                                      ws.p, wsBytes, be.ptr(dt), *st.x, out.p);
    EXPECT_EQ(r, LAMINA_STATUS_SUCCESS) << laminaGetLastErrorMessage();
    return lt::download(h, *st.x, out.p);
  case Dir::BackwardFilter:
    r = laminaConvolutionBackwardFilter(h, al.ptr(dt), *st.x, x, *st.y, y, st.conv,
                                        laminaConvolutionBwdFilterAlgo_t(algo), ws.p, wsBytes, be.ptr(dt), *st.w,
                                        out.p);
    EXPECT_EQ(r, LAMINA_STATUS_SUCCESS) << laminaGetLastErrorMessage();
    return lt::download(h, *st.w, out.p);
  }
  return {};
}

// Every applicable algorithm that reports LAMINA_DETERMINISTIC gives bitwise-equal results on two
// runs of each problem of `file` (float, NCHW, every math type). Returns the number of comparisons.
inline int runDeterminism(Dir d, const std::string &file) {
  lt::Handle h;
  if (!h.ok())
    return 0;
  const laminaDataType_t dt = LAMINA_DATA_FLOAT;
  int compared = 0;
  uint64_t seed = 900;
  for (const auto &ns : loadSpecs(file)) {
    Setup st(ns.spec, dt, lt::Layout::NCHW);
    lt::Buffer xb(h, st.x->bytes(), dt), wb(h, st.w->bytes(), dt), yb(h, st.y->bytes(), dt);
    lt::upload(h, *st.x, lt::randomValues(st.x->numel(), seed++, dt), xb.p);
    lt::upload(h, *st.w, lt::randomValues(st.w->numel(), seed++, dt), wb.p);
    lt::upload(h, *st.y, lt::randomValues(st.y->numel(), seed++, dt), yb.p);
    const size_t outBytes = d == Dir::Forward ? st.y->bytes() : d == Dir::BackwardData ? st.x->bytes() : st.w->bytes();
    lt::Buffer out(h, outBytes, dt);
    for (laminaMathType_t math : lt::mathTypes()) {
      laminaSetConvolutionMathType(st.conv, math);
      int n = 0;
      laminaConvolutionFwdAlgoPerf_t fp[16];
      laminaConvolutionBwdDataAlgoPerf_t dp[16];
      laminaConvolutionBwdFilterAlgoPerf_t wp[16];
      std::vector<int> algos;
      if (d == Dir::Forward) {
        EXPECT_EQ(laminaGetConvolutionForwardAlgorithmHeuristics(h, *st.x, *st.w, st.conv, *st.y, 16, &n, fp),
                  LAMINA_STATUS_SUCCESS);
        for (int i = 0; i < n; ++i)
          if (fp[i].status == LAMINA_STATUS_SUCCESS && fp[i].determinism == LAMINA_DETERMINISTIC)
            algos.push_back(int(fp[i].algo));
      } else if (d == Dir::BackwardData) {
        EXPECT_EQ(laminaGetConvolutionBackwardDataAlgorithmHeuristics(h, *st.w, *st.y, st.conv, *st.x, 16, &n, dp),
                  LAMINA_STATUS_SUCCESS);
        for (int i = 0; i < n; ++i)
          if (dp[i].status == LAMINA_STATUS_SUCCESS && dp[i].determinism == LAMINA_DETERMINISTIC)
            algos.push_back(int(dp[i].algo));
      } else {
        EXPECT_EQ(laminaGetConvolutionBackwardFilterAlgorithmHeuristics(h, *st.x, *st.y, st.conv, *st.w, 16, &n, wp),
                  LAMINA_STATUS_SUCCESS);
        for (int i = 0; i < n; ++i)
          if (wp[i].status == LAMINA_STATUS_SUCCESS && wp[i].determinism == LAMINA_DETERMINISTIC)
            algos.push_back(int(wp[i].algo));
      }
      for (int algo : algos) {
        SCOPED_TRACE(ns.name + " algo " + std::to_string(algo) + " math " + std::to_string(int(math)));
        auto a = runOnce(h, d, algo, st, dt, xb.p, wb.p, yb.p, out);
        auto b = runOnce(h, d, algo, st, dt, xb.p, wb.p, yb.p, out);
        EXPECT_EQ(a, b);
        ++compared;
      }
    }
  }
  return compared;
}

} // namespace ct
