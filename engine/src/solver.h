// Solvers (SGD, Nesterov, AdaGrad, RMSProp, AdaDelta, Adam) with Caffe's learning-rate policies,
// weight decay, gradient clipping, iter_size accumulation, periodic testing, snapshots that resume
// exactly, progress lines, Ctrl-C snapshot and a NaN-loss stop. Updates run through the Lamina API.
#pragma once

#include "engine/src/net.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace lamina::engine {

struct TestResult {
  std::vector<std::pair<std::string, float>> outputs; // mean over test_iter batches, per output
  std::vector<float> lossWeights;                     // per output (0 for non-losses)
  float loss = 0;                                     // mean weighted loss (test_compute_loss)
  bool interrupted = false;                           // stopped by requestStop
};

// A bad solver file (unknown type, inconsistent test nets, bad lr policy parameters) or a stop
// for a NaN loss ("loss is NaN at iteration N").
struct SolverError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Solver {
public:
  // Builds the train net (net / net_param / train_net / train_net_param) and the test nets
  // (test_net / test_net_param, or the generic net in TEST phase per test_state); net file paths
  // resolve through ctx.paths.proto(). Reseeds ctx.rng from random_seed when it is >= 0.
  Solver(const pb::SolverParameter &param, Context &ctx);
  virtual ~Solver() = default;
  // By `type` ("SGD", "Nesterov", "AdaGrad", "RMSProp", "AdaDelta", "Adam") or the legacy
  // solver_type enum when `type` is not set. Throws SolverError for an unknown type.
  static std::unique_ptr<Solver> create(const pb::SolverParameter &param, Context &ctx);

  // Trains until max_iter (or until stop is requested); throws SolverError on a NaN loss ("loss is
  // NaN at iteration N: stopping"). Snapshots at the end (snapshot_after_train) and on a stop.
  void solve();
  void step(int iters);
  std::vector<TestResult> test(); // every test net
  float learningRate() const;     // of the current iteration
  int iter() const { return iter_; }
  Net &net() { return *net_; }
  std::vector<std::unique_ptr<Net>> &testNets() { return testNets_; }
  const pb::SolverParameter &param() const { return param_; }
  float smoothedLoss() const { return smoothedLoss_; }
  bool stopped() const { return stop_; }
  const std::string &lastSnapshot() const { return lastSnapshot_; } // state file path, "" if none

  // Snapshot: <prefix>_iter_<N>.lamina-weights and <prefix>_iter_<N>.lamina-state (format in
  // engine/src/snapshot.h); restore continues exactly where it stopped. snapshot() returns the
  // state file's path.
  std::string snapshot();
  void restore(const std::string &statePath);
  void loadWeights(const std::string &weightsPath); // --weights (finetuning); comma-separated list
  void requestStop() { stop_ = true; }              // from the SIGINT handler: snapshot, then exit
  // Called after each iteration with (iter, loss, lr): iter is the iteration just done (before the
  // increment), loss its loss (mean over iter_size), lr its learning rate.
  std::function<void(int, float, float)> onIteration;
  // Called after each test with the iteration and the results per test net.
  std::function<void(int, const std::vector<TestResult> &)> onTest;
  // Progress, test and snapshot lines (default: stdout, flushed).
  std::function<void(const std::string &)> log;

protected:
  // Applies the update for parameter i (its diff holds the gradient incl. weight decay) at rate lr
  // (already multiplied by the parameter's lr_mult); leaves the step to subtract in the diff.
  virtual void update(size_t i, float lr) = 0;
  virtual const char *type() const = 0;
  // History blobs per parameter (1 for SGD/Nesterov/AdaGrad/RMSProp, 2 for AdaDelta/Adam).
  virtual int historyCount() const { return 1; }

  // Lamina API helpers on flat (count x 1 x 1 x 1) views of the parameter and history blobs.
  laminaTensorDescriptor_t flat(size_t i) const { return flat_[i].get(); }
  void axpby(size_t i, float a, const float *x, float b, float *y); // y = a x + b y
  void mul(size_t i, const float *a, const float *b, float *c);     // c = a * b
  void div(size_t i, const float *a, const float *b, float *c);     // c = a / b
  void sqrt(size_t i, const float *a, float *c);                    // c = sqrt(a)
  void sqrtPlus(size_t i, const float *a, float eps, float *c);     // c = sqrt(a) + eps
  void addScalar(size_t i, const float *a, float s, float *c);      // c = a + s
  void sign(size_t i, const float *a, float *c);                    // c = sign(a)
  float *tmp(size_t i) { return tmp_[i]->mutableData(); }           // scratch, count floats

  std::vector<std::vector<BlobPtr>> history_;
  pb::SolverParameter param_;
  Context &ctx_;
  std::unique_ptr<Net> net_;
  std::vector<std::unique_ptr<Net>> testNets_;
  int iter_ = 0;
  int currentStep_ = 0; // multistep position
  std::atomic<bool> stop_{false};

private:
  void init();
  void applyUpdate();
  void clipGradients();
  void regularize(size_t i);
  void updateSmoothedLoss(float loss, int startIter);
  void display(float lr);
  TestResult testNet(size_t n);
  void setupBuffers();
  void ensureHistory();
  void restoreLayerState(const std::string &key, const std::string &value,
                         const std::string &statePath); // after construction: historyCount() is virtual
  int imagesPerIteration() const;

  std::vector<lamina::TensorDescriptor> flat_;
  std::vector<BlobPtr> tmp_;
  BlobPtr clipNorms_, clipWorkspace_; // gradient clipping's per-parameter norms and workspace
  BlobPtr scalars_;                   // constants broadcast by OpTensor (one float each)
  lamina::TensorDescriptor scalarDesc_;
  // OpTensor descriptors by op, made on first use (a solver needs only its own ops).
  laminaOpTensorDescriptor_t op(laminaOpTensorOp_t o);
  std::map<int, lamina::OpTensorDescriptor> ops_;
  std::vector<float> losses_; // the average_loss window
  float smoothedLoss_ = 0;
  std::string lastSnapshot_;
  int lastSnapshotIter_ = -1;
  std::chrono::steady_clock::time_point displayTime_;
  int displayIter_ = -1;
};

} // namespace lamina::engine
