// Concat (bottoms joined along an axis, through strided views of the top) and Eltwise (SUM with
// coefficients, PROD, MAX), on laminaTransformTensor / laminaAddTensor / laminaOpTensor.
#include "engine/src/layers/vision_util.h"

namespace lamina::engine {
namespace {

using namespace vision;

class ConcatLayer : public Layer {
public:
  using Layer::Layer;
  const char *type() const override { return "Concat"; }
  int maxBottoms() const override { return -1; }

  void setUp(const Blobs &bottom, const Blobs &top) override {
    const auto &p = param_.concat_param();
    if (p.has_axis() && p.has_concat_dim())
      fail("give either axis or concat_dim, not both");
    int axis = p.has_concat_dim() ? int(p.concat_dim()) : p.axis();
    axis_ = canonicalAxis(axis, bottom[0]->rank());
    if (axis_ < 0)
      fail("axis " + std::to_string(axis) + " is out of range for input " + shapeString(bottom[0]->shape()));
  }

  void reshape(const Blobs &bottom, const Blobs &top) override {
    Shape out = bottom[0]->shape();
    out[size_t(axis_)] = 0;
    for (size_t i = 0; i < bottom.size(); ++i) {
      const Shape &s = bottom[i]->shape();
      bool same = s.size() == out.size();
      for (size_t d = 0; same && d < s.size(); ++d)
        same = int(d) == axis_ || s[d] == out[d];
      if (!same)
        fail("bottom " + std::to_string(i) + " " + shapeString(s) + " differs from bottom 0 " +
             shapeString(bottom[0]->shape()) + " outside the concatenation axis " + std::to_string(axis_));
      out[size_t(axis_)] += s[size_t(axis_)];
    }
    top[0]->reshape(out);
    const int64_t outer = shapeCount(out, 0, axis_), inner = shapeCount(out, axis_ + 1), total = out[size_t(axis_)];
    views_.resize(bottom.size());
    packed_.resize(bottom.size());
    offsets_.assign(bottom.size(), 0);
    int64_t offset = 0;
    for (size_t i = 0; i < bottom.size(); ++i) {
      const int64_t c = bottom[i]->dim(axis_);
      offsets_[i] = offset * inner;
      offset += c;
      if (bottom[i]->count() == 0)
        continue;
      setPacked(packed_[i], {outer, c, inner, 1});
      setStrided(views_[i], {outer, c, inner, 1}, {total * inner, inner, 1, 1});
    }
  }

  void forward(const Blobs &bottom, const Blobs &top) override {
    for (size_t i = 0; i < bottom.size(); ++i)
      if (bottom[i]->count())
        lamina::transformTensor(ctx().h(), &kOne, packed_[i], bottom[i]->data(), &kZero, views_[i],
                                top[0]->mutableData() + offsets_[i]);
  }

  void backward(const Blobs &top, const std::vector<bool> &propagateDown, const Blobs &bottom) override {
    for (size_t i = 0; i < bottom.size(); ++i)
      if (propagateDown[i] && bottom[i]->count())
        lamina::transformTensor(ctx().h(), &kOne, views_[i], top[0]->diff() + offsets_[i], &kZero, packed_[i],
                                bottom[i]->mutableDiff());
  }

private:
  int axis_ = 1;
  std::vector<lamina::TensorDescriptor> views_, packed_;
  std::vector<int64_t> offsets_;
};

// SUM: y = sum coeff_i x_i; PROD: y = prod x_i; MAX: y = max x_i. The PROD gradient is always the
// product of the other inputs (Caffe's stable_prod_grad, whatever the flag says); the MAX gradient
// goes to the first bottom holding the maximum.
class EltwiseLayer : public Layer {
public:
  using Layer::Layer;
  const char *type() const override { return "Eltwise"; }
  int minBottoms() const override { return 2; }
  int maxBottoms() const override { return -1; }

  void setUp(const Blobs &bottom, const Blobs &top) override {
    const auto &p = param_.eltwise_param();
    op_ = p.operation();
    if (p.coeff_size() && op_ != pb::EltwiseParameter::SUM)
      fail("coeff is only for the SUM operation");
    if (p.coeff_size() && p.coeff_size() != int(bottom.size()))
      fail("coeff has " + std::to_string(p.coeff_size()) + " entries for " + std::to_string(bottom.size()) +
           " bottoms");
    coeff_.assign(bottom.size(), 1.f);
    for (int i = 0; i < p.coeff_size(); ++i)
      coeff_[size_t(i)] = p.coeff(i);
    try {
      mul_.set(LAMINA_OP_TENSOR_MUL, LAMINA_DATA_FLOAT, LAMINA_NOT_PROPAGATE_NAN);
      if (op_ == pb::EltwiseParameter::MAX) {
        opDesc_.set(LAMINA_OP_TENSOR_MAX, LAMINA_DATA_FLOAT, LAMINA_NOT_PROPAGATE_NAN);
        ge_.set(LAMINA_OP_TENSOR_CMP_GE, LAMINA_DATA_FLOAT, LAMINA_NOT_PROPAGATE_NAN);
      } else if (op_ == pb::EltwiseParameter::PROD) {
        opDesc_.set(LAMINA_OP_TENSOR_MUL, LAMINA_DATA_FLOAT, LAMINA_NOT_PROPAGATE_NAN);
      }
    } catch (const lamina::Error &e) {
      fail(e.what());
    }
  }

