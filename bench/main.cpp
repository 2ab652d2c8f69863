// lamina-bench: times every applicable Lamina convolution algorithm per layer and direction, marks
// the one PREFER_FASTEST picks, and compares with a peer library (oneDNN on the CPU, cuDNN on the
// GPU). See docs/bench.md for the method and the figures measured.
#include "conv_bench.h"
#include "peer.h"
#include "report.h"

#include "common/problem_list.h"

#include <lamina/lamina.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
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
  std::vector<int64_t> batches;      // every direction of o.dirs at each; default 8 (cpu) or 64 (cuda)
  std::vector<int64_t> inferBatches; // extra forward-only passes
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
  std::string resultsCsv; // the issue's 7 columns, the pick's row per layer x config x direction x batch
  double skipSlow = 0;    // 0: the default rule (RowOptions)
  bool ceiling = false;
  int64_t ceilingSize = 8192;
  int threads = 0;
  bool quick = false;
  std::string only;    // substring filter on layer names
  double deadline = 0; // seconds: later layers are not started (0 = none)
};

void usage(FILE *f) {
  std::fprintf(
      f,
      "usage: lamina-bench [--backend cpu|cuda] [--layers FILE] [--batch N[,N...]] [--infer-batches N,...|none]\n"
      "                    [--config fp32,tf32,fp16_nhwc,bf16_nhwc,...|all]\n"
      "                    [--dtype float|double|half|bfloat16] [--layout nchw|nhwc] [--math default|tensor_op|fma]\n"
      "                    [--dirs fwd,bwd_data,bwd_filter] [--iters K] [--max-seconds S]\n"
      "                    [--peer onednn|cudnn|cudnn_graph|none|PEER,PEER...] [--csv OUT] [--results-csv OUT]\n"
      "                    [--threads T] [--only SUBSTR]\n"
      "                    [--quick] [--deadline S] [--skip-slow F] [--ceiling] [--ceiling-size N]\n"
      "Configs: fp32 (float, DEFAULT math), tf32 (float, TENSOR_OP math), fp16, bf16 (TENSOR_OP math),\n"
      "  fp64 (double), each with an optional _nchw (default) or _nhwc suffix; 'all' = fp32,tf32,fp16_nhwc,bf16_nhwc.\n"
      "  Without --config: one config from --dtype/--layout/--math (default float, nchw, default math).\n"
      "Default batch: 8 on the cpu backend, 64 on cuda (rows with an N column keep theirs and run in the\n"
      "  first pass only). --batch 64,8: every direction at each batch in turn. --infer-batches 1,8: after\n"
      "  those, forward-only passes at these batches (inference).\n"
      "Default layers: $LAMINA_BENCH_LAYERS, else %s/../shared/bench/conv_layers.csv, else the\n"
      "  committed copy %s/bench/conv_layers.csv.\n"
      "--quick: the first 3 layers, 2 iterations (a smoke test). --deadline S: start no layer after S\n"
      "  seconds (the summary covers the rows run).\n"
      "--results-csv OUT: layer,config,direction,batch,lamina_ms,cudnn_ms,algorithm: the PREFER_FASTEST pick's\n"
      "  median time and name, and the peer's time (cuDNN's best on the cuda backend), one row per layer x\n"
      "  config x direction x batch.\n"
      "--peer (cuda): cudnn = the classic API (cudnnFind*AlgorithmEx), cudnn_graph = the graph API (heuristics\n"
      "  and fallback engine configs, up to 10 plans timed); cudnn,cudnn_graph: both, the faster is the peer\n"
      "  time (and cudnn_ms), the winner named in the peer algorithm.\n"
      "--skip-slow F: do not run an algorithm whose batch-1 time exceeds F x the pick's batch-1 time (shown\n"
      "  as ~estimate, counted in the summary); without it, one whose batch-1 time x N exceeds both 10x the\n"
      "  pick's time and --max-seconds is not run.\n"
      "--ceiling (cuda): after the layers, the card's GEMM ceilings through cuBLAS (N x N x N, default 8192)\n"
      "  in fp16, bf16, tf32, fp32 (no tensor cores) and fp64, and the 3 largest layers' TFLOP/s as a\n"
      "  fraction of the config's ceiling.\n",
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

double parseDouble(const std::string &flag, const std::string &v, double lo) {
  char *end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end || !(d >= lo))
    badArg(flag + " wants a number >= " + std::to_string(lo) + ", got '" + v + "'");
  return d;
}

// "64,8,1" -> {64, 8, 1}, each >= 1, no repeats.
std::vector<int64_t> parseBatches(const std::string &flag, const std::string &v) {
  std::vector<int64_t> out;
  std::stringstream ss(v);
  std::string b;
  while (std::getline(ss, b, ',')) {
    int64_t n = parseInt(flag, b, 1);
    if (std::find(out.begin(), out.end(), n) != out.end())
      badArg(flag + " lists " + b + " twice");
    out.push_back(n);
  }
  if (out.empty())
    badArg(flag + " is empty");
  return out;
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
      o.batches = parseBatches(a, val());
    } else if (a == "--infer-batches") {
      std::string v = val();
      o.inferBatches = v == "none" ? std::vector<int64_t>() : parseBatches(a, v);
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
      o.timing.maxSeconds = parseDouble(a, val(), 0);
    } else if (a == "--peer") {
      o.peer = val();
    } else if (a == "--csv") {
      o.csv = val();
    } else if (a == "--results-csv") {
      o.resultsCsv = val();
    } else if (a == "--skip-slow") {
      o.skipSlow = parseDouble(a, val(), 1);
    } else if (a == "--ceiling") {
      o.ceiling = true;
    } else if (a == "--ceiling-size") {
      o.ceilingSize = parseInt(a, val(), 256);
      if (o.ceilingSize > 16384)
        badArg("--ceiling-size is at most 16384");
    } else if (a == "--threads") {
      o.threads = int(parseInt(a, val(), 0));
    } else if (a == "--only") {
      o.only = val();
    } else if (a == "--quick") {
      o.quick = true;
    } else if (a == "--deadline") {
      o.deadline = parseDouble(a, val(), 0);
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
  if (o.batches.empty()) // the GPU comparison's batch is 64 (a batch of 8 leaves an H200 mostly idle)
    o.batches = {o.backend == LAMINA_BACKEND_CUDA ? int64_t(64) : int64_t(8)};
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

std::string csvQuote(const std::string &v) {
  if (v.find_first_of(",\"") == std::string::npos)
    return v;
  std::string q = "\"";
  for (char c : v)
    q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string joinBatches(const std::vector<int64_t> &b) {
  std::string s;
  for (int64_t n : b)
    s += (s.empty() ? "" : ",") + std::to_string(n);
  return s;
}

// One pass over the layer list: a batch and the directions run at it.
struct Pass {
  int64_t batch;
  std::vector<Dir> dirs;
};

// Every --batch with every direction, then the --infer-batches forward only (one already run
// forward by --batch is not repeated).
std::vector<Pass> makePasses(const Options &o) {
  std::vector<Pass> passes;
  for (int64_t b : o.batches)
    passes.push_back({b, o.dirs});
  const bool fwd = std::find(o.dirs.begin(), o.dirs.end(), Dir::Fwd) != o.dirs.end();
  for (int64_t b : o.inferBatches)
    if (!fwd || std::find(o.batches.begin(), o.batches.end(), b) == o.batches.end())
      passes.push_back({b, {Dir::Fwd}});
  return passes;
}

// The layers of one pass, after --only and --quick. A row with its own N runs in the first pass
// only (at every pass it would repeat the same problem).
std::vector<lt::ConvShape> passShapes(const Options &o, const std::vector<lt::ProblemRow> &rows, int64_t batch,
                                      bool firstPass) {
  std::vector<lt::ConvShape> shapes;
  for (const auto &r : rows) {
    if (r.has("N") && !firstPass)
      continue;
    lt::ConvShape c;
    try {
      c = lt::convShapeFromRow(r, batch);
    } catch (const std::exception &e) {
      throw std::runtime_error(o.layers + ": " + e.what());
    }
    if (o.only.empty() || c.name.find(o.only) != std::string::npos)
      shapes.push_back(c);
  }
  if (o.quick && shapes.size() > 3)
    shapes.resize(3);
  return shapes;
}

ConvSpec specOf(const lt::ConvShape &shape, const Config &cfg) {
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
  return spec;
}

std::FILE *openCsv(const std::string &path, const char *header) {
  if (path.empty())
    return nullptr;
  std::FILE *f = std::fopen(path.c_str(), "w");
  if (!f)
    throw std::runtime_error("cannot write '" + path + "'");
  std::fprintf(f, "%s\n", header);
  return f;
}

// A millisecond figure for a CSV cell: empty when there is none.
std::string msCell(double ms) {
  if (!(ms > 0))
    return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", ms);
  return buf;
}

// The row's line in the text log, and its notes.
void printRow(const ConvSpec &s, Dir dir, const RowResult &r, const std::string &peerName) {
  auto tflops = [&](double ms) { return ms > 0 ? s.flops() / (ms * 1e9) : 0.0; };
  const double ratio = r.peer.ok && r.pickMs > 0 ? r.peer.plainMs / r.pickMs : NAN;
  const double ratioBest = r.peer.ok && r.bestMs > 0 ? r.peer.plainMs / r.bestMs : NAN;
  std::string all;
  for (const auto &a : r.algos) {
    char buf[96];
    if (a.skipped && a.estRatio > 0)
      std::snprintf(buf, sizeof buf, "%s=~%.3g(est %.3gx) ", algoName(dir, a.algo), a.ms, a.estRatio);
    else if (a.skipped)
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
  std::printf("%-22s %-10s %-10s %9.3f %9.3f %8.3f %-10s %9.3f %9s %9s %6s %6s %8s  %s\n", s.name.c_str(), dirName(dir),
              algoName(dir, r.pick), r.pickMs, r.pickFirstMs, tflops(r.pickMs),
              r.best >= 0 ? algoName(dir, r.best) : "-", r.bestMs, peerMs, nativeMs, ratioS, ratioB, rel, all.c_str());
  if (r.peer.ok && !r.peer.impl.empty())
    std::printf("    peer algorithm: %s\n", r.peer.impl.c_str());
  for (const auto &a : r.algos)
    if (!a.err.empty())
      std::printf("    %s: %s\n", algoName(dir, a.algo), a.err.c_str());
  if (r.peerRan && !r.peer.ok)
    std::printf("    peer: %s\n", r.peer.why.c_str());
  if (r.mismatch)
    std::printf("    MISMATCH: Lamina and %s differ (max rel error %.2e)\n", peerName.c_str(), r.relErr);
  std::fflush(stdout);
}

// Every algorithm's line in --csv.
void writeCsvRows(std::FILE *csv, const Config &cfg, const ConvSpec &s, Dir dir, const RowResult &r,
                  const std::string &peerName) {
  auto tflops = [&](double ms) { return ms > 0 ? s.flops() / (ms * 1e9) : 0.0; };
  char head[512];
  std::snprintf(head, sizeof head, "%s,%s,%s,%lld,%s,%s,%s,%lld,%lld,%lld,%lldx%lldx%lld,%lldx%lldx%lld,%lld,%lld,%lld",
                csvQuote(s.name).c_str(), cfg.name.c_str(), dirName(dir), (long long)s.N, dtypeArg(s.dtype),
                s.nhwc ? "nhwc" : "nchw", mathArg(s.math), (long long)s.C, (long long)s.K, (long long)s.G,
                (long long)s.in[0], (long long)s.in[1], (long long)s.in[2], (long long)s.filt[0], (long long)s.filt[1],
                (long long)s.filt[2], (long long)s.pad[2], (long long)s.stride[2], (long long)s.dil[2]);
  std::string peerCols = ",,,"; // a string: the impl of a peer list can be long
  if (r.peer.ok) {
    char times[64];
    std::snprintf(times, sizeof times, ",%.4f,%.4f,", r.peer.plainMs, tflops(r.peer.plainMs));
    peerCols = csvQuote(peerName) + times + csvQuote(r.peer.impl);
  }
  for (const auto &a : r.algos) {
    char relS[32] = "", ratioA[32] = "", note[96] = "";
    if (a.algo == r.pick && r.relErr >= 0)
      std::snprintf(relS, sizeof relS, "%.3e", r.relErr);
    if (r.peer.ok && a.ms > 0 && !a.skipped)
      std::snprintf(ratioA, sizeof ratioA, "%.4f", r.peer.plainMs / a.ms);
    if (a.skipped && a.estRatio > 0)
      std::snprintf(note, sizeof note, "not run: estimated %.3gx the pick from batch 1 (--skip-slow)", a.estRatio);
    else if (a.skipped)
      std::snprintf(note, sizeof note, "not run: estimated from batch 1");
    else if (!a.err.empty())
      std::snprintf(note, sizeof note, "failed");
    std::fprintf(csv, "%s,%s,%d,%d,%.4f,%.4f,%s,%s,%s,%s,%s,%s,%s,%s\n", head, algoName(dir, a.algo),
                 a.algo == r.pick ? 1 : 0, a.algo == r.best ? 1 : 0, a.ms, tflops(a.ms), peerCols.c_str(), ratioA, relS,
                 csvQuote(note).c_str(), a.skipped ? "" : msCell(a.firstMs).c_str(),
                 a.skipped ? "" : msCell(a.singleMs).c_str(), a.skipped ? "" : msCell(a.issueMs).c_str(),
                 r.peer.ok ? msCell(r.peer.plainIssueMs).c_str() : "");
  }
  std::fflush(csv);
}

int runBench(const Options &o) {
  const double startMs = nowMs();
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
  RowOptions rowOptions;
  rowOptions.timing = timing;
  rowOptions.skipSlow = o.skipSlow;

  std::unique_ptr<Peer> peer = makePeer(o.peer, o.backend);
  if (peer)
    peer->setThreads(o.threads);

  const std::vector<lt::ProblemRow> rows = lt::loadProblemList(o.layers);
  const std::vector<Pass> passes = makePasses(o);

  std::string configNames;
  for (const auto &c : o.configs)
    configNames += (configNames.empty() ? "" : ",") + c.name;
  std::string passText;
  for (const Pass &p : passes) {
    std::string dirs;
    for (Dir d : p.dirs)
      dirs += (dirs.empty() ? "" : "+") + std::string(dirName(d));
    passText += (passText.empty() ? "" : ", ") + std::to_string(p.batch) + " (" + dirs + ")";
  }
  std::printf("lamina-bench: backend %s, configs %s, batch %s (rows with an N column keep theirs), %d iters (median "
              "after a timed first call), max %.1f s per algorithm, timing by %s\n",
              o.backend == LAMINA_BACKEND_CPU ? "cpu" : "cuda", configNames.c_str(), passText.c_str(), o.timing.iters,
              o.timing.maxSeconds, stream ? "CUDA events on the shared stream" : "steady clock");
  std::printf("machine: %s, nproc %u, load average %s, lamina threads %d (0 = all); peer %s%s%s\n", machine.c_str(),
              std::thread::hardware_concurrency(), loadAverage().c_str(), threads, o.peer.c_str(), peer ? " " : "",
              peer ? peer->version().c_str() : "");
  std::printf("layers: %s (%zu rows)\n", o.layers.c_str(), rows.size());
  std::printf("ms = median milliseconds; 1st = the pick's first call on the layer (ms); TF/s = TFLOP/s "
              "(2*N*K*P*Q*C/G*R*S per direction); * = the PREFER_FASTEST pick; ~(est) = not run, estimated from "
              "batch 1%s; peer = %s with plain memory in and out%s; ratio = peer / Lamina pick, r.best = peer / "
              "Lamina's best measured (above 1: Lamina faster)\n",
              o.skipSlow > 0 ? " (--skip-slow: est Rx = batch-1 time R times the pick's)" : "", o.peer.c_str(),
              o.peer == "onednn" ? " (reorders counted), native = its own layouts (reorders excluded)" : "");

  std::FILE *csv =
      openCsv(o.csv, "layer,config,direction,batch,dtype,layout,math,C,K,G,in,filt,pad,stride,dil,algorithm,picked,"
                     "best,lamina_ms,lamina_tflops,peer,peer_ms,peer_tflops,peer_algo,peer_over_lamina,rel_err,note,"
                     "first_ms,single_ms,issue_ms,peer_issue_ms");
  std::FILE *results = openCsv(o.resultsCsv, "layer,config,direction,batch,lamina_ms,cudnn_ms,algorithm");

  ReportInput report;
  report.peer = o.peer;
  report.skipSlow = o.skipSlow;
  report.mainBatch = passes.front().batch;
  int mismatches = 0, failures = 0, notRun = 0, faultNotRun = 0;
  // A kernel fault (Lamina's or the peer's) leaves the process's CUDA context unusable: every later
  // call fails, and CUDA cannot recover it in-process. The run stops there; the summary covers the
  // rows before it (scripts/gpu_check.sh runs one process per config, so the other configs still run).
  std::string fault;
  auto faulted = [&] {
#ifdef LAMINA_BENCH_HAVE_CUDA
    if (fault.empty() && o.backend == LAMINA_BACKEND_CUDA)
      fault = cudaContextFault();
#endif
    return !fault.empty();
  };
  for (const Config &cfg : o.configs) {
    for (size_t pi = 0; pi < passes.size(); ++pi) {
      const Pass &pass = passes[pi];
      const std::vector<lt::ConvShape> shapes = passShapes(o, rows, pass.batch, pi == 0);
      if (shapes.empty())
        continue;
      std::printf("\n== config %s: %s, %s, %s math; batch %lld\n", cfg.name.c_str(), dtypeArg(cfg.dtype),
                  cfg.nhwc ? "nhwc" : "nchw", mathArg(cfg.math), (long long)pass.batch);
      std::printf("%-22s %-10s %-10s %9s %9s %8s %-10s %9s %9s %9s %6s %6s %8s  %s\n", "layer", "dir", "pick", "ms",
                  "1st", "TF/s", "best", "ms", "peer", "native", "ratio", "r.best", "relerr",
                  "all algorithms (ms / TF/s)");
      std::fflush(stdout);
      for (const auto &shape : shapes) {
        if (!fault.empty()) {
          ++faultNotRun;
          continue;
        }
        if (o.deadline > 0 && nowMs() - startMs > o.deadline * 1000.0) {
          ++notRun;
          continue;
        }
        const ConvSpec spec = specOf(shape, cfg);
        std::unique_ptr<Layer> layer, probe;
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
        for (Dir dir : pass.dirs) {
          RowResult r;
          try {
            r = benchRow(h, *layer, probe.get(), dir, peer.get(), rowOptions);
          } catch (const std::exception &e) {
            std::printf("%-22s %-10s error: %s\n", s.name.c_str(), dirName(dir), e.what());
            std::fflush(stdout);
            ++failures;
            if (faulted())
              break;
            continue;
          }
          mismatches += r.mismatch;
          failures += r.pickMs < 0;
          printRow(s, dir, r, o.peer);
          if (csv)
            writeCsvRows(csv, cfg, s, dir, r, o.peer);
          if (results) {
            std::fprintf(results, "%s,%s,%s,%lld,%s,%s,%s\n", csvQuote(s.name).c_str(), cfg.name.c_str(), dirName(dir),
                         (long long)s.N, msCell(r.pickMs).c_str(), r.peer.ok ? msCell(r.peer.plainMs).c_str() : "",
                         algoName(dir, r.pick));
            std::fflush(results);
          }
          RowRecord rec;
          rec.layer = s.name, rec.config = cfg.name, rec.dir = dir, rec.batch = s.N, rec.flops = s.flops();
          rec.pick = algoName(dir, r.pick);
          rec.best = r.best >= 0 ? algoName(dir, r.best) : "";
          rec.pickMs = r.pickMs, rec.bestMs = r.bestMs, rec.firstMs = r.pickFirstMs, rec.singleMs = r.pickSingleMs;
          rec.peerMs = r.peer.ok ? r.peer.plainMs : -1;
          rec.nativeMs = r.peer.ok ? r.peer.nativeMs : -1;
          rec.issueMs = r.pickIssueMs, rec.peerIssueMs = r.peer.ok ? r.peer.plainIssueMs : -1;
          rec.notRun = r.notRun;
          rec.mismatch = r.mismatch;
          report.rows.push_back(rec);
          if (faulted())
            break;
        }
        if (!fault.empty() && faultNotRun == 0) {
          std::printf("%-22s CUDA context lost (%s): a kernel faulted during this layer (the peer's note or the "
                      "error above says whose); the process cannot go on, the layers after it are not run\n",
                      s.name.c_str(), fault.c_str());
          std::fflush(stdout);
          ++faultNotRun; // counts layer passes, as the deadline's count does
        }
      }
    }
  }
  if (csv)
    std::fclose(csv);
  if (results)
    std::fclose(results);
  const double layersMs = nowMs() - startMs;

  // The ceiling last, so that cuBLAS kernels it loads cannot flatter any first call above.
  report.ceilingAsked = o.ceiling && fault.empty();
  report.ceilingSize = o.ceilingSize;
  if (report.ceilingAsked) {
#ifdef LAMINA_BENCH_HAVE_CUDA
    if (o.backend == LAMINA_BACKEND_CUDA)
      report.ceilings = measureGemmCeilings(stream, o.ceilingSize, timing);
    else
      report.ceilingWhy = "the ceiling is the GPU's (--backend cuda)";
#else
    report.ceilingWhy = "lamina-bench was built without the CUDA backend";
#endif
  }

  printReport(report);
  if (notRun)
    std::printf("deadline of %.0f s reached: %d layer pass(es) not run\n", o.deadline, notRun);
  std::printf("wall time: %.1f s (layers %.1f s, ceiling %.1f s); load average at the end: %s\n",
              (nowMs() - startMs) / 1000.0, layersMs / 1000.0, (nowMs() - startMs - layersMs) / 1000.0,
              loadAverage().c_str());
  std::string summary = "summary:";
  if (peer)
    for (const Config &cfg : o.configs)
      summary += " " + cfg.name + summaryLine(report, cfg.name, passes.size() > 1) + ";";
  else
    summary += " no peer;";
  summary += " mismatches " + std::to_string(mismatches) + ", failures " + std::to_string(failures);
  if (notRun)
    summary += ", not run (deadline) " + std::to_string(notRun);
  if (!fault.empty())
    summary +=
        ", stopped by a kernel fault (" + fault + "): " + std::to_string(faultNotRun - 1) + " layer pass(es) not run";
  std::printf("%s\n", summary.c_str());
  peer.reset();
  laminaDestroy(h);
#ifdef LAMINA_BENCH_HAVE_CUDA
  clock.reset();
  destroyCudaStream(stream);
#endif
  return mismatches || failures || !fault.empty() ? 1 : 0;
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
