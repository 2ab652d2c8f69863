// Net construction (filtering, implicit splits, blob wiring, shape inference, backward needs) and
// the forward/backward passes.
#include "engine/src/net.h"

#include "engine/src/io.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

namespace lamina::engine {

namespace {

bool hasStage(const pb::NetState &s, const std::string &stage) {
  return std::find(s.stage().begin(), s.stage().end(), stage) != s.stage().end();
}

bool ruleMatches(const pb::NetStateRule &r, const pb::NetState &s) {
  if (r.has_phase() && r.phase() != s.phase())
    return false;
  if (r.has_min_level() && s.level() < r.min_level())
    return false;
  if (r.has_max_level() && s.level() > r.max_level())
    return false;
  for (const auto &st : r.stage())
    if (!hasStage(s, st))
      return false;
  for (const auto &st : r.not_stage())
    if (hasStage(s, st))
      return false;
  return true;
}

std::string layerLabel(const std::string &name, const std::string &type) {
  return "layer '" + name + "' (" + type + ")";
}

// One layer of the net before blobs exist: its (possibly renamed) bottoms and tops and the loss
// weight of each top.
struct Entry {
  std::unique_ptr<Layer> layer;
  std::vector<std::string> bottoms, tops;
  std::vector<float> lossWeights;       // per top
  std::vector<bool> propagateDownGiven; // LayerParameter.propagate_down, when given
  bool hasPropagateDown = false;
};

std::string splitLayerName(const std::string &layer, const std::string &blob, int topIndex) {
  return blob + "_" + layer + "_" + std::to_string(topIndex) + "_split";
}
std::string splitBlobName(const std::string &layer, const std::string &blob, int topIndex, int k) {
  return splitLayerName(layer, blob, topIndex) + "_" + std::to_string(k);
}

// Caffe's implicit splits: a top read by more than one later bottom (a loss weight on it counts as
// one more reader) goes through a Split layer whose tops feed the readers one each; a loss top
// keeps split output 0 for its loss weight. Throws NetError for a bottom no earlier layer produces.
std::vector<Entry> insertSplits(std::vector<Entry> in, Context &ctx) {
  using Pos = std::pair<size_t, size_t>; // (layer, top)
  std::map<std::string, Pos> lastProducer;
  std::map<std::pair<size_t, size_t>, Pos> source; // (layer, bottom) -> producing top
  std::map<Pos, int> readers;
  for (size_t i = 0; i < in.size(); ++i) {
    const Entry &e = in[i];
    for (size_t j = 0; j < e.bottoms.size(); ++j) {
      auto it = lastProducer.find(e.bottoms[j]);
      if (it == lastProducer.end())
        throw NetError(layerLabel(e.layer->name(), e.layer->type()) + ": bottom '" + e.bottoms[j] +
                       "' does not exist (no earlier layer has it as a top)");
      source[{i, j}] = it->second;
      ++readers[it->second];
    }
    for (size_t j = 0; j < e.tops.size(); ++j) {
      lastProducer[e.tops[j]] = {i, j};
      if (e.lossWeights[j] != 0.f)
        ++readers[{i, j}];
    }
  }
  std::vector<Entry> out;
  std::map<Pos, int> nextSplitTop;
  for (size_t i = 0; i < in.size(); ++i) {
    Entry &e = in[i];
    for (size_t j = 0; j < e.bottoms.size(); ++j) {
      Pos src = source[{i, j}];
      if (readers[src] > 1)
        e.bottoms[j] = splitBlobName(in[src.first].layer->name(), e.bottoms[j], int(src.second), nextSplitTop[src]++);
    }
    std::vector<Entry> splits;
    for (size_t j = 0; j < e.tops.size(); ++j) {
      const int n = readers[{i, j}];
      if (n <= 1)
        continue;
      const std::string &producer = e.layer->name(), &blob = e.tops[j];
      pb::LayerParameter sp;
      sp.set_name(splitLayerName(producer, blob, int(j)));
      sp.set_type("Split");
      sp.set_phase(e.layer->phase());
      Entry s;
      s.bottoms = {blob};
      sp.add_bottom(blob);
      for (int k = 0; k < n; ++k) {
        s.tops.push_back(splitBlobName(producer, blob, int(j), k));
        sp.add_top(s.tops.back());
      }
      s.lossWeights.assign(size_t(n), 0.f);
      if (e.lossWeights[j] != 0.f) {
        s.lossWeights[0] = e.lossWeights[j]; // the loss reads split output 0
        e.lossWeights[j] = 0.f;
        nextSplitTop[{i, j}] = 1;
      }
      s.layer = createLayer(sp, ctx);
      splits.push_back(std::move(s));
    }
    out.push_back(std::move(e));
    for (auto &s : splits)
      out.push_back(std::move(s));
  }
  return out;
}

std::string countsMessage(const char *what, int got, int lo, int hi) {
  std::string want = hi < 0     ? "at least " + std::to_string(lo)
                     : lo == hi ? std::to_string(lo)
                                : std::to_string(lo) + " to " + std::to_string(hi);
  return "takes " + want + " " + what + ", got " + std::to_string(got);
}

} // namespace

bool layerIncluded(const pb::LayerParameter &l, const pb::NetState &state) {
  if (l.include_size() > 0 && l.exclude_size() > 0)
    throw NetError(layerLabel(l.name(), l.type()) + ": give include rules or exclude rules, not both");
  if (l.include_size() > 0) {
    for (const auto &r : l.include())
      if (ruleMatches(r, state))
        return true;
    return false;
  }
  for (const auto &r : l.exclude())
    if (ruleMatches(r, state))
      return false;
  return true;
}

Net::Net(const pb::NetParameter &param, pb::Phase phase, Context &ctx, const std::vector<std::string> &stages,
         int level)
    : name_(param.name()), phase_(phase), ctx_(ctx) {
  pb::NetParameter p = param;
  try {
    upgradeNet(p);
  } catch (const ParseError &e) {
    throw NetError(e.what());
  }
  pb::NetState state = p.state();
  state.set_phase(phase);
  if (level != 0)
    state.set_level(level);
  for (const auto &s : stages)
    if (!hasStage(state, s))
      state.add_stage(s);

  // 1. The layers of this phase/stage, created with the net's phase.
  std::vector<Entry> entries;
  for (const auto &lp : p.layer()) {
    if (!layerIncluded(lp, state))
      continue;
    pb::LayerParameter l = lp;
    l.set_phase(phase);
    Entry e;
    e.layer = createLayer(l, ctx);
    e.bottoms.assign(l.bottom().begin(), l.bottom().end());
    e.tops.assign(l.top().begin(), l.top().end());
    const Layer &L = *e.layer;
    auto checkCount = [&](const char *what, int got, int lo, int hi) {
      if (got < lo || (hi >= 0 && got > hi))
        throw NetError(layerLabel(L.name(), L.type()) + ": " + countsMessage(what, got, lo, hi));
    };
    checkCount("bottoms", l.bottom_size(), L.minBottoms(), L.maxBottoms());
    checkCount("tops", l.top_size(), L.minTops(), L.maxTops());
    if (l.loss_weight_size() > l.top_size())
      throw NetError(layerLabel(L.name(), L.type()) + ": " + std::to_string(l.loss_weight_size()) +
                     " loss_weight values for " + std::to_string(l.top_size()) + " tops");
    e.lossWeights.assign(size_t(l.top_size()), 0.f);
    for (int j = 0; j < l.loss_weight_size(); ++j)
      e.lossWeights[size_t(j)] = l.loss_weight(j);
    if (l.loss_weight_size() == 0 && L.isLoss() && l.top_size() > 0)
      e.lossWeights[0] = 1.f;
    if (l.propagate_down_size() > 0) {
      if (l.propagate_down_size() != l.bottom_size())
        throw NetError(layerLabel(L.name(), L.type()) + ": propagate_down needs one value per bottom");
      e.hasPropagateDown = true;
      e.propagateDownGiven.assign(l.propagate_down().begin(), l.propagate_down().end());
    }
    entries.push_back(std::move(e));
  }

  // 2. Implicit splits (also reports missing bottoms).
  entries = insertSplits(std::move(entries), ctx);

  // 3. Blobs: tops create them (or reuse the bottom in place); bottoms must exist.
  for (auto &e : entries) {
    const Layer &L = *e.layer;
    std::vector<Blob *> bottoms, tops;
    for (const auto &b : e.bottoms) {
      auto it = blobs_.find(b);
      if (it == blobs_.end())
        throw NetError(layerLabel(L.name(), L.type()) + ": bottom '" + b + "' does not exist");
      bottoms.push_back(it->second.get());
    }
    for (size_t j = 0; j < e.tops.size(); ++j) {
      const std::string &t = e.tops[j];
      auto it = blobs_.find(t);
      if (it != blobs_.end()) {
        const bool inPlace = j < e.bottoms.size() && e.bottoms[j] == t;
        if (!inPlace)
          throw NetError(layerLabel(L.name(), L.type()) + ": top '" + t +
                         "' is already produced by an earlier layer (tops may repeat a bottom only in place, "
                         "at the same position)");
        if (!L.allowsInPlace())
          throw NetError(layerLabel(L.name(), L.type()) + ": cannot run in place (top '" + t + "' is also its bottom)");
        tops.push_back(it->second.get());
      } else {
        auto blob = std::make_shared<Blob>(ctx);
        blobs_[t] = blob;
        blobNames_.push_back(t);
        tops.push_back(blob.get());
      }
    }
    bottom_.push_back(std::move(bottoms));
    top_.push_back(std::move(tops));
  }

  // 4. Shapes, in order: setUp once, then reshape. Errors other than NetError get the layer's name.
  for (size_t i = 0; i < entries.size(); ++i) {
    Layer &L = *entries[i].layer;
    try {
      L.setUp(bottom_[i], top_[i]);
      L.reshape(bottom_[i], top_[i]);
    } catch (const NetError &) {
      throw;
    } catch (const std::exception &ex) {
      throw NetError(layerLabel(L.name(), L.type()) + ": " + ex.what());
    }
  }

  // 5. Which layers need backward (Caffe's rules): a layer does when one of its learnable blobs
  // has lr_mult != 0 or one of its bottoms needs a gradient; then only layers that lead to a loss
  // keep it; force_backward turns on every loss-leading layer and bottom (except loss labels).
  const size_t n = entries.size();
  std::map<Blob *, bool> blobNeedsBackward;
  needsBackward_.assign(n, false);
  propagateDown_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    Entry &e = entries[i];
    Layer &L = *e.layer;
    bool need = false;
    propagateDown_[i].assign(bottom_[i].size(), false);
    for (size_t j = 0; j < bottom_[i].size(); ++j) {
      bool nb = blobNeedsBackward[bottom_[i][j]];
      if (e.hasPropagateDown)
        nb = nb && e.propagateDownGiven[j];
      propagateDown_[i][j] = nb;
      need = need || nb;
    }
    for (size_t k = 0; k < L.blobs().size(); ++k) {
      const float lr = int(k) < L.param().param_size() ? L.param().param(int(k)).lr_mult() : 1.f;
      need = need || lr != 0.f;
    }
    needsBackward_[i] = need;
    for (Blob *t : top_[i])
      blobNeedsBackward[t] = blobNeedsBackward[t] || need;
  }
  std::set<Blob *> underLoss;
  std::vector<bool> contributes(n, false);
  for (size_t i = n; i-- > 0;) {
    bool c = false;
    for (size_t j = 0; j < top_[i].size(); ++j)
      c = c || entries[i].lossWeights[j] != 0.f || underLoss.count(top_[i][j]);
    contributes[i] = c;
    if (!c) {
      needsBackward_[i] = false;
      propagateDown_[i].assign(propagateDown_[i].size(), false);
    } else {
      for (Blob *b : bottom_[i])
        underLoss.insert(b);
    }
  }
  if (p.force_backward()) {
    for (size_t i = 0; i < n; ++i) {
      if (!contributes[i])
        continue;
      Layer &L = *entries[i].layer;
      needsBackward_[i] = true;
      for (size_t j = 0; j < bottom_[i].size(); ++j) {
        // Caffe's loss layers take no gradient for their label bottom (EuclideanLoss has none).
        const bool label = L.isLoss() && j >= 1 && std::string(L.type()) != "EuclideanLoss";
        if (!label && !(entries[i].hasPropagateDown && !entries[i].propagateDownGiven[j]))
          propagateDown_[i][j] = true;
      }
    }
  }

