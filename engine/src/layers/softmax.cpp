// Softmax over one axis (softmax_param.axis, default 1): the blob is viewed as outer x C x inner x 1
// so that Lamina's CHANNEL mode normalises over C for each outer index and inner position.
#include "engine/src/layer.h"

namespace lamina::engine {
namespace {

class SoftmaxLayer : public Layer {
public:
  using Layer::Layer;
  const char *type() const override { return "Softmax"; }

  void setUp(const Blobs &, const Blobs &) override {}

  void reshape(const Blobs &bottom, const Blobs &top) override {
    const Blob &x = *bottom[0];
    int axis = param_.softmax_param().axis();
    if (axis < 0)
      axis += x.rank();
    if (axis < 0 || axis >= x.rank())
      fail("softmax_param.axis " + std::to_string(param_.softmax_param().axis()) + " is out of range for bottom " +
           shapeString(x.shape()));
    top[0]->reshapeLike(x);
    const int64_t outer = shapeCount(x.shape(), 0, axis), channels = x.shape()[size_t(axis)],
                  inner = shapeCount(x.shape(), axis + 1);
    auto atLeastOne = [](int64_t d) { return d > 0 ? d : int64_t(1); };
    view_.setNdEx(LAMINA_TENSOR_NCHW, LAMINA_DATA_FLOAT,
                  {atLeastOne(outer), atLeastOne(channels), atLeastOne(inner), 1});
  }

  void forward(const Blobs &bottom, const Blobs &top) override {
    if (bottom[0]->count() == 0)
      return;
    const float one = 1.f, zero = 0.f;
    lamina::softmaxForward(ctx().h(), LAMINA_SOFTMAX_ACCURATE, LAMINA_SOFTMAX_MODE_CHANNEL, &one, view_,
                           bottom[0]->data(), &zero, view_, top[0]->mutableData());
  }

  void backward(const Blobs &top, const std::vector<bool> &propagateDown, const Blobs &bottom) override {
    if (!propagateDown[0] || bottom[0]->count() == 0)
      return;
    const float one = 1.f, zero = 0.f;
    lamina::softmaxBackward(ctx().h(), LAMINA_SOFTMAX_ACCURATE, LAMINA_SOFTMAX_MODE_CHANNEL, &one, view_,
                            top[0]->data(), view_, top[0]->diff(), &zero, view_, bottom[0]->mutableDiff());
  }

private:
  lamina::TensorDescriptor view_; // outer x C x inner x 1
};

} // namespace

LAMINA_REGISTER_LAYER(Softmax, SoftmaxLayer);

} // namespace lamina::engine
