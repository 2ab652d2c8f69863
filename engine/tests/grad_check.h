// Finite-difference gradient checks through the engine (Caffe's GradientChecker idea): the
// objective is L = sum_i w_i * top_i with fixed random weights w (for a loss layer, its loss times
// its weight), so the top diffs are w; each checked element's analytic gradient from backward must
// match (L(x + h) - L(x - h)) / 2h. Runs on the backend under test (LAMINA_TEST_BACKEND).
#pragma once

#include "engine/src/layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>

namespace lamina::engine::testing {

struct GradCheckOptions {
  float step = 1e-2f;      // h
  float tolerance = 1e-2f; // |analytic - numeric| <= tolerance * max(1, |analytic|, |numeric|)
  int maxPerBlob = 60;     // elements checked per blob (a random sample when larger)
  uint64_t seed = 7;
  std::vector<bool> checkBottom; // per bottom; empty = all (set false for labels)
  bool checkParams = true;
};

inline double objective(const Blobs &top, const std::vector<std::vector<float>> &w) {
  double l = 0;
  for (size_t t = 0; t < top.size(); ++t) {
    auto v = top[t]->dataToHost();
    for (size_t i = 0; i < v.size(); ++i)
      l += double(v[i]) * w[t][i];
  }
  return l;
}

// The layer is set up and reshaped here; bottoms must hold their data already.
inline ::testing::AssertionResult checkGradients(Layer &layer, const Blobs &bottom, const Blobs &top,
                                                 const GradCheckOptions &o = {}) {
  layer.setUp(bottom, top);
  layer.reshape(bottom, top);
  std::mt19937_64 rng(o.seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<std::vector<float>> w(top.size());
  for (size_t t = 0; t < top.size(); ++t) {
    w[t].resize(size_t(top[t]->count()));
    for (float &x : w[t])
      x = layer.isLoss() ? 1.f : u(rng);
  }
  // Analytic gradients.
  layer.forward(bottom, top);
  for (size_t t = 0; t < top.size(); ++t)
    top[t]->diffFromHost(w[t]);
  for (auto &p : layer.blobs())
    p->setDiff(0.f);
  std::vector<bool> prop(bottom.size(), true);
  for (size_t b = 0; b < bottom.size() && b < o.checkBottom.size(); ++b)
    prop[b] = o.checkBottom[b];
  for (size_t b = 0; b < bottom.size(); ++b)
    if (prop[b])
      bottom[b]->setDiff(0.f);
  layer.backward(top, prop, bottom);

  std::vector<Blob *> checked;
  std::vector<std::string> names;
  for (size_t b = 0; b < bottom.size(); ++b)
    if (prop[b]) {
      checked.push_back(bottom[b]);
      names.push_back("bottom " + std::to_string(b));
    }
  if (o.checkParams)
    for (size_t j = 0; j < layer.blobs().size(); ++j) {
      checked.push_back(layer.blobs()[j].get());
      names.push_back("param " + std::to_string(j));
    }
  std::ostringstream bad;
  int failures = 0, compared = 0;
  for (size_t c = 0; c < checked.size(); ++c) {
    Blob &blob = *checked[c];
    const std::vector<float> analytic = blob.diffToHost();
    std::vector<float> x = blob.dataToHost();
    std::vector<int64_t> idx(size_t(blob.count()));
    for (size_t i = 0; i < idx.size(); ++i)
      idx[i] = int64_t(i);
    std::shuffle(idx.begin(), idx.end(), rng);
    if (int64_t(idx.size()) > o.maxPerBlob)
      idx.resize(size_t(o.maxPerBlob));
    for (int64_t i : idx) {
      const float orig = x[size_t(i)];
      x[size_t(i)] = orig + o.step;
      blob.dataFromHost(x);
      layer.forward(bottom, top);
      double lp = objective(top, w);
      x[size_t(i)] = orig - o.step;
      blob.dataFromHost(x);
      layer.forward(bottom, top);
      double lm = objective(top, w);
      x[size_t(i)] = orig;
      blob.dataFromHost(x);
      double numeric = (lp - lm) / (2.0 * o.step), a = analytic[size_t(i)];
      double scale = std::max({1.0, std::fabs(a), std::fabs(numeric)});
      ++compared;
      if (!(std::fabs(a - numeric) <= o.tolerance * scale)) {
        if (++failures <= 10)
          bad << "\n  " << names[c] << "[" << i << "]: analytic " << a << ", numeric " << numeric;
      }
    }
  }
  if (compared == 0)
    return ::testing::AssertionFailure() << "nothing was checked";
  if (failures)
    return ::testing::AssertionFailure() << layer.type() << " '" << layer.name() << "': " << failures << " of "
                                         << compared << " gradients off" << bad.str();
  return ::testing::AssertionSuccess();
}

} // namespace lamina::engine::testing