  void reshape(const Blobs &bottom, const Blobs &top) override {
    for (size_t i = 1; i < bottom.size(); ++i)
      if (bottom[i]->shape() != bottom[0]->shape())
        fail("bottom " + std::to_string(i) + " " + shapeString(bottom[i]->shape()) + " differs from bottom 0 " +
             shapeString(bottom[0]->shape()));
    top[0]->reshapeLike(*bottom[0]);
    if (op_ == pb::EltwiseParameter::MAX) {
      mask_.reshapeLike(*bottom[0]);
      free_.reshapeLike(*bottom[0]);
    }
  }

  void forward(const Blobs &bottom, const Blobs &top) override {
    laminaHandle_t h = ctx().h();
    laminaTensorDescriptor_t d = top[0]->desc();
    float *y = top[0]->mutableData();
    if (op_ == pb::EltwiseParameter::SUM) {
      for (size_t i = 0; i < bottom.size(); ++i)
        lamina::addTensor(h, &coeff_[i], d, bottom[i]->data(), i ? &kOne : &kZero, d, y);
      return;
    }
    lamina::opTensor(h, opDesc_, &kOne, d, bottom[0]->data(), &kOne, d, bottom[1]->data(), &kZero, d, y);
    for (size_t i = 2; i < bottom.size(); ++i)
      lamina::opTensor(h, opDesc_, &kOne, d, y, &kOne, d, bottom[i]->data(), &kZero, d, y);
  }

  void backward(const Blobs &top, const std::vector<bool> &propagateDown, const Blobs &bottom) override {
    laminaHandle_t h = ctx().h();
    laminaTensorDescriptor_t d = top[0]->desc();
    const float *dy = top[0]->diff();
    if (op_ == pb::EltwiseParameter::SUM) {
      for (size_t i = 0; i < bottom.size(); ++i)
        if (propagateDown[i])
          lamina::transformTensor(h, &coeff_[i], d, dy, &kZero, d, bottom[i]->mutableDiff());
      return;
    }
    if (op_ == pb::EltwiseParameter::PROD) {
      for (size_t i = 0; i < bottom.size(); ++i) {
        if (!propagateDown[i])
          continue;
        float *dx = bottom[i]->mutableDiff();
        bool first = true;
        for (size_t j = 0; j < bottom.size(); ++j) {
          if (j == i)
            continue;
          lamina::opTensor(h, mul_, &kOne, d, first ? dy : dx, &kOne, d, bottom[j]->data(), &kZero, d, dx);
          first = false;
        }
      }
      return;
    }
    // MAX: bottom i gets dy where x_i >= y and no earlier bottom took that element.
    const float *y = top[0]->data();
    free_.setData(1.f);
    for (size_t i = 0; i < bottom.size(); ++i) {
      lamina::opTensor(h, ge_, &kOne, d, bottom[i]->data(), &kOne, d, y, &kZero, d, mask_.mutableData());
      lamina::opTensor(h, mul_, &kOne, d, mask_.data(), &kOne, d, free_.data(), &kZero, d, mask_.mutableData());
      if (propagateDown[i])
        lamina::opTensor(h, mul_, &kOne, d, dy, &kOne, d, mask_.data(), &kZero, d, bottom[i]->mutableDiff());
      if (i + 1 < bottom.size())
        lamina::addTensor(h, &kMinusOne, d, mask_.data(), &kOne, d, free_.mutableData());
    }
  }

private:
  pb::EltwiseParameter::EltwiseOp op_ = pb::EltwiseParameter::SUM;
  std::vector<float> coeff_;
  lamina::OpTensorDescriptor opDesc_, mul_, ge_;
  Blob mask_{ctx()}, free_{ctx()}; // MAX backward: the winners of bottom i, elements not yet taken
};

} // namespace

LAMINA_REGISTER_LAYER(Concat, ConcatLayer);
LAMINA_REGISTER_LAYER(Eltwise, EltwiseLayer);

} // namespace lamina::engine
