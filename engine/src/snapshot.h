// Snapshot files (format documented in docs/engine.md, "Snapshot format"): a weights file with
// every layer blob by layer name and index, and a solver-state file with the iteration, the
// multistep position, the history blobs, the RNG state, the display-loss window and the state of
// layers that have one (StatefulLayer), so a resumed run continues exactly. Little-endian binary
// of our own; no protobuf size limits.
#pragma once

#include "engine/src/net.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lamina::engine {

// A layer with state beyond its blobs (e.g. the Data layer's read position, a shuffle order)
// implements this as well; the solver saves and restores it by layer name in the state file.
struct StatefulLayer {
  virtual ~StatefulLayer() = default;
  virtual std::string saveState() const = 0;
  virtual void loadState(const std::string &bytes) = 0;
};

struct SnapshotError : std::runtime_error {
  using std::runtime_error::runtime_error; // "file: message"
};

// A blob as stored: its shape and values.
struct StoredBlob {
  Shape shape;
  std::vector<float> values;
};

// Weights file: every blob of every layer (Caffe's order within a layer).
void saveWeights(const Net &net, const std::string &path);
// Copies blobs into layers of the same name; layers missing from the file keep their values and
// layers of the file missing from the net are ignored (finetuning, like Caffe's --weights). A blob
// count or shape that differs throws SnapshotError naming the layer. Returns the layers copied.
int loadWeights(Net &net, const std::string &path);

struct SolverStateData {
  int32_t iter = 0;
  int32_t currentStep = 0;
  std::string solverType;                                       // checked on restore: history blobs differ per type
  std::string weightsFile;                                      // the weights file written with this state
  std::string rng;                                              // std::mt19937_64 state, as written by operator<<
  std::vector<float> lossWindow;                                // the last average_loss losses, oldest first
  std::vector<std::vector<StoredBlob>> history;                 // per learnable parameter
  std::vector<std::pair<std::string, std::string>> layerStates; // StatefulLayer by layer name
};
void saveSolverState(const SolverStateData &s, const std::string &path);
SolverStateData loadSolverState(const std::string &path);

} // namespace lamina::engine
