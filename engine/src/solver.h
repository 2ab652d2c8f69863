// Solvers (SGD, Nesterov, AdaGrad, RMSProp, AdaDelta, Adam) with Caffe's learning-rate policies,
// weight decay, gradient clipping, iter_size accumulation, periodic testing, snapshots that resume
// exactly, progress lines, Ctrl-C snapshot and a NaN-loss stop. Updates run through the Lamina API.
#pragma once

#include "engine/src/net.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace lamina::engine {

struct TestResult {
  std::vector<std::pair<std::string, float>> outputs; // mean over test_iter batches, per output
};

class Solver {
public:
  // solverDir: the directory of the solver file (net paths in it are relative to the cwd, as in
  // Caffe; kept for messages).
  Solver(const pb::SolverParameter &param, Context &ctx);
  virtual ~Solver() = default;
  static std::unique_ptr<Solver> create(const pb::SolverParameter &param, Context &ctx);

  // Trains until max_iter (or until stop is requested); throws on a NaN loss ("loss is NaN at
  // iteration N: stopping").
  void solve();
  void step(int iters);
  std::vector<TestResult> test(); // every test net
  float learningRate() const;     // of the current iteration
  int iter() const { return iter_; }
  Net &net() { return *net_; }

  // Snapshot: <prefix>_iter_<N>.lamina-weights and <prefix>_iter_<N>.lamina-state (format in
  // engine/src/snapshot.h); restore continues exactly where it stopped.
  std::string snapshot();
  void restore(const std::string &statePath);
  void loadWeights(const std::string &weightsPath); // --weights (finetuning)
  void requestStop() { stop_ = true; }                // from the SIGINT handler: snapshot, then exit
  // Called after each iteration with (iter, loss, lr) and after each test: the CLI prints progress.
  std::function<void(int, float, float)> onIteration;

protected:
  // Applies the update for parameter i (its diff holds the gradient incl. weight decay) at rate lr.
  virtual void update(size_t i, float lr) = 0;
  virtual const char *type() const = 0;
  // History blobs (momentum, squared gradients, ...) per parameter, saved in the state file.
  std::vector<std::vector<BlobPtr>> history_;
  pb::SolverParameter param_;
  Context &ctx_;
  std::unique_ptr<Net> net_;
  std::vector<std::unique_ptr<Net>> testNets_;
  int iter_ = 0;
  int currentStep_ = 0; // multistep position
  bool stop_ = false;
};

} // namespace lamina::engine