  // 6. Diffs read by a backward that no later layer writes (e.g. a Split output read by Accuracy,
  // an unused second top) are zeroed before each backward.
  for (size_t i = 0; i < n; ++i) {
    if (!needsBackward_[i])
      continue;
    for (size_t j = 0; j < top_[i].size(); ++j) {
      Blob *t = top_[i][j];
      bool written = entries[i].lossWeights[j] != 0.f;
      for (size_t k = i + 1; k < n && !written; ++k)
        for (size_t m = 0; m < bottom_[k].size(); ++m)
          written = written || (bottom_[k][m] == t && propagateDown_[k][m] && needsBackward_[k]);
      // In place, this layer's own bottom is the same blob: its backward rewrites it, so the diff
      // it reads must still come from a later layer or a loss.
      if (!written && std::find(zeroDiffs_.begin(), zeroDiffs_.end(), t) == zeroDiffs_.end())
        zeroDiffs_.push_back(t);
    }
  }

  // 7. Losses, outputs, learnable parameters; keep the layers.
  for (size_t i = 0; i < n; ++i) {
    Entry &e = entries[i];
    for (size_t j = 0; j < top_[i].size(); ++j) {
      Blob *t = top_[i][j];
      if (e.lossWeights[j] != 0.f)
        losses_.push_back({t, e.lossWeights[j]});
    }
    Layer &L = *e.layer;
    for (size_t k = 0; k < L.blobs().size(); ++k) {
      LearnableParam lp;
      lp.blob = L.blobs()[k].get();
      if (int(k) < L.param().param_size()) {
        lp.lrMult = L.param().param(int(k)).lr_mult();
        lp.decayMult = L.param().param(int(k)).decay_mult();
      }
      lp.owner = L.name() + "/" + std::to_string(k);
      params_.push_back(lp);
    }
  }
  // Outputs: the last version of each blob name that no layer reads afterwards.
  {
    std::map<Blob *, float> weightOf;
    for (auto &l : losses_)
      weightOf[l.first] += l.second;
    for (const auto &name : blobNames_) {
      Blob *b = blobs_[name].get();
      bool readLater = false;
      // A blob is read later when some layer that comes after its (last) producer has it as bottom.
      size_t lastProducer = 0;
      for (size_t i = 0; i < n; ++i)
        for (Blob *t : top_[i])
          if (t == b)
            lastProducer = i;
      for (size_t i = lastProducer + 1; i < n && !readLater; ++i)
        for (Blob *x : bottom_[i])
          readLater = readLater || x == b;
      if (!readLater)
        outputs_.push_back({name, weightOf.count(b) ? weightOf[b] : 0.f});
    }
  }
  for (auto &e : entries) {
    lossWeights_.push_back(e.lossWeights);
    layerBottomNames_.push_back(e.bottoms);
    layerTopNames_.push_back(e.tops);
    layers_.push_back(std::move(e.layer));
  }
}

