// BatchNorm (Caffe's: normalisation only, no scale/shift) and Scale (learnable per-channel gamma,
// optional beta), on Lamina's batch-norm, op-tensor and reduction calls.
//
// Caffe's BatchNorm keeps three blobs: running sums of the mean and of the unbiased variance, and
// their weight (mean_sum = maf * mean_sum + mean, var_sum likewise, factor = maf * factor + 1); the
// statistics used at test time are sum / factor. Both layers may run in place (ResNet's prototxts
// do): the input is then copied first, since the backward needs it.
#include "engine/src/layers/vision_util.h"

namespace lamina::engine {
namespace {

using namespace vision;

class BatchNormLayer : public Layer {
public:
  BatchNormLayer(const pb::LayerParameter &p, Context &c) : Layer(p, c) {
    // As Caffe: the statistics are not learned, so the solver must leave them alone.
    param_.clear_param();
    for (int i = 0; i < 3; ++i) {
      auto *spec = param_.add_param();
      spec->set_lr_mult(0.f);
      spec->set_decay_mult(0.f);
    }
  }
  const char *type() const override { return "BatchNorm"; }
  bool allowsInPlace() const override { return true; }

  void setUp(const Blobs &bottom, const Blobs &top) override {
    const auto &p = param_.batch_norm_param();
    globalStats_ = p.has_use_global_stats() ? p.use_global_stats() : phase() == pb::TEST;
    maf_ = p.moving_average_fraction();
    eps_ = p.eps();
    if (!(eps_ > 0))
      fail("eps must be > 0");
    channels_ = bottom[0]->rank() > 1 ? bottom[0]->dim(1) : 1;
    blobs_.clear();
    for (const Shape &s : {Shape{channels_}, Shape{channels_}, Shape{1}}) {
      blobs_.push_back(std::make_shared<Blob>(ctx(), s));
      blobs_.back()->setData(0.f);
    }
    setPacked(statDesc_, {1, channels_, 1, 1});
    setPacked(oneDesc_, {1, 1, 1, 1});
    for (Blob *b : {&ones_, &zeros_, &mean_, &var_, &saveMean_, &saveInvVar_, &dScale_, &dBias_})
      b->reshape({channels_});
    ones_.setData(1.f);
    zeros_.setData(0.f);
  }

  void reshape(const Blobs &bottom, const Blobs &top) override {
    const Shape &s = bottom[0]->shape();
    if ((s.size() > 1 ? s[1] : 1) != channels_)
      fail("input " + shapeString(s) + " does not have the layer's " + std::to_string(channels_) + " channels");
    top[0]->reshapeLike(*bottom[0]);
    const int64_t n = s.empty() ? 1 : s[0];
    const int64_t spatial = shapeCount(s) / (n * channels_);
    setPacked(xDesc_, {n, channels_, spatial, 1});
    if (!globalStats_ && n * spatial < 2)
      fail("batch statistics need more than one value per channel (input " + shapeString(s) + ")");
  }

  void forward(const Blobs &bottom, const Blobs &top) override {
    laminaHandle_t h = ctx().h();
    const float *x = bottom[0]->data();
    if (top[0] == bottom[0] && !globalStats_) {
      xCopy_.reshapeLike(*bottom[0]);
      lamina::check(laminaMemcpy(h, xCopy_.mutableData(), x, size_t(bottom[0]->count()) * sizeof(float),
                                 LAMINA_MEMCPY_DEVICE_TO_DEVICE));
      x = xCopy_.data();
    }
    if (globalStats_) {
      // Test-time statistics: sum / factor (0 when nothing has been accumulated, as Caffe).
      const float factor = blobs_[2]->dataToHost()[0];
      const float scale = factor == 0.f ? 0.f : 1.f / factor;
      lamina::transformTensor(h, &scale, statDesc_, blobs_[0]->data(), &kZero, statDesc_, mean_.mutableData());
      lamina::transformTensor(h, &scale, statDesc_, blobs_[1]->data(), &kZero, statDesc_, var_.mutableData());
      lamina::batchNormalizationForwardInference(h, LAMINA_BATCHNORM_SPATIAL, &kOne, &kZero, xDesc_, x, xDesc_,
                                                 top[0]->mutableData(), statDesc_, ones_.data(), zeros_.data(),
                                                 mean_.data(), var_.data(), eps_);
      return;
    }
    // Factor 1: the "running" outputs receive this batch's mean and unbiased variance.
    lamina::batchNormalizationForwardTraining(h, LAMINA_BATCHNORM_SPATIAL, &kOne, &kZero, xDesc_, x, xDesc_,
                                              top[0]->mutableData(), statDesc_, ones_.data(), zeros_.data(), 1.0,
                                              mean_.mutableData(), var_.mutableData(), eps_, saveMean_.mutableData(),
                                              saveInvVar_.mutableData());
    lamina::addTensor(h, &kOne, statDesc_, mean_.data(), &maf_, statDesc_, blobs_[0]->mutableData());
    lamina::addTensor(h, &kOne, statDesc_, var_.data(), &maf_, statDesc_, blobs_[1]->mutableData());
    lamina::addTensor(h, &kOne, oneDesc_, ones_.data(), &maf_, oneDesc_, blobs_[2]->mutableData());
  }

