// The Data layer (LMDB): host decoding and transformation into a batch buffer, one upload per batch,
// optionally a batch-ahead prefetch thread. See data.h for the determinism argument.
#include "engine/src/layers/data.h"

namespace lamina::engine {

namespace {
// SplitMix64: well-mixed 64 bits from (seed, record position), so each record's random choices do not
// depend on which thread reads it or on what was read before.
uint64_t mix(uint64_t seed, uint64_t position) {
  uint64_t z = seed + (position + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// DataParameter's deprecated scale / mean_file / crop_size / mirror (Caffe's old nets) fill in what
// transform_param leaves unset.
pb::TransformationParameter effectiveTransform(const pb::LayerParameter &p) {
  pb::TransformationParameter t = p.transform_param();
  const pb::DataParameter &d = p.data_param();
  if (d.has_scale() && !t.has_scale())
    t.set_scale(d.scale());
  if (d.has_mean_file() && !t.has_mean_file())
    t.set_mean_file(d.mean_file());
  if (d.has_crop_size() && !t.has_crop_size())
    t.set_crop_size(d.crop_size());
  if (d.has_mirror() && !t.has_mirror())
    t.set_mirror(d.mirror());
  return t;
}
} // namespace

DataLayer::DataLayer(const pb::LayerParameter &p, Context &ctx) : Layer(p, ctx) {}

DataLayer::~DataLayer() { stopPrefetch(); }

void DataLayer::setUp(const Blobs &, const Blobs &top) {
  dp_ = param_.data_param();
  if (!param_.has_data_param() || dp_.source().empty())
    fail("data_param.source is missing");
  if (dp_.batch_size() == 0)
    fail("data_param.batch_size must be positive");
  // Caffe's default backend is LEVELDB; a net that does not say which is read as LMDB here.
  if (dp_.has_backend() && dp_.backend() == pb::DataParameter::LEVELDB)
    fail("LEVELDB is not supported, convert to LMDB (source '" + dp_.source() + "')");
  batch_ = int(dp_.batch_size());
  path_ = ctx().paths.data(dp_.source());
  try {
    env_ = LmdbEnv::openReadOnly(path_);
    cursor_ = std::make_unique<LmdbCursor>(env_);
  } catch (const LmdbError &e) {
    fail("cannot open data source '" + dp_.source() + "' (resolved to '" + path_ + "'): " + e.what());
  }
  size_ = cursor_->size();
  if (size_ == 0)
    fail("data source '" + path_ + "' holds no records");

  const pb::TransformationParameter tp = effectiveTransform(param_);
  try {
    transformer_ = std::make_unique<DataTransformer>(
        tp, phase(), tp.mean_file().empty() ? std::string() : ctx().paths.data(tp.mean_file()));
  } catch (const DataError &e) {
    fail(e.what());
  }

  // The only draws from the shared rng: the start offset and this layer's seed (see data.h).
  skip_ = dp_.rand_skip() > 0 ? ctx().rng() % dp_.rand_skip() : 0;
  seed_ = ctx().rng();
  position_ = 0;

  pb::Datum first;
  try {
    cursor_->seekOrdinal(skip_);
    size_t n = 0;
    const void *v = cursor_->value(&n);
    decodeDatum(v, n, "record '" + cursor_->key() + "' of '" + path_ + "'", first);
    transformer_->setInputShape(first.channels(), first.height(), first.width());
  } catch (const std::runtime_error &e) {
    fail(e.what());
  }
  hasLabel_ = top.size() > 1;
  depth_ = dp_.prefetch();
  reshape({}, top);
  startPrefetch();
}

void DataLayer::reshape(const Blobs &, const Blobs &top) {
  top[0]->reshape({batch_, transformer_->channels(), transformer_->outHeight(), transformer_->outWidth()});
  if (hasLabel_)
    top[1]->reshape({batch_});
}

void DataLayer::fillBatch(LmdbCursor &cursor, uint64_t position, Batch &b) const {
  const int64_t per = transformer_->outCount();
  b.position = position;
  b.error = nullptr;
  b.data.resize(size_t(per * batch_));
  b.label.resize(size_t(batch_));
  cursor.seekOrdinal((skip_ + position) % size_); // no walk when reading on from the last batch
  pb::Datum datum;
  for (int i = 0; i < batch_; ++i) {
    size_t n = 0;
    const void *v = cursor.value(&n);
    const std::string where = "record '" + cursor.key() + "' of '" + path_ + "'";
    decodeDatum(v, n, where, datum);
    transformer_->transform(datum, transformer_->draw(mix(seed_, position + uint64_t(i))), b.data.data() + per * i,
                            where);
    b.label[size_t(i)] = float(datum.label());
    cursor.next();
  }
}

void DataLayer::startPrefetch() {
  if (depth_ == 0)
    return;
  stop_ = false;
  thread_ = std::thread([this] { prefetchLoop(); });
}

void DataLayer::stopPrefetch() {
  if (!thread_.joinable())
    return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  for (Batch &b : ready_)
    spare_.push_back(std::move(b));
  ready_.clear();
}

void DataLayer::prefetchLoop() {
  uint64_t next;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    next = position_;
  }
  for (;;) {
    Batch b;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return stop_ || ready_.size() < depth_; });
      if (stop_)
        return;
      if (!spare_.empty()) {
        b = std::move(spare_.back());
        spare_.pop_back();
      }
    }
    try {
      fillBatch(*cursor_, next, b);
    } catch (...) {
      b.error = std::current_exception();
    }
    const bool failed = b.error != nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.push_back(std::move(b));
    }
    cv_.notify_all();
    if (failed)
      return; // forward() rethrows it; nothing after a bad record is read
    next += uint64_t(batch_);
  }
}

void DataLayer::forward(const Blobs &, const Blobs &top) {
  if (!thread_.joinable()) {
    try {
      fillBatch(*cursor_, position_, current_);
    } catch (const std::runtime_error &e) {
      fail(e.what());
    }
  } else {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return !ready_.empty(); });
      // A failed batch stays queued (the thread has stopped), so a retried forward fails the same way
      // instead of waiting for a batch that never comes.
      if (std::exception_ptr error = ready_.front().error) {
        lock.unlock();
        try {
          std::rethrow_exception(error);
        } catch (const std::runtime_error &e) {
          fail(e.what());
        }
      }
      spare_.push_back(std::move(current_)); // the last batch's buffers go back to the thread
      current_ = std::move(ready_.front());
      ready_.pop_front();
    }
    cv_.notify_all();
    if (current_.position != position_)
      fail("internal: prefetched batch at " + std::to_string(current_.position) + ", expected " +
           std::to_string(position_));
  }
  top[0]->dataFromHost(current_.data);
  if (hasLabel_)
    top[1]->dataFromHost(current_.label);
  position_ += uint64_t(batch_);
}

void DataLayer::seek(uint64_t position) {
  stopPrefetch();
  position_ = position;
  if (transformer_)
    startPrefetch();
}

LAMINA_REGISTER_LAYER(Data, DataLayer);

} // namespace lamina::engine