Blob *Net::blob(const std::string &name) const {
  auto it = blobs_.find(name);
  return it == blobs_.end() ? nullptr : it->second.get();
}

float Net::forward() {
  for (size_t i = 0; i < layers_.size(); ++i)
    forwardLayer(i);
  double loss = 0;
  for (const auto &[b, w] : losses_) {
    auto v = b->dataToHost();
    double s = 0;
    for (float x : v)
      s += x;
    loss += double(w) * s;
  }
  return float(loss);
}

void Net::seedBackward() {
  for (Blob *b : zeroDiffs_)
    b->setDiff(0.f);
  for (const auto &[b, w] : losses_)
    b->setDiff(w);
}

void Net::backward() {
  seedBackward();
  for (size_t i = layers_.size(); i-- > 0;)
    backwardLayer(i);
}

void Net::forwardLayer(size_t i) {
  runLayer(i, [&] { layers_[i]->forward(bottom_[i], top_[i]); });
}

void Net::backwardLayer(size_t i) {
  if (needsBackward_[i])
    runLayer(i, [&] { layers_[i]->backward(top_[i], propagateDown_[i], bottom_[i]); });
}

void Net::clearParamDiffs() {
  for (auto &p : params_)
    p.blob->setDiff(0.f);
}

void Net::reshape() {
  for (size_t i = 0; i < layers_.size(); ++i)
    runLayer(i, [&] { layers_[i]->reshape(bottom_[i], top_[i]); });
}

