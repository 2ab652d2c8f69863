// Convolution (Caffe's semantics: cross-correlation, symmetric pads, groups, optional bias) on
// laminaConvolution*. 2-D, and N-D (1..3 spatial dims) when kernel_size lists one entry per dim.
#include "engine/src/layers/vision_util.h"

#include <algorithm>

namespace lamina::engine {
namespace {

using namespace vision;

// Algorithms may use this much workspace before we fall back to a bounded choice.
constexpr size_t kWorkspaceLimit = size_t(256) << 20;

class ConvolutionLayer : public Layer {
public:
  using Layer::Layer;
  const char *type() const override { return "Convolution"; }

  void setUp(const Blobs &bottom, const Blobs &top) override {
    const auto &p = param_.convolution_param();
    if (p.axis() != 1 && p.axis() != 1 - bottom[0]->rank())
      fail("only axis 1 (channels) is supported");
    spatial_ = bottom[0]->rank() - 2;
    if (spatial_ < 1 || spatial_ > 3)
      fail("input " + shapeString(bottom[0]->shape()) + " must have 1 to 3 spatial dims (N x C x spatial)");
    if (p.num_output() == 0)
      fail("num_output must be set and > 0");
    kernel_ = perDim(p.kernel_size(), p.has_kernel_h() || p.has_kernel_w(), p.kernel_h(), p.kernel_w(), 0, "kernel");
    pad_ = perDim(p.pad(), p.has_pad_h() || p.has_pad_w(), p.pad_h(), p.pad_w(), 0, "pad");
    stride_ = perDim(p.stride(), p.has_stride_h() || p.has_stride_w(), p.stride_h(), p.stride_w(), 1, "stride");
    dilation_ = perDim(p.dilation(), false, 0, 0, 1, "dilation");
    for (int i = 0; i < spatial_; ++i) {
      if (kernel_[size_t(i)] < 1)
        fail("kernel size must be given and > 0 in every spatial dim");
      if (stride_[size_t(i)] < 1 || dilation_[size_t(i)] < 1)
        fail("stride and dilation must be > 0");
    }
    group_ = p.group();
    channels_ = bottom[0]->dim(1);
    numOutput_ = p.num_output();
    if (group_ < 1 || channels_ % group_ || numOutput_ % group_)
      fail("channels (" + std::to_string(channels_) + ") and num_output (" + std::to_string(numOutput_) +
           ") must be multiples of group (" + std::to_string(group_) + ")");
    biasTerm_ = p.bias_term();

    Shape wShape{numOutput_, channels_ / group_};
    wShape.insert(wShape.end(), kernel_.begin(), kernel_.end());
    blobs_.clear();
    blobs_.push_back(std::make_shared<Blob>(ctx(), wShape));
    fillBlob(*blobs_[0], p.weight_filler(), ctx());
    if (biasTerm_) {
      blobs_.push_back(std::make_shared<Blob>(ctx(), Shape{numOutput_}));
      fillBlob(*blobs_[1], p.bias_filler(), ctx());
    }
    try {
      conv_.setNd(pad_, stride_, dilation_, LAMINA_CROSS_CORRELATION, LAMINA_DATA_FLOAT);
      conv_.setGroupCount(group_);
      filter_.setNd(LAMINA_DATA_FLOAT, LAMINA_TENSOR_NCHW, wShape);
      lamina::Dims b(size_t(spatial_ + 2), 1);
      b[1] = numOutput_;
      setPacked(biasDesc_, b);
    } catch (const lamina::Error &e) {
      fail(e.what());
    }
  }

  void reshape(const Blobs &bottom, const Blobs &top) override {
    const Shape &in = bottom[0]->shape();
    if (int(in.size()) != spatial_ + 2 || in[1] != channels_)
      fail("input " + shapeString(in) + " does not match the layer's " + std::to_string(channels_) + " channels and " +
           std::to_string(spatial_) + " spatial dims");
    // Caffe's output size: (in + 2 pad - (dilation (k - 1) + 1)) / stride + 1, floored.
    Shape out{in[0], numOutput_};
    for (int i = 0; i < spatial_; ++i) {
      const size_t d = size_t(i);
      int64_t extent = dilation_[d] * (kernel_[d] - 1) + 1;
      int64_t o = (in[d + 2] + 2 * pad_[d] - extent) / stride_[d] + 1;
      if (in[d + 2] + 2 * pad_[d] < extent)
        fail("the kernel (extent " + std::to_string(extent) + ") is larger than the padded input " + shapeString(in));
      out.push_back(o);
    }
    top[0]->reshape(out);
    if (in == lastShape_)
      return;
    lastShape_ = in;
    try {
      laminaHandle_t h = ctx().h();
      laminaTensorDescriptor_t x = bottom[0]->desc(), y = top[0]->desc();
      fwdAlgo_ = lamina::convolutionForwardAlgorithm(h, x, filter_, conv_, y);
      size_t fwd = lamina::convolutionForwardWorkspaceSize(h, x, filter_, conv_, y, fwdAlgo_);
      if (fwd > kWorkspaceLimit) {
        fwdAlgo_ = lamina::convolutionForwardAlgorithm(h, x, filter_, conv_, y,
                                                       LAMINA_CONVOLUTION_SPECIFY_WORKSPACE_LIMIT, kWorkspaceLimit);
        fwd = lamina::convolutionForwardWorkspaceSize(h, x, filter_, conv_, y, fwdAlgo_);
      }
      dataAlgo_ = lamina::convolutionBackwardDataAlgorithm(h, filter_, y, conv_, x);
      size_t data = lamina::convolutionBackwardDataWorkspaceSize(h, filter_, y, conv_, x, dataAlgo_);
      if (data > kWorkspaceLimit) {
        dataAlgo_ = lamina::convolutionBackwardDataAlgorithm(
            h, filter_, y, conv_, x, LAMINA_CONVOLUTION_SPECIFY_WORKSPACE_LIMIT, kWorkspaceLimit);
        data = lamina::convolutionBackwardDataWorkspaceSize(h, filter_, y, conv_, x, dataAlgo_);
      }
      filterAlgo_ = lamina::convolutionBackwardFilterAlgorithm(h, x, y, conv_, filter_);
      size_t filt = lamina::convolutionBackwardFilterWorkspaceSize(h, x, y, conv_, filter_, filterAlgo_);
      if (filt > kWorkspaceLimit) {
        filterAlgo_ = lamina::convolutionBackwardFilterAlgorithm(
            h, x, y, conv_, filter_, LAMINA_CONVOLUTION_SPECIFY_WORKSPACE_LIMIT, kWorkspaceLimit);
        filt = lamina::convolutionBackwardFilterWorkspaceSize(h, x, y, conv_, filter_, filterAlgo_);
      }
      size_t need = std::max({fwd, data, filt});
      if (need > workspace_.bytes())
        workspace_ = lamina::DeviceBuffer(h, need);
    } catch (const lamina::Error &e) {
      fail(std::string("choosing the convolution algorithms: ") + e.what());
    }
  }

