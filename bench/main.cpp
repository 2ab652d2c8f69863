// lamina-bench: times every applicable Lamina convolution algorithm per layer and direction, marks
// the one PREFER_FASTEST picks, and compares with a peer library (oneDNN on the CPU). See
// docs/bench.md for the method and the figures measured.
#include "peer.h"

#include "common/problem_list.h"
#include "common/test_util.h"

#include <lamina/lamina.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#ifndef LAMINA_SOURCE_DIR
#define LAMINA_SOURCE_DIR "."
#endif

namespace bench {
namespace {

// One data type / layout / math type combination to run the layer list in.
struct Config {
  std::string name;
  laminaDataType_t dtype = LAMINA_DATA_FLOAT;
  bool nhwc = false;
  laminaMathType_t math = LAMINA_DEFAULT_MATH;
};

// fp32 | tf32 | fp16 | bf16 | fp64, optionally _nchw (the default) or _nhwc: fp32 = float with
// DEFAULT math, tf32 = float with TENSOR_OP math (tensor cores, TF32), fp16/bf16 = half/bfloat16
// with TENSOR_OP math, fp64 = double with DEFAULT math.
bool parseConfig(const std::string &text, Config &c) {
  std::string base = text;
  c = Config();
  c.name = text;
  const size_t us = text.find('_');
  if (us != std::string::npos) {
    base = text.substr(0, us);
    const std::string layout = text.substr(us + 1);
    if (layout == "nhwc")
      c.nhwc = true;
    else if (layout != "nchw")
      return false;
  }
  if (base == "fp32")
    c.dtype = LAMINA_DATA_FLOAT, c.math = LAMINA_DEFAULT_MATH;
  else if (base == "tf32")
    c.dtype = LAMINA_DATA_FLOAT, c.math = LAMINA_TENSOR_OP_MATH;
  else if (base == "fp16")
    c.dtype = LAMINA_DATA_HALF, c.math = LAMINA_TENSOR_OP_MATH;
  else if (base == "bf16")
    c.dtype = LAMINA_DATA_BFLOAT16, c.math = LAMINA_TENSOR_OP_MATH;
  else if (base == "fp64")
    c.dtype = LAMINA_DATA_DOUBLE, c.math = LAMINA_DEFAULT_MATH;
  else
    return false;
  return true;
}

const char *mathArg(laminaMathType_t m) {
  return m == LAMINA_TENSOR_OP_MATH ? "tensor_op" : m == LAMINA_FMA_MATH ? "fma" : "default";
}

struct Options {
  laminaBackend_t backend = LAMINA_BACKEND_CPU;
  std::string layers;
  int64_t batch = 8;
  bool batchGiven = false;
  // --dtype/--layout/--math make one config when --config is not given.
  laminaDataType_t dtype = LAMINA_DATA_FLOAT;
  bool nhwc = false;
  laminaMathType_t math = LAMINA_DEFAULT_MATH;
  std::vector<Config> configs;
  std::vector<Dir> dirs = {Dir::Fwd, Dir::BwdData, Dir::BwdFilter};
  TimingOptions timing;
  bool itersGiven = false;
  std::string peer;
  std::string csv;
  int threads = 0;
  bool quick = false;
  std::string only;    // substring filter on layer names
  double deadline = 0; // seconds: later layers are not started (0 = none)
};

void usage(FILE *f) {
  std::fprintf(
      f,
      "usage: lamina-bench [--backend cpu|cuda] [--layers FILE] [--batch N]\n"
      "                    [--config fp32,tf32,fp16_nhwc,bf16_nhwc,...|all]\n"
      "                    [--dtype float|double|half|bfloat16] [--layout nchw|nhwc] [--math default|tensor_op|fma]\n"
      "                    [--dirs fwd,bwd_data,bwd_filter] [--iters K] [--max-seconds S]\n"
      "                    [--peer onednn|cudnn|none] [--csv OUT] [--threads T] [--only SUBSTR] [--quick] [--deadline "
      "S]\n"
      "Configs: fp32 (float, DEFAULT math), tf32 (float, TENSOR_OP math), fp16, bf16 (TENSOR_OP math),\n"
      "  fp64 (double), each with an optional _nchw (default) or _nhwc suffix; 'all' = fp32,tf32,fp16_nhwc,bf16_nhwc.\n"
      "  Without --config: one config from --dtype/--layout/--math (default float, nchw, default math).\n"
      "Default batch: 8 on the cpu backend, 64 on cuda (rows with an N column keep theirs).\n"
      "Default layers: $LAMINA_BENCH_LAYERS, else %s/../shared/bench/conv_layers.csv, else the\n"
      "  committed copy %s/bench/conv_layers.csv.\n"
      "--quick: the first 3 layers, 2 iterations (a smoke test). --deadline S: start no layer after S\n"
      "  seconds (the summary covers the rows run).\n",
      LAMINA_SOURCE_DIR, LAMINA_SOURCE_DIR);
}

[[noreturn]] void badArg(const std::string &msg) {
  std::fprintf(stderr, "lamina-bench: %s\n", msg.c_str());
  usage(stderr);
  std::exit(2);
}

int64_t parseInt(const std::string &flag, const std::string &v, int64_t lo) {
  char *end = nullptr;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end || n < lo)
    badArg(flag + " wants an integer >= " + std::to_string(lo) + ", got '" + v + "'");
  return n;
}

Options parseArgs(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc)
        badArg(a + " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      usage(stdout);
      std::exit(0);
    } else if (a == "--backend") {
      std::string v = val();
      if (v == "cpu")
        o.backend = LAMINA_BACKEND_CPU;
      else if (v == "cuda")
        o.backend = LAMINA_BACKEND_CUDA;
      else
        badArg("--backend is cpu or cuda, got '" + v + "'");
    } else if (a == "--layers") {
      o.layers = val();
    } else if (a == "--batch") {
      o.batch = parseInt(a, val(), 1);
      o.batchGiven = true;
    } else if (a == "--config") {
      std::stringstream ss(val());
      std::string c;
      while (std::getline(ss, c, ',')) {
        if (c == "all") {
          for (const char *n : {"fp32", "tf32", "fp16_nhwc", "bf16_nhwc"}) {
            Config cfg;
            parseConfig(n, cfg);
            o.configs.push_back(cfg);
          }
          continue;
        }
        Config cfg;
        if (!parseConfig(c, cfg))
          badArg("--config takes fp32, tf32, fp16, bf16, fp64 with an optional _nchw/_nhwc suffix, or all; got '" + c +
                 "'");
        o.configs.push_back(cfg);
      }
      if (o.configs.empty())
        badArg("--config is empty");
    } else if (a == "--dtype") {
      std::string v = val();
      if (v == "float")
        o.dtype = LAMINA_DATA_FLOAT;
      else if (v == "double")
        o.dtype = LAMINA_DATA_DOUBLE;
      else if (v == "half")
        o.dtype = LAMINA_DATA_HALF;
      else if (v == "bfloat16")
        o.dtype = LAMINA_DATA_BFLOAT16;
      else
        badArg("--dtype is float, double, half or bfloat16, got '" + v + "'");
    } else if (a == "--layout") {
      std::string v = val();
      if (v == "nchw")
        o.nhwc = false;
      else if (v == "nhwc")
        o.nhwc = true;
      else
        badArg("--layout is nchw or nhwc, got '" + v + "'");
    } else if (a == "--math") {
      std::string v = val();
      if (v == "default")
        o.math = LAMINA_DEFAULT_MATH;
      else if (v == "tensor_op")
        o.math = LAMINA_TENSOR_OP_MATH;
      else if (v == "fma")
        o.math = LAMINA_FMA_MATH;
      else
        badArg("--math is default, tensor_op or fma, got '" + v + "'");
    } else if (a == "--dirs") {
      o.dirs.clear();
      std::stringstream ss(val());
      std::string d;
      while (std::getline(ss, d, ',')) {
        if (d == "fwd")
          o.dirs.push_back(Dir::Fwd);
        else if (d == "bwd_data")
          o.dirs.push_back(Dir::BwdData);
        else if (d == "bwd_filter")
          o.dirs.push_back(Dir::BwdFilter);
        else
          badArg("--dirs takes fwd, bwd_data, bwd_filter; got '" + d + "'");
      }
      if (o.dirs.empty())
        badArg("--dirs is empty");
    } else if (a == "--iters") {
      o.timing.iters = int(parseInt(a, val(), 1));
      o.itersGiven = true;
    } else if (a == "--max-seconds") {
      o.timing.maxSeconds = std::atof(val().c_str());
    } else if (a == "--peer") {
      o.peer = val();
    } else if (a == "--csv") {
      o.csv = val();
    } else if (a == "--threads") {
      o.threads = int(parseInt(a, val(), 0));
    } else if (a == "--only") {
      o.only = val();
    } else if (a == "--quick") {
      o.quick = true;
    } else if (a == "--deadline") {
      o.deadline = std::atof(val().c_str());
    } else {
      badArg("unknown argument '" + a + "'");
    }
  }
  if (o.layers.empty()) {
    const char *env = std::getenv("LAMINA_BENCH_LAYERS");
    if (env && *env)
      o.layers = env;
    else {
      // ../shared beside the repository root (a git worktree sits one level deeper, wt/NAME); where
      // there is none (e.g. a copy of the repository on the GPU machine), the committed copy.
      for (const char *rel : {"/../shared/bench", "/shared/bench", "/../../shared/bench", "/bench"}) {
        std::string cand = std::string(LAMINA_SOURCE_DIR) + rel + "/conv_layers.csv";
        if (std::ifstream(cand).good()) {
          o.layers = cand;
          break;
        }
      }
      if (o.layers.empty())
        o.layers = std::string(LAMINA_SOURCE_DIR) + "/bench/conv_layers.csv";
    }
  }
  if (!o.batchGiven && o.backend == LAMINA_BACKEND_CUDA)
    o.batch = 64; // the GPU comparison's batch (a batch of 8 leaves an H200 mostly idle)
  if (o.configs.empty()) {
    Config c;
    c.dtype = o.dtype, c.nhwc = o.nhwc, c.math = o.math;
    c.name = std::string(o.dtype == LAMINA_DATA_DOUBLE     ? "fp64"
                         : o.dtype == LAMINA_DATA_HALF     ? "fp16"
                         : o.dtype == LAMINA_DATA_BFLOAT16 ? "bf16"
                         : o.math == LAMINA_TENSOR_OP_MATH ? "tf32"
                                                           : "fp32") +
             (o.nhwc ? "_nhwc" : "");
    if (o.math == LAMINA_FMA_MATH ||
        (o.math == LAMINA_DEFAULT_MATH && o.dtype != LAMINA_DATA_FLOAT && o.dtype != LAMINA_DATA_DOUBLE))
      c.name += std::string("_") + mathArg(o.math);
    o.configs.push_back(c);
  }
  if (o.quick) {
    if (!o.itersGiven)
      o.timing.iters = 2;
    o.timing.maxSeconds = std::min(o.timing.maxSeconds, 1.0);
  }
  if (o.peer.empty())
    o.peer = defaultPeer(o.backend);
  return o;
}