  void backward(const Blobs &top, const std::vector<bool> &propagateDown, const Blobs &bottom) override {
    if (!propagateDown[0])
      return;
    laminaHandle_t h = ctx().h();
    if (globalStats_) {
      // Fixed statistics: dx = dy / sqrt(var + eps), a normalisation of dy with mean 0.
      lamina::batchNormalizationForwardInference(h, LAMINA_BATCHNORM_SPATIAL, &kOne, &kZero, xDesc_, top[0]->diff(),
                                                 xDesc_, bottom[0]->mutableDiff(), statDesc_, ones_.data(),
                                                 zeros_.data(), zeros_.data(), var_.data(), eps_);
      return;
    }
    const float *x = top[0] == bottom[0] ? xCopy_.data() : bottom[0]->data();
    lamina::batchNormalizationBackward(h, LAMINA_BATCHNORM_SPATIAL, &kOne, &kZero, &kOne, &kZero, xDesc_, x, xDesc_,
                                       top[0]->diff(), xDesc_, bottom[0]->mutableDiff(), statDesc_, ones_.data(),
                                       dScale_.mutableData(), dBias_.mutableData(), eps_, saveMean_.data(),
                                       saveInvVar_.data());
  }

private:
  bool globalStats_ = false;
  float maf_ = 0.999f;
  double eps_ = 1e-5;
  int64_t channels_ = 1;
  lamina::TensorDescriptor xDesc_, statDesc_, oneDesc_;
  // Per-channel buffers (data only): constants, statistics, and the unused scale/bias gradients.
  Blob ones_{ctx()}, zeros_{ctx()}, mean_{ctx()}, var_{ctx()}, saveMean_{ctx()}, saveInvVar_{ctx()}, dScale_{ctx()},
      dBias_{ctx()}, xCopy_{ctx()};
};

// y = x * gamma (+ beta), gamma spanning bottom dims [axis, axis + num_axes) and broadcast over the
// others. One bottom (Caffe's second-bottom form, scale given as an input, is not supported).
class ScaleLayer : public Layer {
public:
  using Layer::Layer;
  const char *type() const override { return "Scale"; }
  bool allowsInPlace() const override { return true; }

  void setUp(const Blobs &bottom, const Blobs &top) override {
    const auto &p = param_.scale_param();
    const Shape &s = bottom[0]->shape();
    axis_ = s.empty() && p.axis() == 0 ? 0 : canonicalAxis(p.axis(), int(s.size()));
    if (axis_ < 0)
      fail("axis " + std::to_string(p.axis()) + " is out of range for input " + shapeString(s));
    numAxes_ = p.num_axes() == -1 ? int(s.size()) - axis_ : p.num_axes();
    if (numAxes_ < 0 || axis_ + numAxes_ > int(s.size()))
      fail("num_axes " + std::to_string(p.num_axes()) + " does not fit input " + shapeString(s) + " from axis " +
           std::to_string(axis_));
    Shape gamma(s.begin() + axis_, s.begin() + axis_ + numAxes_);
    blobs_.clear();
    blobs_.push_back(std::make_shared<Blob>(ctx(), gamma));
    pb::FillerParameter one;
    one.set_type("constant");
    one.set_value(1.f);
    fillBlob(*blobs_[0], p.has_filler() ? p.filler() : one, ctx());
    biasTerm_ = p.bias_term();
    if (biasTerm_) {
      blobs_.push_back(std::make_shared<Blob>(ctx(), gamma));
      fillBlob(*blobs_[1], p.bias_filler(), ctx()); // default: constant 0
    }
    paramShape_ = gamma;
  }

