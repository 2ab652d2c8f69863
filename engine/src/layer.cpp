// The layer registry and the parameter fillers.
#include "engine/src/layer.h"

#include <cmath>

namespace lamina::engine {

std::map<std::string, LayerFactory> &layerRegistry() {
  static std::map<std::string, LayerFactory> r;
  return r;
}

std::unique_ptr<Layer> createLayer(const pb::LayerParameter &p, Context &ctx) {
  auto &r = layerRegistry();
  auto it = r.find(p.type());
  if (it == r.end()) {
    std::string known;
    for (const auto &kv : r)
      known += (known.empty() ? "" : ", ") + kv.first;
    throw NetError("layer '" + p.name() + "': unknown layer type '" + p.type() + "' (known: " + known + ")");
  }
  return it->second(p, ctx);
}

void fillBlob(Blob &b, const pb::FillerParameter &f, Context &ctx) {
  const int64_t n = b.count();
  std::vector<float> v(static_cast<size_t>(n));
  const Shape &s = b.shape();
  const double fanIn = s.empty() || s[0] == 0 ? 1.0 : double(n) / double(s[0]);
  const double fanOut = s.size() < 2 || s[1] == 0 ? 1.0 : double(n) / double(s[1]);
  auto scaleBase = [&] {
    switch (f.variance_norm()) {
    case pb::FillerParameter::FAN_OUT: return fanOut;
    case pb::FillerParameter::AVERAGE: return (fanIn + fanOut) / 2.0;
    default: return fanIn;
    }
  };
  const std::string &t = f.type();
  if (t == "constant") {
    for (float &x : v)
      x = f.value();
  } else if (t == "uniform") {
    std::uniform_real_distribution<float> d(f.min(), f.max());
    for (float &x : v)
      x = d(ctx.rng);
  } else if (t == "gaussian") {
    std::normal_distribution<float> d(f.mean(), f.std());
    for (float &x : v)
      x = d(ctx.rng);
    if (f.sparse() >= 0 && s.size() >= 2) {
      // Caffe: keep each weight with probability sparse / num_outputs (shape[0]).
      double keep = double(f.sparse()) / double(s[0]);
      std::bernoulli_distribution d(keep < 1 ? keep : 1.0);
      for (float &x : v)
        if (!d(ctx.rng))
          x = 0.f;
    }
  } else if (t == "xavier") {
    float a = float(std::sqrt(3.0 / scaleBase()));
    std::uniform_real_distribution<float> d(-a, a);
    for (float &x : v)
      x = d(ctx.rng);
  } else if (t == "msra") {
    std::normal_distribution<float> d(0.f, float(std::sqrt(2.0 / scaleBase())));
    for (float &x : v)
      x = d(ctx.rng);
  } else {
    throw NetError("unknown filler type '" + t + "' (constant, uniform, gaussian, xavier, msra)");
  }
  b.dataFromHost(v);
}

} // namespace lamina::engine
