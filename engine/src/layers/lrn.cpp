// LRN (Caffe's ACROSS_CHANNELS and WITHIN_CHANNEL) on laminaLRN*. Lamina's modes follow Caffe's
// conventions: alpha is divided by n (across) or n*n (within) inside the library, so Caffe's alpha
// is passed as is; Caffe's WITHIN_CHANNEL ignores k and adds 1, so k = 1 there.
#include "engine/src/layers/vision_util.h"

namespace lamina::engine {
namespace {

using namespace vision;

class LRNLayer : public Layer {
public:
  using Layer::Layer;
  const char *type() const override { return "LRN"; }

  void setUp(const Blobs &bottom, const Blobs &top) override {
    const auto &p = param_.lrn_param();
    if (p.local_size() % 2 == 0)
      fail("local_size must be odd (" + std::to_string(p.local_size()) + ")");
    within_ = p.norm_region() == pb::LRNParameter::WITHIN_CHANNEL;
    mode_ = within_ ? LAMINA_LRN_WITHIN_CHANNEL : LAMINA_LRN_CROSS_CHANNEL;
    try {
      lrn_.set(p.local_size(), p.alpha(), p.beta(), within_ ? 1.0 : double(p.k()));
    } catch (const lamina::Error &e) {
      fail(e.what());
    }
  }

  void reshape(const Blobs &bottom, const Blobs &top) override {
    if (bottom[0]->rank() != 4)
      fail("input " + shapeString(bottom[0]->shape()) + " must be 4-D (N x C x H x W)");
    top[0]->reshapeLike(*bottom[0]);
  }

  void forward(const Blobs &bottom, const Blobs &top) override {
    lamina::lrnForward(ctx().h(), lrn_, mode_, &kOne, bottom[0]->desc(), bottom[0]->data(), &kZero, top[0]->desc(),
                       top[0]->mutableData());
  }

  void backward(const Blobs &top, const std::vector<bool> &propagateDown, const Blobs &bottom) override {
    if (!propagateDown[0])
      return;
    lamina::lrnBackward(ctx().h(), lrn_, mode_, &kOne, top[0]->desc(), top[0]->data(), top[0]->desc(), top[0]->diff(),
                        bottom[0]->desc(), bottom[0]->data(), &kZero, bottom[0]->desc(), bottom[0]->mutableDiff());
  }

private:
  bool within_ = false;
  laminaLRNMode_t mode_ = LAMINA_LRN_CROSS_CHANNEL;
  lamina::LRNDescriptor lrn_;
};

} // namespace

LAMINA_REGISTER_LAYER(LRN, LRNLayer);

} // namespace lamina::engine
