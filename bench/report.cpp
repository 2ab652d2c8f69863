// The end of a lamina-bench run (report.h).
#include "report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>

namespace bench {

namespace {
// What a first call is compared with: a later call timed alone the same way (single-call latency
// included), else the steady per-call time.
double singleOf(const RowRecord &r) { return r.singleMs > 0 ? r.singleMs : r.pickMs; }

struct GeoMean {
  double sumLog = 0;
  int n = 0;
  void add(double ratio) {
    if (ratio > 0 && std::isfinite(ratio))
      sumLog += std::log(ratio), ++n;
  }
  double value() const { return n ? std::exp(sumLog / n) : NAN; }
};

// The rows of one config x direction x batch and what the summary says of them.
struct Group {
  std::string config;
  Dir dir = Dir::Fwd;
  int64_t batch = 0;
  std::vector<const RowRecord *> rows;
  GeoMean pick, best, native;
  const RowRecord *worst = nullptr; // lowest peer / pick
  double worstRatio = NAN;
  int judged = 0, hits = 0; // rows with a measured pick and best; pick within the slack
  int notRunCells = 0, notRunRows = 0;
  int failed = 0;                       // rows whose pick did not run
  const RowRecord *slowFirst = nullptr; // largest first / steady of the pick
  double firstRatio = NAN;
};

double ratioOf(double num, double den) { return num > 0 && den > 0 ? num / den : NAN; }

std::vector<Group> groupRows(const std::vector<RowRecord> &rows) {
  std::vector<Group> groups;
  std::map<std::tuple<std::string, int, int64_t>, size_t> index;
  for (const RowRecord &r : rows) {
    auto key = std::make_tuple(r.config, int(r.dir), r.batch);
    auto it = index.find(key);
    if (it == index.end()) {
      it = index.emplace(key, groups.size()).first;
      Group g;
      g.config = r.config, g.dir = r.dir, g.batch = r.batch;
      groups.push_back(g);
    }
    Group &g = groups[it->second];
    g.rows.push_back(&r);
    const double rp = ratioOf(r.peerMs, r.pickMs);
    g.pick.add(rp);
    g.best.add(ratioOf(r.peerMs, r.bestMs));
    g.native.add(ratioOf(r.nativeMs, r.pickMs));
    if (std::isfinite(rp) && (!g.worst || rp < g.worstRatio))
      g.worst = &r, g.worstRatio = rp;
    if (r.pickMs > 0 && r.bestMs > 0) {
      ++g.judged;
      if (r.pickMs <= kHeuristicSlack * r.bestMs)
        ++g.hits;
    }
    if (r.pickMs <= 0)
      ++g.failed;
    g.notRunCells += r.notRun;
    g.notRunRows += r.notRun > 0;
    const double fr = ratioOf(r.firstMs, singleOf(r));
    if (std::isfinite(fr) && (!g.slowFirst || fr > g.firstRatio))
      g.slowFirst = &r, g.firstRatio = fr;
  }
  return groups;
}

// The config's ceiling: its name up to the layout suffix (fp16_nhwc -> fp16).
const GemmCeiling *ceilingFor(const ReportInput &in, const std::string &config) {
  const std::string base = config.substr(0, config.find('_'));
  for (const GemmCeiling &c : in.ceilings)
    if (c.name == base && c.tflops > 0)
      return &c;
  return nullptr;
}

double tflops(const RowRecord &r, double ms) { return ms > 0 ? r.flops / (ms * 1e9) : NAN; }

std::string fmt(const char *f, double v) {
  if (!std::isfinite(v))
    return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

void printCeilings(const ReportInput &in) {
  if (!in.ceilingAsked)
    return;
  if (!in.ceilingWhy.empty()) {
    std::printf("\nceiling: not measured: %s\n", in.ceilingWhy.c_str());
    return;
  }
  std::printf("\n== ceiling: cuBLAS GEMM %lldx%lldx%lld on the bench's stream (median, TFLOP/s)\n",
              (long long)in.ceilingSize, (long long)in.ceilingSize, (long long)in.ceilingSize);
  for (const GemmCeiling &c : in.ceilings) {
    if (c.err.empty())
      std::printf("ceiling %-14s %9.1f TF/s  %8.3f ms  (%s)\n", c.name.c_str(), c.tflops, c.ms, c.how.c_str());
    else
      std::printf("ceiling %-14s failed: %s\n", c.name.c_str(), c.err.c_str());
  }

  // The three layers with the most flops (ties in list order) per config and direction, at the
  // main batch: what fraction of the matching ceiling Lamina's pick, its best and the peer reach.
  std::printf("\n== largest layers against the ceiling (batch %lld; %% = TFLOP/s / the config's ceiling)\n",
              (long long)in.mainBatch);
  std::printf("%-10s %-10s %-22s %9s %10s %6s %10s %6s %10s %6s\n", "config", "dir", "layer", "GFLOP", "pick TF/s", "%",
              "best TF/s", "%", "peer TF/s", "%");
  for (const Group &g : groupRows(in.rows)) {
    if (g.batch != in.mainBatch)
      continue;
    const GemmCeiling *c = ceilingFor(in, g.config);
    std::vector<const RowRecord *> big = g.rows;
    std::stable_sort(big.begin(), big.end(),
                     [](const RowRecord *a, const RowRecord *b) { return a->flops > b->flops; });
    if (big.size() > 3)
      big.resize(3);
    for (const RowRecord *r : big) {
      const double tp = tflops(*r, r->pickMs), tb = tflops(*r, r->bestMs), tq = tflops(*r, r->peerMs);
      const double ceil = c ? c->tflops : NAN;
      std::printf("%-10s %-10s %-22s %9.1f %10s %6s %10s %6s %10s %6s\n", g.config.c_str(), dirName(g.dir),
                  r->layer.c_str(), r->flops / 1e9, fmt("%.1f", tp).c_str(), fmt("%.1f%%", 100 * tp / ceil).c_str(),
                  fmt("%.1f", tb).c_str(), fmt("%.1f%%", 100 * tb / ceil).c_str(), fmt("%.1f", tq).c_str(),
                  fmt("%.1f%%", 100 * tq / ceil).c_str());
    }
  }
}

// Whether the host or the device sets the pace of back-to-back calls: a row is host-bound when issuing a
// call takes at least 80% of the time per call (the GPU then idles between launches).
void printIssueLine(const ReportInput &in) {
  struct Side {
    int rows = 0, bound = 0;
    std::vector<double> issueUs;
  };
  Side lam, peer, lam1, peer1; // all rows; batch 1
  auto add = [](Side &s, double issueMs, double ms) {
    if (!(issueMs > 0) || !(ms > 0))
      return;
    ++s.rows, s.bound += issueMs >= 0.8 * ms;
    s.issueUs.push_back(1000 * issueMs);
  };
  for (const RowRecord &r : in.rows) {
    add(lam, r.issueMs, r.pickMs), add(peer, r.peerIssueMs, r.peerMs);
    if (r.batch == 1)
      add(lam1, r.issueMs, r.pickMs), add(peer1, r.peerIssueMs, r.peerMs);
  }
  if (lam.rows == 0)
    return;
  auto median = [](std::vector<double> v) {
    if (v.empty())
      return -1.0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("issue: host-bound rows (issuing a call takes >= 80%% of the time per call): Lamina %d of %d, %s %d of "
              "%d; batch 1: Lamina %d of %d (median issue %.1f us), %s %d of %d (%.1f us)\n",
              lam.bound, lam.rows, in.peer.c_str(), peer.bound, peer.rows, lam1.bound, lam1.rows, median(lam1.issueUs),
              in.peer.c_str(), peer1.bound, peer1.rows, median(peer1.issueUs));
}

} // namespace

void printReport(const ReportInput &in) {
  printCeilings(in);
  const std::vector<Group> groups = groupRows(in.rows);
  const char *peer = in.peer.c_str();
  const bool havePeer = in.peer != "none";

  // One line per group, key=value, for scripts (scripts/gpu_check.sh); the first keys as before.
  std::printf("\n");
  for (const Group &g : groups) {
    std::printf("geomean config=%s dir=%s peer=%s n=%d pick=%.3f best=%.3f", g.config.c_str(), dirName(g.dir), peer,
                g.pick.n, g.pick.value(), g.best.value());
    if (g.native.n)
      std::printf(" native_over_pick=%.3f", g.native.value());
    std::printf(" batch=%lld layers=%zu worst=%.3f worst_layer=%s hit=%d/%d not_run=%d first_max=%.2f first_layer=%s",
                (long long)g.batch, g.rows.size(), g.worstRatio, g.worst ? g.worst->layer.c_str() : "-", g.hits,
                g.judged, g.notRunCells, g.firstRatio, g.slowFirst ? g.slowFirst->layer.c_str() : "-");
    std::printf("   (%s time / Lamina time; above 1: Lamina faster)\n", peer);
  }

  std::printf("\n== summary: %s time / Lamina time (above 1: Lamina faster); pick = PREFER_FASTEST's algorithm, "
              "best = the fastest measured;\n   heuristic = rows where the pick is within %.0f%% of the best; first = "
              "the pick's first call on the layer / a later call timed alone the same way\n",
              havePeer ? peer : "peer", 100 * (kHeuristicSlack - 1));
  std::printf("%-10s %-10s %5s %6s %8s %8s  %-30s %-15s %7s  %s\n", "config", "dir", "batch", "layers", "g.pick",
              "g.best", "worst (ratio to pick)", "heuristic", "not run", "first/single max (layer: first / single ms)");
  int judged = 0, hits = 0, notRunCells = 0, notRunRows = 0, rows = 0, slowFirstRows = 0, failed = 0;
  const RowRecord *slowest = nullptr, *largestExcess = nullptr;
  double slowestRatio = 0, excess = 0;
  for (const Group &g : groups) {
    char worst[64] = "-", heur[32] = "-", first[96] = "-";
    if (g.worst)
      std::snprintf(worst, sizeof worst, "%s %.2f", g.worst->layer.c_str(), g.worstRatio);
    if (g.judged)
      std::snprintf(heur, sizeof heur, "%d/%d %3.0f%%", g.hits, g.judged, 100.0 * g.hits / g.judged);
    if (g.slowFirst)
      std::snprintf(first, sizeof first, "%.2f %s: %.4g / %.4g", g.firstRatio, g.slowFirst->layer.c_str(),
                    g.slowFirst->firstMs, singleOf(*g.slowFirst));
    std::printf("%-10s %-10s %5lld %6zu %8s %8s  %-30s %-15s %7d  %s\n", g.config.c_str(), dirName(g.dir),
                (long long)g.batch, g.rows.size(), fmt("%.3f", g.pick.value()).c_str(),
                fmt("%.3f", g.best.value()).c_str(), worst, heur, g.notRunCells, first);
    judged += g.judged, hits += g.hits, notRunCells += g.notRunCells, notRunRows += g.notRunRows;
    rows += int(g.rows.size()), failed += g.failed;
    for (const RowRecord *r : g.rows) {
      const double fr = ratioOf(r->firstMs, singleOf(*r));
      if (!std::isfinite(fr))
        continue;
      slowFirstRows += fr > 2;
      if (fr > slowestRatio)
        slowestRatio = fr, slowest = r;
      if (r->firstMs - singleOf(*r) > excess)
        excess = r->firstMs - singleOf(*r), largestExcess = r;
    }
  }

  std::printf("heuristic: PREFER_FASTEST within %.0f%% of the best measured on %d of %d rows (%.1f%%; goal >= 90%%)",
              100 * (kHeuristicSlack - 1), hits, judged, judged ? 100.0 * hits / judged : 0.0);
  if (notRunCells) {
    if (in.skipSlow > 0)
      std::printf("; best = the fastest of the algorithms run: %d algorithm(s) on %d row(s) not run (--skip-slow %g: "
                  "batch-1 time above %g x the pick's)",
                  notRunCells, notRunRows, in.skipSlow, in.skipSlow);
    else
      std::printf("; best = the fastest of the algorithms run: %d algorithm(s) on %d row(s) not run (batch-1 time x N "
                  "above 10x the pick and the budget)",
                  notRunCells, notRunRows);
  }
  std::printf("\n");
  if (slowest) {
    std::printf(
        "first call: largest first/later single call of the pick %.2f (%s %s %s batch %lld: %.4g ms, later %.4g ms); ",
        slowestRatio, slowest->layer.c_str(), slowest->config.c_str(), dirName(slowest->dir), (long long)slowest->batch,
        slowest->firstMs, singleOf(*slowest));
    if (largestExcess)
      std::printf("largest excess %.4g ms (%s %s %s batch %lld); ", excess, largestExcess->layer.c_str(),
                  largestExcess->config.c_str(), dirName(largestExcess->dir), (long long)largestExcess->batch);
    std::printf("first > 2x a later single call on %d of %d rows\n", slowFirstRows, rows - failed);
  } else {
    std::printf("first call: no pick measured\n");
  }
  printIssueLine(in);
}

std::string summaryLine(const ReportInput &in, const std::string &config, bool nameBatch) {
  std::string s;
  for (const Group &g : groupRows(in.rows)) {
    if (g.config != config)
      continue;
    char buf[128];
    if (nameBatch)
      std::snprintf(buf, sizeof buf, " %s@%lld %.2f (best %.2f, n=%d)", dirName(g.dir), (long long)g.batch,
                    g.pick.value(), g.best.value(), g.pick.n);
    else
      std::snprintf(buf, sizeof buf, " %s %.2f (best %.2f, n=%d)", dirName(g.dir), g.pick.value(), g.best.value(),
                    g.pick.n);
    s += buf;
  }
  return s;
}

} // namespace bench
