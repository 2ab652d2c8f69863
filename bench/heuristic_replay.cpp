// lamina-heuristic-replay: the CUDA backend's PREFER_FASTEST pick, from its estimates alone (no GPU
// needed), for every row of a lamina-bench --csv file, scored against the times that run measured:
// how many picks fall within 10% of the fastest measured algorithm, and which picks differ from the
// ones recorded (a heuristic change checked against past measurements before device time is spent).
// Links the library's objects directly (the estimates are internal). usage:
//   lamina-heuristic-replay BENCH_CSV [--misses | --all | --paths | --min-within F]   (--all: every row's
//   estimates and times; --paths: for the forward and backward-data IMPLICIT_GEMM / IMPLICIT_PRECOMP_GEMM
//   rows, the tensor-core path each plans (TMA, staged TMA, cp.async) with both models, beside the
//   measured time; --min-within F: exit 1 when under a fraction F of the replayed picks fall within 10%
//   of the best measured: ctest's check that a model change keeps issue 5's heuristic goal on the
//   recorded run)
// Last: per config x direction x batch, the geomean of peer / pick time for the recorded and the replayed
// picks (the measured times of each), what a heuristic change would have given on that run.
// The recorded files must come from the same kernels: a kernel change makes its old times stale.
// It plans as on an sm_90a device with the driver's tensor-map encoder (tc::assumeHopperForPlanning),
// GPU or not, so the wgmma/TMA paths' estimates take part as on the H200 the CSVs come from.
#include "core/conv_problem.h"
#include "core/descriptors.h"
#include "cuda/conv_tc.h"
#include "lamina/lamina.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace lamina;