  void reshape(const Blobs &bottom, const Blobs &top) override {
    const Shape &s = bottom[0]->shape();
    if (int(s.size()) < axis_ + numAxes_ || !std::equal(paramShape_.begin(), paramShape_.end(), s.begin() + axis_))
      fail("input " + shapeString(s) + " does not match the scale's shape " + shapeString(paramShape_) + " at axis " +
           std::to_string(axis_));
    top[0]->reshapeLike(*bottom[0]);
    const int64_t outer = shapeCount(s, 0, axis_), dim = shapeCount(paramShape_),
                  inner = shapeCount(s, axis_ + numAxes_);
    setPacked(xDesc_, {outer, dim, inner, 1});
    setPacked(gDesc_, {1, dim, 1, 1});
    tmp_.reshapeLike(*bottom[0]);
    laminaHandle_t h = ctx().h();
    size_t ws = lamina::reductionWorkspaceSize(h, sum_, xDesc_, gDesc_);
    if (ws > workspace_.bytes())
      workspace_ = lamina::DeviceBuffer(h, ws);
  }

  void forward(const Blobs &bottom, const Blobs &top) override {
    laminaHandle_t h = ctx().h();
    if (top[0] == bottom[0]) { // keep x for dgamma
      xCopy_.reshapeLike(*bottom[0]);
      lamina::check(laminaMemcpy(h, xCopy_.mutableData(), bottom[0]->data(), size_t(bottom[0]->count()) * sizeof(float),
                                 LAMINA_MEMCPY_DEVICE_TO_DEVICE));
    }
    lamina::opTensor(h, mul_, &kOne, xDesc_, bottom[0]->data(), &kOne, gDesc_, blobs_[0]->data(), &kZero, xDesc_,
                     top[0]->mutableData());
    if (biasTerm_)
      lamina::addTensor(h, &kOne, gDesc_, blobs_[1]->data(), &kOne, xDesc_, top[0]->mutableData());
  }

  void backward(const Blobs &top, const std::vector<bool> &propagateDown, const Blobs &bottom) override {
    laminaHandle_t h = ctx().h();
    const float *x = top[0] == bottom[0] ? xCopy_.data() : bottom[0]->data();
    const float *dy = top[0]->diff();
    // Parameter gradients first: dy is overwritten by dx when in place.
    lamina::opTensor(h, mul_, &kOne, xDesc_, dy, &kOne, xDesc_, x, &kZero, xDesc_, tmp_.mutableData());
    lamina::reduceTensor(h, sum_, nullptr, 0, workspace_.data(), workspace_.bytes(), &kOne, xDesc_, tmp_.data(), &kOne,
                         gDesc_, blobs_[0]->mutableDiff());
    if (biasTerm_)
      lamina::reduceTensor(h, sum_, nullptr, 0, workspace_.data(), workspace_.bytes(), &kOne, xDesc_, dy, &kOne, gDesc_,
                           blobs_[1]->mutableDiff());
    if (propagateDown[0])
      lamina::opTensor(h, mul_, &kOne, xDesc_, dy, &kOne, gDesc_, blobs_[0]->data(), &kZero, xDesc_,
                       bottom[0]->mutableDiff());
  }

private:
  int axis_ = 1, numAxes_ = 1;
  bool biasTerm_ = false;
  Shape paramShape_;
  lamina::TensorDescriptor xDesc_, gDesc_;
  lamina::OpTensorDescriptor mul_{LAMINA_OP_TENSOR_MUL};
  lamina::ReduceTensorDescriptor sum_{LAMINA_REDUCE_TENSOR_ADD};
  lamina::DeviceBuffer workspace_;
  Blob tmp_{ctx()}, xCopy_{ctx()};
};

} // namespace

LAMINA_REGISTER_LAYER(BatchNorm, BatchNormLayer);
LAMINA_REGISTER_LAYER(Scale, ScaleLayer);

} // namespace lamina::engine
