// A network built from a NetParameter for one phase (and stages/level): layers filtered by their
// include/exclude rules, Split layers inserted where a blob feeds several layers, every blob shape
// inferred at construction (errors name the layer). Forward returns the weighted loss.
#pragma once

#include "engine/src/layer.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace lamina::engine {

struct LearnableParam {
  Blob *blob;
  float lrMult = 1, decayMult = 1;
  std::string owner; // "layer/index", for snapshots and messages
};

class Net {
public:
  // Throws NetError (bad structure, unknown type, missing bottom, shape mismatch: naming the layer).
  Net(const pb::NetParameter &param, pb::Phase phase, Context &ctx, const std::vector<std::string> &stages = {},
      int level = 0);
  // Forward over all layers; returns the sum of loss_weight * loss over the loss tops.
  float forward();
  // Backward over all layers that need it (parameter diffs accumulate; see Layer::backward).
  void backward();
  void clearParamDiffs();
  // Re-runs every layer's reshape (after an input blob's shape changed).
  void reshape();

  const std::string &name() const { return name_; }
  pb::Phase phase() const { return phase_; }
  const std::vector<std::unique_ptr<Layer>> &layers() const { return layers_; }
  const std::vector<std::vector<Blob *>> &bottoms() const { return bottom_; } // per layer
  const std::vector<std::vector<Blob *>> &tops() const { return top_; }       // per layer
  Blob *blob(const std::string &name) const;                                  // null when absent
  const std::vector<std::string> &blobNames() const { return blobNames_; }
  // Tops not consumed by any layer (outputs), with their loss weights (0 for non-losses).
  const std::vector<std::pair<std::string, float>> &outputs() const { return outputs_; }
  std::vector<LearnableParam> &learnableParams() { return params_; }
  bool needsBackward(size_t layer) const { return needsBackward_[layer]; }
  const std::vector<bool> &propagateDown(size_t layer) const { return propagateDown_[layer]; }
  const std::vector<float> &lossWeights(size_t layer) const { return lossWeights_[layer]; } // per top
  // Bottom / top blob names per layer, after implicit split insertion.
  const std::vector<std::vector<std::string>> &bottomNames() const { return layerBottomNames_; }
  const std::vector<std::vector<std::string>> &topNames() const { return layerTopNames_; }

  // Per-layer forward/backward timing hook for `lamina time`: runs layer i alone.
  void forwardLayer(size_t i);
  void backwardLayer(size_t i); // no-op for a layer that needs no backward
  // The start of backward(): loss top diffs = their weights, diffs no layer writes = 0. Call it
  // before a series of backwardLayer() calls.
  void seedBackward();
  // The layer table of `lamina check`: layer, type, bottoms -> tops with shapes, parameter counts.
  std::string describe() const;

  // Weights: copy learnable blobs from/to another net with the same layer names (the test net
  // shares the train net's weights by copy before each test), and the weights file format of
  // engine/src/snapshot.h.
  void copyParamsFrom(const Net &other);

private:
  std::string name_;
  pb::Phase phase_;
  Context &ctx_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<std::vector<Blob *>> bottom_, top_;
  std::vector<std::vector<bool>> propagateDown_;
  std::vector<bool> needsBackward_;
  std::map<std::string, BlobPtr> blobs_;
  std::vector<std::string> blobNames_;
  std::vector<std::pair<std::string, float>> outputs_;
  std::vector<std::pair<Blob *, float>> losses_; // loss tops and their weights
  std::vector<LearnableParam> params_;
  std::vector<std::vector<float>> lossWeights_;                            // per layer, per top
  std::vector<std::vector<std::string>> layerBottomNames_, layerTopNames_; // after split insertion
  std::vector<Blob *> zeroDiffs_;                          // diffs read in backward that no layer writes: zeroed first
  void runLayer(size_t i, const std::function<void()> &f); // rethrows errors naming the layer
};

// Filters NetParameter.layer by phase/stages/level (Caffe's NetStateRule semantics).
bool layerIncluded(const pb::LayerParameter &l, const pb::NetState &state);

} // namespace lamina::engine