namespace {
std::vector<std::string> split(const std::string &s) {
  std::vector<std::string> out;
  std::string cur;
  bool q = false;
  for (char c : s) {
    if (c == '"')
      q = !q;
    else if (c == ',' && !q)
      out.push_back(cur), cur.clear();
    else
      cur += c;
  }
  out.push_back(cur);
  return out;
}
std::vector<int64_t> dims(const std::string &s) {
  std::vector<int64_t> v;
  std::stringstream ss(s);
  std::string t;
  while (std::getline(ss, t, 'x'))
    v.push_back(std::stoll(t));
  return v;
}
std::string shortName(const char *n) {
  std::string s = n;
  if (s == "IMPLICIT_GEMM")
    return "implicit";
  if (s == "IMPLICIT_PRECOMP_GEMM")
    return "precomp";
  if (s == "GEMM")
    return "gemm";
  if (s == "DIRECT")
    return "direct";
  if (s == "WINOGRAD_NONFUSED")
    return "wino_nf";
  if (s == "FFT")
    return "fft";
  return s;
}
// One algorithm's recorded time, or NaN when the row was not a measurement (not run: estimated from
// batch 1; failed; a non-positive time).
double measuredMs(const std::string &ms, const std::string &note) {
  if (ms.empty() || note.rfind("not run", 0) == 0 || note.rfind("failed", 0) == 0)
    return NAN;
  const double v = std::stod(ms);
  return v > 0 ? v : NAN;
}

// The problem of a 2-D row.
ConvProblem problemOf(const std::vector<std::string> &v, const std::map<std::string, int> &col) {
  auto at = [&](const char *name) -> const std::string & { return v[size_t(col.at(name))]; };
  const std::string &dtype = at("dtype"), &layout = at("layout"), &math = at("math");
  const laminaDataType_t dt = dtype == "half"       ? LAMINA_DATA_HALF
                              : dtype == "bfloat16" ? LAMINA_DATA_BFLOAT16
                              : dtype == "double"   ? LAMINA_DATA_DOUBLE
                                                    : LAMINA_DATA_FLOAT;
  const laminaTensorFormat_t fmt = layout == "nhwc" ? LAMINA_TENSOR_NHWC : LAMINA_TENSOR_NCHW;
  const laminaMathType_t mt = math == "tensor_op" ? LAMINA_TENSOR_OP_MATH
                              : math == "fma"     ? LAMINA_FMA_MATH
                                                  : LAMINA_DEFAULT_MATH;
  // in = DxHxW and filt = TxRxS (D = T = 1 for 2-D); pad, stride, dil: the W value (the bench's CSV).
  const auto in = dims(at("in")), fl = dims(at("filt")), pd = dims(at("pad")), st = dims(at("stride")),
             dl = dims(at("dil"));
  if (in.size() != 3 || fl.size() != 3 || in[0] != 1 || fl[0] != 1 || pd.size() != 1 || st.size() != 1 ||
      dl.size() != 1)
    throw std::runtime_error("not a 2-D row");
  const int64_t N = std::stoll(at("batch")), C = std::stoll(at("C")), K = std::stoll(at("K")), G = std::stoll(at("G"));
  int64_t xd[4] = {N, C, in[1], in[2]}, wd[4] = {K, G > 0 ? C / G : C, fl[1], fl[2]};
  int64_t pads[2] = {pd[0], pd[0]}, strs[2] = {st[0], st[0]}, dils[2] = {dl[0], dl[0]};
  laminaTensorDescriptor_t x = nullptr, y = nullptr;
  laminaFilterDescriptor_t w = nullptr;
  laminaConvolutionDescriptor_t c = nullptr;
  laminaCreateTensorDescriptor(&x), laminaCreateTensorDescriptor(&y), laminaCreateFilterDescriptor(&w),
      laminaCreateConvolutionDescriptor(&c);
  auto cleanup = [&] {
    laminaDestroyTensorDescriptor(x), laminaDestroyTensorDescriptor(y), laminaDestroyFilterDescriptor(w),
        laminaDestroyConvolutionDescriptor(c);
  };
  int64_t yd[4];
  bool ok = laminaSetTensorNdDescriptorEx(x, fmt, dt, 4, xd) == LAMINA_STATUS_SUCCESS &&
            laminaSetFilterNdDescriptor(w, dt, fmt, 4, wd) == LAMINA_STATUS_SUCCESS &&
            laminaSetConvolutionNdDescriptor(c, 2, pads, strs, dils, LAMINA_CROSS_CORRELATION,
                                             dt == LAMINA_DATA_DOUBLE ? LAMINA_DATA_DOUBLE : LAMINA_DATA_FLOAT) ==
                LAMINA_STATUS_SUCCESS &&
            (G <= 1 || laminaSetConvolutionGroupCount(c, int(G)) == LAMINA_STATUS_SUCCESS) &&
            laminaSetConvolutionMathType(c, mt) == LAMINA_STATUS_SUCCESS &&
            laminaGetConvolutionNdForwardOutputDim(c, x, w, 4, yd) == LAMINA_STATUS_SUCCESS &&
            laminaSetTensorNdDescriptorEx(y, fmt, dt, 4, yd) == LAMINA_STATUS_SUCCESS;
  if (!ok) {
    cleanup();
    throw std::runtime_error(std::string("descriptors: ") + laminaGetLastErrorMessage());
  }
  const ConvProblem p = makeConvProblem(x->d, "x", w->d, "w", c->d, y->d, "y");
  cleanup();
  return p;
}

// The CUDA backend's PREFER_FASTEST pick for a 2-D row: the applicable algorithm with the smallest
// estimate, ties to the smaller public value (the library's stable sort over values). ests lists them.
std::string replayPick(const std::vector<std::string> &v, const std::map<std::string, int> &col, std::string &ests) {
  const ConvProblem p = problemOf(v, col);
  const std::string &dir = v[size_t(col.at("direction"))];
  const ConvDirection d = dir == "fwd"        ? ConvDirection::Forward
                          : dir == "bwd_data" ? ConvDirection::BackwardData
                                              : ConvDirection::BackwardFilter;
  std::string pick;
  double best = INFINITY;
  int bestAlgo = INT32_MAX;
  for (const ConvAlgorithm *a : cudaConvAlgorithms(d)) {
    if (!a->whyNot(p).empty())
      continue;
    const double e = a->estimateMs(p);
    char b[64];
    std::snprintf(b, sizeof b, " %s~%.3g", shortName(a->name).c_str(), e);
    ests += b;
    if (e < best || (e == best && a->algo < bestAlgo))
      best = e, bestAlgo = a->algo, pick = shortName(a->name);
  }
  return pick;
}

} // namespace