// Throws with the call and Lamina's message on failure.
void check(laminaStatus_t s, const char *what) {
  if (s != LAMINA_STATUS_SUCCESS)
    throw std::runtime_error(std::string(what) + ": " + laminaGetErrorString(s) + ": " + laminaGetLastErrorMessage());
}
#define CHECK(call) check((call), #call)

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
const char *algoName(Dir d, int a) {
  return d == Dir::Fwd ? fwdAlgoName(a) : d == Dir::BwdData ? bwdDataAlgoName(a) : bwdFilterAlgoName(a);
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
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    num = std::max(num, std::fabs(a[i] - double(b[i])));
    den = std::max(den, std::fabs(double(b[i])));
  }
  return a.size() != b.size() ? INFINITY : num / (den > 0 ? den : 1);
}

struct AlgoTime {
  int algo;
  double ms = -1;       // measured, or estimated when skipped
  bool skipped = false; // estimated from a batch-1 probe as far slower than the pick: not run
  std::string err;
};

struct RowResult {
  std::string error; // the whole row failed
  std::vector<AlgoTime> algos;
  int pick = -1;
  double pickMs = -1, bestMs = -1;
  int best = -1;
  bool peerRan = false;
  PeerResult peer;
  double relErr = -1;
  bool mismatch = false;
};

