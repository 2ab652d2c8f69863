// Loss layers: SoftmaxWithLoss, EuclideanLoss, SigmoidCrossEntropyLoss. Each writes one number into
// its 1-element top; the Net puts the loss weight into that top's diff, which backward reads (one
// float to the host). Labels are downloaded to the host only to build one-hot / mask tensors.
#include "engine/src/layer.h"

#include <cmath>

namespace lamina::engine {
namespace {

using Normalization = pb::LossParameter::NormalizationMode;

// Caffe's choice: `normalization` when given, else the legacy `normalize` (true: VALID, false:
// BATCH_SIZE), else the layer's default.
Normalization normalizationOf(const pb::LossParameter &lp, Normalization fallback) {
  if (lp.has_normalization())
    return lp.normalization();
  if (lp.has_normalize())
    return lp.normalize() ? pb::LossParameter::VALID : pb::LossParameter::BATCH_SIZE;
  return fallback;
}

// The divisor of the summed loss (Caffe's: never below 1, so an all-ignored batch gives loss 0).
float normalizer(Normalization mode, int64_t outer, int64_t inner, int64_t valid) {
  double n = 1;
  switch (mode) {
  case pb::LossParameter::FULL: n = double(outer * inner); break;
  case pb::LossParameter::VALID: n = double(valid); break;
  case pb::LossParameter::BATCH_SIZE: n = double(outer); break;
  case pb::LossParameter::NONE: n = 1; break;
  }
  return float(n < 1 ? 1 : n);
}

// A 4-D packed float descriptor; zero dims become 1 (nothing runs on empty blobs).
void setDims(lamina::TensorDescriptor &d, int64_t a, int64_t b, int64_t c, int64_t e) {
  auto one = [](int64_t v) { return v > 0 ? v : int64_t(1); };
  d.setNdEx(LAMINA_TENSOR_NCHW, LAMINA_DATA_FLOAT, {one(a), one(b), one(c), one(e)});
}

// Sums a tensor into a 1-element output through laminaReduceTensor (with its workspace).
class Summer {
public:
  explicit Summer(Context &ctx) : ctx_(ctx) {}
  void prepare(laminaTensorDescriptor_t a, laminaTensorDescriptor_t c) {
    const size_t need = lamina::reductionWorkspaceSize(ctx_.h(), add_, a, c);
    if (need > workspace_.bytes())
      workspace_ = lamina::DeviceBuffer(ctx_.h(), need);
  }
  // c = alpha * sum(a)
  void sum(float alpha, laminaTensorDescriptor_t a, const float *aData, laminaTensorDescriptor_t c, float *cData) {
    const float zero = 0.f;
    lamina::reduceTensor(ctx_.h(), add_, nullptr, 0, workspace_.data(), workspace_.bytes(), &alpha, a, aData, &zero, c,
                         cData);
  }

private:
  Context &ctx_;
  lamina::ReduceTensorDescriptor add_{LAMINA_REDUCE_TENSOR_ADD};
  lamina::DeviceBuffer workspace_;
};

class LossLayer : public Layer {
public:
  using Layer::Layer;
  bool isLoss() const override { return true; }
  int minBottoms() const override { return 2; }
  int maxBottoms() const override { return 2; }

protected:
  // The loss weight the Net put into the top's diff.
  static float lossWeight(const Blobs &top) { return top[0]->diffToHost()[0]; }
  // Labels get no gradient; Caffe refuses to propagate to them, we write zeros so a Net that asks
  // anyway gets a harmless answer.
  static void zeroLabelDiff(const std::vector<bool> &propagateDown, const Blobs &bottom) {
    if (propagateDown.size() > 1 && propagateDown[1] && bottom[1]->count())
      bottom[1]->setDiff(0.f);
  }
  // Checks one label value read from a float blob and returns it as an integer.
  int labelValue(float v, int64_t classes) const {
    if (!std::isfinite(v) || v < 0 || v >= float(classes))
      fail("label " + std::to_string(v) + " is out of range [0, " + std::to_string(classes) + ")");
    return static_cast<int>(v);
  }
  Summer summer_{ctx_};
};

// loss = -sum over labelled positions of log softmax(x)[label] / normalizer.
class SoftmaxWithLossLayer : public LossLayer {
public:
  using LossLayer::LossLayer;
  const char *type() const override { return "SoftmaxWithLoss"; }
  int maxTops() const override { return 2; } // the second top: the probabilities

  void setUp(const Blobs &, const Blobs &) override {
    const auto &lp = param_.loss_param();
    normalization_ = normalizationOf(lp, pb::LossParameter::VALID);
    hasIgnore_ = lp.has_ignore_label();
    ignoreLabel_ = lp.ignore_label();
  }

