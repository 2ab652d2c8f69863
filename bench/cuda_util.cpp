// CUDA helpers of lamina-bench (built with the CUDA backend): the stream that Lamina's handle and the
// peer share, and CUDA events recorded on it around each timed run (no host latency in the figure).
#include "peer.h"

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace bench {
namespace {

void check(cudaError_t e, const char *what) {
  if (e != cudaSuccess)
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

class EventClock final : public Clock {
public:
  explicit EventClock(void *stream) : stream_(static_cast<cudaStream_t>(stream)) {
    check(cudaEventCreate(&start_), "cudaEventCreate");
    check(cudaEventCreate(&stop_), "cudaEventCreate");
  }
  ~EventClock() override {
    cudaEventDestroy(start_);
    cudaEventDestroy(stop_);
  }
  EventClock(const EventClock &) = delete;
  EventClock &operator=(const EventClock &) = delete;
  void start() override {
    check(cudaEventRecord(start_, stream_), "cudaEventRecord");
    hostStart_ = nowMs();
  }
  double stopMs() override {
    issueMs_ = nowMs() - hostStart_;
    check(cudaEventRecord(stop_, stream_), "cudaEventRecord");
    check(cudaEventSynchronize(stop_), "cudaEventSynchronize (a kernel of the timed run failed?)");
    float ms = 0;
    check(cudaEventElapsedTime(&ms, start_, stop_), "cudaEventElapsedTime");
    return ms;
  }

  double issueMs() const override { return issueMs_; }

private:
  cudaStream_t stream_;
  double hostStart_ = 0, issueMs_ = -1;
  cudaEvent_t start_ = nullptr, stop_ = nullptr;
};

} // namespace

void *createCudaStream() {
  cudaStream_t s = nullptr;
  check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  return s;
}

void destroyCudaStream(void *stream) {
  if (stream)
    cudaStreamDestroy(static_cast<cudaStream_t>(stream));
}

std::unique_ptr<Clock> makeEventClock(void *stream) { return std::make_unique<EventClock>(stream); }

std::string cudaContextFault() {
  const cudaError_t e = cudaDeviceSynchronize();
  if (e == cudaSuccess)
    return {};
  (void)cudaGetLastError(); // clears an error that is not sticky
  void *p = nullptr;
  if (cudaMalloc(&p, 256) == cudaSuccess) {
    cudaFree(p);
    return {};
  }
  return cudaGetErrorString(e);
}

std::string gpuDescription() {
  int dev = 0, driver = 0, runtime = 0;
  cudaDeviceProp p;
  if (cudaGetDevice(&dev) != cudaSuccess || cudaGetDeviceProperties(&p, dev) != cudaSuccess) {
    (void)cudaGetLastError();
    return "unknown GPU";
  }
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  return std::string(p.name) + " (sm_" + std::to_string(p.major) + std::to_string(p.minor) + ", " +
         std::to_string(p.multiProcessorCount) + " SMs, " + std::to_string(p.totalGlobalMem >> 30) + " GiB), driver " +
         std::to_string(driver / 1000) + "." + std::to_string(driver % 1000 / 10) + ", runtime " +
         std::to_string(runtime / 1000) + "." + std::to_string(runtime % 1000 / 10);
}

} // namespace bench
