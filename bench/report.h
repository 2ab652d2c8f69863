// The end of a lamina-bench run: per config x direction x batch the geomeans against the peer, the
// worst layer, the heuristic's hit rate, the first-call check, and the largest layers against the
// card's measured ceiling (--ceiling).
#pragma once

#include "peer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

// One layer x config x direction x batch as measured.
struct RowRecord {
  std::string layer, config;
  Dir dir = Dir::Fwd;
  int64_t batch = 0;
  double flops = 0;
  std::string pick, best;                        // algorithm names; best empty when none ran
  double pickMs = -1, bestMs = -1, firstMs = -1; // firstMs: the pick's first call on the layer
  double singleMs = -1;                          // a later call of the pick timed alone like the first
  double peerMs = -1, nativeMs = -1;             // the peer's plain-memory time; -1: did not run
  double issueMs = -1, peerIssueMs = -1;         // the host's time to issue one call (pick, peer); -1: unknown
  int notRun = 0;                                // algorithms not run on an estimate
  bool mismatch = false;
};

struct ReportInput {
  std::vector<RowRecord> rows; // in the order run
  std::string peer;            // cudnn, onednn or none
  double skipSlow = 0;         // --skip-slow F (0: the default rule)
  int64_t mainBatch = 0;       // the batch of the first pass: the one the ceiling fractions use
  bool ceilingAsked = false;
  std::string ceilingWhy; // when asked but not measured
  int64_t ceilingSize = 0;
  std::vector<GemmCeiling> ceilings;
};

// Within this factor of the best measured, the pick counts as a hit.
constexpr double kHeuristicSlack = 1.10;

// Prints the ceiling and largest-layer tables, one `geomean config=...` line per group (for
// scripts), then the summary table, the heuristic and first-call lines. The caller prints the
// wall time and its `summary:` line after it.
void printReport(const ReportInput &in);

// "fwd 0.35 (best 0.39, n=22)" per group of a config, for the one-line summary; the batch is named
// when the run has several.
std::string summaryLine(const ReportInput &in, const std::string &config, bool nameBatch);

} // namespace bench
