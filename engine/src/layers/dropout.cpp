// Dropout: in TRAIN, y = x * mask / (1 - p) with the mask kept per element with probability 1 - p
// (Lamina's dropout scales kept units by 1 / (1 - p) as Caffe does); in TEST the identity, the top
// sharing the bottom's memory. The random state is seeded once from the context's rng.
#include "engine/src/layers/vision_util.h"

namespace lamina::engine {
namespace {

using namespace vision;

class DropoutLayer : public Layer {
public:
  using Layer::Layer;
  const char *type() const override { return "Dropout"; }
  bool allowsInPlace() const override { return true; }

  void setUp(const Blobs &bottom, const Blobs &top) override {
    ratio_ = param_.dropout_param().dropout_ratio();
    if (!(ratio_ >= 0.f && ratio_ < 1.f))
      fail("dropout_ratio must be in [0, 1), not " + std::to_string(ratio_));
    train_ = phase() == pb::TRAIN;
    if (!train_)
      return;
    laminaHandle_t h = ctx().h();
    states_ = lamina::DeviceBuffer(h, lamina::dropoutStatesSize(h));
    dropout_.set(h, ratio_, states_.data(), states_.bytes(), ctx().rng());
  }

  void reshape(const Blobs &bottom, const Blobs &top) override {
    top[0]->reshapeLike(*bottom[0]);
    if (!train_) {
      if (top[0] != bottom[0]) {
        top[0]->shareData(*bottom[0]);
        top[0]->shareDiff(*bottom[0]);
      }
      return;
    }
    size_t need = lamina::dropoutReserveSpaceSize(bottom[0]->desc());
    if (need > reserve_.bytes())
      reserve_ = lamina::DeviceBuffer(ctx().h(), need);
  }

  void forward(const Blobs &bottom, const Blobs &top) override {
    if (!train_)
      return; // the top shares the bottom's data
    lamina::dropoutForward(ctx().h(), dropout_, bottom[0]->desc(), bottom[0]->data(), top[0]->desc(),
                           top[0]->mutableData(), reserve_.data(), reserve_.bytes());
  }

  void backward(const Blobs &top, const std::vector<bool> &propagateDown, const Blobs &bottom) override {
    if (!propagateDown[0] || !train_)
      return; // TEST: the diffs are shared too, dx = dy already
    lamina::dropoutBackward(ctx().h(), dropout_, top[0]->desc(), top[0]->diff(), bottom[0]->desc(),
                            bottom[0]->mutableDiff(), reserve_.data(), reserve_.bytes());
  }

private:
  float ratio_ = 0.5f;
  bool train_ = true;
  lamina::DeviceBuffer states_, reserve_;
  lamina::DropoutDescriptor dropout_;
};

} // namespace

LAMINA_REGISTER_LAYER(Dropout, DropoutLayer);

} // namespace lamina::engine
