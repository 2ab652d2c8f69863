// One layer x direction of lamina-bench: the descriptors, the data, the timing of each Lamina
// algorithm (the PREFER_FASTEST pick first, with its very first call timed apart), the peer's run and
// the comparison of their outputs.
#pragma once

#include "peer.h"

#include <lamina/lamina.h>

#include <memory>
#include <string>
#include <vector>

namespace bench {

// Throws std::runtime_error with the call and Lamina's message on failure.
void check(laminaStatus_t s, const char *what);
#define CHECK(call) ::bench::check((call), #call)

// Lamina's algorithm names as the bench prints them (implicit, precomp, gemm, direct, ...).
const char *algoName(Dir d, int algo);

// The descriptors of one layer, and the calls of each direction behind one shape.
class Layer {
public:
  Layer(laminaHandle_t h, const ConvSpec &s);
  ~Layer();
  Layer(const Layer &) = delete;
  Layer &operator=(const Layer &) = delete;
  const ConvSpec &spec() const { return s_; }

  std::vector<int> applicable(Dir d); // in the heuristic's order
  int pick(Dir d);                    // what PREFER_FASTEST picks, nothing run
  size_t workspace(Dir d, int algo);
  // out = conv(in1, in2) with alpha 1, beta 0 (in1/in2: x,w | dy,w | x,dy).
  laminaStatus_t run(Dir d, int algo, const void *in1, const void *in2, void *out, void *ws, size_t wsBytes);

private:
  laminaHandle_t h_;
  ConvSpec s_;
  laminaTensorDescriptor_t x_ = nullptr, y_ = nullptr;
  laminaFilterDescriptor_t w_ = nullptr;
  laminaConvolutionDescriptor_t conv_ = nullptr;
};

struct AlgoTime {
  int algo = -1;
  double ms = -1;       // median steady time; the estimate when skipped; -1 when it failed
  double firstMs = -1;  // its first call on this layer (the timed warm-up)
  double singleMs = -1; // a later call timed alone like the first (what the first is compared with)
  double issueMs = -1;  // the host's time to issue one call in the timed groups (-1: not measured)
  bool skipped = false;
  double estRatio = -1; // skipped by --skip-slow: its batch-1 time / the pick's
  std::string err;
};

struct RowResult {
  std::vector<AlgoTime> algos; // the pick first
  int pick = -1, best = -1;    // best: the fastest measured (skipped ones never count)
  double pickMs = -1, bestMs = -1, pickFirstMs = -1, pickSingleMs = -1, pickIssueMs = -1;
  int notRun = 0; // algorithms skipped on an estimate
  bool peerRan = false;
  PeerResult peer;
  double relErr = -1;
  bool mismatch = false;
};

struct RowOptions {
  TimingOptions timing; // with the run's clock and stream
  // 0: the old rule (skip an algorithm whose batch-1 time x N exceeds both 10x the pick's time and
  // the per-algorithm budget); F > 0: skip one whose batch-1 time exceeds F x the pick's batch-1 time.
  double skipSlow = 0;
};

// probe: the same layer at batch 1 (null when the layer's batch is 1).
RowResult benchRow(laminaHandle_t h, Layer &layer, Layer *probe, Dir dir, Peer *peer, const RowOptions &o);

} // namespace bench
