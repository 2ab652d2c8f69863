#include "core/conv_select.h"

#include "core/checks.h"

#include <algorithm>

namespace lamina {

int convAlgoCount(ConvDirection dir) {
  switch (dir) {
  case ConvDirection::Forward: return LAMINA_CONVOLUTION_FWD_ALGO_COUNT;
  case ConvDirection::BackwardData: return LAMINA_CONVOLUTION_BWD_DATA_ALGO_COUNT;
  case ConvDirection::BackwardFilter: return LAMINA_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
  }
  return 0;
}

static const ConvAlgorithm *lookup(const laminaContext &h, ConvDirection dir, int algo) {
  for (const ConvAlgorithm *a : convAlgorithms(h.backend, dir))
    if (a->algo == algo)
      return a;
  return nullptr;
}

const ConvAlgorithm &convAlgorithmFor(const laminaContext &h, ConvDirection dir, int algo, const ConvProblem &p,
                                      const char *argName) {
  if (algo < 0 || algo >= convAlgoCount(dir))
    fail(LAMINA_STATUS_BAD_PARAM, "argument '%s' has invalid value %d for a %s convolution", argName, algo,
         convDirectionName(dir));
  const ConvAlgorithm *a = lookup(h, dir, algo);
  if (!a)
    fail(LAMINA_STATUS_NOT_SUPPORTED, "%s algorithm %d ('%s') is not implemented on this backend",
         convDirectionName(dir), algo, argName);
  std::string why = a->whyNot(p);
  if (!why.empty())
    fail(LAMINA_STATUS_NOT_SUPPORTED, "%s algorithm %s ('%s') does not apply: %s", convDirectionName(dir), a->name,
         argName, why.c_str());
  return *a;
}

namespace {
struct Ranked {
  ConvAlgoPerf perf;
  double key;
  int rank; // 0 applicable, 1 did not fit, 2 not supported
};

std::vector<ConvAlgoPerf> finish(std::vector<Ranked> &r) {
  std::stable_sort(r.begin(), r.end(),
                   [](const Ranked &a, const Ranked &b) { return a.rank != b.rank ? a.rank < b.rank : a.key < b.key; });
  std::vector<ConvAlgoPerf> out;
  for (auto &e : r)
    out.push_back(e.perf);
  return out;
}

// Entries for every public value; applicable ones get rank 0 and their heuristic key.
std::vector<Ranked> baseRanking(const laminaContext &h, ConvDirection dir, const ConvProblem &p) {
  std::vector<Ranked> r;
  for (int v = 0; v < convAlgoCount(dir); ++v) {
    Ranked e;
    e.perf.algo = v;
    e.perf.mathType = p.math;
    e.key = 0;
    e.rank = 2;
    if (const ConvAlgorithm *a = lookup(h, dir, v)) {
      e.perf.determinism = a->determinism;
      if (a->whyNot(p).empty()) {
        e.perf.status = LAMINA_STATUS_SUCCESS;
        e.perf.memory = a->workspaceBytes(p);
        e.key = a->estimateMs(p);
        e.rank = 0;
      }
    }
    r.push_back(e);
  }
  return r;
}
} // namespace

std::vector<ConvAlgoPerf> convRankHeuristic(const laminaContext &h, ConvDirection dir, const ConvProblem &p) {
  auto r = baseRanking(h, dir, p);
  return finish(r);
}

int convPickAlgorithm(const laminaContext &h, ConvDirection dir, const ConvProblem &p, int pref, size_t limitBytes) {
  if (pref != LAMINA_CONVOLUTION_PREFER_FASTEST && pref != LAMINA_CONVOLUTION_NO_WORKSPACE &&
      pref != LAMINA_CONVOLUTION_SPECIFY_WORKSPACE_LIMIT)
    fail(LAMINA_STATUS_BAD_PARAM, "argument 'preference' has invalid value %d", pref);
  size_t limit = pref == LAMINA_CONVOLUTION_PREFER_FASTEST ? SIZE_MAX
                 : pref == LAMINA_CONVOLUTION_NO_WORKSPACE ? 0
                                                           : limitBytes;
  for (const ConvAlgoPerf &e : convRankHeuristic(h, dir, p))
    if (e.status == LAMINA_STATUS_SUCCESS && e.memory <= limit)
      return e.algo;
  fail(LAMINA_STATUS_NOT_SUPPORTED, "no %s algorithm on this backend fits the preference (workspace limit %zu bytes)",
       convDirectionName(dir), limit);
}

size_t convMaxWorkspace(const laminaContext &h, ConvDirection dir, const ConvProblem &p) {
  size_t m = 0;
  for (const ConvAlgorithm *a : convAlgorithms(h.backend, dir))
    if (a->whyNot(p).empty())
      m = std::max(m, a->workspaceBytes(p));
  return m;
}

std::vector<ConvAlgoPerf> convMeasure(const laminaContext &h, ConvDirection dir, const ConvArgs &args) {
  constexpr int kTimedRuns = 3;
  auto r = baseRanking(h, dir, *args.p);
  for (Ranked &e : r) {
    if (e.rank != 0)
      continue;
    if (e.perf.memory > args.workspaceBytes) {
      e.perf.status = LAMINA_STATUS_INSUFFICIENT_WORKSPACE;
      e.rank = 1;
      continue;
    }
    const ConvAlgorithm *a = lookup(h, dir, e.perf.algo);
    ConvArgs run = args;
    run.alpha = 1.0;
    run.beta = 0.0;
    a->run(run); // warm-up (page faults, caches, thread start)
    backendSynchronize(h);
    double t[kTimedRuns];
    for (double &ti : t)
      ti = backendTimeMs(h, [&] { a->run(run); });
    std::sort(t, t + kTimedRuns);
    e.perf.time = float(t[kTimedRuns / 2]);
    e.key = t[kTimedRuns / 2];
  }
  return finish(r);
}

} // namespace lamina
