// `lamina time --model NET`: per-layer forward and backward times (like `caffe time`), then whole
// forward+backward passes without per-layer synchronization for the throughput (images/s).
#include "engine/cli/commands.h"
#include "engine/cli/net_files.h"
#include "engine/src/net.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

namespace lamina::cli {

namespace {

using engine::Net;
using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// Every "Data" layer becomes an Input of the given shape (and a label top of shape N), so a net
// runs without its database.
void replaceDataLayers(pb::NetParameter &n, const std::vector<int64_t> &shape) {
  for (auto &l : *n.mutable_layer()) {
    if (l.type() != "Data")
      continue;
    pb::LayerParameter in;
    in.set_name(l.name());
    in.set_type("Input");
    *in.mutable_top() = l.top();
    *in.mutable_include() = l.include();
    *in.mutable_exclude() = l.exclude();
    for (int j = 0; j < l.top_size(); ++j) {
      auto *s = in.mutable_input_param()->add_shape();
      if (j == 0)
        for (int64_t d : shape)
          s->add_dim(d);
      else
        s->add_dim(shape[0]);
    }
    l = in;
  }
}

// Input tops: uniform [0, 1) images (valid as sigmoid cross-entropy targets too); 1-D tops are
// labels and get class 0, valid for any classifier.
void fillInputs(Net &net, std::mt19937 &rng) {
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (size_t i = 0; i < net.layers().size(); ++i) {
    if (std::string(net.layers()[i]->type()) != "Input")
      continue;
    for (engine::Blob *t : net.tops()[i]) {
      std::vector<float> v(size_t(t->count()));
      if (t->rank() != 1)
        for (float &x : v)
          x = u(rng);
      t->dataFromHost(v);
    }
  }
}

int runTime(const Args &a) {
  if (!a.has("model")) {
    std::fprintf(stderr, "usage: %s\n", commands()["time"].usage.c_str());
    return 2;
  }
  const std::string device = a.get("device", "cpu");
  const int iterations = std::stoi(a.get("iterations", "50"));
  if (iterations < 1)
    throw std::runtime_error("--iterations must be at least 1");
  const pb::Phase phase = parsePhase(a.get("phase", "train"));
  engine::Context ctx(device);
  ctx.paths.root = a.get("root", ".");
  ctx.paths.dataRoot = a.get("data-root", ".");

  pb::NetParameter param = readNet(a.get("model"));
  if (a.has("random-data")) {
    if (!a.has("data-shape"))
      throw std::runtime_error("--random-data needs --data-shape N,C,H,W");
    std::vector<int64_t> shape;
    for (const auto &d : splitList(a.get("data-shape")))
      shape.push_back(std::stoll(d));
    if (shape.empty() || shape[0] < 1)
      throw std::runtime_error("bad --data-shape '" + a.get("data-shape") + "'");
    replaceDataLayers(param, shape);
  }
  Net net(param, phase, ctx, splitList(a.get("stage")));
  std::mt19937 rng(1701);
  fillInputs(net, rng);
  const int64_t batch = net.blobNames().empty() ? 1 : std::max<int64_t>(1, net.blob(net.blobNames()[0])->dim(0));
  auto sync = [&] { lamina::check(laminaSynchronize(ctx.h())); };

  std::printf("net '%s', phase %s, device %s, batch %lld, %d iterations after 1 warm-up\n", net.name().c_str(),
              pb::Phase_Name(phase).c_str(), device.c_str(), (long long)batch, iterations);
  net.forward();
  net.backward();
  sync();

  // Per layer, synchronizing after each so a layer's time is its own.
  const size_t n = net.layers().size();
  std::vector<double> fwd(n, 0.0), bwd(n, 0.0);
  for (int it = 0; it < iterations; ++it) {
    for (size_t i = 0; i < n; ++i) {
      auto t0 = Clock::now();
      net.forwardLayer(i);
      sync();
      fwd[i] += msSince(t0);
    }
    net.seedBackward();
    sync();
    for (size_t i = n; i-- > 0;) {
      auto t0 = Clock::now();
      net.backwardLayer(i);
      sync();
      bwd[i] += msSince(t0);
    }
  }
  size_t wn = 5, wt = 4;
  for (const auto &l : net.layers()) {
    wn = std::max(wn, l->name().size());
    wt = std::max(wt, std::string(l->type()).size());
  }
  std::printf("%-*s  %-*s  %12s  %12s\n", int(wn), "layer", int(wt), "type", "forward ms", "backward ms");
  double fSum = 0, bSum = 0;
  for (size_t i = 0; i < n; ++i) {
    const auto &l = *net.layers()[i];
    fSum += fwd[i] / iterations;
    bSum += bwd[i] / iterations;
    std::printf("%-*s  %-*s  %12.4f  %12s\n", int(wn), l.name().c_str(), int(wt), l.type(), fwd[i] / iterations,
                net.needsBackward(i) ? std::to_string(bwd[i] / iterations).c_str() : "-");
  }
  std::printf("sum of layers: forward %.3f ms, backward %.3f ms, forward+backward %.3f ms\n", fSum, bSum, fSum + bSum);

  // Whole passes, one synchronization per pass (the loss download), as training runs them.
  auto t0 = Clock::now();
  for (int it = 0; it < iterations; ++it)
    net.forward();
  sync();
  const double fPass = msSince(t0) / iterations;
  t0 = Clock::now();
  for (int it = 0; it < iterations; ++it) {
    net.forward();
    net.backward();
  }
  sync();
  const double fbPass = msSince(t0) / iterations;
  std::printf("whole passes: forward %.3f ms (%.0f images/s), forward+backward %.3f ms (%.0f images/s)\n", fPass,
              double(batch) * 1000.0 / fPass, fbPass, double(batch) * 1000.0 / fbPass);
  return 0;
}

} // namespace

LAMINA_REGISTER_COMMAND(time, runTime,
                        "time --model NET [--device cpu|cuda[:N]] [--iterations N] [--phase train|test]\n"
                        "      [--stage S[,S...]] [--random-data --data-shape N,C,H,W] [--root R] [--data-root D]\n"
                        "      per-layer forward/backward ms (like `caffe time`), then whole passes and images/s;\n"
                        "      --random-data replaces each Data layer by an Input of that shape (no database)",
                        {"random-data"});

} // namespace lamina::cli
