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

template <class F> double timeMedianMs(const TimingOptions &t, F &&f) {
  double first = 0;
  for (int i = 0; i < std::max(1, t.warmup); ++i)
    first = timeOnceMs(t, f, i);
  // A slow problem gets fewer timed runs so the whole list finishes in reasonable time; one whose
  // warm-up alone exceeds the budget is reported from that single run.
  if (first > t.maxSeconds * 1000.0)
    return first;
  int iters = std::max(1, t.iters);
  if (first > 0 && first * iters > t.maxSeconds * 1000.0)
    iters = std::max(1, int(t.maxSeconds * 1000.0 / first));
  std::vector<double> ms;
  for (int i = 0; i < iters; ++i)
    ms.push_back(timeOnceMs(t, f, i + 1));
  std::sort(ms.begin(), ms.end());
  size_t n = ms.size();
  return n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
}

} // namespace bench
