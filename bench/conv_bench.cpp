// One layer x direction of lamina-bench (conv_bench.h).
#include "conv_bench.h"

#include "common/test_util.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace bench {

void check(laminaStatus_t s, const char *what) {
  if (s != LAMINA_STATUS_SUCCESS)
    throw std::runtime_error(std::string(what) + ": " + laminaGetErrorString(s) + ": " + laminaGetLastErrorMessage());
}

namespace {

const char *fwdAlgoName(int a) {
  static const char *n[] = {"implicit", "precomp", "gemm", "direct", "fft", "fft_tiling", "winograd", "wino_nf"};
  return a >= 0 && a < 8 ? n[a] : "?";
}
const char *bwdDataAlgoName(int a) {
  static const char *n[] = {"implicit", "gemm", "direct", "fft", "fft_tiling", "winograd", "wino_nf"};
  return a >= 0 && a < 7 ? n[a] : "?";
}
const char *bwdFilterAlgoName(int a) {
  static const char *n[] = {"implicit", "gemm", "direct", "fft", "fft_tiling", "wino_nf"};
  return a >= 0 && a < 6 ? n[a] : "?";
}

// Uniform values in [-1, 1), never exactly zero, rounded to the data type (so a peer given the
// float values sees exactly what Lamina sees).
// Generated in chunks with their own streams, in parallel (batch-64 layers have 10^8 elements); the
// values do not depend on the thread count.
std::vector<float> randomFloats(int64_t n, uint64_t seed, laminaDataType_t dt) {
  std::vector<float> v(static_cast<size_t>(n));
  const int64_t chunk = int64_t(1) << 20, chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + uint64_t(c) * 0xD1B54A32D192ED03ull + 0x2545F4914F6CDD1Dull;
    for (int64_t i = c * chunk; i < std::min(n, (c + 1) * chunk); ++i) {
      s ^= s >> 12;
      s ^= s << 25;
      s ^= s >> 27;
      double u = double((s * 0x2545F4914F6CDD1Dull) >> 11) / double(1ull << 53) * 2.0 - 1.0;
      if (u == 0)
        u = 0.5;
      v[size_t(i)] = float(dt == LAMINA_DATA_FLOAT || dt == LAMINA_DATA_DOUBLE ? u : lt::roundTo(dt, u));
    }
  }
  return v;
}

size_t elemSize(laminaDataType_t dt) { return dt == LAMINA_DATA_DOUBLE ? 8 : dt == LAMINA_DATA_FLOAT ? 4 : 2; }

// Backend memory owned by the bench.
struct DevBuf {
  laminaHandle_t h = nullptr;
  void *p = nullptr;
  size_t bytes = 0;
  DevBuf(laminaHandle_t h_, size_t b) : h(h_), bytes(b) {
    if (b)
      CHECK(laminaMalloc(h, &p, b));
  }
  ~DevBuf() { laminaFree(h, p); }
  DevBuf(const DevBuf &) = delete;
  DevBuf &operator=(const DevBuf &) = delete;
};

void uploadFloats(laminaHandle_t h, laminaDataType_t dt, const std::vector<float> &v, void *dev) {
  std::vector<unsigned char> host(v.size() * elemSize(dt));
  if (dt == LAMINA_DATA_FLOAT)
    std::memcpy(host.data(), v.data(), host.size());
  else {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < int64_t(v.size()); ++i)
      lt::storeValue(dt, host.data(), i, v[size_t(i)]);
  }
  CHECK(laminaMemcpy(h, dev, host.data(), host.size(), LAMINA_MEMCPY_HOST_TO_DEVICE));
}

std::vector<double> downloadValues(laminaHandle_t h, laminaDataType_t dt, int64_t n, const void *dev) {
  std::vector<unsigned char> host(size_t(n) * elemSize(dt));
  CHECK(laminaMemcpy(h, host.data(), dev, host.size(), LAMINA_MEMCPY_DEVICE_TO_HOST));
  std::vector<double> v(static_cast<size_t>(n));
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i)
    v[size_t(i)] = lt::loadValue(dt, host.data(), i);
  return v;
}