void Net::runLayer(size_t i, const std::function<void()> &f) {
  try {
    f();
  } catch (const NetError &) {
    throw;
  } catch (const std::exception &ex) {
    throw NetError(layerLabel(layers_[i]->name(), layers_[i]->type()) + ": " + ex.what());
  }
}

void Net::copyParamsFrom(const Net &other) {
  std::map<std::string, const Layer *> byName;
  for (const auto &l : other.layers_)
    if (!l->blobs().empty())
      byName[l->name()] = l.get();
  for (auto &l : layers_) {
    auto it = byName.find(l->name());
    if (it == byName.end() || l->blobs().empty())
      continue;
    auto &src = const_cast<Layer *>(it->second)->blobs();
    auto &dst = l->blobs();
    if (src.size() != dst.size())
      throw NetError(layerLabel(l->name(), l->type()) + ": " + std::to_string(dst.size()) + " learnable blobs here, " +
                     std::to_string(src.size()) + " in the source net");
    for (size_t k = 0; k < dst.size(); ++k) {
      if (src[k]->shape() != dst[k]->shape())
        throw NetError(layerLabel(l->name(), l->type()) + ": blob " + std::to_string(k) + " is " +
                       shapeString(dst[k]->shape()) + " here but " + shapeString(src[k]->shape()) +
                       " in the source net");
      if (dst[k]->count() == 0)
        continue;
      if (src[k]->context().backend == dst[k]->context().backend &&
          src[k]->context().device == dst[k]->context().device)
        lamina::check(laminaMemcpy(ctx_.h(), dst[k]->mutableData(), src[k]->data(),
                                   size_t(dst[k]->count()) * sizeof(float), LAMINA_MEMCPY_DEVICE_TO_DEVICE));
      else
        dst[k]->dataFromHost(src[k]->dataToHost());
    }
  }
}

