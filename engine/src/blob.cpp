// Blob storage through the Lamina handle's memory functions.
#include "engine/src/blob.h"

#include <sstream>
#include <stdexcept>

namespace lamina::engine {

std::string shapeString(const Shape &s) {
  std::ostringstream o;
  for (size_t i = 0; i < s.size(); ++i)
    o << (i ? "x" : "") << s[i];
  return s.empty() ? "scalar" : o.str();
}

int64_t shapeCount(const Shape &s, int from, int to) {
  if (to < 0)
    to = int(s.size());
  int64_t n = 1;
  for (int i = from; i < to; ++i)
    n *= s[size_t(i)];
  return n;
}

Blob::Memory::~Memory() {
  if (ptr)
    laminaFree(h, ptr);
}

Blob::Blob(Context &ctx, const Shape &shape) : ctx_(ctx) {
  data_ = std::make_shared<Memory>();
  diff_ = std::make_shared<Memory>();
  data_->h = diff_->h = ctx.h();
  reshape(shape);
}

int64_t Blob::dim(int axis) const {
  int r = rank();
  if (axis < 0)
    axis += r;
  if (axis < 0 || axis >= r)
    throw std::out_of_range("blob axis " + std::to_string(axis) + " out of range for shape " + shapeString(shape_));
  return shape_[size_t(axis)];
}

void Blob::allocate() {
  for (auto *m : {data_.get(), diff_.get()}) {
    if (m->capacity >= count_)
      continue;
    if (m->ptr)
      laminaFree(m->h, m->ptr);
    m->ptr = nullptr;
    m->capacity = 0;
    lamina::check(laminaMalloc(m->h, &m->ptr, size_t(count_) * sizeof(float)));
    m->capacity = count_;
  }
}

void Blob::reshape(const Shape &shape) {
  for (int64_t d : shape)
    if (d < 0)
      throw std::invalid_argument("negative blob dimension in " + shapeString(shape));
  shape_ = shape;
  count_ = shapeCount(shape);
  if (count_ > 0)
    allocate();
  lamina::Dims dims;
  if (shape.size() >= 3) {
    dims.assign(shape.begin(), shape.end());
  } else {
    dims = {shape.size() > 0 ? shape[0] : 1, shape.size() > 1 ? shape[1] : 1, 1, 1};
  }
  for (int64_t &d : dims)
    if (d == 0)
      d = 1; // an empty blob keeps a valid descriptor; nothing runs on it
  desc_.setNdEx(LAMINA_TENSOR_NCHW, LAMINA_DATA_FLOAT, dims);
}

void Blob::shareData(const Blob &other) {
  if (other.count_ != count_)
    throw std::invalid_argument("shareData: counts differ (" + shapeString(shape_) + " vs " +
                                shapeString(other.shape_) + ")");
  data_ = other.data_;
}

void Blob::shareDiff(const Blob &other) {
  if (other.count_ != count_)
    throw std::invalid_argument("shareDiff: counts differ (" + shapeString(shape_) + " vs " +
                                shapeString(other.shape_) + ")");
  diff_ = other.diff_;
}

static std::vector<float> toHost(laminaHandle_t h, const void *p, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  if (n)
    lamina::check(laminaMemcpy(h, v.data(), p, size_t(n) * sizeof(float), LAMINA_MEMCPY_DEVICE_TO_HOST));
  return v;
}

static void fromHost(laminaHandle_t h, void *p, const std::vector<float> &v, int64_t n) {
  if (int64_t(v.size()) != n)
    throw std::invalid_argument("host vector of " + std::to_string(v.size()) + " values for a blob of " +
                                std::to_string(n));
  if (n)
    lamina::check(laminaMemcpy(h, p, v.data(), size_t(n) * sizeof(float), LAMINA_MEMCPY_HOST_TO_DEVICE));
}

std::vector<float> Blob::dataToHost() const { return toHost(ctx_.h(), data_->ptr, count_); }
std::vector<float> Blob::diffToHost() const { return toHost(ctx_.h(), diff_->ptr, count_); }
void Blob::dataFromHost(const std::vector<float> &v) { fromHost(ctx_.h(), data_->ptr, v, count_); }
void Blob::diffFromHost(const std::vector<float> &v) { fromHost(ctx_.h(), diff_->ptr, v, count_); }

void Blob::setData(float value) {
  if (count_)
    lamina::check(laminaSetTensor(ctx_.h(), desc(), data_->ptr, &value));
}

void Blob::setDiff(float value) {
  if (count_)
    lamina::check(laminaSetTensor(ctx_.h(), desc(), diff_->ptr, &value));
}

} // namespace lamina::engine