  void reshape(const Blobs &bottom, const Blobs &top) override {
    const Blob &x = *bottom[0];
    int axis = param_.softmax_param().axis();
    if (axis < 0)
      axis += x.rank();
    if (axis < 0 || axis >= x.rank())
      fail("softmax_param.axis " + std::to_string(param_.softmax_param().axis()) + " is out of range for scores " +
           shapeString(x.shape()));
    outer_ = shapeCount(x.shape(), 0, axis);
    classes_ = x.shape()[size_t(axis)];
    inner_ = shapeCount(x.shape(), axis + 1);
    if (bottom[1]->count() != outer_ * inner_)
      fail("the labels " + shapeString(bottom[1]->shape()) + " hold " + std::to_string(bottom[1]->count()) +
           " values but the scores " + shapeString(x.shape()) + " need " + std::to_string(outer_ * inner_) +
           " (one per position outside the softmax axis)");
    top[0]->reshape({});
    if (top.size() > 1)
      top[1]->reshapeLike(x);
    setDims(view_, outer_, classes_, inner_, 1);
    setDims(maskView_, outer_, 1, inner_, 1);
    logProb_.reshapeLike(x);
    oneHot_.reshapeLike(x);
    mask_.reshape({outer_ * inner_});
    summer_.prepare(view_, top[0]->desc());
  }

  void forward(const Blobs &bottom, const Blobs &top) override {
    const Blob &x = *bottom[0];
    if (x.count() == 0) {
      top[0]->setData(0.f);
      return;
    }
    // The one-hot tensor and the mask of ignored positions, from the labels on the host.
    const std::vector<float> labels = bottom[1]->dataToHost();
    std::vector<float> oneHot(size_t(x.count()), 0.f), mask(labels.size(), 1.f);
    int64_t valid = 0;
    anyIgnored_ = false;
    for (int64_t o = 0; o < outer_; ++o)
      for (int64_t i = 0; i < inner_; ++i) {
        const size_t at = size_t(o * inner_ + i);
        const float v = labels[at];
        if (hasIgnore_ && std::isfinite(v) && static_cast<int>(v) == ignoreLabel_) {
          mask[at] = 0.f;
          anyIgnored_ = true;
          continue;
        }
        const int label = labelValue(v, classes_);
        oneHot[size_t((o * classes_ + label) * inner_ + i)] = 1.f;
        ++valid;
      }
    oneHot_.dataFromHost(oneHot);
    if (anyIgnored_)
      mask_.dataFromHost(mask);
    normalizer_ = normalizer(normalization_, outer_, inner_, valid);

    const float one = 1.f, zero = 0.f;
    lamina::softmaxForward(ctx().h(), LAMINA_SOFTMAX_LOG, LAMINA_SOFTMAX_MODE_CHANNEL, &one, view_, x.data(), &zero,
                           view_, logProb_.mutableData());
    lamina::OpTensorDescriptor mul(LAMINA_OP_TENSOR_MUL);
    lamina::opTensor(ctx().h(), mul, &one, view_, logProb_.data(), &one, view_, oneHot_.data(), &zero, view_,
                     logProb_.mutableData());
    summer_.sum(-1.f / normalizer_, view_, logProb_.data(), top[0]->desc(), top[0]->mutableData());
    if (top.size() > 1)
      lamina::softmaxForward(ctx().h(), LAMINA_SOFTMAX_ACCURATE, LAMINA_SOFTMAX_MODE_CHANNEL, &one, view_, x.data(),
                             &zero, view_, top[1]->mutableData());
  }

  void backward(const Blobs &top, const std::vector<bool> &propagateDown, const Blobs &bottom) override {
    zeroLabelDiff(propagateDown, bottom);
    Blob &x = *bottom[0];
    if (!propagateDown[0] || x.count() == 0)
      return;
    // dx = (softmax(x) - onehot) * weight / normalizer, zero at ignored positions.
    const float s = lossWeight(top) / normalizer_, minusS = -s, one = 1.f, zero = 0.f;
    float *dx = x.mutableDiff();
    lamina::softmaxForward(ctx().h(), LAMINA_SOFTMAX_ACCURATE, LAMINA_SOFTMAX_MODE_CHANNEL, &s, view_, x.data(), &zero,
                           view_, dx);
    lamina::OpTensorDescriptor add(LAMINA_OP_TENSOR_ADD);
    lamina::opTensor(ctx().h(), add, &one, view_, dx, &minusS, view_, oneHot_.data(), &zero, view_, dx);
    if (anyIgnored_) {
      lamina::OpTensorDescriptor mul(LAMINA_OP_TENSOR_MUL);
      lamina::opTensor(ctx().h(), mul, &one, view_, dx, &one, maskView_, mask_.data(), &zero, view_, dx);
    }
  }

private:
  Normalization normalization_ = pb::LossParameter::VALID;
  bool hasIgnore_ = false, anyIgnored_ = false;
  int ignoreLabel_ = 0;
  int64_t outer_ = 0, classes_ = 0, inner_ = 0;
  float normalizer_ = 1;
  lamina::TensorDescriptor view_, maskView_; // outer x C x inner x 1, outer x 1 x inner x 1
  Blob logProb_{ctx_}, oneHot_{ctx_}, mask_{ctx_};
};

// loss = sum((a - b)^2) / (2 N), N = the first dim.
class EuclideanLossLayer : public LossLayer {
public:
  using LossLayer::LossLayer;
  const char *type() const override { return "EuclideanLoss"; }