std::string Net::describe() const {
  auto blobText = [&](const std::string &name) {
    Blob *b = blob(name);
    return name + " " + (b ? shapeString(b->shape()) : std::string("?"));
  };
  struct Row {
    std::string name, type, io, params;
  };
  std::vector<Row> rows;
  int64_t total = 0;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer &L = *layers_[i];
    Row r{L.name(), L.type(), "", ""};
    for (size_t j = 0; j < layerBottomNames_[i].size(); ++j)
      r.io += (j ? ", " : "") + blobText(layerBottomNames_[i][j]);
    r.io += " -> ";
    for (size_t j = 0; j < layerTopNames_[i].size(); ++j) {
      r.io += (j ? ", " : "") + blobText(layerTopNames_[i][j]);
      if (lossWeights_[i][j] != 0.f) {
        char w[32];
        std::snprintf(w, sizeof w, " (loss x%g)", double(lossWeights_[i][j]));
        r.io += w;
      }
    }
    int64_t count = 0;
    std::string shapes;
    for (const auto &b : const_cast<Layer &>(L).blobs()) {
      count += b->count();
      shapes += (shapes.empty() ? "" : " + ") + shapeString(b->shape());
    }
    if (count > 0 || !shapes.empty())
      r.params = shapes + " = " + std::to_string(count);
    if (!needsBackward_[i])
      r.type += "*";
    total += count;
    rows.push_back(r);
  }
  size_t wn = 5, wt = 4, wio = 16;
  for (const auto &r : rows) {
    wn = std::max(wn, r.name.size());
    wt = std::max(wt, r.type.size());
    wio = std::max(wio, r.io.size());
  }
  std::ostringstream o;
  o << "net '" << name_ << "', phase " << pb::Phase_Name(phase_) << ": " << layers_.size() << " layers\n";
  auto line = [&](const std::string &a, const std::string &b, const std::string &c, const std::string &d) {
    std::string s = a + std::string(wn + 2 - a.size(), ' ') + b + std::string(wt + 2 - b.size(), ' ') + c;
    if (!d.empty())
      s += std::string(wio + 2 - c.size(), ' ') + d;
    o << s << "\n";
  };
  line("layer", "type", "bottoms -> tops", "learnable");
  for (const auto &r : rows)
    line(r.name, r.type, r.io, r.params);
  o << "total learnable parameters: " << total << "\n";
  std::string outs;
  for (const auto &[name, w] : outputs_) {
    char buf[64] = "";
    if (w != 0.f)
      std::snprintf(buf, sizeof buf, " (loss weight %g)", double(w));
    outs += (outs.empty() ? "" : ", ") + name + buf;
  }
  o << "outputs: " << (outs.empty() ? "none" : outs) << "\n";
  o << "(* : no backward)\n";
  return o.str();
}

} // namespace lamina::engine