// The descriptors of one layer, and the calls of each direction behind one shape.
class Layer {
public:
  Layer(laminaHandle_t h, const ConvSpec &s) : h_(h), s_(s) {
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
  ~Layer() {
    laminaDestroyTensorDescriptor(x_);
    laminaDestroyTensorDescriptor(y_);
    laminaDestroyFilterDescriptor(w_);
    laminaDestroyConvolutionDescriptor(conv_);
  }
  Layer(const Layer &) = delete;
  Layer &operator=(const Layer &) = delete;
  const ConvSpec &spec() const { return s_; }

  // Applicable algorithms in the heuristic's order.
  std::vector<int> applicable(Dir d) {
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

  // What PREFER_FASTEST picks without measuring.
  int pick(Dir d) {
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
      CHECK(
          laminaGetConvolutionBackwardFilterAlgorithm(h_, x_, y_, conv_, w_, LAMINA_CONVOLUTION_PREFER_FASTEST, 0, &a));
      return a;
    }
    }
    return -1;
  }

  size_t workspace(Dir d, int algo) {
    size_t b = 0;
    switch (d) {
    case Dir::Fwd:
      CHECK(laminaGetConvolutionForwardWorkspaceSize(h_, x_, w_, conv_, y_, laminaConvolutionFwdAlgo_t(algo), &b));
      break;
    case Dir::BwdData:
      CHECK(laminaGetConvolutionBackwardDataWorkspaceSize(h_, w_, y_, conv_, x_, laminaConvolutionBwdDataAlgo_t(algo),
                                                          &b));
      break;
    case Dir::BwdFilter:
      CHECK(laminaGetConvolutionBackwardFilterWorkspaceSize(h_, x_, y_, conv_, w_,
                                                            laminaConvolutionBwdFilterAlgo_t(algo), &b));
      break;
    }
    return b;
  }

