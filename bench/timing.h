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

// One run of f(i), timed by t.clock (CUDA events on the stream, or a synchronised steady clock), or
// by the steady clock alone when there is none.
template <class F> double timeOnceMs(const TimingOptions &t, F &f, int i) {
  if (t.clock) {
    t.clock->start();
    f(i);
    return t.clock->stopMs();
  }
  double t0 = nowMs();
  f(i);
  return nowMs() - t0;
}

// Calls f(base), ..., f(base + group - 1) back to back and returns the time of the group.
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

// The median time of one call. On a device clock, calls shorter than a millisecond are timed in
// back-to-back groups (up to 64 calls between two events), so the figure is the device's time per
// call rather than the host's call latency (an idle GPU waiting for the next launch); the same rule
// holds for Lamina and for the peers.
template <class F> double timeMedianMs(const TimingOptions &t, F &&f) {
  double first = 0;
  for (int i = 0; i < std::max(1, t.warmup); ++i)
    first = timeOnceMs(t, f, i);
  // A slow problem gets fewer timed runs so the whole list finishes in reasonable time; one whose
  // warm-up alone exceeds the budget is reported from that single run.
  if (first > t.maxSeconds * 1000.0)
    return first;
  int group = 1;
  if (t.clock && first < 1.0)
    group = std::min(64, int(std::ceil(1.0 / std::max(first, 0.01))));
  int iters = std::max(1, t.iters);
  if (first > 0 && first * iters * group > t.maxSeconds * 1000.0)
    iters = std::max(1, int(t.maxSeconds * 1000.0 / (first * group)));
  std::vector<double> ms;
  for (int i = 0; i < iters; ++i)
    ms.push_back(timeGroupMs(t, f, 1 + i * group, group) / group);
  std::sort(ms.begin(), ms.end());
  size_t n = ms.size();
  return n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
}

} // namespace bench