  void setUp(const Blobs &, const Blobs &) override {}

  void reshape(const Blobs &bottom, const Blobs &top) override {
    const Blob &a = *bottom[0], &b = *bottom[1];
    if (a.rank() < 1 || b.rank() < 1 || a.shape()[0] != b.shape()[0] || a.count() != b.count())
      fail("the bottoms " + shapeString(a.shape()) + " and " + shapeString(b.shape()) +
           " must have the same first dim and the same count");
    num_ = a.shape()[0];
    setDims(flat_, num_, num_ ? a.count() / num_ : 1, 1, 1);
    diff_.reshape({a.count()});
    square_.reshape({a.count()});
    top[0]->reshape({});
    summer_.prepare(flat_, top[0]->desc());
  }

  void forward(const Blobs &bottom, const Blobs &top) override {
    if (bottom[0]->count() == 0) {
      top[0]->setData(0.f);
      return;
    }
    const float one = 1.f, minusOne = -1.f, zero = 0.f;
    lamina::OpTensorDescriptor add(LAMINA_OP_TENSOR_ADD), mul(LAMINA_OP_TENSOR_MUL);
    lamina::opTensor(ctx().h(), add, &one, flat_, bottom[0]->data(), &minusOne, flat_, bottom[1]->data(), &zero, flat_,
                     diff_.mutableData());
    lamina::opTensor(ctx().h(), mul, &one, flat_, diff_.data(), &one, flat_, diff_.data(), &zero, flat_,
                     square_.mutableData());
    summer_.sum(0.5f / float(num_), flat_, square_.data(), top[0]->desc(), top[0]->mutableData());
  }

  void backward(const Blobs &top, const std::vector<bool> &propagateDown, const Blobs &bottom) override {
    if (bottom[0]->count() == 0)
      return;
    const float s = lossWeight(top) / float(num_), zero = 0.f;
    for (size_t i = 0; i < 2; ++i) {
      if (!propagateDown[i])
        continue;
      const float alpha = i == 0 ? s : -s; // d/da = (a - b) / N, d/db = -(a - b) / N
      lamina::check(laminaAddTensor(ctx().h(), &alpha, flat_, diff_.data(), &zero, flat_, bottom[i]->mutableDiff()));
    }
  }

private:
  int64_t num_ = 1;
  lamina::TensorDescriptor flat_; // N x (count / N) x 1 x 1
  Blob diff_{ctx_}, square_{ctx_};
};

// loss = sum(max(x, 0) - x t + log(1 + exp(-|x|))) / normalizer (default BATCH_SIZE): the stable
// form of the cross entropy of sigmoid(x) against targets t.
class SigmoidCrossEntropyLossLayer : public LossLayer {
public:
  using LossLayer::LossLayer;
  const char *type() const override { return "SigmoidCrossEntropyLoss"; }

  void setUp(const Blobs &, const Blobs &) override {
    const auto &lp = param_.loss_param();
    normalization_ = normalizationOf(lp, pb::LossParameter::BATCH_SIZE);
    hasIgnore_ = lp.has_ignore_label();
    ignoreLabel_ = lp.ignore_label();
    zero_.setData(0.f);
    one_.setData(1.f);
  }

  void reshape(const Blobs &bottom, const Blobs &top) override {
    const Blob &x = *bottom[0], &t = *bottom[1];
    if (x.rank() < 1 || x.count() != t.count())
      fail("the scores " + shapeString(x.shape()) + " and targets " + shapeString(t.shape()) +
           " must have the same count");
    outer_ = x.shape()[0];
    inner_ = outer_ ? x.count() / outer_ : 0;
    setDims(flat_, outer_, inner_, 1, 1);
    terms_.reshape({x.count()});
    mask_.reshape({x.count()});
    top[0]->reshape({});
    summer_.prepare(flat_, top[0]->desc());
  }

