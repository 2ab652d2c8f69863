// Accuracy (top_k, axis, ignore_label): a metric, computed on the host from the downloaded scores
// and labels. As in Caffe, a class scoring equal to the true class counts as ranked above it, so
// ties go against the prediction.
#include "engine/src/layer.h"

#include <cmath>

namespace lamina::engine {
namespace {

class AccuracyLayer : public Layer {
public:
  using Layer::Layer;
  const char *type() const override { return "Accuracy"; }
  int minBottoms() const override { return 2; }
  int maxBottoms() const override { return 2; }
  int maxTops() const override { return 2; }

  void setUp(const Blobs &, const Blobs &top) override {
    const auto &ap = param_.accuracy_param();
    if (top.size() > 1)
      fail("the second top (per-class accuracy) is not supported");
    if (ap.top_k() < 1)
      fail("accuracy_param.top_k must be at least 1");
    topK_ = int64_t(ap.top_k());
    hasIgnore_ = ap.has_ignore_label();
    ignoreLabel_ = ap.ignore_label();
  }

  void reshape(const Blobs &bottom, const Blobs &top) override {
    const Blob &x = *bottom[0];
    int axis = param_.accuracy_param().axis();
    if (axis < 0)
      axis += x.rank();
    if (axis < 0 || axis >= x.rank())
      fail("accuracy_param.axis " + std::to_string(param_.accuracy_param().axis()) + " is out of range for scores " +
           shapeString(x.shape()));
    outer_ = shapeCount(x.shape(), 0, axis);
    classes_ = x.shape()[size_t(axis)];
    inner_ = shapeCount(x.shape(), axis + 1);
    if (topK_ > classes_)
      fail("top_k " + std::to_string(topK_) + " exceeds the " + std::to_string(classes_) + " classes");
    if (bottom[1]->count() != outer_ * inner_)
      fail("the labels " + shapeString(bottom[1]->shape()) + " hold " + std::to_string(bottom[1]->count()) +
           " values but the scores " + shapeString(x.shape()) + " need " + std::to_string(outer_ * inner_));
    top[0]->reshape({});
  }

  void forward(const Blobs &bottom, const Blobs &top) override {
    const std::vector<float> scores = bottom[0]->dataToHost(), labels = bottom[1]->dataToHost();
    int64_t correct = 0, counted = 0;
    for (int64_t o = 0; o < outer_; ++o)
      for (int64_t i = 0; i < inner_; ++i) {
        const float v = labels[size_t(o * inner_ + i)];
        if (hasIgnore_ && std::isfinite(v) && static_cast<int>(v) == ignoreLabel_)
          continue;
        if (!std::isfinite(v) || v < 0 || v >= float(classes_))
          fail("label " + std::to_string(v) + " is out of range [0, " + std::to_string(classes_) + ")");
        const int64_t label = static_cast<int64_t>(v);
        auto score = [&](int64_t c) { return scores[size_t((o * classes_ + c) * inner_ + i)]; };
        const float truth = score(label);
        int64_t atLeast = 0; // classes scoring >= the true class, itself included
        for (int64_t c = 0; c < classes_ && atLeast <= topK_; ++c)
          atLeast += score(c) >= truth;
        correct += atLeast <= topK_;
        ++counted;
      }
    top[0]->dataFromHost({counted ? float(double(correct) / double(counted)) : 0.f});
  }

  // No gradient: a metric. Zeros for any bottom the Net asks about, so a sum of diffs stays right.
  void backward(const Blobs &, const std::vector<bool> &propagateDown, const Blobs &bottom) override {
    for (size_t b = 0; b < bottom.size() && b < propagateDown.size(); ++b)
      if (propagateDown[b] && bottom[b]->count())
        bottom[b]->setDiff(0.f);
  }

private:
  int64_t topK_ = 1, outer_ = 0, classes_ = 0, inner_ = 0;
  bool hasIgnore_ = false;
  int ignoreLabel_ = 0;
};

} // namespace

LAMINA_REGISTER_LAYER(Accuracy, AccuracyLayer);

} // namespace lamina::engine
