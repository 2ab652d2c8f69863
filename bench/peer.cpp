// Peer registry and the problem helpers shared by lamina-bench and its peers.
#include "peer.h"

#include <stdexcept>
#include <utility>

namespace bench {

#ifdef LAMINA_BENCH_HAVE_ONEDNN
std::unique_ptr<Peer> makeOnednnPeer(); // onednn_peer.cpp
#endif
#ifdef LAMINA_BENCH_HAVE_CUDNN
std::unique_ptr<Peer> makeCudnnPeer(); // cudnn_peer.cpp
#endif

namespace {
class WallClock final : public Clock {
public:
  explicit WallClock(std::function<void()> sync) : sync_(std::move(sync)) {}
  void start() override {
    sync_();
    t0_ = nowMs();
  }
  double stopMs() override {
    sync_();
    return nowMs() - t0_;
  }

private:
  std::function<void()> sync_;
  double t0_ = 0;
};
} // namespace

std::unique_ptr<Clock> makeWallClock(std::function<void()> sync) {
  return std::make_unique<WallClock>(std::move(sync));
}

const char *dirName(Dir d) {
  switch (d) {
  case Dir::Fwd: return "fwd";
  case Dir::BwdData: return "bwd_data";
  case Dir::BwdFilter: return "bwd_filter";
  }
  return "?";
}

int64_t ConvSpec::xCount() const { return N * C * in[0] * in[1] * in[2]; }
int64_t ConvSpec::wCount() const { return K * (C / G) * filt[0] * filt[1] * filt[2]; }
int64_t ConvSpec::yCount() const { return N * K * out[0] * out[1] * out[2]; }
double ConvSpec::flops() const {
  return 2.0 * double(N) * double(K) * double(out[0] * out[1] * out[2]) * double(C / G) *
         double(filt[0] * filt[1] * filt[2]);
}

std::string defaultPeer(laminaBackend_t backend) {
#ifdef LAMINA_BENCH_HAVE_ONEDNN
  if (backend == LAMINA_BACKEND_CPU)
    return "onednn";
#endif
#ifdef LAMINA_BENCH_HAVE_CUDNN
  if (backend == LAMINA_BACKEND_CUDA)
    return "cudnn";
#endif
  return "none";
}

std::unique_ptr<Peer> makePeer(const std::string &name, laminaBackend_t backend) {
  if (name == "none")
    return nullptr;
  if (name == "onednn") {
    if (backend != LAMINA_BACKEND_CPU)
      throw std::runtime_error("peer onednn compares the cpu backend only");
#ifdef LAMINA_BENCH_HAVE_ONEDNN
    return makeOnednnPeer();
#else
    throw std::runtime_error("lamina-bench was built without oneDNN (install libdnnl-dev and reconfigure)");
#endif
  }
  if (name == "cudnn") {
    if (backend != LAMINA_BACKEND_CUDA)
      throw std::runtime_error("peer cudnn compares the cuda backend only (--backend cuda)");
#ifdef LAMINA_BENCH_HAVE_CUDNN
    return makeCudnnPeer();
#else
    throw std::runtime_error("lamina-bench was built without cuDNN (cudnn.h and libcudnn not found at configure time)");
#endif
  }
  throw std::runtime_error("unknown peer '" + name + "' (onednn, cudnn, none)");
}

} // namespace bench