  // out = conv(in1, in2) with alpha 1, beta 0 (in1/in2: x,w | dy,w | x,dy).
  laminaStatus_t run(Dir d, int algo, const void *in1, const void *in2, void *out, void *ws, size_t wsBytes) {
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
      return laminaConvolutionBackwardFilter(h_, one, x_, in1, y_, in2, conv_, laminaConvolutionBwdFilterAlgo_t(algo),
                                             ws, wsBytes, zero, w_, out);
    }
    return LAMINA_STATUS_INTERNAL_ERROR;
  }

private:
  laminaHandle_t h_;
  ConvSpec s_;
  laminaTensorDescriptor_t x_ = nullptr, y_ = nullptr;
  laminaFilterDescriptor_t w_ = nullptr;
  laminaConvolutionDescriptor_t conv_ = nullptr;
};

// Input sets rotated between runs: enough that they (with the output) exceed the caches.
size_t inputSets(int64_t inputBytes) {
  const int64_t target = int64_t(64) << 20;
  return size_t(std::clamp<int64_t>(target / std::max<int64_t>(inputBytes, 1), 1, 8));
}

// probe: the same layer with batch 1 (may be null).
// timing: o.timing with the clock (and stream) of the run.
RowResult benchRow(laminaHandle_t h, Layer &layer, Layer *probe, Dir dir, Peer *peer, const Options &o,
                   const TimingOptions &timing) {
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

  r.pick = layer.pick(dir);
  std::vector<int> algos = layer.applicable(dir);
  algos.erase(std::remove(algos.begin(), algos.end(), r.pick), algos.end());
  algos.insert(algos.begin(), r.pick); // measured first: the others are judged against it
  for (int a : algos) {
    AlgoTime at{a};
    try {
      // An algorithm far slower than the pick (e.g. a naive loop on a VGG layer) would take minutes:
      // time it once on the first image (the buffers' first slice) and skip it when the scaled
      // estimate exceeds both 10x the pick and the per-algorithm budget.
      if (a != r.pick && r.pickMs > 0 && probe && s.N > 1) {
        size_t pb = probe->workspace(dir, a);
        DevBuf pws(h, pb);
        CHECK(laminaSynchronize(h));
        double t0 = nowMs();
        check(probe->run(dir, a, d1[0]->p, d2[0]->p, out.p, pws.p, pb), algoName(dir, a));
        laminaSynchronize(h);
        double est = (nowMs() - t0) * double(s.N);
        if (est > 10 * r.pickMs && est > timing.maxSeconds * 1000.0) {
          at.ms = est;
          at.skipped = true;
          r.algos.push_back(at);
          continue;
        }
      }
      size_t wsBytes = layer.workspace(dir, a);
      DevBuf ws(h, wsBytes);
      laminaStatus_t st = LAMINA_STATUS_SUCCESS;
      // Only the call is inside the clock: it waits for the queued work (CUDA events on the stream,
      // or laminaSynchronize around a steady clock).
      at.ms = timeMedianMs(timing, [&](int i) {
        size_t k = size_t(i) % sets;
        if (st == LAMINA_STATUS_SUCCESS)
          st = layer.run(dir, a, d1[k]->p, d2[k]->p, out.p, ws.p, wsBytes);
      });
      check(st, algoName(dir, a));
    } catch (const std::exception &e) {
      at.ms = -1;
      at.err = e.what();
    }
    if (at.ms > 0 && (r.bestMs < 0 || at.ms < r.bestMs))
      r.bestMs = at.ms, r.best = a;
    if (a == r.pick)
      r.pickMs = at.ms;
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
      const double bound = dt == LAMINA_DATA_HALF || tf32 ? 5e-3 : dt == LAMINA_DATA_BFLOAT16 ? 2e-2 : 1e-3;
      r.mismatch = !(r.relErr <= bound);
    }
  }
  return r;
}

