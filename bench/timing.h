// Steady-clock timing shared by Lamina's and the peers' measurements.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

namespace bench {

inline double nowMs() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

template <class F> double timeMedianMs(const TimingOptions &t, F &&f) {
  double first = 0;
  for (int i = 0; i < std::max(1, t.warmup); ++i) {
    double t0 = nowMs();
    f(i);
    first = nowMs() - t0;
  }
  // A slow problem gets fewer timed runs so the whole list finishes in reasonable time; one whose
  // warm-up alone exceeds the budget is reported from that single run.
  if (first > t.maxSeconds * 1000.0)
    return first;
  int iters = std::max(1, t.iters);
  if (first > 0 && first * iters > t.maxSeconds * 1000.0)
    iters = std::max(1, int(t.maxSeconds * 1000.0 / first));
  std::vector<double> ms;
  for (int i = 0; i < iters; ++i) {
    double t0 = nowMs();
    f(i + 1);
    ms.push_back(nowMs() - t0);
  }
  std::sort(ms.begin(), ms.end());
  size_t n = ms.size();
  return n % 2 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
}

} // namespace bench