// max |a - b| / max |b|: one number that says whether two implementations agree.
double relError(const std::vector<double> &a, const std::vector<float> &b) {
  double num = 0, den = 0;
  const int64_t n = int64_t(std::min(a.size(), b.size()));
#pragma omp parallel for schedule(static) reduction(max : num, den)
  for (int64_t i = 0; i < n; ++i) {
    num = std::max(num, std::fabs(a[size_t(i)] - double(b[size_t(i)])));
    den = std::max(den, std::fabs(double(b[size_t(i)])));
  }
  return a.size() != b.size() ? INFINITY : num / (den > 0 ? den : 1);
}

} // namespace

const char *algoName(Dir d, int a) {
  return d == Dir::Fwd ? fwdAlgoName(a) : d == Dir::BwdData ? bwdDataAlgoName(a) : bwdFilterAlgoName(a);
}

Layer::Layer(laminaHandle_t h, const ConvSpec &s) : h_(h), s_(s) {
  CHECK(laminaCreateTensorDescriptor(&x_));
  CHECK(laminaCreateTensorDescriptor(&y_));
  CHECK(laminaCreateFilterDescriptor(&w_));
  CHECK(laminaCreateConvolutionDescriptor(&conv_));
  const int nb = s.spatialDims + 2;
  const laminaTensorFormat_t fmt = s.nhwc ? LAMINA_TENSOR_NHWC : LAMINA_TENSOR_NCHW;
  int64_t xd[5] = {s.N, s.C}, wd[5] = {s.K, s.C / s.G}, pads[3], strides[3], dils[3];
  for (int i = 0; i < s.spatialDims; ++i) {
    int j = 3 - s.spatialDims + i;
    xd[2 + i] = s.in[j];
    wd[2 + i] = s.filt[j];
    pads[i] = s.pad[j];
    strides[i] = s.stride[j];
    dils[i] = s.dil[j];
  }
  CHECK(laminaSetTensorNdDescriptorEx(x_, fmt, s.dtype, nb, xd));
  CHECK(laminaSetFilterNdDescriptor(w_, s.dtype, fmt, nb, wd));
  CHECK(laminaSetConvolutionNdDescriptor(conv_, s.spatialDims, pads, strides, dils, LAMINA_CROSS_CORRELATION,
                                         s.dtype == LAMINA_DATA_DOUBLE ? LAMINA_DATA_DOUBLE : LAMINA_DATA_FLOAT));
  if (s.G > 1)
    CHECK(laminaSetConvolutionGroupCount(conv_, s.G));
  CHECK(laminaSetConvolutionMathType(conv_, s.math));
  int64_t yd[5];
  CHECK(laminaGetConvolutionNdForwardOutputDim(conv_, x_, w_, nb, yd));
  CHECK(laminaSetTensorNdDescriptorEx(y_, fmt, s.dtype, nb, yd));
  for (int i = 0; i < s.spatialDims; ++i)
    s_.out[3 - s.spatialDims + i] = yd[2 + i];
}
Layer::~Layer() {
  laminaDestroyTensorDescriptor(x_);
  laminaDestroyTensorDescriptor(y_);
  laminaDestroyFilterDescriptor(w_);
  laminaDestroyConvolutionDescriptor(conv_);
}
std::vector<int> Layer::applicable(Dir d) {
  std::vector<int> out;
  int max = 0;
  switch (d) {
  case Dir::Fwd: {
    CHECK(laminaGetConvolutionForwardAlgorithmMaxCount(h_, &max));
    std::vector<laminaConvolutionFwdAlgoPerf_t> p(static_cast<size_t>(max));
    int n = 0;
    CHECK(laminaGetConvolutionForwardAlgorithmHeuristics(h_, x_, w_, conv_, y_, max, &n, p.data()));
    for (int i = 0; i < n; ++i)
      if (p[size_t(i)].status == LAMINA_STATUS_SUCCESS)
        out.push_back(p[size_t(i)].algo);
    break;
  }
  case Dir::BwdData: {
    CHECK(laminaGetConvolutionBackwardDataAlgorithmMaxCount(h_, &max));
    std::vector<laminaConvolutionBwdDataAlgoPerf_t> p(static_cast<size_t>(max));
    int n = 0;
    CHECK(laminaGetConvolutionBackwardDataAlgorithmHeuristics(h_, w_, y_, conv_, x_, max, &n, p.data()));
    for (int i = 0; i < n; ++i)
      if (p[size_t(i)].status == LAMINA_STATUS_SUCCESS)
        out.push_back(p[size_t(i)].algo);
    break;
  }
  case Dir::BwdFilter: {
    CHECK(laminaGetConvolutionBackwardFilterAlgorithmMaxCount(h_, &max));
    std::vector<laminaConvolutionBwdFilterAlgoPerf_t> p(static_cast<size_t>(max));
    int n = 0;
    CHECK(laminaGetConvolutionBackwardFilterAlgorithmHeuristics(h_, x_, y_, conv_, w_, max, &n, p.data()));
    for (int i = 0; i < n; ++i)
      if (p[size_t(i)].status == LAMINA_STATUS_SUCCESS)
        out.push_back(p[size_t(i)].algo);
    break;
  }
  }
  return out;
}