  void forward(const Blobs &bottom, const Blobs &top) override {
    laminaHandle_t h = ctx().h();
    lamina::convolutionForward(h, &kOne, bottom[0]->desc(), bottom[0]->data(), filter_, blobs_[0]->data(), conv_,
                               fwdAlgo_, workspace_.data(), workspace_.bytes(), &kZero, top[0]->desc(),
                               top[0]->mutableData());
    if (biasTerm_)
      lamina::addTensor(h, &kOne, biasDesc_, blobs_[1]->data(), &kOne, top[0]->desc(), top[0]->mutableData());
  }

  void backward(const Blobs &top, const std::vector<bool> &propagateDown, const Blobs &bottom) override {
    laminaHandle_t h = ctx().h();
    laminaTensorDescriptor_t x = bottom[0]->desc(), y = top[0]->desc();
    // Parameter gradients accumulate (beta = 1); the bottom gradient is overwritten.
    lamina::convolutionBackwardFilter(h, &kOne, x, bottom[0]->data(), y, top[0]->diff(), conv_, filterAlgo_,
                                      workspace_.data(), workspace_.bytes(), &kOne, filter_, blobs_[0]->mutableDiff());
    if (biasTerm_)
      lamina::convolutionBackwardBias(h, &kOne, y, top[0]->diff(), &kOne, biasDesc_, blobs_[1]->mutableDiff());
    if (propagateDown[0])
      lamina::convolutionBackwardData(h, &kOne, filter_, blobs_[0]->data(), y, top[0]->diff(), conv_, dataAlgo_,
                                      workspace_.data(), workspace_.bytes(), &kZero, x, bottom[0]->mutableDiff());
  }

private:
  // One value per spatial dim from a repeated field (0, 1 or `spatial_` entries) or the _h/_w pair.
  lamina::Dims perDim(const google::protobuf::RepeatedField<uint32_t> &list, bool hasHW, uint32_t h, uint32_t w,
                      int64_t dflt, const std::string &what) const {
    if (hasHW) {
      if (spatial_ != 2)
        fail(what + "_h / " + what + "_w need 2 spatial dims");
      if (what != "pad" && !(hasH(what) && hasW(what)))
        fail(what + "_h and " + what + "_w go together");
      if (!list.empty())
        fail("give either " + what + " or " + what + "_h / " + what + "_w, not both");
      return {int64_t(h), int64_t(w)};
    }
    if (list.empty())
      return lamina::Dims(size_t(spatial_), dflt);
    if (list.size() == 1)
      return lamina::Dims(size_t(spatial_), int64_t(list.Get(0)));
    if (list.size() != spatial_)
      fail(what + " has " + std::to_string(list.size()) + " entries for " + std::to_string(spatial_) + " spatial dims");
    return lamina::Dims(list.begin(), list.end());
  }

  bool hasH(const std::string &what) const {
    const auto &p = param_.convolution_param();
    return what == "kernel" ? p.has_kernel_h() : p.has_stride_h();
  }
  bool hasW(const std::string &what) const {
    const auto &p = param_.convolution_param();
    return what == "kernel" ? p.has_kernel_w() : p.has_stride_w();
  }

  int spatial_ = 2;
  lamina::Dims kernel_, pad_, stride_, dilation_;
  int64_t group_ = 1, channels_ = 0, numOutput_ = 0;
  bool biasTerm_ = true;
  lamina::ConvolutionDescriptor conv_;
  lamina::FilterDescriptor filter_;
  lamina::TensorDescriptor biasDesc_;
  Shape lastShape_;
  laminaConvolutionFwdAlgo_t fwdAlgo_ = LAMINA_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  laminaConvolutionBwdDataAlgo_t dataAlgo_ = LAMINA_CONVOLUTION_BWD_DATA_ALGO_IMPLICIT_GEMM;
  laminaConvolutionBwdFilterAlgo_t filterAlgo_ = LAMINA_CONVOLUTION_BWD_FILTER_ALGO_IMPLICIT_GEMM;
  lamina::DeviceBuffer workspace_;
};

} // namespace

LAMINA_REGISTER_LAYER(Convolution, ConvolutionLayer);

} // namespace lamina::engine
