// Pooling (MAX, AVE) with Caffe's output size (round_mode CEIL by default) on laminaPooling*.
//
// Caffe's AVE divides each window by its size clipped to the padded input (min(start + k, in + pad)
// - start), counting the padding it covers. Lamina's AVERAGE_COUNT_INCLUDE_PADDING in ceil mode
// divides by exactly that clipped window, and in floor mode no window runs past the padded input,
// so both round modes match Caffe. MAX ignores the padding in both, and routes the gradient to
// the first maximum of a window (Caffe's mask does the same).
#include "engine/src/layers/vision_util.h"

#include <cmath>

namespace lamina::engine {
namespace {

using namespace vision;

class PoolingLayer : public Layer {
public:
  using Layer::Layer;
  const char *type() const override { return "Pooling"; }
  int maxTops() const override { return 2; } // refused in setUp with a reason (Caffe's MAX mask top)

  void setUp(const Blobs &bottom, const Blobs &top) override {
    const auto &p = param_.pooling_param();
    if (top.size() > 1)
      fail("a second top (Caffe's MAX mask) is not supported");
    if (p.pool() == pb::PoolingParameter::STOCHASTIC)
      fail("STOCHASTIC pooling is not supported");
    if (bottom[0]->rank() != 4)
      fail("input " + shapeString(bottom[0]->shape()) + " must be 4-D (N x C x H x W)");
    global_ = p.global_pooling();
    const bool hasHW = p.has_kernel_h() || p.has_kernel_w();
    if (global_) {
      if (p.has_kernel_size() || hasHW)
        fail("global_pooling takes no kernel size");
    } else if (p.has_kernel_size() == hasHW) {
      fail("give either kernel_size or kernel_h and kernel_w");
    } else if (hasHW && !(p.has_kernel_h() && p.has_kernel_w())) {
      fail("kernel_h and kernel_w go together");
    }
    kh_ = hasHW ? p.kernel_h() : p.kernel_size();
    kw_ = hasHW ? p.kernel_w() : p.kernel_size();
    const bool padHW = p.has_pad_h() || p.has_pad_w();
    ph_ = padHW ? p.pad_h() : p.pad();
    pw_ = padHW ? p.pad_w() : p.pad();
    const bool strideHW = p.has_stride_h() || p.has_stride_w();
    sh_ = strideHW ? p.stride_h() : p.stride();
    sw_ = strideHW ? p.stride_w() : p.stride();
    if (global_) {
      if (ph_ || pw_ || sh_ != 1 || sw_ != 1)
        fail("global_pooling takes pad 0 and stride 1");
    } else {
      if (kh_ < 1 || kw_ < 1 || sh_ < 1 || sw_ < 1)
        fail("kernel and stride must be > 0");
      if (ph_ >= kh_ || pw_ >= kw_)
        fail("pad must be smaller than the kernel");
    }
    ceil_ = p.round_mode() == pb::PoolingParameter::CEIL;
    mode_ = p.pool() == pb::PoolingParameter::MAX ? LAMINA_POOLING_MAX : LAMINA_POOLING_AVERAGE_COUNT_INCLUDE_PADDING;
  }

  void reshape(const Blobs &bottom, const Blobs &top) override {
    const Shape &in = bottom[0]->shape();
    if (in.size() != 4)
      fail("input " + shapeString(in) + " must be 4-D");
    if (global_) {
      kh_ = in[2];
      kw_ = in[3];
    }
    const int64_t oh = outSize(in[2], kh_, ph_, sh_), ow = outSize(in[3], kw_, pw_, sw_);
    if (oh < 1 || ow < 1)
      fail("the kernel " + std::to_string(kh_) + "x" + std::to_string(kw_) + " does not fit the input " +
           shapeString(in));
    top[0]->reshape({in[0], in[1], oh, ow});
    try {
      pool_.set2d(mode_, LAMINA_NOT_PROPAGATE_NAN, kh_, kw_, ph_, pw_, sh_, sw_);
      pool_.setCeilMode(ceil_);
      lamina::Dims got = pool_.forwardOutputDim(bottom[0]->desc());
      if (got[2] != oh || got[3] != ow)
        fail("Lamina's pooling gives " + std::to_string(got[2]) + "x" + std::to_string(got[3]) + " but Caffe's rule " +
             std::to_string(oh) + "x" + std::to_string(ow) + " for input " + shapeString(in) +
             " (a stride larger than the kernel without padding is not supported)");
    } catch (const lamina::Error &e) {
      fail(e.what());
    }
  }

  void forward(const Blobs &bottom, const Blobs &top) override {
    lamina::poolingForward(ctx().h(), pool_, &kOne, bottom[0]->desc(), bottom[0]->data(), &kZero, top[0]->desc(),
                           top[0]->mutableData());
  }

  void backward(const Blobs &top, const std::vector<bool> &propagateDown, const Blobs &bottom) override {
    if (!propagateDown[0])
      return;
    lamina::poolingBackward(ctx().h(), pool_, &kOne, top[0]->desc(), top[0]->data(), top[0]->desc(), top[0]->diff(),
                            bottom[0]->desc(), bottom[0]->data(), &kZero, bottom[0]->desc(), bottom[0]->mutableDiff());
  }

private:
  // Caffe's rule: ceil (or floor) of (in + 2 pad - k) / stride, plus one; with padding, the last
  // window must start inside the input or its leading padding.
  int64_t outSize(int64_t in, int64_t k, int64_t pad, int64_t stride) const {
    const double span = double(in + 2 * pad - k) / double(stride);
    int64_t out = int64_t(ceil_ ? std::ceil(span) : std::floor(span)) + 1;
    if (pad > 0 && (out - 1) * stride >= in + pad)
      --out;
    return out;
  }

  bool global_ = false, ceil_ = true;
  int64_t kh_ = 0, kw_ = 0, ph_ = 0, pw_ = 0, sh_ = 1, sw_ = 1;
  laminaPoolingMode_t mode_ = LAMINA_POOLING_MAX;
  lamina::PoolingDescriptor pool_;
};

} // namespace

LAMINA_REGISTER_LAYER(Pooling, PoolingLayer);

} // namespace lamina::engine
