// The engine's execution context: the Lamina handle every layer runs on (CPU or CUDA, chosen by
// one switch), the phase, and the random source for fillers, shuffling and dropout seeds.
#pragma once

#include "engine/src/paths.h"

#include <lamina/lamina.hpp>

#include <cstdint>
#include <random>
#include <string>

namespace lamina::engine {

struct Context {
  lamina::Handle handle; // the backend of this run
  laminaBackend_t backend = LAMINA_BACKEND_CPU;
  int device = 0;      // CUDA device ordinal
  std::mt19937_64 rng; // seeded from SolverParameter.random_seed (or a fixed default)
  uint64_t seed = 0;
  PathMap paths; // resolution of relative paths in net/solver files (--root, --data-root)

  // device: "cpu", "cuda", "cuda:N"; throws std::runtime_error naming the device when unavailable.
  explicit Context(const std::string &device = "cpu", uint64_t seed = 1701);
  void reseed(uint64_t s);

private:
  struct Picked {
    laminaBackend_t backend = LAMINA_BACKEND_CPU;
    int device = 0;
  };
  Context(const std::string &device, uint64_t seed, Picked p);

public:
  laminaHandle_t h() const { return handle.get(); }
};

} // namespace lamina::engine
