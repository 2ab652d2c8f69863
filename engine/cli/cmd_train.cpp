// `lamina train` (a solver file, on the CPU or a GPU by one switch, resumable from a snapshot, Ctrl-C
// writes a snapshot) and `lamina test` (a net's outputs averaged over a number of batches, with
// trained weights).
#include "engine/cli/commands.h"
#include "engine/cli/net_files.h"
#include "engine/src/snapshot.h"
#include "engine/src/solver.h"

#include <csignal>
#include <cstdio>
#include <cstring>
#include <unistd.h>

namespace lamina::cli {

namespace {

bool cudaAvailable() {
  int available = 0;
  return laminaIsBackendAvailable(LAMINA_BACKEND_CUDA, &available) == LAMINA_STATUS_SUCCESS && available;
}

// --device wins; otherwise the solver's solver_mode/device_id (Caffe's default is GPU), falling
// back to the CPU when no GPU is usable.
std::string chooseDevice(const Args &a, const pb::SolverParameter *s) {
  if (a.has("device"))
    return a.get("device");
  if (s && s->solver_mode() == pb::SolverParameter::CPU)
    return "cpu";
  if (cudaAvailable())
    return s && s->device_id() ? "cuda:" + std::to_string(s->device_id()) : "cuda";
  return "cpu";
}

engine::Solver *activeSolver = nullptr;

extern "C" void onSigint(int) {
  // First Ctrl-C: stop after the current iteration with a snapshot; a second one kills.
  static const char msg[] = "\nlamina train: interrupt: stopping after this iteration with a snapshot "
                            "(Ctrl-C again to quit at once)\n";
  ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)ignored;
  if (activeSolver)
    activeSolver->requestStop();
  std::signal(SIGINT, SIG_DFL);
}

int runTrain(const Args &a) {
  if (!a.has("solver")) {
    std::fprintf(stderr, "usage: %s\n", commands()["train"].usage.c_str());
    return 2;
  }
  if (a.has("snapshot") && a.has("weights"))
    throw std::runtime_error("give --snapshot (resume) or --weights (finetune), not both");
  const std::string solverPath = a.get("solver");
  pb::SolverParameter sp;
  engine::readTextProto(solverPath, sp);
  engine::PathMap paths;
  paths.root = a.get("root", ".");
  paths.dataRoot = a.get("data-root", ".");
  // Net files resolve here, as `lamina check` does (against --root, or the solver's directory and
  // its parents); the solver then reads them as they are.
  if (sp.has_net())
    sp.set_net(resolveNetPath(sp.net(), solverPath, paths));
  if (sp.has_train_net())
    sp.set_train_net(resolveNetPath(sp.train_net(), solverPath, paths));
  for (int i = 0; i < sp.test_net_size(); ++i)
    sp.set_test_net(i, resolveNetPath(sp.test_net(i), solverPath, paths));
  if (a.has("max-iter"))
    sp.set_max_iter(std::stoi(a.get("max-iter")));

  const std::string device = chooseDevice(a, &sp);
  engine::Context ctx(device);
  ctx.paths.root = ".";
  ctx.paths.dataRoot = paths.dataRoot;
  auto solver = engine::Solver::create(sp, ctx);
  if (a.has("snapshot"))
    solver->restore(a.get("snapshot"));
  else if (a.has("weights"))
    solver->loadWeights(a.get("weights"));

  activeSolver = solver.get();
  std::signal(SIGINT, onSigint);
  try {
    solver->solve();
  } catch (...) {
    std::signal(SIGINT, SIG_DFL);
    activeSolver = nullptr;
    throw;
  }
  std::signal(SIGINT, SIG_DFL);
  activeSolver = nullptr;
  if (solver->stopped()) {
    std::printf("interrupted at iteration %d; to resume, run the same command with --snapshot %s\n", solver->iter(),
                solver->lastSnapshot().c_str());
    return 0;
  }
  return 0;
}

int runTest(const Args &a) {
  if (!a.has("model") || !a.has("weights")) {
    std::fprintf(stderr, "usage: %s\n", commands()["test"].usage.c_str());
    return 2;
  }
  const int iterations = std::stoi(a.get("iterations", "50"));
  if (iterations < 1)
    throw std::runtime_error("--iterations must be at least 1");
  const std::string device = chooseDevice(a, nullptr);
  engine::Context ctx(device);
  ctx.paths.root = a.get("root", ".");
  ctx.paths.dataRoot = a.get("data-root", ".");
  engine::Net net(readNet(a.get("model")), pb::TEST, ctx, splitList(a.get("stage")));
  int copied = 0;
  for (const auto &w : splitList(a.get("weights")))
    copied += engine::loadWeights(net, w);
  if (copied == 0)
    std::fprintf(stderr, "lamina test: warning: no layer of the net is in %s\n", a.get("weights").c_str());
  std::printf("net '%s' on %s, %d batches\n", net.name().c_str(), device.c_str(), iterations);
  std::vector<double> sums;
  std::vector<std::string> names;
  std::vector<float> weights;
  double loss = 0;
  for (int it = 0; it < iterations; ++it) {
    loss += net.forward();
    size_t k = 0;
    for (const auto &out : net.outputs()) {
      std::vector<float> v = net.blob(out.first)->dataToHost();
      for (size_t j = 0; j < v.size(); ++j, ++k) {
        if (it == 0) {
          sums.push_back(0);
          names.push_back(v.size() == 1 ? out.first : out.first + "[" + std::to_string(j) + "]");
          weights.push_back(out.second);
        }
        sums[k] += v[j];
      }
    }
  }
  for (size_t k = 0; k < sums.size(); ++k) {
    const double mean = sums[k] / iterations;
    std::printf("%s = %.4g", names[k].c_str(), mean);
    if (weights[k] != 0 && weights[k] != 1)
      std::printf(" (* %g = %.4g loss)", double(weights[k]), weights[k] * mean);
    std::printf("\n");
  }
  // The weighted total only when there are several loss outputs.
  int losses = 0;
  for (float w : weights)
    losses += w != 0;
  if (losses > 1)
    std::printf("total loss = %.4g\n", loss / iterations);
  return 0;
}

} // namespace

LAMINA_REGISTER_COMMAND(train, runTrain,
                        "train --solver S [--device cpu|cuda[:N]] [--snapshot STATE | --weights W[,W2...]]\n"
                        "      [--root R] [--data-root D] [--max-iter N]\n"
                        "      train per the solver file; device: --device, else the file's solver_mode (GPU: cuda\n"
                        "      when usable, else cpu); --snapshot resumes a .lamina-state; Ctrl-C snapshots and exits",
                        {});
LAMINA_REGISTER_COMMAND(test, runTest,
                        "test --model NET --weights W [--iterations N] [--device cpu|cuda[:N]] [--stage S[,S...]]\n"
                        "      [--root R] [--data-root D]\n"
                        "      the TEST-phase net's outputs averaged over N batches (default 50)",
                        {});

} // namespace lamina::cli
