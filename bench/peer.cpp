// Peer registry and the problem helpers shared by lamina-bench and its peers.
#include "peer.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <utility>
#include <vector>

namespace bench {

#ifdef LAMINA_BENCH_HAVE_ONEDNN
std::unique_ptr<Peer> makeOnednnPeer(); // onednn_peer.cpp
#endif
#ifdef LAMINA_BENCH_HAVE_CUDNN
std::unique_ptr<Peer> makeCudnnPeer(); // cudnn_peer.cpp
#endif
#ifdef LAMINA_BENCH_HAVE_CUDNN_GRAPH
std::unique_ptr<Peer> makeCudnnGraphPeer(); // cudnn_graph_peer.cpp
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

// --peer a,b: runs every peer on the row and reports the fastest that ran (its name first in impl,
// the others' times after it), so the peer time is the best of several APIs of one library.
class BestOfPeers final : public Peer {
public:
  BestOfPeers(std::string name, std::vector<std::unique_ptr<Peer>> peers)
      : name_(std::move(name)), peers_(std::move(peers)) {}
  const char *name() const override { return name_.c_str(); }
  std::string version() const override {
    std::string v;
    for (const auto &p : peers_)
      v += (v.empty() ? "" : "; ") + std::string(p->name()) + " " + p->version();
    return v;
  }
  void setThreads(int threads) override {
    for (auto &p : peers_)
      p->setThreads(threads);
  }
  PeerResult run(const ConvSpec &spec, Dir dir, const HostData &data, const TimingOptions &t) override {
    auto timeText = [](const std::string &name, double ms) {
      char buf[96];
      std::snprintf(buf, sizeof buf, " | %s %.4f ms", name.c_str(), ms);
      return std::string(buf);
    };
    PeerResult best;
    std::string bestName, others, whys;
    for (auto &p : peers_) {
      PeerResult r = p->run(spec, dir, data, t);
      if (!r.ok) { // the reason stays visible when another peer wins
        whys += (whys.empty() ? "" : "; ") + r.why;
        others += " | " + r.why;
        continue;
      }
      if (best.ok && best.plainMs <= r.plainMs) {
        others += timeText(p->name(), r.plainMs);
        continue;
      }
      if (best.ok)
        others += timeText(bestName, best.plainMs);
      best = std::move(r);
      bestName = p->name();
    }
    if (!best.ok) {
      best.why = whys;
      return best;
    }
    best.impl = bestName + ": " + best.impl + others;
    return best;
  }

private:
  std::string name_;
  std::vector<std::unique_ptr<Peer>> peers_;
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
  if (name.find(',') != std::string::npos) {
    std::vector<std::unique_ptr<Peer>> peers;
    std::vector<std::string> seen;
    size_t start = 0;
    while (start <= name.size()) {
      const size_t end = std::min(name.find(',', start), name.size());
      const std::string one = name.substr(start, end - start);
      if (one.empty() || one == "none")
        throw std::runtime_error("--peer list '" + name + "' takes peer names, not '" + one + "'");
      if (std::find(seen.begin(), seen.end(), one) != seen.end())
        throw std::runtime_error("--peer list '" + name + "' names '" + one + "' twice");
      seen.push_back(one);
      peers.push_back(makePeer(one, backend));
      start = end + 1;
    }
    return std::make_unique<BestOfPeers>(name, std::move(peers));
  }
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
  if (name == "cudnn_graph") {
    if (backend != LAMINA_BACKEND_CUDA)
      throw std::runtime_error("peer cudnn_graph compares the cuda backend only (--backend cuda)");
#ifdef LAMINA_BENCH_HAVE_CUDNN_GRAPH
    return makeCudnnGraphPeer();
#else
    throw std::runtime_error("lamina-bench was built without the cuDNN graph peer (needs cuDNN 9 found at configure "
                             "time and -DLAMINA_BENCH_CUDNN_GRAPH=ON)");
#endif
  }
  throw std::runtime_error("unknown peer '" + name +
                           "' (onednn, cudnn, cudnn_graph, none, or a comma list such as "
                           "cudnn,cudnn_graph: the fastest of them)");
}

} // namespace bench
