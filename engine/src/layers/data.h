// The Data layer: batches of Datums from an LMDB database (data_param), transformed per
// transform_param on the host and uploaded once per batch. Tops: data (N x C x H x W) and optionally
// label (N).
//
// Determinism: every batch is a pure function of the read position. The records are read in key
// order from a start offset (rand_skip, drawn once from ctx.rng at setUp), wrapping around; the
// random mirror/crop choices of the record consumed at position p come from a seed drawn from
// ctx.rng at setUp mixed with p. So the background prefetch thread (data_param.prefetch batches
// ahead) yields the same batches as reading in forward(), and seek(position()) after a rebuild with
// the same seed continues exactly.
#pragma once

#include "engine/src/data/datum.h"
#include "engine/src/data/lmdb.h"
#include "engine/src/layer.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

namespace lamina::engine {

class DataLayer : public Layer {
public:
  DataLayer(const pb::LayerParameter &p, Context &ctx);
  ~DataLayer() override;
  const char *type() const override { return "Data"; }
  int minBottoms() const override { return 0; }
  int maxBottoms() const override { return 0; }
  int minTops() const override { return 1; }
  int maxTops() const override { return 2; }

  void setUp(const Blobs &bottom, const Blobs &top) override;
  void reshape(const Blobs &bottom, const Blobs &top) override;
  void forward(const Blobs &bottom, const Blobs &top) override;
  void backward(const Blobs &top, const std::vector<bool> &propagateDown, const Blobs &bottom) override {}

  // Records consumed by forward() since setUp (a snapshot saves it; seek restores it). The next
  // batch is records position() .. position()+batch-1 counted from the start offset, modulo size().
  uint64_t position() const { return position_; }
  void seek(uint64_t position);
  uint64_t size() const { return size_; }                 // records in the database
  const std::string &sourcePath() const { return path_; } // resolved data_param.source

private:
  struct Batch {
    uint64_t position = 0;
    std::vector<float> data, label;
    std::exception_ptr error;
  };
  void fillBatch(LmdbCursor &cursor, uint64_t position, Batch &b) const;
  void startPrefetch();
  void stopPrefetch();
  void prefetchLoop();

  pb::DataParameter dp_;
  std::string path_;
  std::shared_ptr<LmdbEnv> env_;
  std::unique_ptr<LmdbCursor> cursor_; // the reader of forward() when not prefetching
  std::unique_ptr<DataTransformer> transformer_;
  int batch_ = 0;
  uint64_t size_ = 0, skip_ = 0, seed_ = 0, position_ = 0;
  bool hasLabel_ = false;

  // Prefetch: the thread fills `ready_` with consecutive batches from position_ on.
  size_t depth_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Batch> ready_;
  std::vector<Batch> spare_; // recycled buffers
  bool stop_ = false;
  Batch current_;
};

} // namespace lamina::engine