int main(int argc, char **argv) {
  cuda::tc::assumeHopperForPlanning();
  if (argc < 2) {
    std::fprintf(stderr, "usage: lamina-heuristic-replay BENCH_CSV [--misses | --all | --paths | --min-within F]\n");
    return 2;
  }
  double minWithin = 0; // --min-within F
  if (argc > 3 && std::string(argv[2]) == "--min-within") {
    char *end = nullptr;
    minWithin = std::strtod(argv[3], &end);
    if (end == argv[3] || *end != '\0' || !(minWithin >= 0 && minWithin <= 1)) {
      std::fprintf(stderr, "lamina-heuristic-replay: --min-within takes a fraction in [0, 1], not '%s'\n", argv[3]);
      return 2;
    }
  }
  const bool all = argc > 2 && std::string(argv[2]) == "--all";
  const bool misses = all || (argc > 2 && std::string(argv[2]) == "--misses");
  const bool paths = argc > 2 && std::string(argv[2]) == "--paths";
  std::ifstream f(argv[1]);
  if (!f) {
    std::fprintf(stderr, "lamina-heuristic-replay: cannot read %s\n", argv[1]);
    return 2;
  }
  auto getLine = [&](std::string &line) {
    if (!std::getline(f, line))
      return false;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    return true;
  };
  std::string line;
  getLine(line);
  const auto hdr = split(line);
  std::map<std::string, int> col;
  for (size_t i = 0; i < hdr.size(); ++i)
    col[hdr[i]] = int(i);
  for (const char *name : {"layer", "config", "direction", "batch", "dtype", "layout", "math", "C", "K", "G", "in",
                           "filt", "pad", "stride", "dil", "algorithm", "picked", "lamina_ms", "note"})
    if (!col.count(name)) {
      std::fprintf(stderr, "lamina-heuristic-replay: %s has no column '%s' (not a lamina-bench --csv file)\n", argv[1],
                   name);
      return 2;
    }
  auto at = [&](const std::vector<std::string> &v, const char *name) -> const std::string & {
    return v[size_t(col.at(name))];
  };
  struct Row {
    std::vector<std::string> v;
    std::map<std::string, double> ms;
    std::string picked;
    double peerMs = NAN;
  };
  std::map<std::string, Row> rows;
  std::vector<std::string> order;
  int skipped = 0;
  while (getLine(line)) {
    const auto v = split(line);
    if (v.size() < hdr.size()) {
      skipped += !line.empty();
      continue;
    }
    if (col.count("peer") && at(v, "peer").rfind("onednn", 0) == 0) { // a CPU-backend run: not ours to replay
      ++skipped;
      continue;
    }
    const std::string key = at(v, "layer") + "|" + at(v, "config") + "|" + at(v, "direction") + "|" + at(v, "batch");
    if (!rows.count(key))
      order.push_back(key), rows[key].v = v;
    try {
      rows[key].ms[at(v, "algorithm")] = measuredMs(at(v, "lamina_ms"), at(v, "note"));
    } catch (const std::exception &) {
      rows[key].ms[at(v, "algorithm")] = NAN;
    }
    if (at(v, "picked") == "1")
      rows[key].picked = at(v, "algorithm");
    if (col.count("peer_ms") && std::isnan(rows[key].peerMs) && !at(v, "peer_ms").empty())
      try {
        rows[key].peerMs = std::stod(at(v, "peer_ms"));
      } catch (const std::exception &) {
      }
  }
  // Per config x direction x batch: log(peer / pick) summed, recorded and replayed picks (rows where both
  // picks and the peer were measured), for the geomeans a change of the heuristic would give.
  struct Geo {
    int n = 0, unmeasured = 0;
    double logOld = 0, logNew = 0;
  };
  std::map<std::string, Geo> geo;
  int total = 0, good = 0, goodOld = 0, changed = 0;
  for (const auto &key : order) {
    Row &r = rows[key];
    std::string ests, pick;
    try {
      pick = replayPick(r.v, col, ests);
    } catch (const std::exception &e) {
      std::fprintf(stderr, "lamina-heuristic-replay: %s skipped (%s)\n", key.c_str(), e.what());
      ++skipped;
      continue;
    }
    double bestMs = INFINITY;
    for (const auto &m : r.ms)
      if (!std::isnan(m.second))
        bestMs = std::min(bestMs, m.second);
    if (!std::isfinite(bestMs)) {
      ++skipped;
      continue;
    }
    auto within = [&](const std::string &a) { return r.ms.count(a) && r.ms[a] <= 1.1 * bestMs; };
    const double oldMs = r.ms.count(r.picked) ? r.ms[r.picked] : NAN, newMs = r.ms.count(pick) ? r.ms[pick] : NAN;
    if (r.peerMs > 0) {
      Geo &gm = geo[at(r.v, "config") + " " + at(r.v, "direction") + " " + at(r.v, "batch")];
      if (oldMs > 0 && newMs > 0)
        ++gm.n, gm.logOld += std::log(r.peerMs / oldMs), gm.logNew += std::log(r.peerMs / newMs);
      else
        ++gm.unmeasured;
    }
    ++total;
    good += within(pick);
    goodOld += within(r.picked);
    if (paths) { // the flags of conv_implicit_gemm.cu, conv_implicit_precomp_gemm.cu, conv_bwd_data_implicit_gemm.cu
      const std::string &dir = at(r.v, "direction");
      for (const char *algo : {"implicit", "precomp"}) {
        if (!r.ms.count(algo) || dir == "bwd_filter" || (dir == "bwd_data" && std::string(algo) == "precomp"))
          continue;
        const bool fwd = dir == "fwd", pre = std::string(algo) == "precomp";
        const unsigned flags = fwd && !pre ? 0u : unsigned(cuda::tc::kSplitK | cuda::tc::kStage);
        const std::string path = cuda::tc::convPathName(
            problemOf(r.v, col), fwd ? cuda::tc::Dir::Forward : cuda::tc::Dir::BackwardData, flags);
        if (!path.empty())
          std::printf("PATH %-43s %-8s %-44s measured %.4g%s\n", key.c_str(), algo, path.c_str(), r.ms[algo],
                      r.picked == algo ? " (pick)" : "");
      }
    }
    const bool show = all || pick != r.picked || (misses && !within(pick));
    if (!show)
      continue;
    if (pick != r.picked) {
      ++changed;
      std::printf("%-48s was %-9s now %-9s (%s)  measured:", key.c_str(), r.picked.c_str(), pick.c_str(), ests.c_str());
    } else {
      std::printf("%s %-43s pick %-9s (%s)  measured:", within(pick) ? "OK  " : "MISS", key.c_str(), pick.c_str(),
                  ests.c_str());
    }
    for (const auto &m : r.ms)
      std::printf(" %s=%.4g", m.first.c_str(), m.second);
    std::printf("\n");
  }
  if (total == 0) {
    std::fprintf(stderr, "lamina-heuristic-replay: no rows in %s\n", argv[1]);
    return 1;
  }
  for (const auto &[name, gm] : geo)
    if (gm.n > 0)
      std::printf("geomean %-26s peer / pick: recorded %.3f, replayed %.3f (%d rows%s)\n", name.c_str(),
                  std::exp(gm.logOld / gm.n), std::exp(gm.logNew / gm.n), gm.n,
                  gm.unmeasured ? ", some picks not measured: left out" : "");
  std::printf("rows %d: recorded picks within 10%% of best %d (%.1f%%), replayed picks %d (%.1f%%), %d changed; "
              "%d skipped\n",
              total, goodOld, 100.0 * goodOld / total, good, 100.0 * good / total, changed, skipped);
  if (double(good) < minWithin * double(total)) {
    std::printf("FAIL: replayed picks within 10%% of best %.1f%%, under the --min-within %.1f%%\n",
                100.0 * good / total, 100.0 * minWithin);
    return 1;
  }
  return 0;
}