// Other processes compete for the cores: the 1-minute load average goes into the header.
std::string loadAverage() {
  std::ifstream f("/proc/loadavg");
  std::string a;
  f >> a;
  return a.empty() ? "?" : a;
}

std::string cpuModel() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("model name", 0) == 0)
      return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

const char *dtypeArg(laminaDataType_t dt) {
  switch (dt) {
  case LAMINA_DATA_DOUBLE: return "double";
  case LAMINA_DATA_HALF: return "half";
  case LAMINA_DATA_BFLOAT16: return "bfloat16";
  default: return "float";
  }
}

struct GeoMean {
  double sumLog = 0;
  int n = 0;
  void add(double ratio) {
    if (ratio > 0 && std::isfinite(ratio))
      sumLog += std::log(ratio), ++n;
  }
  double value() const { return n ? std::exp(sumLog / n) : NAN; }
};

// Geomeans of peer time / Lamina time, per config and direction.
struct ConfigSummary {
  std::string config;
  GeoMean pick[3], best[3], native[3];
};

std::string csvQuote(const std::string &v) {
  if (v.find_first_of(",\"") == std::string::npos)
    return v;
  std::string q = "\"";
  for (char c : v)
    q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

int runBench(const Options &o) {
  laminaHandle_t h = nullptr;
  CHECK(laminaCreateWithBackend(&h, o.backend));
  CHECK(laminaSetNumThreads(h, o.threads));
  int threads = 0;
  CHECK(laminaGetNumThreads(h, &threads));

  // Lamina and the peer work on one stream and are timed by one clock: CUDA events on that stream
  // (GPU time of the run, no host synchronisation latency), else a steady clock between two
  // laminaSynchronize calls.
  TimingOptions timing = o.timing;
  std::unique_ptr<Clock> clock;
  void *stream = nullptr;
  std::string machine = cpuModel();
#ifdef LAMINA_BENCH_HAVE_CUDA
  if (o.backend == LAMINA_BACKEND_CUDA) {
    stream = createCudaStream();
    CHECK(laminaSetStream(h, stream));
    clock = makeEventClock(stream);
    machine = gpuDescription() + "; host " + machine;
  }
#endif
  if (!clock)
    clock = makeWallClock([h] { laminaSynchronize(h); });
  timing.clock = clock.get();
  timing.stream = stream;

  std::unique_ptr<Peer> peer = makePeer(o.peer, o.backend);
  if (peer)
    peer->setThreads(o.threads);

  std::vector<lt::ConvShape> shapes = lt::loadConvShapes(o.layers, o.batch);
  if (!o.only.empty())
    shapes.erase(std::remove_if(shapes.begin(), shapes.end(),
                                [&](const lt::ConvShape &c) { return c.name.find(o.only) == std::string::npos; }),
                 shapes.end());
  if (o.quick && shapes.size() > 3)
    shapes.resize(3);

  std::string configNames;
  for (const auto &c : o.configs)
    configNames += (configNames.empty() ? "" : ",") + c.name;
  std::printf("lamina-bench: backend %s, configs %s, batch %lld (unless the list says), %d iters (median after "
              "warm-up), max %.1f s per algorithm, timing by %s\n",
              o.backend == LAMINA_BACKEND_CPU ? "cpu" : "cuda", configNames.c_str(), (long long)o.batch, o.timing.iters,
              o.timing.maxSeconds, stream ? "CUDA events on the shared stream" : "steady clock");
  std::printf("machine: %s, nproc %u, load average %s, lamina threads %d (0 = all); peer %s%s%s\n", machine.c_str(),
              std::thread::hardware_concurrency(), loadAverage().c_str(), threads, o.peer.c_str(), peer ? " " : "",
              peer ? peer->version().c_str() : "");
  std::printf("layers: %s (%zu)\n", o.layers.c_str(), shapes.size());
  std::printf("ms = median milliseconds; TF/s = TFLOP/s (2*N*K*P*Q*C/G*R*S per direction); * = the PREFER_FASTEST "
              "pick; ~(est) = not run, estimated from batch 1; peer = %s with plain memory in and out%s; ratio = "
              "peer / Lamina pick, r.best = peer / Lamina's best measured (above 1: Lamina faster)\n",
              o.peer.c_str(),
              o.peer == "onednn" ? " (reorders counted), native = its own layouts (reorders excluded)" : "");

  std::FILE *csv = nullptr;
  if (!o.csv.empty()) {
    csv = std::fopen(o.csv.c_str(), "w");
    if (!csv)
      throw std::runtime_error("cannot write '" + o.csv + "'");
    std::fprintf(csv,
                 "layer,config,direction,batch,dtype,layout,math,C,K,G,in,filt,pad,stride,dil,algorithm,picked,"
                 "best,lamina_ms,lamina_tflops,peer,peer_ms,peer_tflops,peer_algo,peer_over_lamina,rel_err,note\n");
  }

  std::vector<ConfigSummary> summaries;
  int mismatches = 0, failures = 0, notRun = 0;
  const double startMs = nowMs();
  for (const Config &cfg : o.configs) {
    summaries.push_back(ConfigSummary{cfg.name});
    ConfigSummary &sum = summaries.back();
    std::printf("\n== config %s: %s, %s, %s math\n", cfg.name.c_str(), dtypeArg(cfg.dtype), cfg.nhwc ? "nhwc" : "nchw",
                mathArg(cfg.math));
    std::printf("%-22s %-10s %-10s %9s %8s %-10s %9s %9s %9s %6s %6s %8s  %s\n", "layer", "dir", "pick", "ms", "TF/s",
                "best", "ms", "peer", "native", "ratio", "r.best", "relerr", "all algorithms (ms / TF/s)");
    std::fflush(stdout);
    for (const auto &shape : shapes) {
      if (o.deadline > 0 && nowMs() - startMs > o.deadline * 1000.0) {
        ++notRun;
        continue;
      }
      ConvSpec spec;
      spec.name = shape.name;
      spec.spatialDims = shape.spatialDims;
      spec.N = shape.N, spec.C = shape.C, spec.K = shape.K, spec.G = shape.G;
      for (int i = 0; i < shape.spatialDims; ++i) {
        int j = 3 - shape.spatialDims + i;
        spec.in[j] = shape.in[i], spec.filt[j] = shape.filt[i], spec.pad[j] = shape.pad[i];
        spec.stride[j] = shape.stride[i], spec.dil[j] = shape.dil[i];
      }
      spec.nhwc = cfg.nhwc;
      spec.dtype = cfg.dtype;
      spec.math = cfg.math;
      std::unique_ptr<Layer> layer;
      std::unique_ptr<Layer> probe;
      try {
        layer = std::make_unique<Layer>(h, spec);
        if (spec.N > 1) {
          ConvSpec one = spec;
          one.N = 1;
          probe = std::make_unique<Layer>(h, one);
        }
      } catch (const std::exception &e) {
        std::printf("%-22s error: %s\n", spec.name.c_str(), e.what());
        ++failures;
        continue;
      }
      const ConvSpec &s = layer->spec();
      for (Dir dir : o.dirs) {
        RowResult r;
        try {
          r = benchRow(h, *layer, probe.get(), dir, peer.get(), o, timing);
        } catch (const std::exception &e) {
          std::printf("%-22s %-10s error: %s\n", s.name.c_str(), dirName(dir), e.what());
          std::fflush(stdout);
          ++failures;
          continue;
        }
        auto tflops = [&](double ms) { return ms > 0 ? s.flops() / (ms * 1e9) : 0.0; };
        const double ratio = r.peer.ok && r.pickMs > 0 ? r.peer.plainMs / r.pickMs : NAN;
        const double ratioBest = r.peer.ok && r.bestMs > 0 ? r.peer.plainMs / r.bestMs : NAN;
        const int di = int(dir);
        sum.pick[di].add(ratio);
        sum.best[di].add(ratioBest);
        if (r.peer.ok && r.pickMs > 0 && r.peer.nativeMs > 0)
          sum.native[di].add(r.peer.nativeMs / r.pickMs);
        if (r.mismatch)
          ++mismatches;
        if (r.pickMs < 0)
          ++failures;
        std::string all;
        for (const auto &a : r.algos) {
          char buf[96];
          if (a.skipped)
            std::snprintf(buf, sizeof buf, "%s=~%.3g(est) ", algoName(dir, a.algo), a.ms);
          else if (a.ms > 0)
            std::snprintf(buf, sizeof buf, "%s%s=%.3g/%.3g ", algoName(dir, a.algo), a.algo == r.pick ? "*" : "", a.ms,
                          tflops(a.ms));
          else
            std::snprintf(buf, sizeof buf, "%s%s=fail ", algoName(dir, a.algo), a.algo == r.pick ? "*" : "");
          all += buf;
        }
        char peerMs[16] = "-", nativeMs[16] = "-", ratioS[16] = "-", ratioB[16] = "-", rel[32] = "-";
        if (r.peer.ok) {
          std::snprintf(peerMs, sizeof peerMs, "%.3f", r.peer.plainMs);
          if (r.peer.nativeMs > 0)
            std::snprintf(nativeMs, sizeof nativeMs, "%.3f", r.peer.nativeMs);
        }
        if (std::isfinite(ratio))
          std::snprintf(ratioS, sizeof ratioS, "%.2f", ratio);
        if (std::isfinite(ratioBest))
          std::snprintf(ratioB, sizeof ratioB, "%.2f", ratioBest);
        if (r.relErr >= 0)
          std::snprintf(rel, sizeof rel, "%.1e%s", r.relErr, r.mismatch ? "!" : "");
        std::printf("%-22s %-10s %-10s %9.3f %8.3f %-10s %9.3f %9s %9s %6s %6s %8s  %s\n", s.name.c_str(), dirName(dir),
                    algoName(dir, r.pick), r.pickMs, tflops(r.pickMs), r.best >= 0 ? algoName(dir, r.best) : "-",
                    r.bestMs, peerMs, nativeMs, ratioS, ratioB, rel, all.c_str());
        if (r.peer.ok && !r.peer.impl.empty())
          std::printf("    peer algorithm: %s\n", r.peer.impl.c_str());
        for (const auto &a : r.algos)
          if (!a.err.empty())
            std::printf("    %s: %s\n", algoName(dir, a.algo), a.err.c_str());
        if (r.peerRan && !r.peer.ok)
          std::printf("    peer: %s\n", r.peer.why.c_str());
        if (r.mismatch)
          std::printf("    MISMATCH: Lamina and %s differ (max rel error %.2e)\n", o.peer.c_str(), r.relErr);
        std::fflush(stdout);

        if (csv) {
          char head[512];
          std::snprintf(
              head, sizeof head, "%s,%s,%s,%lld,%s,%s,%s,%lld,%lld,%lld,%lldx%lldx%lld,%lldx%lldx%lld,%lld,%lld,%lld",
              csvQuote(s.name).c_str(), cfg.name.c_str(), dirName(dir), (long long)s.N, dtypeArg(s.dtype),
              s.nhwc ? "nhwc" : "nchw", mathArg(s.math), (long long)s.C, (long long)s.K, (long long)s.G,
              (long long)s.in[0], (long long)s.in[1], (long long)s.in[2], (long long)s.filt[0], (long long)s.filt[1],
              (long long)s.filt[2], (long long)s.pad[2], (long long)s.stride[2], (long long)s.dil[2]);
          char peerCols[256] = ",,,";
          if (r.peer.ok)
            std::snprintf(peerCols, sizeof peerCols, "%s,%.4f,%.4f,%s", o.peer.c_str(), r.peer.plainMs,
                          tflops(r.peer.plainMs), csvQuote(r.peer.impl).c_str());
          for (const auto &a : r.algos) {
            char relS[32] = "", ratioA[32] = "";
            if (a.algo == r.pick && r.relErr >= 0)
              std::snprintf(relS, sizeof relS, "%.3e", r.relErr);
            if (r.peer.ok && a.ms > 0 && !a.skipped)
              std::snprintf(ratioA, sizeof ratioA, "%.4f", r.peer.plainMs / a.ms);
            std::fprintf(csv, "%s,%s,%d,%d,%.4f,%.4f,%s,%s,%s,%s\n", head, algoName(dir, a.algo),
                         a.algo == r.pick ? 1 : 0, a.algo == r.best ? 1 : 0, a.ms, tflops(a.ms), peerCols, ratioA, relS,
                         a.skipped       ? "estimated from batch 1, not run"
                         : a.err.empty() ? ""
                                         : "failed");
          }
          std::fflush(csv);
        }
      }
    }
  }
  if (csv)
    std::fclose(csv);

  std::printf("\n");
  std::string summary = "summary:";
  for (const auto &sum : summaries) {
    if (!peer)
      break;
    summary += " " + sum.config;
    for (Dir dir : o.dirs) {
      const int di = int(dir);
      // One line per config and direction, key=value, for scripts (scripts/gpu_check.sh).
      std::printf("geomean config=%s dir=%s peer=%s n=%d pick=%.3f best=%.3f", sum.config.c_str(), dirName(dir),
                  o.peer.c_str(), sum.pick[di].n, sum.pick[di].value(), sum.best[di].value());
      if (sum.native[di].n)
        std::printf(" native_over_pick=%.3f", sum.native[di].value());
      std::printf("   (%s time / Lamina time; above 1: Lamina faster)\n", o.peer.c_str());
      char buf[96];
      std::snprintf(buf, sizeof buf, " %s %.2f (best %.2f, n=%d)", dirName(dir), sum.pick[di].value(),
                    sum.best[di].value(), sum.pick[di].n);
      summary += buf;
    }
    summary += ";";
  }
  if (!peer)
    summary += " no peer;";
  if (notRun)
    std::printf("deadline of %.0f s reached: %d layer(s) x config(s) not run\n", o.deadline, notRun);
  summary += " mismatches " + std::to_string(mismatches) + ", failures " + std::to_string(failures);
  if (notRun)
    summary += ", not run (deadline) " + std::to_string(notRun);
  std::printf("%s\n", summary.c_str());
  std::printf("load average at the end: %s\n", loadAverage().c_str());
  peer.reset();
  laminaDestroy(h);
#ifdef LAMINA_BENCH_HAVE_CUDA
  clock.reset();
  destroyCudaStream(stream);
#endif
  return mismatches || failures ? 1 : 0;
}

} // namespace
} // namespace bench

int main(int argc, char **argv) {
  bench::Options o = bench::parseArgs(argc, argv);
  try {
    return bench::runBench(o);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "lamina-bench: %s\n", e.what());
    return 2;
  }
}
