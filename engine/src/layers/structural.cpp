// Layers that move no numbers of their own: Input (fixed-shape blobs the caller fills), Split (one
// blob to several consumers; gradients summed), Flatten (a reshaped view sharing data and diff).
#include "engine/src/layer.h"

#include <cstring>

namespace lamina::engine {

namespace {

Shape fromProto(const pb::BlobShape &s) { return Shape(s.dim().begin(), s.dim().end()); }

class InputLayer : public Layer {
public:
  using Layer::Layer;
  const char *type() const override { return "Input"; }
  int minBottoms() const override { return 0; }
  int maxBottoms() const override { return 0; }
  int maxTops() const override { return -1; }

  // Shapes are set once here, not in reshape(), so a caller may reshape an input blob and then
  // Net::reshape() the rest of the net.
  void setUp(const Blobs &, const Blobs &top) override {
    const auto &ip = param_.input_param();
    const int n = ip.shape_size();
    if (n != 1 && n != int(top.size()))
      fail("input_param has " + std::to_string(n) + " shapes for " + std::to_string(top.size()) +
           " tops (give one shape, or one per top)");
    for (size_t i = 0; i < top.size(); ++i) {
      Shape s = fromProto(ip.shape(n == 1 ? 0 : int(i)));
      for (int64_t d : s)
        if (d < 0)
          fail("negative dimension in input shape " + shapeString(s));
      top[i]->reshape(s);
    }
  }
  void reshape(const Blobs &, const Blobs &) override {}
  void forward(const Blobs &, const Blobs &) override {}
  void backward(const Blobs &, const std::vector<bool> &, const Blobs &) override {}
};

class SplitLayer : public Layer {
public:
  using Layer::Layer;
  const char *type() const override { return "Split"; }
  int maxTops() const override { return -1; }

  void setUp(const Blobs &, const Blobs &) override {}
  void reshape(const Blobs &bottom, const Blobs &top) override {
    for (Blob *t : top) {
      if (t == bottom[0])
        fail("a Split top cannot be its bottom (in-place)");
      t->reshapeLike(*bottom[0]);
      t->shareData(*bottom[0]);
    }
  }
  void forward(const Blobs &, const Blobs &) override {} // the tops share the bottom's data
  // bottom diff = sum of the top diffs.
  void backward(const Blobs &top, const std::vector<bool> &propagateDown, const Blobs &bottom) override {
    if (!propagateDown[0] || bottom[0]->count() == 0)
      return;
    const float one = 1.f, zero = 0.f;
    Blob &b = *bottom[0];
    for (size_t i = 0; i < top.size(); ++i)
      lamina::check(laminaAddTensor(ctx().h(), &one, top[i]->desc(), top[i]->diff(), i == 0 ? &zero : &one, b.desc(),
                                    b.mutableDiff()));
  }
};

class FlattenLayer : public Layer {
public:
  using Layer::Layer;
  const char *type() const override { return "Flatten"; }

  void setUp(const Blobs &bottom, const Blobs &top) override {
    if (top[0] == bottom[0])
      fail("Flatten cannot run in place");
    axes(*bottom[0]); // validates
  }
  void reshape(const Blobs &bottom, const Blobs &top) override {
    const Shape &in = bottom[0]->shape();
    auto [a, e] = axes(*bottom[0]);
    Shape out(in.begin(), in.begin() + a);
    out.push_back(shapeCount(in, a, e + 1));
    out.insert(out.end(), in.begin() + e + 1, in.end());
    top[0]->reshape(out);
    top[0]->shareData(*bottom[0]);
    top[0]->shareDiff(*bottom[0]);
  }
  // Data and diff are shared with the bottom: nothing to move.
  void forward(const Blobs &, const Blobs &) override {}
  void backward(const Blobs &, const std::vector<bool> &, const Blobs &) override {}

private:
  std::pair<int, int> axes(const Blob &b) const {
    const int r = b.rank();
    int a = param_.flatten_param().axis(), e = param_.flatten_param().end_axis();
    const int a0 = a, e0 = e;
    if (a < 0)
      a += r;
    if (e < 0)
      e += r;
    if (a < 0 || a >= r || e < 0 || e >= r)
      fail("axis " + std::to_string(a0) + " / end_axis " + std::to_string(e0) + " out of range for bottom shape " +
           shapeString(b.shape()));
    if (e < a)
      fail("end_axis " + std::to_string(e0) + " comes before axis " + std::to_string(a0) + " for bottom shape " +
           shapeString(b.shape()));
    return {a, e};
  }
};

} // namespace

LAMINA_REGISTER_LAYER(Input, InputLayer);
LAMINA_REGISTER_LAYER(Split, SplitLayer);
LAMINA_REGISTER_LAYER(Flatten, FlattenLayer);

} // namespace lamina::engine
