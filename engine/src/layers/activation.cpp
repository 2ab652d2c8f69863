// Elementwise neuron layers: ReLU (negative_slope), Sigmoid, TanH, ELU through laminaActivation*,
// and Power through laminaOpTensor. The activations may run in place (top == bottom); their backward
// then uses the top data, which Lamina's backward accepts as x wherever sign(y) == sign(x).
#include "engine/src/layer.h"

#include <cmath>

namespace lamina::engine {
namespace {

bool sameData(const Blob &a, const Blob &b) { return a.data() == b.data(); }

class ActivationLayer : public Layer {
public:
  using Layer::Layer;
  bool allowsInPlace() const override { return true; }

  void setUp(const Blobs &bottom, const Blobs &top) override {
    configure();
    try {
      act_.set(mode_, LAMINA_PROPAGATE_NAN, coef_);
    } catch (const lamina::Error &e) {
      fail(std::string("bad parameter: ") + e.what());
    }
  }

  void reshape(const Blobs &bottom, const Blobs &top) override {
    if (top[0] != bottom[0])
      top[0]->reshapeLike(*bottom[0]);
    if (keepInput_)
      savedInput_.reshapeLike(*bottom[0]);
  }

  void forward(const Blobs &bottom, const Blobs &top) override {
    Blob &x = *bottom[0], &y = *top[0];
    if (x.count() == 0)
      return;
    const bool inPlace = sameData(x, y);
    if (inPlace && keepInput_) {
      const float one = 1.f, zero = 0.f;
      lamina::check(laminaTransformTensor(ctx().h(), &one, x.desc(), x.data(), &zero, savedInput_.desc(),
                                          savedInput_.mutableData()));
    }
    const float one = 1.f, zero = 0.f;
    lamina::activationForward(ctx().h(), act_, &one, x.desc(), x.data(), &zero, y.desc(), y.mutableData());
  }

  void backward(const Blobs &top, const std::vector<bool> &propagateDown, const Blobs &bottom) override {
    if (!propagateDown[0] || bottom[0]->count() == 0)
      return;
    Blob &x = *bottom[0], &y = *top[0];
    // In place the input is gone: the saved copy when the sign of y does not tell x's, else y.
    const float *xData = x.data();
    if (sameData(x, y))
      xData = keepInput_ ? savedInput_.data() : y.data();
    const float one = 1.f, zero = 0.f;
    lamina::activationBackward(ctx().h(), act_, &one, y.desc(), y.data(), y.desc(), y.diff(), x.desc(), xData, &zero,
                               x.desc(), x.mutableDiff());
  }

protected:
  // Sets mode_, coef_ and keepInput_ from the layer's parameters.
  virtual void configure() = 0;
  laminaActivationMode_t mode_ = LAMINA_ACTIVATION_IDENTITY;
  double coef_ = 0;
  bool keepInput_ = false; // an in-place forward copies x first (backward needs x, not only y)

private:
  lamina::ActivationDescriptor act_;
  Blob savedInput_{ctx_};
};

class ReLULayer : public ActivationLayer {
public:
  using ActivationLayer::ActivationLayer;
  const char *type() const override { return "ReLU"; }

protected:
  void configure() override {
    const float slope = param_.relu_param().negative_slope();
    mode_ = slope == 0.f ? LAMINA_ACTIVATION_RELU : LAMINA_ACTIVATION_LEAKY_RELU;
    coef_ = slope;
    // A negative slope maps x < 0 to y > 0: y no longer tells which side x was on.
    keepInput_ = slope < 0.f;
  }
};

class SigmoidLayer : public ActivationLayer {
public:
  using ActivationLayer::ActivationLayer;
  const char *type() const override { return "Sigmoid"; }

protected:
  void configure() override { mode_ = LAMINA_ACTIVATION_SIGMOID; }
};

class TanHLayer : public ActivationLayer {
public:
  using ActivationLayer::ActivationLayer;
  const char *type() const override { return "TanH"; }

protected:
  void configure() override { mode_ = LAMINA_ACTIVATION_TANH; }
};

class ELULayer : public ActivationLayer {
public:
  using ActivationLayer::ActivationLayer;
  const char *type() const override { return "ELU"; }

protected:
  void configure() override {
    const float alpha = param_.elu_param().alpha();
    if (!(alpha >= 0.f))
      fail("elu_param.alpha is " + std::to_string(alpha) + "; it must be >= 0");
    mode_ = LAMINA_ACTIVATION_ELU;
    coef_ = alpha; // alpha >= 0: y > 0 exactly where x > 0, so in place needs no copy
  }
};

// y = (shift + scale * x) ^ power, Caffe's Power layer.
class PowerLayer : public Layer {
public:
  using Layer::Layer;
  const char *type() const override { return "Power"; }

