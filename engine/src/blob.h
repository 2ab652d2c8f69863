// A Blob: an N-D float array with its gradient (diff), both in the backend's memory (host memory
// on the CPU, device memory on CUDA), packed row-major (NCHW order for 4-D). Layers hand the
// pointers and a packed tensor descriptor to the Lamina API; host access is by copy.
#pragma once

#include "engine/src/context.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lamina::engine {

using Shape = std::vector<int64_t>;
std::string shapeString(const Shape &s);                       // "64x1x28x28"
int64_t shapeCount(const Shape &s, int from = 0, int to = -1); // product of dims [from, to)

class Blob {
public:
  explicit Blob(Context &ctx, const Shape &shape = {});
  Blob(const Blob &) = delete;
  Blob &operator=(const Blob &) = delete;

  const Shape &shape() const { return shape_; }
  int64_t dim(int axis) const; // negative axes count from the end
  int rank() const { return int(shape_.size()); }
  int64_t count() const { return count_; }
  // Reallocates only when the new count exceeds the capacity; contents are then undefined.
  void reshape(const Shape &shape);
  void reshapeLike(const Blob &other) { reshape(other.shape()); }

  const float *data() const { return static_cast<const float *>(data_->ptr); }
  float *mutableData() { return static_cast<float *>(data_->ptr); }
  const float *diff() const { return static_cast<const float *>(diff_->ptr); }
  float *mutableDiff() { return static_cast<float *>(diff_->ptr); }

  // Share the other blob's data (or diff) memory (Flatten, Split, in-place layers). Counts must match.
  void shareData(const Blob &other);
  void shareDiff(const Blob &other);

  // Packed float descriptor of this shape: rank >= 3 as is; rank 1 and 2 as N x C x 1 x 1 (the
  // Lamina ops need at least 3-D/4-D tensors), rank 0 as 1 x 1 x 1 x 1.
  laminaTensorDescriptor_t desc() const { return desc_.get(); }

  // Host copies (count() floats).
  std::vector<float> dataToHost() const;
  std::vector<float> diffToHost() const;
  void dataFromHost(const std::vector<float> &v);
  void diffFromHost(const std::vector<float> &v);
  void setData(float value); // every element (laminaSetTensor)
  void setDiff(float value);
  Context &context() const { return ctx_; }

private:
  struct Memory {
    laminaHandle_t h = nullptr;
    void *ptr = nullptr;
    int64_t capacity = 0; // floats
    ~Memory();
  };
  void allocate();
  Context &ctx_;
  Shape shape_;
  int64_t count_ = 0;
  std::shared_ptr<Memory> data_, diff_;
  lamina::TensorDescriptor desc_;
};

using BlobPtr = std::shared_ptr<Blob>;

} // namespace lamina::engine
