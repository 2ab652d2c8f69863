// A peer library that lamina-bench compares Lamina against: oneDNN for the CPU backend, NVIDIA cuDNN
// for the CUDA backend (each built only when found; registered in makePeer).
#pragma once

#include <lamina/lamina.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace bench {

enum class Dir { Fwd, BwdData, BwdFilter };
const char *dirName(Dir d); // fwd, bwd_data, bwd_filter

// One convolution as benchmarked: dims in N, C, spatial order, symmetric padding, groups.
struct ConvSpec {
  std::string name;
  int spatialDims = 2;
  int64_t N = 1, C = 1, K = 1, G = 1;
  int64_t in[3] = {1, 1, 1}, filt[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  int64_t pad[3] = {}, stride[3] = {1, 1, 1}, dil[3] = {1, 1, 1};
  bool nhwc = false; // packed NHWC/KRSC memory, else packed NCHW/KCRS
  laminaDataType_t dtype = LAMINA_DATA_FLOAT;
  laminaMathType_t math = LAMINA_DEFAULT_MATH; // TENSOR_OP: tensor cores (TF32 for float data)
  int64_t xCount() const;
  int64_t wCount() const;
  int64_t yCount() const;
  double flops() const; // 2 * N * K * out * C/G * filt, the same for every direction
};

// Host data in the packed memory order of spec.nhwc (so it is exactly the plain memory a peer gets).
// Several sets of the inputs are rotated between timed runs so small problems do not run from a
// warm cache; set 0 is the one the results are compared on.
struct HostData {
  std::vector<std::vector<float>> x, w, dy; // [set][element]; only the direction's inputs are filled
};

// How one run is timed. Lamina and the peer are timed with the same clock object.
class Clock {
public:
  virtual ~Clock() = default;
  virtual void start() = 0;
  virtual double stopMs() = 0; // waits for the work queued since start()
  // The host's time from start() to the last stopMs() (issuing the calls, before waiting), in ms; -1
  // when the clock does not tell it apart. Near the device time per call, the host sets the pace.
  virtual double issueMs() const { return -1; }
};

struct TimingOptions {
  int warmup = 1;
  int iters = 5;
  double maxSeconds = 4.0; // fewer iterations (at least one) when one run is slow
  Clock *clock = nullptr;  // null: steady clock around the call (the call itself must be synchronous)
  void *stream = nullptr;  // CUDA: the cudaStream_t that Lamina's handle and the peer work on
};

struct PeerResult {
  bool ok = false;
  std::string why;          // when !ok
  double plainMs = -1;      // plain (same layout as Lamina) memory in and out, reorders counted
  double plainIssueMs = -1; // the host's time to issue one plain call (Clock::issueMs), -1: unknown
  double nativeMs = -1;     // the peer's own preferred layouts, reorders excluded (information; -1: none)
  std::string impl;         // the peer's implementation name
  std::vector<float> out;   // the output for set 0, in the same memory order as the inputs
};

class Peer {
public:
  virtual ~Peer() = default;
  virtual const char *name() const = 0;
  virtual std::string version() const = 0;  // for the report header
  virtual void setThreads(int threads) = 0; // 0 = all cores
  virtual PeerResult run(const ConvSpec &spec, Dir dir, const HostData &data, const TimingOptions &t) = 0;
};

// "onednn" (CPU backend, when built with oneDNN), "cudnn" (CUDA backend, when built with cuDNN; the
// classic API), "cudnn_graph" (CUDA backend, cuDNN 9's graph API, when built with
// LAMINA_BENCH_CUDNN_GRAPH), a comma list of these (each row reports the fastest that ran, named in
// PeerResult::impl) or "none" (returns null). Throws std::runtime_error with the reason when a named
// peer is not available for the backend.
std::unique_ptr<Peer> makePeer(const std::string &name, laminaBackend_t backend);
// The peer to use when --peer is not given: the backend's peer when built in, else none.
std::string defaultPeer(laminaBackend_t backend);

// Steady clock around each run, with `sync` (e.g. laminaSynchronize) before the start and the stop.
std::unique_ptr<Clock> makeWallClock(std::function<void()> sync);
// One measured ceiling of the card (--ceiling): a large square GEMM through cuBLAS.
struct GemmCeiling {
  std::string name; // fp16, bf16, tf32, fp32, fp32_pedantic, fp64 (a config's name up to its '_')
  std::string how;  // types and compute mode
  double ms = -1, tflops = -1;
  std::string err; // when it failed
};
#ifdef LAMINA_BENCH_HAVE_CUDA
// CUDA helpers (cuda_util.cpp): a stream, CUDA events recorded on it around each run, the GPU's name.
void *createCudaStream();
void destroyCudaStream(void *stream);
std::unique_ptr<Clock> makeEventClock(void *stream);
std::string gpuDescription();
// A kernel fault (a misaligned or illegal address, in Lamina or in the peer) leaves the CUDA context
// unusable: every later call fails. The fault's text when that happened, else "".
std::string cudaContextFault();

// ceiling.cpp: an n x n x n GEMM per type on `stream`, timed with t.clock.
std::vector<GemmCeiling> measureGemmCeilings(void *stream, int64_t n, const TimingOptions &t);
#endif

// Median of the timed runs (milliseconds) of f, after t.warmup runs outside the median; f(i) gets the
// run index (for rotating input sets). Shared by Lamina's and the peers' timing so both are measured
// alike. firstMs, when given, receives the time of the first call (timing.h); issueMs, the median
// host time to issue one call (-1 when the clock does not measure it).
template <class F>
double timeMedianMs(const TimingOptions &t, F &&f, double *firstMs = nullptr, double *singleMs = nullptr,
                    double *issueMs = nullptr);

} // namespace bench

#include "timing.h"