int Layer::pick(Dir d) {
  switch (d) {
  case Dir::Fwd: {
    laminaConvolutionFwdAlgo_t a;
    CHECK(laminaGetConvolutionForwardAlgorithm(h_, x_, w_, conv_, y_, LAMINA_CONVOLUTION_PREFER_FASTEST, 0, &a));
    return a;
  }
  case Dir::BwdData: {
    laminaConvolutionBwdDataAlgo_t a;
    CHECK(laminaGetConvolutionBackwardDataAlgorithm(h_, w_, y_, conv_, x_, LAMINA_CONVOLUTION_PREFER_FASTEST, 0, &a));
    return a;
  }
  case Dir::BwdFilter: {
    laminaConvolutionBwdFilterAlgo_t a;
    CHECK(laminaGetConvolutionBackwardFilterAlgorithm(h_, x_, y_, conv_, w_, LAMINA_CONVOLUTION_PREFER_FASTEST, 0, &a));
    return a;
  }
  }
  return -1;
}

size_t Layer::workspace(Dir d, int algo) {
  size_t b = 0;
  switch (d) {
  case Dir::Fwd:
    CHECK(laminaGetConvolutionForwardWorkspaceSize(h_, x_, w_, conv_, y_, laminaConvolutionFwdAlgo_t(algo), &b));
    break;
  case Dir::BwdData:
    CHECK(
        laminaGetConvolutionBackwardDataWorkspaceSize(h_, w_, y_, conv_, x_, laminaConvolutionBwdDataAlgo_t(algo), &b));
    break;
  case Dir::BwdFilter:
    CHECK(laminaGetConvolutionBackwardFilterWorkspaceSize(h_, x_, y_, conv_, w_, laminaConvolutionBwdFilterAlgo_t(algo),
                                                          &b));
    break;
  }
  return b;
}

laminaStatus_t Layer::run(Dir d, int algo, const void *in1, const void *in2, void *out, void *ws, size_t wsBytes) {
  float f1 = 1, f0 = 0;
  double d1 = 1, d0 = 0;
  const bool dbl = s_.dtype == LAMINA_DATA_DOUBLE;
  const void *one = dbl ? (const void *)&d1 : &f1, *zero = dbl ? (const void *)&d0 : &f0;
  switch (d) {
  case Dir::Fwd:
    return laminaConvolutionForward(h_, one, x_, in1, w_, in2, conv_, laminaConvolutionFwdAlgo_t(algo), ws, wsBytes,
                                    zero, y_, out);
  case Dir::BwdData:
    return laminaConvolutionBackwardData(h_, one, w_, in2, y_, in1, conv_, laminaConvolutionBwdDataAlgo_t(algo), ws,
                                         wsBytes, zero, x_, out);
  case Dir::BwdFilter:
    return laminaConvolutionBackwardFilter(h_, one, x_, in1, y_, in2, conv_, laminaConvolutionBwdFilterAlgo_t(algo), ws,
                                           wsBytes, zero, w_, out);
  }
  return LAMINA_STATUS_INTERNAL_ERROR;
}

