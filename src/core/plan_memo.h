// A per-process memo of host-side convolution plans. Planning a tensor-core launch (the TMA choice
// against the cp.async plan, tiles, splits, staging) took ~3 us of host time and ran three times per
// call, as long as two kernel launches: at batch 1 the GPU waited for the host (H200, fp16, v9: 14 us
// issued per forward call against cuDNN's 7.7). Plans are pure functions of the problem, the
// direction, the flags, the device and the measuring overrides in the environment (LAMINA_TC_*), so
// those are the key; nothing is written to disk and nothing is timed.
#pragma once

#include "core/conv_problem.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

extern "C" char **environ;

namespace lamina {

// A fingerprint of the environment: its entries' addresses. setenv and unsetenv replace or move the
// entries they change (glibc never rewrites an entry's string in place), so any change to a variable
// the planners read changes it; ~40 ns for 90 variables where reading two of them by getenv took
// ~0.5 us (H200 host: each getenv compares every entry). A string handed to putenv and then edited in
// place goes unseen: the LAMINA_TC_* overrides are for tests and measuring.
inline uint64_t envFingerprint() {
  uint64_t h = 1469598103934665603ull;
  if (environ)
    for (char **e = environ; *e; ++e)
      h = (h ^ reinterpret_cast<uintptr_t>(*e)) * 1099511628211ull;
  return h ^ reinterpret_cast<uintptr_t>(environ);
}

class PlanKey {
public:
  // salt: what else the plan depends on (the device). The environment's fingerprint is part of every
  // key: the planners read measuring overrides (LAMINA_TC_TILE, ...) that the sandbox changes at run time.
  PlanKey(const ConvProblem &p, int dir, unsigned flags, int64_t salt) {
    add(salt), add(dir), add(flags), add(int64_t(envFingerprint()));
    add(p.dataType), add(p.computeType), add(p.math), add(p.flip), add(p.spatialDims);
    add(p.N), add(p.C), add(p.K), add(p.G);
    for (int i = 0; i < 3; ++i)
      add(p.in[i]), add(p.filt[i]), add(p.out[i]), add(p.pad[i]), add(p.stride[i]), add(p.dil[i]);
    addTensor(p.x), addTensor(p.y);
    add(p.w.dataType), add(p.w.format), add(p.w.nbDims);
    for (int i = 0; i < p.w.nbDims; ++i)
      add(p.w.dims[i]), add(p.w.strides[i]);
  }
  bool valid() const { return n_ >= 0; }
  bool operator==(const PlanKey &o) const { return n_ == o.n_ && std::memcmp(v_, o.v_, sizeof(int64_t) * n_) == 0; }
  size_t hash() const {
    uint64_t h = 1469598103934665603ull; // FNV-1a over the words
    for (int i = 0; i < n_; ++i)
      h = (h ^ uint64_t(v_[i])) * 1099511628211ull;
    return size_t(h);
  }

private:
  // The fixed fields, x, y and w at LAMINA_DIM_MAX dims.
  static constexpr int kMax = 36 + 3 * (3 + 2 * LAMINA_DIM_MAX);
  int64_t v_[kMax];
  int n_ = 0; // -1: more words than kMax (a tensor past LAMINA_DIM_MAX dims): not memoised
  void add(int64_t x) {
    if (n_ >= 0 && n_ < kMax)
      v_[n_++] = x;
    else
      n_ = -1;
  }
  void addTensor(const TensorDesc &t) {
    add(t.dataType), add(t.nbDims);
    for (int i = 0; i < t.nbDims; ++i)
      add(t.dims[i]), add(t.strides[i]);
  }
};

struct PlanKeyHash {
  size_t operator()(const PlanKey &k) const { return k.hash(); }
};

// get(key, compute): the stored value, else compute()'s (stored when it returns; an exception stores
// nothing). Thread-safe; at kCap entries the memo starts over (programs cycle through few problems).
// Each thread keeps its last hits in a few slots of its own, checked before the shared map: the lock
// and the map's lookup took ~1 us of a forward call's ~4 us of host work (H200 host, sampled).
template <class V> class PlanMemo {
public:
  template <class F> V get(const PlanKey &key, F &&compute) {
    if (!key.valid())
      return compute();
    const size_t h = key.hash();
    Slot &slot = slots()[h % kSlots];
    if (slot.owner == this && slot.hash == h && slot.entry->first == key)
      return slot.entry->second;
    V v = [&] {
      {
        std::lock_guard<std::mutex> lock(m_);
        if (auto it = map_.find(key); it != map_.end())
          return it->second;
      }
      V fresh = compute();
      std::lock_guard<std::mutex> lock(m_);
      if (map_.size() >= kCap)
        map_.clear();
      map_.emplace(key, fresh);
      return fresh;
    }();
    // Plans are pure functions of their keys: a slot stays right after the map starts over.
    slot.owner = this, slot.hash = h;
    slot.entry = std::make_unique<std::pair<PlanKey, V>>(key, v);
    return v;
  }

private:
  static constexpr size_t kCap = 4096, kSlots = 8;
  struct Slot {
    const PlanMemo *owner = nullptr;
    size_t hash = 0;
    std::unique_ptr<std::pair<PlanKey, V>> entry;
  };
  static Slot *slots() {
    thread_local Slot s[kSlots];
    return s;
  }
  std::mutex m_;
  std::unordered_map<PlanKey, V, PlanKeyHash> map_;
};

} // namespace lamina