  void setUp(const Blobs &, const Blobs &) override {
    const auto &pp = param_.power_param();
    power_ = pp.power();
    scale_ = pp.scale();
    shift_ = pp.shift();
    shiftConst_.setData(shift_);
    powerConst_.setData(power_);
    powerMinusOneConst_.setData(power_ - 1.f);
  }

  void reshape(const Blobs &bottom, const Blobs &top) override {
    if (sameData(*bottom[0], *top[0]))
      fail("Power cannot run in place (its backward needs the input)");
    top[0]->reshapeLike(*bottom[0]);
    const int64_t n = bottom[0]->count();
    flat_.setNdEx(LAMINA_TENSOR_NCHW, LAMINA_DATA_FLOAT, {n > 0 ? n : 1, 1, 1, 1});
  }

  void forward(const Blobs &bottom, const Blobs &top) override {
    Blob &x = *bottom[0], &y = *top[0];
    if (x.count() == 0)
      return;
    if (power_ * scale_ == 0.f) {
      // Constant output: x^0 is 1 (even 0^0), and with scale 0 it is shift^power.
      y.setData(power_ == 0.f ? 1.f : std::pow(shift_, power_));
      return;
    }
    affine(x, y.mutableData());
    if (power_ != 1.f)
      raise(y.mutableData(), powerConst_);
  }

  void backward(const Blobs &top, const std::vector<bool> &propagateDown, const Blobs &bottom) override {
    if (!propagateDown[0] || bottom[0]->count() == 0)
      return;
    Blob &x = *bottom[0], &y = *top[0];
    const float diffScale = power_ * scale_;
    if (diffScale == 0.f) {
      x.setDiff(0.f);
      return;
    }
    const float zero = 0.f;
    if (power_ == 1.f) {
      lamina::check(laminaAddTensor(ctx().h(), &diffScale, flat_, y.diff(), &zero, flat_, x.mutableDiff()));
      return;
    }
    // dx = dy * power * scale * (shift + scale * x)^(power - 1), built in x's diff.
    float *dx = x.mutableDiff();
    affine(x, dx);
    raise(dx, powerMinusOneConst_);
    const float one = 1.f;
    lamina::OpTensorDescriptor mul(LAMINA_OP_TENSOR_MUL);
    lamina::opTensor(ctx().h(), mul, &diffScale, flat_, dx, &one, flat_, y.diff(), &zero, flat_, dx);
  }

private:
  // out = scale * x + shift
  void affine(const Blob &x, float *out) {
    const float one = 1.f, zero = 0.f;
    lamina::OpTensorDescriptor add(LAMINA_OP_TENSOR_ADD);
    lamina::opTensor(ctx().h(), add, &scale_, flat_, x.data(), &one, shiftConst_.desc(), shiftConst_.data(), &zero,
                     flat_, out);
  }
  // v = v ^ exponent, in place
  void raise(float *v, const Blob &exponent) {
    const float one = 1.f, zero = 0.f;
    lamina::OpTensorDescriptor pow(LAMINA_OP_TENSOR_POW);
    lamina::opTensor(ctx().h(), pow, &one, flat_, v, &one, exponent.desc(), exponent.data(), &zero, flat_, v);
  }

  float power_ = 1, scale_ = 1, shift_ = 0;
  lamina::TensorDescriptor flat_; // the blob as count x 1 x 1 x 1: a 4-D partner for the 1x1x1x1 constants
  Blob shiftConst_{ctx_, {}}, powerConst_{ctx_, {}}, powerMinusOneConst_{ctx_, {}};
};

} // namespace

LAMINA_REGISTER_LAYER(ReLU, ReLULayer);
LAMINA_REGISTER_LAYER(Sigmoid, SigmoidLayer);
LAMINA_REGISTER_LAYER(TanH, TanHLayer);
LAMINA_REGISTER_LAYER(ELU, ELULayer);
LAMINA_REGISTER_LAYER(Power, PowerLayer);

} // namespace lamina::engine
