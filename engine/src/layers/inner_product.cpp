// InnerProduct (Caffe's fully connected layer): y[M x N] = x[M x K] W^T + b, with the input's dims
// from `axis` on flattened into K, and W stored N x K (or K x N with transpose), on laminaMatmul.
#include "engine/src/layers/vision_util.h"

namespace lamina::engine {
namespace {

using namespace vision;

class InnerProductLayer : public Layer {
public:
  using Layer::Layer;
  const char *type() const override { return "InnerProduct"; }

  void setUp(const Blobs &bottom, const Blobs &top) override {
    const auto &p = param_.inner_product_param();
    if (p.num_output() == 0)
      fail("num_output must be set and > 0");
    n_ = p.num_output();
    axis_ = canonicalAxis(p.axis(), bottom[0]->rank());
    if (axis_ < 0)
      fail("axis " + std::to_string(p.axis()) + " is out of range for input " + shapeString(bottom[0]->shape()));
    k_ = shapeCount(bottom[0]->shape(), axis_);
    transpose_ = p.transpose();
    biasTerm_ = p.bias_term();
    blobs_.clear();
    blobs_.push_back(std::make_shared<Blob>(ctx(), transpose_ ? Shape{k_, n_} : Shape{n_, k_}));
    fillBlob(*blobs_[0], p.weight_filler(), ctx());
    if (biasTerm_) {
      blobs_.push_back(std::make_shared<Blob>(ctx(), Shape{n_}));
      fillBlob(*blobs_[1], p.bias_filler(), ctx());
      setPacked(biasDesc_, {1, n_, 1, 1});
    }
  }

  void reshape(const Blobs &bottom, const Blobs &top) override {
    const Shape &s = bottom[0]->shape();
    if (int(s.size()) <= axis_ || shapeCount(s, axis_) != k_)
      fail("input " + shapeString(s) + " does not flatten to the layer's " + std::to_string(k_) + " inputs from axis " +
           std::to_string(axis_));
    m_ = shapeCount(s, 0, axis_);
    Shape out(s.begin(), s.begin() + axis_);
    out.push_back(n_);
    top[0]->reshape(out);
    setPacked(yDesc_, {m_, n_, 1, 1});
    if (biasTerm_) {
      laminaHandle_t h = ctx().h();
      size_t ws = lamina::reductionWorkspaceSize(h, sum_, yDesc_, biasDesc_);
      if (ws > workspace_.bytes())
        workspace_ = lamina::DeviceBuffer(h, ws);
    }
  }

  void forward(const Blobs &bottom, const Blobs &top) override {
    laminaHandle_t h = ctx().h();
    // y = x op(W): W is N x K (used transposed) or, with transpose, K x N.
    lamina::matmul(h, LAMINA_DATA_FLOAT, LAMINA_DEFAULT_MATH, LAMINA_OP_N, transpose_ ? LAMINA_OP_N : LAMINA_OP_T, m_,
                   n_, k_, &kOne, bottom[0]->data(), k_, 0, blobs_[0]->data(), transpose_ ? n_ : k_, 0, &kZero,
                   top[0]->mutableData(), n_, 0, 1);
    if (biasTerm_)
      lamina::addTensor(h, &kOne, biasDesc_, blobs_[1]->data(), &kOne, yDesc_, top[0]->mutableData());
  }

  void backward(const Blobs &top, const std::vector<bool> &propagateDown, const Blobs &bottom) override {
    laminaHandle_t h = ctx().h();
    const float *dy = top[0]->diff();
    if (transpose_) // dW[K x N] += x^T dy
      lamina::matmul(h, LAMINA_DATA_FLOAT, LAMINA_DEFAULT_MATH, LAMINA_OP_T, LAMINA_OP_N, k_, n_, m_, &kOne,
                     bottom[0]->data(), k_, 0, dy, n_, 0, &kOne, blobs_[0]->mutableDiff(), n_, 0, 1);
    else // dW[N x K] += dy^T x
      lamina::matmul(h, LAMINA_DATA_FLOAT, LAMINA_DEFAULT_MATH, LAMINA_OP_T, LAMINA_OP_N, n_, k_, m_, &kOne, dy, n_, 0,
                     bottom[0]->data(), k_, 0, &kOne, blobs_[0]->mutableDiff(), k_, 0, 1);
    if (biasTerm_) // db += column sums of dy
      lamina::reduceTensor(h, sum_, nullptr, 0, workspace_.data(), workspace_.bytes(), &kOne, yDesc_, dy, &kOne,
                           biasDesc_, blobs_[1]->mutableDiff());
    if (propagateDown[0]) // dx[M x K] = dy op(W)^T
      lamina::matmul(h, LAMINA_DATA_FLOAT, LAMINA_DEFAULT_MATH, LAMINA_OP_N, transpose_ ? LAMINA_OP_T : LAMINA_OP_N, m_,
                     k_, n_, &kOne, dy, n_, 0, blobs_[0]->data(), transpose_ ? n_ : k_, 0, &kZero,
                     bottom[0]->mutableDiff(), k_, 0, 1);
  }

private:
  int axis_ = 1;
  int64_t m_ = 0, n_ = 0, k_ = 0;
  bool transpose_ = false, biasTerm_ = true;
  lamina::TensorDescriptor yDesc_, biasDesc_;
  lamina::ReduceTensorDescriptor sum_{LAMINA_REDUCE_TENSOR_ADD};
  lamina::DeviceBuffer workspace_;
};

} // namespace

LAMINA_REGISTER_LAYER(InnerProduct, InnerProductLayer);

} // namespace lamina::engine
