// Timing shared by Lamina's and the peers' measurements: the median of timed runs.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

namespace bench {

inline double nowMs() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

// Calls f(base), ..., f(base + group - 1) back to back and returns the time of the group, timed by
// t.clock (CUDA events on the stream, or a synchronised steady clock), or by the steady clock alone
// when there is none.
template <class F> double timeGroupMs(const TimingOptions &t, F &f, int base, int group) {
  if (t.clock) {
    t.clock->start();
    for (int g = 0; g < group; ++g)
      f(base + g);
    return t.clock->stopMs();
  }
  double t0 = nowMs();
  for (int g = 0; g < group; ++g)
    f(base + g);
  return nowMs() - t0;
}
// One run of f(i).
template <class F> double timeOnceMs(const TimingOptions &t, F &f, int i) { return timeGroupMs(t, f, i, 1); }

// The median time of one call. firstMs (optional): the time of the very first call, the first
// warm-up run; singleMs (optional): the fastest later call timed alone the same way (an extra call when
// there is one warm-up run), what the first call is compared with: grouped timing hides the host's
// per-call latency, so first / median would charge that latency to the first call. At least one timed run follows the
// warm-up, however slow, so the first call is never reported as the steady time. On a device clock, calls shorter than
// a millisecond are timed in back-to-back groups (up to 64 calls between two events), so the figure is the device's
// time per call rather than the host's call latency (an idle GPU waiting for the next launch); the same rule holds for
// Lamina and for the peers.
template <class F>
double timeMedianMs(const TimingOptions &t, F &&f, double *firstMs, double *singleMs, double *issueMs) {
  double last = 0, single = -1;
  const int warmup = std::max(1, t.warmup) + (singleMs && t.warmup < 2 ? 1 : 0);
  for (int i = 0; i < warmup; ++i) {
    last = timeOnceMs(t, f, i);
    if (i == 0 && firstMs)
      *firstMs = last;
    if (i > 0)
      single = single < 0 ? last : std::min(single, last);
  }
  if (singleMs)
    *singleMs = single;
  int group = 1;
  if (t.clock && last < 1.0)
    group = std::min(64, int(std::ceil(1.0 / std::max(last, 0.01))));
  // A slow problem gets fewer timed runs so the whole list finishes in reasonable time: no run is
  // started that would take the timed runs past the budget (a run takes about as long as the last).
  const double budget = t.maxSeconds * 1000.0;
  const size_t iters = size_t(std::max(1, t.iters));
  std::vector<double> ms, issue;
  double total = 0;
  while (ms.size() < iters) {
    const double groupMs = timeGroupMs(t, f, 1 + int(ms.size()) * group, group);
    ms.push_back(groupMs / group);
    if (t.clock && t.clock->issueMs() >= 0)
      issue.push_back(t.clock->issueMs() / group);
    total += groupMs;
    if (total + groupMs > budget)
      break;
  }
  auto median = [](std::vector<double> &v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n == 0 ? -1.0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  };
  if (issueMs)
    *issueMs = median(issue);
  return median(ms);
}

} // namespace bench