namespace {

// Input sets rotated between runs: enough that they (with the output) exceed the caches.
size_t inputSets(int64_t inputBytes) {
  const int64_t target = int64_t(64) << 20;
  return size_t(std::clamp<int64_t>(target / std::max<int64_t>(inputBytes, 1), 1, 8));
}

} // namespace

RowResult benchRow(laminaHandle_t h, Layer &layer, Layer *probe, Dir dir, Peer *peer, const RowOptions &o) {
  const TimingOptions &timing = o.timing;
  RowResult r;
  const ConvSpec &s = layer.spec();
  const laminaDataType_t dt = s.dtype;
  int64_t n1, n2, nOut;
  if (dir == Dir::Fwd)
    n1 = s.xCount(), n2 = s.wCount(), nOut = s.yCount();
  else if (dir == Dir::BwdData)
    n1 = s.yCount(), n2 = s.wCount(), nOut = s.xCount();
  else
    n1 = s.xCount(), n2 = s.yCount(), nOut = s.wCount();
  const size_t es = elemSize(dt);
  const size_t sets = inputSets((n1 + n2) * int64_t(es));

  HostData data;
  auto &h1 = dir == Dir::BwdData ? data.dy : data.x;
  auto &h2 = dir == Dir::BwdFilter ? data.dy : data.w;
  std::vector<std::unique_ptr<DevBuf>> d1, d2;
  for (size_t i = 0; i < sets; ++i) {
    h1.push_back(randomFloats(n1, 1000 * uint64_t(dir) + 2 * i + 1, dt));
    h2.push_back(randomFloats(n2, 1000 * uint64_t(dir) + 2 * i + 2, dt));
    d1.push_back(std::make_unique<DevBuf>(h, size_t(n1) * es));
    d2.push_back(std::make_unique<DevBuf>(h, size_t(n2) * es));
    uploadFloats(h, dt, h1.back(), d1.back()->p);
    uploadFloats(h, dt, h2.back(), d2.back()->p);
  }
  DevBuf out(h, size_t(nOut) * es);

  // Batch-1 time of an algorithm on the first image of set 0 (N is the outermost dimension in both
  // layouts): the better of two runs, so the first one may pay for lazy loading without counting.
  auto probeMs = [&](int a) {
    const size_t pb = probe->workspace(dir, a);
    DevBuf pws(h, pb);
    laminaStatus_t st = LAMINA_STATUS_SUCCESS;
    auto f = [&](int) {
      if (st == LAMINA_STATUS_SUCCESS)
        st = probe->run(dir, a, d1[0]->p, d2[0]->p, out.p, pws.p, pb);
    };
    const double t0 = timeOnceMs(timing, f, 0), t1 = timeOnceMs(timing, f, 1);
    check(st, (std::string(algoName(dir, a)) + " at batch 1 (the estimate)").c_str());
    return std::min(t0, t1);
  };
  double pickProbeMs = -1;

  r.pick = layer.pick(dir);
  std::vector<int> algos = layer.applicable(dir);
  algos.erase(std::remove(algos.begin(), algos.end(), r.pick), algos.end());
  algos.insert(algos.begin(), r.pick); // measured first: its first call is the layer's first call
  for (int a : algos) {
    AlgoTime at;
    at.algo = a;
    try {
      // An algorithm far slower than the pick (e.g. a naive loop on a VGG layer) would take minutes:
      // time it at batch 1 first and do not run it when that estimate says it is far slower.
      if (a != r.pick && r.pickMs > 0 && probe && s.N > 1) {
        const double pa = probeMs(a);
        if (o.skipSlow > 0) {
          if (pickProbeMs < 0) {
            try {
              pickProbeMs = probeMs(r.pick);
            } catch (const std::exception &) {
              pickProbeMs = 0; // no estimate for the pick: run everything
            }
          }
          const double ratio = pickProbeMs > 0 ? pa / pickProbeMs : 1.0;
          if (ratio > o.skipSlow) {
            at.ms = ratio * r.pickMs;
            at.estRatio = ratio;
            at.skipped = true;
          }
        } else {
          const double est = pa * double(s.N);
          if (est > 10 * r.pickMs && est > timing.maxSeconds * 1000.0) {
            at.ms = est;
            at.skipped = true;
          }
        }
        if (at.skipped) {
          ++r.notRun;
          r.algos.push_back(at);
          continue;
        }
      }
      size_t wsBytes = layer.workspace(dir, a);
      DevBuf ws(h, wsBytes);
      laminaStatus_t st = LAMINA_STATUS_SUCCESS;
      // Only the call is inside the clock: it waits for the queued work (CUDA events on the stream,
      // or laminaSynchronize around a steady clock). The warm-up is the first call, timed apart.
      at.ms = timeMedianMs(
          timing,
          [&](int i) {
            size_t k = size_t(i) % sets;
            if (st == LAMINA_STATUS_SUCCESS)
              st = layer.run(dir, a, d1[k]->p, d2[k]->p, out.p, ws.p, wsBytes);
          },
          &at.firstMs, &at.singleMs, &at.issueMs);
      check(st, algoName(dir, a));
    } catch (const std::exception &e) {
      at.ms = -1;
      at.firstMs = -1;
      at.err = e.what();
    }
    if (at.ms > 0 && (r.bestMs < 0 || at.ms < r.bestMs))
      r.bestMs = at.ms, r.best = a;
    if (a == r.pick)
      r.pickMs = at.ms, r.pickFirstMs = at.firstMs, r.pickSingleMs = at.singleMs, r.pickIssueMs = at.issueMs;
    r.algos.push_back(at);
  }

  if (peer) {
    r.peerRan = true;
    r.peer = peer->run(s, dir, data, timing);
    if (!r.peer.out.empty() && r.pickMs > 0) {
      // Lamina's pick on set 0 against the peer's output for the same inputs.
      size_t wsBytes = layer.workspace(dir, r.pick);
      DevBuf ws(h, wsBytes);
      CHECK(layer.run(dir, r.pick, d1[0]->p, d2[0]->p, out.p, ws.p, wsBytes));
      CHECK(laminaSynchronize(h));
      r.relErr = relError(downloadValues(h, dt, nOut, out.p), r.peer.out);
      // The peer computes in f32; Lamina's output is rounded to its type (half: 2^-11 relative,
      // bfloat16: 2^-8), so the bound is that type's rounding with room for accumulation order.
      // TF32 (float on tensor cores, on either side) keeps half's 10 mantissa bits: half's bound.
      const bool tf32 = dt == LAMINA_DATA_FLOAT && s.math == LAMINA_TENSOR_OP_MATH;
      // A peer running Winograd or FFT rounds its transforms (cuDNN's fp32 Winograd backward-data on
      // lenet.conv1: 1.45e-3 from an exact DIRECT), so its error counts as well: 2e-2 then. The engine
      // is named in the winning peer's own text (before " | ", where the others' times and failures
      // follow): the legacy API's WINOGRAD* / FFT* algorithms, the graph API's "wino" / "fft" notes.
      std::string impl = r.peer.impl.substr(0, r.peer.impl.find(" | "));
      std::transform(impl.begin(), impl.end(), impl.begin(), [](unsigned char c) { return char(std::tolower(c)); });
      const bool peerInexact = impl.find("wino") != std::string::npos || impl.find("fft") != std::string::npos;
      const double bound = peerInexact                      ? 2e-2
                           : dt == LAMINA_DATA_HALF || tf32 ? 5e-3
                           : dt == LAMINA_DATA_BFLOAT16     ? 2e-2
                                                            : 1e-3;
      r.mismatch = !(r.relErr <= bound);
    }
  }
  return r;
}

} // namespace bench
