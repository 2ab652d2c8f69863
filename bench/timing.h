// Timing shared by Lamina's and the peers' measurements: the median of timed runs.
#pragma once

#include <algorithm>
#include <chrono>
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

// firstMs (optional): the time of the very first call, the first warm-up run. At least one timed
// run follows the warm-up, however slow, so the first call is never reported as the steady time.
template <class F> double timeMedianMs(const TimingOptions &t, F &&f, double *firstMs) {
  for (int i = 0; i < std::max(1, t.warmup); ++i) {
    const double ms = timeOnceMs(t, f, i);
    if (i == 0 && firstMs)
      *firstMs = ms;
  }
  // A slow problem gets fewer timed runs so the whole list finishes in reasonable time: no run is
  // started that would take the timed runs past the budget (a run takes about as long as the last).
  const double budget = t.maxSeconds * 1000.0;
  const size_t iters = size_t(std::max(1, t.iters));
  std::vector<double> ms;
  double total = 0;
  while (ms.size() < iters) {
    ms.push_back(timeOnceMs(t, f, int(ms.size()) + 1));
    total += ms.back();
    if (total + ms.back() > budget)
      break;
  }
  std::sort(ms.begin(), ms.end());
  size_t n = ms.size();
  return n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
}

} // namespace bench
