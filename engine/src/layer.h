// The layer interface and the registry by type name ("Convolution", "ReLU", ...). A layer runs
// only Lamina API calls on the context's handle: the engine has no kernels of its own.
#pragma once

#include "engine/src/blob.h"
#include "lamina_net.pb.h" // generated from engine/proto/lamina_net.proto

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace lamina::engine {

namespace pb = ::lamina::net;
using Blobs = std::vector<Blob *>;

// Thrown for a net that cannot be built or run: the message names the layer ("layer 'conv1'
// (Convolution): ...").
struct NetError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Layer {
public:
  Layer(const pb::LayerParameter &p, Context &ctx) : param_(p), ctx_(ctx) {}
  virtual ~Layer() = default;
  const pb::LayerParameter &param() const { return param_; }
  const std::string &name() const { return param_.name(); }
  virtual const char *type() const = 0;

  // Bottom / top counts this layer accepts (-1: any); checked by the Net before setUp.
  virtual int minBottoms() const { return 1; }
  virtual int maxBottoms() const { return 1; }
  virtual int minTops() const { return 1; }
  virtual int maxTops() const { return 1; }
  // True for losses: the net sets a loss weight of 1 on the first top when none is given.
  virtual bool isLoss() const { return false; }
  // True when top[0] may be the same blob as bottom[0] (in-place, e.g. ReLU, Dropout).
  virtual bool allowsInPlace() const { return false; }

  // Once: check the parameters against the bottom shapes and create/fill the learnable blobs
  // (blobs()). Throw NetError (use fail()) for a bad parameter or shape.
  virtual void setUp(const Blobs &bottom, const Blobs &top) = 0;
  // Every time the bottom shapes may have changed: reshape the tops (and internal buffers).
  virtual void reshape(const Blobs &bottom, const Blobs &top) = 0;
  virtual void forward(const Blobs &bottom, const Blobs &top) = 0;
  // Writes bottom[i]->diff for each i with propagateDown[i], and accumulates nothing: it OVERWRITES
  // bottom diffs; parameter diffs (blobs()[j]->diff) are ACCUMULATED (+=), so iter_size works and
  // the solver clears them.
  virtual void backward(const Blobs &top, const std::vector<bool> &propagateDown, const Blobs &bottom) = 0;

  std::vector<BlobPtr> &blobs() { return blobs_; } // learnable parameters, Caffe's order
  // The phase the layer runs in (dropout, batch norm, data source).
  pb::Phase phase() const { return param_.phase(); }

protected:
  [[noreturn]] void fail(const std::string &msg) const {
    throw NetError("layer '" + name() + "' (" + type() + "): " + msg);
  }
  Context &ctx() const { return ctx_; }
  pb::LayerParameter param_;
  Context &ctx_;
  std::vector<BlobPtr> blobs_;
};

using LayerFactory = std::function<std::unique_ptr<Layer>(const pb::LayerParameter &, Context &)>;
std::map<std::string, LayerFactory> &layerRegistry();
// Throws NetError naming the layer when its type is unknown.
std::unique_ptr<Layer> createLayer(const pb::LayerParameter &p, Context &ctx);

struct LayerRegistrar {
  LayerRegistrar(const char *type, LayerFactory f) { layerRegistry()[type] = std::move(f); }
};
// In the layer's .cpp: LAMINA_REGISTER_LAYER(ReLU, ReLULayer) registers type "ReLU".
#define LAMINA_REGISTER_LAYER(TYPE, CLASS)                                                                             \
  static ::lamina::engine::LayerRegistrar registrar_##TYPE(                                                            \
      #TYPE, [](const ::lamina::engine::pb::LayerParameter &p, ::lamina::engine::Context &c) {                         \
        return std::unique_ptr<::lamina::engine::Layer>(new CLASS(p, c));                                              \
      })

// Fills a parameter blob per a FillerParameter (constant, gaussian, uniform, xavier, msra; Caffe's
// fan-in/fan-out from the blob shape: fan_in = count / shape[0], fan_out = count / shape[1]),
// drawing from ctx.rng on the host and uploading.
void fillBlob(Blob &b, const pb::FillerParameter &f, Context &ctx);

} // namespace lamina::engine
