// Backend-generic convolution algorithm selection over convAlgorithms(backend, dir): lookup of a
// requested algorithm, heuristic ranking (estimateMs, nothing run), picking by preference, and
// measuring (Find). The CUDA backend reuses all of it with its own lists.
#pragma once

#include "core/conv_problem.h"

#include <vector>

namespace lamina {

struct ConvAlgoPerf {
  int algo = 0;
  laminaStatus_t status = LAMINA_STATUS_NOT_SUPPORTED;
  float time = -1.f; // ms; -1 when not measured
  size_t memory = 0;
  laminaDeterminism_t determinism = LAMINA_DETERMINISTIC;
  laminaMathType_t mathType = LAMINA_DEFAULT_MATH;
};

// Number of public algorithm values of a direction (the ..._ALGO_COUNT enumerator).
int convAlgoCount(ConvDirection dir);
// The algorithm to run for public value `algo`: BAD_PARAM naming `argName` when the value is not
// an algorithm, NOT_SUPPORTED (with the reason) when the backend lacks it or it does not apply.
const ConvAlgorithm &convAlgorithmFor(const laminaContext &h, ConvDirection dir, int algo, const ConvProblem &p,
                                      const char *argName);
// Every public algorithm value ranked: applicable ones by estimateMs, then the rest
// (NOT_SUPPORTED). time is -1 throughout.
std::vector<ConvAlgoPerf> convRankHeuristic(const laminaContext &h, ConvDirection dir, const ConvProblem &p);
// The best-ranked applicable algorithm allowed by the preference; NOT_SUPPORTED when none is.
// pref is the raw laminaConvolutionPreference_t value (BAD_PARAM when out of range).
int convPickAlgorithm(const laminaContext &h, ConvDirection dir, const ConvProblem &p, int pref, size_t limitBytes);
// Runs each applicable algorithm whose workspace fits in a.workspaceBytes on a's buffers (one
// warm-up, then the median of a few timed runs, each after backendSynchronize) and returns every
// public value, measured ones fastest first, then those that did not fit (INSUFFICIENT_WORKSPACE),
// then the inapplicable ones (NOT_SUPPORTED).
std::vector<ConvAlgoPerf> convMeasure(const laminaContext &h, ConvDirection dir, const ConvArgs &a);
// Largest workspace any applicable algorithm needs (what Find allocates).
size_t convMaxWorkspace(const laminaContext &h, ConvDirection dir, const ConvProblem &p);

} // namespace lamina