  void forward(const Blobs &bottom, const Blobs &top) override {
    const Blob &x = *bottom[0], &t = *bottom[1];
    if (x.count() == 0) {
      top[0]->setData(0.f);
      return;
    }
    int64_t valid = x.count();
    anyIgnored_ = false;
    if (hasIgnore_) {
      std::vector<float> targets = t.dataToHost(), mask(targets.size(), 1.f);
      for (size_t i = 0; i < targets.size(); ++i)
        if (std::isfinite(targets[i]) && static_cast<int>(targets[i]) == ignoreLabel_) {
          mask[i] = 0.f;
          anyIgnored_ = true;
          --valid;
        }
      if (anyIgnored_)
        mask_.dataFromHost(mask);
    }
    normalizer_ = normalizer(normalization_, outer_, inner_, valid);

    const laminaHandle_t h = ctx().h();
    const float one = 1.f, minusOne = -1.f, zero = 0.f;
    float *terms = terms_.mutableData();
    auto unary = [&](laminaOpTensorOp_t op, float alpha) {
      lamina::OpTensorDescriptor d(op);
      lamina::opTensor(h, d, &alpha, flat_, terms, &zero, nullptr, nullptr, &zero, flat_, terms);
    };
    lamina::OpTensorDescriptor abs(LAMINA_OP_TENSOR_ABS), add(LAMINA_OP_TENSOR_ADD), max(LAMINA_OP_TENSOR_MAX),
        mul(LAMINA_OP_TENSOR_MUL);
    // terms = log(1 + exp(-|x|)) + max(x, 0) - x t
    lamina::opTensor(h, abs, &one, flat_, x.data(), &zero, nullptr, nullptr, &zero, flat_, terms);
    unary(LAMINA_OP_TENSOR_EXP, -1.f);
    lamina::opTensor(h, add, &one, flat_, terms, &one, one_.desc(), one_.data(), &zero, flat_, terms);
    unary(LAMINA_OP_TENSOR_LOG, 1.f);
    lamina::opTensor(h, max, &one, flat_, x.data(), &one, zero_.desc(), zero_.data(), &one, flat_, terms);
    lamina::opTensor(h, mul, &minusOne, flat_, x.data(), &one, flat_, t.data(), &one, flat_, terms);
    if (anyIgnored_)
      lamina::opTensor(h, mul, &one, flat_, terms, &one, flat_, mask_.data(), &zero, flat_, terms);
    summer_.sum(1.f / normalizer_, flat_, terms, top[0]->desc(), top[0]->mutableData());
  }

  void backward(const Blobs &top, const std::vector<bool> &propagateDown, const Blobs &bottom) override {
    zeroLabelDiff(propagateDown, bottom);
    Blob &x = *bottom[0];
    if (!propagateDown[0] || x.count() == 0)
      return;
    // dx = (sigmoid(x) - t) * weight / normalizer, zero where the target is ignored.
    const float s = lossWeight(top) / normalizer_, minusS = -s, one = 1.f, zero = 0.f;
    float *dx = x.mutableDiff();
    lamina::ActivationDescriptor sigmoid(LAMINA_ACTIVATION_SIGMOID);
    lamina::activationForward(ctx().h(), sigmoid, &s, flat_, x.data(), &zero, flat_, dx);
    lamina::OpTensorDescriptor add(LAMINA_OP_TENSOR_ADD), mul(LAMINA_OP_TENSOR_MUL);
    lamina::opTensor(ctx().h(), add, &one, flat_, dx, &minusS, flat_, bottom[1]->data(), &zero, flat_, dx);
    if (anyIgnored_)
      lamina::opTensor(ctx().h(), mul, &one, flat_, dx, &one, flat_, mask_.data(), &zero, flat_, dx);
  }

private:
  Normalization normalization_ = pb::LossParameter::BATCH_SIZE;
  bool hasIgnore_ = false, anyIgnored_ = false;
  int ignoreLabel_ = 0;
  int64_t outer_ = 0, inner_ = 0;
  float normalizer_ = 1;
  lamina::TensorDescriptor flat_; // N x (count / N) x 1 x 1
  Blob terms_{ctx_}, mask_{ctx_};
  Blob zero_{ctx_, {}}, one_{ctx_, {}}; // 1x1x1x1 constants broadcast by laminaOpTensor
};

} // namespace

LAMINA_REGISTER_LAYER(SoftmaxWithLoss, SoftmaxWithLossLayer);
LAMINA_REGISTER_LAYER(EuclideanLoss, EuclideanLossLayer);
LAMINA_REGISTER_LAYER(SigmoidCrossEntropyLoss, SigmoidCrossEntropyLossLayer);

} // namespace lamina::engine
