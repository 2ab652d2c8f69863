// Prototxt reading, V1 upgrade, phase/stage filtering, Net construction errors, implicit splits and
// their backward, loss weights, backward needs, the structural layers (Input, Split, Flatten) and
// describe() of Caffe's deploy nets. Test-only layers below compute on the host (tests may).
#include "common/test_util.h"
#include "engine/src/io.h"
#include "engine/src/net.h"
#include "engine/tests/grad_check.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <unistd.h>

namespace lamina::engine {
namespace {

namespace fs = std::filesystem;

std::string device() { return lt::testBackend() == LAMINA_BACKEND_CUDA ? "cuda" : "cpu"; }

// ---- test-only layers (host arithmetic; the engine's own layers go through the Lamina API)

// y = x + b, b one value per channel (axis 1), b starts at 0.5.
class TestBiasLayer : public Layer {
public:
  using Layer::Layer;
  const char *type() const override { return "TestBias"; }
  void setUp(const Blobs &bottom, const Blobs &) override {
    blobs_.push_back(std::make_shared<Blob>(ctx(), Shape{bottom[0]->dim(1)}));
    blobs_[0]->setData(0.5f);
  }
  void reshape(const Blobs &bottom, const Blobs &top) override { top[0]->reshapeLike(*bottom[0]); }
  void forward(const Blobs &bottom, const Blobs &top) override {
    auto x = bottom[0]->dataToHost(), b = blobs_[0]->dataToHost();
    const int64_t c = bottom[0]->dim(1), inner = shapeCount(bottom[0]->shape(), 2);
    for (size_t i = 0; i < x.size(); ++i)
      x[i] += b[size_t((int64_t(i) / inner) % c)];
    top[0]->dataFromHost(x);
  }
  void backward(const Blobs &top, const std::vector<bool> &pd, const Blobs &bottom) override {
    auto dy = top[0]->diffToHost(), db = blobs_[0]->diffToHost();
    const int64_t c = bottom[0]->dim(1), inner = shapeCount(bottom[0]->shape(), 2);
    for (size_t i = 0; i < dy.size(); ++i)
      db[size_t((int64_t(i) / inner) % c)] += dy[i];
    blobs_[0]->diffFromHost(db);
    if (pd[0])
      bottom[0]->diffFromHost(dy);
  }
};

// y = k x with k = power_param.scale; may run in place.
class TestScaleLayer : public Layer {
public:
  using Layer::Layer;
  const char *type() const override { return "TestScale"; }
  bool allowsInPlace() const override { return true; }
  void setUp(const Blobs &, const Blobs &) override {}
  void reshape(const Blobs &bottom, const Blobs &top) override { top[0]->reshapeLike(*bottom[0]); }
  void forward(const Blobs &bottom, const Blobs &top) override {
    auto x = bottom[0]->dataToHost();
    for (float &v : x)
      v *= param_.power_param().scale();
    top[0]->dataFromHost(x);
  }
  void backward(const Blobs &top, const std::vector<bool> &pd, const Blobs &bottom) override {
    auto d = top[0]->diffToHost();
    for (float &v : d)
      v *= param_.power_param().scale();
    if (pd[0])
      bottom[0]->diffFromHost(d);
  }
};

// A loss: the scalar sum of bottom 0 (a second bottom, a "label", is ignored).
class TestSumLossLayer : public Layer {
public:
  using Layer::Layer;
  const char *type() const override { return "TestSumLoss"; }
  bool isLoss() const override { return true; }
  int maxBottoms() const override { return 2; }
  void setUp(const Blobs &, const Blobs &) override {}
  void reshape(const Blobs &, const Blobs &top) override { top[0]->reshape({}); }
  void forward(const Blobs &bottom, const Blobs &top) override {
    auto x = bottom[0]->dataToHost();
    top[0]->dataFromHost({std::accumulate(x.begin(), x.end(), 0.f)});
  }
  void backward(const Blobs &top, const std::vector<bool> &pd, const Blobs &bottom) override {
    if (pd.size() > 1 && pd[1])
      fail("no gradient for the label");
    if (pd[0])
      bottom[0]->setDiff(top[0]->diffToHost()[0]);
  }
};

// Two bottoms of the same shape (else a shape error naming the layer); top = bottom 0.
class TestPairLayer : public Layer {
public:
  using Layer::Layer;
  const char *type() const override { return "TestPair"; }
  int minBottoms() const override { return 2; }
  int maxBottoms() const override { return 2; }
  void setUp(const Blobs &bottom, const Blobs &) override {
    if (bottom[0]->shape() != bottom[1]->shape())
      fail("bottom shapes differ: " + shapeString(bottom[0]->shape()) + " vs " + shapeString(bottom[1]->shape()));
  }
  void reshape(const Blobs &bottom, const Blobs &top) override { top[0]->reshapeLike(*bottom[0]); }
  void forward(const Blobs &bottom, const Blobs &top) override { top[0]->dataFromHost(bottom[0]->dataToHost()); }
  void backward(const Blobs &, const std::vector<bool> &, const Blobs &) override {}
};

// y = x * x.
class TestSquareLayer : public Layer {
public:
  using Layer::Layer;
  const char *type() const override { return "TestSquare"; }
  void setUp(const Blobs &, const Blobs &) override {}
  void reshape(const Blobs &bottom, const Blobs &top) override { top[0]->reshapeLike(*bottom[0]); }
  void forward(const Blobs &bottom, const Blobs &top) override {
    auto x = bottom[0]->dataToHost();
    for (float &v : x)
      v *= v;
    top[0]->dataFromHost(x);
  }
  void backward(const Blobs &top, const std::vector<bool> &pd, const Blobs &bottom) override {
    auto d = top[0]->diffToHost(), x = bottom[0]->dataToHost();
    for (size_t i = 0; i < d.size(); ++i)
      d[i] *= 2 * x[i];
    if (pd[0])
      bottom[0]->diffFromHost(d);
  }
};

LAMINA_REGISTER_LAYER(TestBias, TestBiasLayer);
LAMINA_REGISTER_LAYER(TestSquare, TestSquareLayer);
LAMINA_REGISTER_LAYER(TestScale, TestScaleLayer);
LAMINA_REGISTER_LAYER(TestSumLoss, TestSumLossLayer);
LAMINA_REGISTER_LAYER(TestPair, TestPairLayer);

// ---- helpers

pb::NetParameter parseNet(const std::string &text) {
  pb::NetParameter n;
  parseTextProto(text, "test.prototxt", n);
  upgradeNet(n);
  return n;
}

// $LAMINA_SHARED_DIR overrides the build's ../shared (e.g. for a git worktree elsewhere).
std::string sharedModels() {
  const char *env = std::getenv("LAMINA_SHARED_DIR");
  return std::string(env && *env ? env : LAMINA_SHARED_DIR) + "/caffe-models";
}

// Expects `f` to throw E whose message contains every needle.
template <class E, class F> void expectError(F &&f, std::vector<std::string> needles) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one mentioning '" << needles[0] << "'";
  } catch (const E &e) {
    for (const auto &n : needles)
      EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << "'" << e.what() << "' lacks '" << n << "'";
  }
}

std::vector<std::string> layerNames(const Net &net) {
  std::vector<std::string> v;
  for (const auto &l : net.layers())
    v.push_back(l->name());
  return v;
}

std::vector<std::string> includedNames(const pb::NetParameter &n, pb::Phase phase, std::vector<std::string> stages = {},
                                       int level = 0) {
  pb::NetState s;
  s.set_phase(phase);
  s.set_level(level);
  for (auto &st : stages)
    s.add_stage(st);
  std::vector<std::string> v;
  for (const auto &l : n.layer())
    if (layerIncluded(l, s))
      v.push_back(l.name() + (l.has_data_param() ? ":" + l.data_param().source() : ""));
  return v;
}

// ---- reading

TEST(NetIo, EveryCaffePrototxtParses) {
  if (!fs::is_directory(sharedModels()))
    GTEST_SKIP() << sharedModels() << " is absent";
  int nets = 0, solvers = 0;
  for (const auto &f : fs::recursive_directory_iterator(sharedModels())) {
    if (f.path().extension() != ".prototxt")
      continue;
    const std::string p = f.path().string();
    const bool solverName = f.path().filename().string().find("solver") != std::string::npos;
    EXPECT_EQ(looksLikeSolver(p), solverName) << p;
    if (solverName) {
      pb::SolverParameter s;
      EXPECT_NO_THROW(readTextProto(p, s)) << p;
      if (s.has_net_param())
        EXPECT_NO_THROW(upgradeNet(*s.mutable_net_param())) << p;
      ++solvers;
    } else {
      pb::NetParameter n;
      EXPECT_NO_THROW(readTextProto(p, n); upgradeNet(n)) << p;
      EXPECT_GT(n.layer_size(), 0) << p;
      ++nets;
    }
  }
  EXPECT_GE(nets, 11);
  EXPECT_GE(solvers, 15);
}

TEST(NetIo, ErrorsGiveFileLineColumn) {
  pb::NetParameter n;
  expectError<ParseError>(
      [&] { parseTextProto("name: \"x\"\nlayer {\n  name: \"a\"\n  typo_field: 3\n}\n", "a.prototxt", n); },
      {"a.prototxt:4:3:", "typo_field"});
  expectError<ParseError>(
      [&] { parseTextProto("layer {\n  name: \"a\"\n  pooling_param { pool: MEDIAN }\n}\n", "b.prototxt", n); },
      {"b.prototxt:3:", "MEDIAN"});
  expectError<ParseError>([&] { parseTextProto("layer {\n  name: \"a\"\n", "c.prototxt", n); }, {"c.prototxt:3:"});
  expectError<ParseError>([&] { parseTextProto("layer { name: \"a\" bottom: 3 ]", "d.prototxt", n); },
                          {"d.prototxt:1:"});

  // From a file: the path is in the message; a missing file is named.
  const fs::path dir = fs::temp_directory_path() / ("lamina_test_net_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string file = (dir / "bad.prototxt").string();
  std::ofstream(file) << "name: \"n\"\n\nlayer {\n  name: \"x\" type: \"Input\"\n  tops: \"y\"\n}\n";
  expectError<ParseError>([&] { readTextProto(file, n); }, {file + ":5:3:", "tops"});
  expectError<ParseError>([&] { readTextProto((dir / "none.prototxt").string(), n); },
                          {"none.prototxt", "cannot open"});
  fs::remove_all(dir);
}

TEST(NetIo, SolverOrNet) {
  const fs::path dir = fs::temp_directory_path() / ("lamina_test_kind_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto write = [&](const std::string &name, const std::string &text) {
    std::ofstream((dir / name).string()) << text;
    return (dir / name).string();
  };
  EXPECT_TRUE(looksLikeSolver(write("s.prototxt", "net: \"a\"\nbase_lr: 0.1\n")));
  EXPECT_FALSE(looksLikeSolver(write("n.prototxt", "name: \"a\"\nlayer { name: \"x\" }\n")));
  // Malformed: the reading that got further wins.
  EXPECT_TRUE(looksLikeSolver(write("s2.prototxt", "base_lr: 0.1\nmax_iter: 10\nbogus: 1\n")));
  EXPECT_FALSE(looksLikeSolver(write("n2.prototxt", "name: \"a\"\nlayer { name: \"x\" }\nlayer { bogus: 1 }\n")));
  fs::remove_all(dir);
}

TEST(NetIo, V1UpgradeOfTheConsolidatedNet) {
  const std::string p = sharedModels() + "/examples/mnist/lenet_consolidated_solver.prototxt";
  if (!fs::exists(p))
    GTEST_SKIP() << p << " is absent";
  pb::SolverParameter s;
  readTextProto(p, s);
  pb::NetParameter n = s.net_param();
  ASSERT_EQ(n.layers_size(), 12);
  upgradeNet(n);
  EXPECT_EQ(n.layers_size(), 0);
  ASSERT_EQ(n.layer_size(), 12);
  std::vector<std::string> types;
  for (const auto &l : n.layer())
    types.push_back(l.type());
  EXPECT_EQ(types, (std::vector<std::string>{"Data", "Data", "Data", "Convolution", "Pooling", "Convolution", "Pooling",
                                             "InnerProduct", "ReLU", "InnerProduct", "Accuracy", "SoftmaxWithLoss"}));
  const auto &data = n.layer(1);
  EXPECT_EQ(data.name(), "mnist");
  EXPECT_EQ(data.data_param().source(), "examples/mnist/mnist_test_lmdb");
  EXPECT_EQ(data.data_param().batch_size(), 100u);
  EXPECT_FLOAT_EQ(data.transform_param().scale(), 0.00390625f);
  ASSERT_EQ(data.include_size(), 1);
  EXPECT_EQ(data.include(0).phase(), pb::TEST);
  EXPECT_EQ(data.include(0).stage(0), "test-on-test-set");
  const auto &conv1 = n.layer(3);
  EXPECT_EQ(conv1.bottom(0), "data");
  EXPECT_EQ(conv1.top(0), "conv1");
  ASSERT_EQ(conv1.param_size(), 2);
  EXPECT_FLOAT_EQ(conv1.param(0).lr_mult(), 1.f);
  EXPECT_FLOAT_EQ(conv1.param(1).lr_mult(), 2.f);
  EXPECT_FLOAT_EQ(conv1.param(1).decay_mult(), 1.f); // not given: Caffe's default
  EXPECT_EQ(conv1.convolution_param().num_output(), 20u);
  EXPECT_EQ(conv1.convolution_param().weight_filler().type(), "xavier");
  EXPECT_EQ(n.layer(4).pooling_param().pool(), pb::PoolingParameter::MAX);
  EXPECT_EQ(n.layer(8).bottom(0), "ip1");
  EXPECT_EQ(n.layer(8).top(0), "ip1");
}

TEST(NetIo, V1WeightDecayAndNamesAndUnknownType) {
  auto n = parseNet(R"(layers { name: "ip" type: INNER_PRODUCT bottom: "x" top: "y" blobs_lr: 1 blobs_lr: 2
                                weight_decay: 1 weight_decay: 0 param: "w" loss_weight: 0.5
                                inner_product_param { num_output: 3 } })");
  ASSERT_EQ(n.layer_size(), 1);
  const auto &l = n.layer(0);
  EXPECT_EQ(l.type(), "InnerProduct");
  ASSERT_EQ(l.param_size(), 2);
  EXPECT_EQ(l.param(0).name(), "w");
  EXPECT_FLOAT_EQ(l.param(1).lr_mult(), 2.f);
  EXPECT_FLOAT_EQ(l.param(1).decay_mult(), 0.f);
  EXPECT_FLOAT_EQ(l.loss_weight(0), 0.5f);
  EXPECT_EQ(l.inner_product_param().num_output(), 3u);
  expectError<ParseError>([] { parseNet("layers { name: \"odd\" type: NONE }"); }, {"odd", "NONE"});
  expectError<ParseError>([] { parseNet("layers { name: \"a\" type: RELU } layer { name: \"b\" }"); }, {"both"});
}

TEST(NetIo, LegacyInputsBecomeAnInputLayer) {
  auto n = parseNet(R"(name: "old" input: "data" input_dim: 10 input_dim: 3 input_dim: 227 input_dim: 227
                       input: "label" input_dim: 10 input_dim: 1 input_dim: 1 input_dim: 1
                       layer { name: "f" type: "Flatten" bottom: "data" top: "flat" })");
  ASSERT_EQ(n.layer_size(), 2);
  EXPECT_EQ(n.input_size(), 0);
  EXPECT_EQ(n.input_dim_size(), 0);
  const auto &in = n.layer(0);
  EXPECT_EQ(in.type(), "Input");
  ASSERT_EQ(in.top_size(), 2);
  EXPECT_EQ(in.top(1), "label");
  ASSERT_EQ(in.input_param().shape_size(), 2);
  EXPECT_EQ(in.input_param().shape(0).dim(2), 227);
  EXPECT_EQ(n.layer(1).name(), "f");

  auto m = parseNet(
      R"(input: "data" input_shape { dim: 2 dim: 5 } layer { name: "f" type: "Flatten" bottom: "data" top: "y" })");
  ASSERT_EQ(m.layer(0).input_param().shape(0).dim_size(), 2);
  expectError<ParseError>([] { parseNet("input: \"data\" input_dim: 1 input_dim: 2"); }, {"input_dim"});
}

// ---- filtering

TEST(NetFilter, LenetTrainTestPhases) {
  const std::string p = sharedModels() + "/examples/mnist/lenet_train_test.prototxt";
  if (!fs::exists(p))
    GTEST_SKIP() << p << " is absent";
  pb::NetParameter n;
  readTextProto(p, n);
  auto train = includedNames(n, pb::TRAIN), test = includedNames(n, pb::TEST);
  EXPECT_EQ(train.front(), "mnist:examples/mnist/mnist_train_lmdb");
  EXPECT_EQ(test.front(), "mnist:examples/mnist/mnist_test_lmdb");
  EXPECT_EQ(std::count(train.begin(), train.end(), "accuracy"), 0);
  EXPECT_EQ(std::count(test.begin(), test.end(), "accuracy"), 1);
  EXPECT_EQ(train.size() + 1, test.size());
  EXPECT_EQ(train.back(), "loss");
}

TEST(NetFilter, ConsolidatedStages) {
  const std::string p = sharedModels() + "/examples/mnist/lenet_consolidated_solver.prototxt";
  if (!fs::exists(p))
    GTEST_SKIP() << p << " is absent";
  pb::SolverParameter s;
  readTextProto(p, s);
  pb::NetParameter n = s.net_param();
  upgradeNet(n);
  ASSERT_EQ(s.test_state_size(), 2);
  auto train = includedNames(n, pb::TRAIN);
  auto onTest = includedNames(n, pb::TEST, {s.test_state(0).stage().begin(), s.test_state(0).stage().end()});
  auto onTrain = includedNames(n, pb::TEST, {s.test_state(1).stage().begin(), s.test_state(1).stage().end()});
  auto none = includedNames(n, pb::TEST);
  EXPECT_EQ(train.size(), 10u);
  EXPECT_EQ(train[0], "mnist:examples/mnist/mnist_train_lmdb");
  EXPECT_EQ(onTest.size(), 10u);
  EXPECT_EQ(onTest[0], "mnist:examples/mnist/mnist_test_lmdb");
  EXPECT_EQ(onTrain.size(), 10u);
  EXPECT_EQ(onTrain[0], "mnist:examples/mnist/mnist_train_lmdb");
  EXPECT_EQ(none.size(), 9u); // no data layer without a stage
  EXPECT_EQ(none[0], "conv1");
}

TEST(NetFilter, RuleSemantics) {
  auto n = parseNet(R"(
    layer { name: "all" }
    layer { name: "train" include { phase: TRAIN } }
    layer { name: "notTrain" exclude { phase: TRAIN } }
    layer { name: "lvl" include { min_level: 1 max_level: 2 } }
    layer { name: "ab" include { stage: "a" stage: "b" } }
    layer { name: "aNotB" include { stage: "a" not_stage: "b" } }
    layer { name: "aOrB" include { stage: "a" } include { stage: "b" } }
    layer { name: "exclB" exclude { stage: "b" } }
  )");
  using V = std::vector<std::string>;
  EXPECT_EQ(includedNames(n, pb::TRAIN), (V{"all", "train", "exclB"}));
  EXPECT_EQ(includedNames(n, pb::TEST), (V{"all", "notTrain", "exclB"}));
  EXPECT_EQ(includedNames(n, pb::TEST, {}, 1), (V{"all", "notTrain", "lvl", "exclB"}));
  EXPECT_EQ(includedNames(n, pb::TEST, {}, 3), (V{"all", "notTrain", "exclB"}));
  EXPECT_EQ(includedNames(n, pb::TEST, {"a"}), (V{"all", "notTrain", "aNotB", "aOrB", "exclB"}));
  EXPECT_EQ(includedNames(n, pb::TEST, {"a", "b"}), (V{"all", "notTrain", "ab", "aOrB"}));
  EXPECT_EQ(includedNames(n, pb::TEST, {"b"}), (V{"all", "notTrain", "aOrB"}));
  auto both = parseNet("layer { name: \"x\" include { phase: TRAIN } exclude { phase: TEST } }");
  expectError<NetError>([&] { includedNames(both, pb::TRAIN); }, {"'x'", "not both"});
}

// ---- construction errors

TEST(NetBuild, ErrorsNameTheLayer) {
  Context ctx(device());
  const std::string in = R"(layer { name: "in" type: "Input" top: "x" input_param { shape { dim: 2 dim: 3 } } } )";
  expectError<NetError>(
      [&] { Net(parseNet(in + "layer { name: \"odd\" type: \"Bogus\" bottom: \"x\" top: \"y\" }"), pb::TRAIN, ctx); },
      {"'odd'", "Bogus"});
  expectError<NetError>(
      [&] {
        Net(parseNet(in + "layer { name: \"f\" type: \"Flatten\" bottom: \"nothere\" top: \"y\" }"), pb::TRAIN, ctx);
      },
      {"'f'", "nothere"});
  expectError<NetError>(
      [&] {
        Net(parseNet(in + R"(layer { name: "in2" type: "Input" top: "z" input_param { shape { dim: 2 dim: 4 } } }
                             layer { name: "pair" type: "TestPair" bottom: "x" bottom: "z" top: "y" })"),
            pb::TRAIN, ctx);
      },
      {"'pair'", "2x3 vs 2x4"});
  expectError<NetError>(
      [&] {
        Net(parseNet(
                R"(layer { name: "in" type: "Input" top: "x" include { phase: TRAIN } input_param { shape { dim: 2 } } }
                        layer { name: "f" type: "Flatten" bottom: "x" top: "y" })"),
            pb::TEST, ctx);
      },
      {"'f'", "bottom 'x'", "layer 'in' has it", "phase TEST"});
  expectError<NetError>(
      [&] { Net(parseNet(in + "layer { name: \"p1\" type: \"TestPair\" bottom: \"x\" top: \"y\" }"), pb::TRAIN, ctx); },
      {"'p1'", "bottoms"});
  expectError<NetError>(
      [&] { Net(parseNet(in + "layer { name: \"fl\" type: \"Flatten\" bottom: \"x\" top: \"x\" }"), pb::TRAIN, ctx); },
      {"'fl'", "in place"});
  expectError<NetError>(
      [&] {
        Net(parseNet(in +
                     "layer { name: \"f3\" type: \"Flatten\" bottom: \"x\" top: \"y\" flatten_param { axis: 3 } }"),
            pb::TRAIN, ctx);
      },
      {"'f3'", "axis 3"});
  expectError<NetError>(
      [&] {
        Net(parseNet(in + "layer { name: \"dup\" type: \"TestScale\" bottom: \"x\" top: \"y\" } layer { name: \"dup2\" "
                          "type: \"TestScale\" bottom: \"x\" top: \"y\" }"),
            pb::TRAIN, ctx);
      },
      {"'dup2'", "already produced"});
  expectError<NetError>(
      [&] {
        Net(parseNet(
                R"(layer { name: "in" type: "Input" top: "a" top: "b" input_param { shape { dim: 1 } shape { dim: 2 } shape { dim: 3 } } })"),
            pb::TRAIN, ctx);
      },
      {"'in'", "3 shapes for 2 tops"});
}

// ---- splits, losses, backward

const char *kSplitNet = R"(
  name: "split"
  layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 4 dim: 5 } } }
  layer { name: "bias" type: "TestBias" bottom: "data" top: "x" }
  layer { name: "s1" type: "TestScale" bottom: "x" top: "s1" power_param { scale: 2 } }
  layer { name: "s2" type: "TestScale" bottom: "x" top: "s2" power_param { scale: 3 } }
  layer { name: "probe" type: "TestScale" bottom: "x" top: "probe" }
  layer { name: "loss1" type: "TestSumLoss" bottom: "s1" top: "loss1" }
  layer { name: "loss2" type: "TestSumLoss" bottom: "s2" top: "loss2" loss_weight: 0.5 }
)";

TEST(NetBuild, ImplicitSplitForwardAndBackward) {
  Context ctx(device());
  Net net(parseNet(kSplitNet), pb::TRAIN, ctx);
  using V = std::vector<std::string>;
  EXPECT_EQ(layerNames(net), (V{"data", "bias", "x_bias_0_split", "s1", "s2", "probe", "loss1", "loss2"}));
  EXPECT_EQ(std::string(net.layers()[2]->type()), "Split");
  EXPECT_EQ(net.topNames()[2], (V{"x_bias_0_split_0", "x_bias_0_split_1", "x_bias_0_split_2"}));
  EXPECT_EQ(net.bottomNames()[3], V{"x_bias_0_split_0"});
  EXPECT_EQ(net.bottomNames()[4], V{"x_bias_0_split_1"});
  EXPECT_EQ(net.bottomNames()[5], V{"x_bias_0_split_2"});
  for (const auto &l : net.layers())
    EXPECT_EQ(l->phase(), pb::TRAIN) << l->name();

  // Backward needs: Input none; the probe leads to no loss.
  EXPECT_FALSE(net.needsBackward(0));
  EXPECT_TRUE(net.needsBackward(1));
  EXPECT_FALSE(net.propagateDown(1)[0]); // data needs no gradient
  EXPECT_TRUE(net.needsBackward(2));
  EXPECT_FALSE(net.needsBackward(5));
  EXPECT_EQ(net.lossWeights(6), std::vector<float>{1.f});
  EXPECT_EQ(net.lossWeights(7), std::vector<float>{0.5f});
  ASSERT_EQ(net.learnableParams().size(), 1u);
  EXPECT_EQ(net.learnableParams()[0].owner, "bias/0");
  // Outputs: probe (weight 0) and both losses.
  std::vector<std::pair<std::string, float>> outs(net.outputs().begin(), net.outputs().end());
  EXPECT_EQ(outs, (std::vector<std::pair<std::string, float>>{{"probe", 0.f}, {"loss1", 1.f}, {"loss2", 0.5f}}));

  std::vector<float> data(120);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = 0.01f * float(i) - 0.3f;
  net.blob("data")->dataFromHost(data);
  double sum = 0;
  for (float v : data)
    sum += v + 0.5;
  // L = 1 * sum(2x) + 0.5 * sum(3x)
  EXPECT_NEAR(net.forward(), 3.5 * sum, 1e-3 * std::fabs(3.5 * sum) + 1e-3);

  // Poison every diff: the probe's split output is not written by any backward and must be zeroed.
  for (const auto &name : net.blobNames())
    net.blob(name)->setDiff(std::nanf(""));
  net.clearParamDiffs();
  net.backward();
  auto db = net.learnableParams()[0].blob->diffToHost();
  ASSERT_EQ(db.size(), 3u);
  for (float v : db)
    EXPECT_NEAR(v, 3.5f * 40.f, 1e-3f); // 2*4*5 elements per channel, each with dL/dx = 2 + 1.5
  // Accumulates.
  net.backward();
  EXPECT_NEAR(net.learnableParams()[0].blob->diffToHost()[0], 2 * 3.5f * 40.f, 1e-3f);
  net.clearParamDiffs();
  EXPECT_EQ(net.learnableParams()[0].blob->diffToHost()[0], 0.f);
}

// The whole net's backward (splits, Flatten, in place, loss weights, force_backward) against finite
// differences of Net::forward() for the input data and the learnable blob.
TEST(NetBuild, NetGradientMatchesFiniteDifferences) {
  Context ctx(device());
  Net net(parseNet(R"(
    force_backward: true
    layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 2 dim: 2 } } }
    layer { name: "bias" type: "TestBias" bottom: "data" top: "x" }
    layer { name: "flat" type: "Flatten" bottom: "x" top: "f" }
    layer { name: "sq" type: "TestSquare" bottom: "f" top: "q" }
    layer { name: "half" type: "TestScale" bottom: "q" top: "q" power_param { scale: 0.5 } }
    layer { name: "loss1" type: "TestSumLoss" bottom: "q" top: "loss1" }
    layer { name: "loss2" type: "TestSumLoss" bottom: "f" top: "loss2" loss_weight: 0.3 }
    layer { name: "neg" type: "TestScale" bottom: "x" top: "n" power_param { scale: -1 } }
    layer { name: "sq2" type: "TestSquare" bottom: "n" top: "n2" }
    layer { name: "loss3" type: "TestSumLoss" bottom: "n2" top: "loss3" loss_weight: 2 }
  )"),
          pb::TRAIN, ctx);
  std::vector<float> data(24);
  for (size_t i = 0; i < data.size(); ++i)
    data[i] = std::sin(1.7f * float(i));
  net.blob("data")->dataFromHost(data);
  net.learnableParams()[0].blob->dataFromHost({0.1f, -0.2f, 0.3f});
  net.forward();
  net.clearParamDiffs();
  net.backward();
  for (Blob *b : {net.blob("data"), net.learnableParams()[0].blob}) {
    const auto analytic = b->diffToHost();
    auto x = b->dataToHost();
    for (size_t i = 0; i < x.size(); ++i) {
      const float h = 1e-2f, orig = x[i];
      x[i] = orig + h;
      b->dataFromHost(x);
      const double lp = net.forward();
      x[i] = orig - h;
      b->dataFromHost(x);
      const double lm = net.forward();
      x[i] = orig;
      b->dataFromHost(x);
      EXPECT_NEAR(analytic[i], (lp - lm) / (2 * h), 2e-2 * std::max(1.0, std::fabs(double(analytic[i])))) << i;
    }
  }
  // Closed form for the data: dL/dx = (x + b) + 0.3 + 4 (x + b).
  const auto d = net.blob("data")->diffToHost();
  EXPECT_NEAR(d[0], 5 * (data[0] + 0.1f) + 0.3f, 1e-4f);
}

TEST(NetBuild, LossTopAlsoReadKeepsItsWeight) {
  Context ctx(device());
  Net net(parseNet(R"(
    layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 } } }
    layer { name: "bias" type: "TestBias" bottom: "data" top: "x" }
    layer { name: "loss" type: "TestSumLoss" bottom: "x" top: "loss" loss_weight: 2 }
    layer { name: "twice" type: "TestScale" bottom: "loss" top: "y" power_param { scale: 3 } }
    layer { name: "loss2" type: "TestSumLoss" bottom: "y" top: "loss2" }
  )"),
          pb::TRAIN, ctx);
  using V = std::vector<std::string>;
  EXPECT_EQ(layerNames(net), (V{"data", "bias", "loss", "loss_loss_0_split", "twice", "loss2"}));
  EXPECT_EQ(net.lossWeights(2), std::vector<float>{0.f}); // moved to split output 0
  EXPECT_EQ(net.lossWeights(3), (std::vector<float>{2.f, 0.f}));
  EXPECT_EQ(net.bottomNames()[4], V{"loss_loss_0_split_1"});
  net.blob("data")->dataFromHost({1, 2, 3, 4, 5, 6});
  const float s = 21 + 6 * 0.5f; // sum(x)
  EXPECT_NEAR(net.forward(), 2 * s + 3 * s, 1e-3);
  net.clearParamDiffs();
  net.backward();
  for (float v : net.learnableParams()[0].blob->diffToHost())
    EXPECT_NEAR(v, 2 * 5.f, 1e-4f); // dL/dx = 2 + 3 per element, two rows per channel
}

TEST(NetBuild, LrMultZeroAndForceBackward) {
  Context ctx(device());
  const std::string text = R"(
    layer { name: "data" type: "Input" top: "data" top: "label" input_param { shape { dim: 2 dim: 3 } shape { dim: 2 } } }
    layer { name: "bias" type: "TestBias" bottom: "data" top: "x" param { lr_mult: 0 decay_mult: 3 } }
    layer { name: "s" type: "TestScale" bottom: "x" top: "x" power_param { scale: 4 } }
    layer { name: "loss" type: "TestSumLoss" bottom: "x" bottom: "label" top: "loss" }
  )";
  Net frozen(parseNet(text), pb::TRAIN, ctx);
  for (size_t i = 0; i < frozen.layers().size(); ++i)
    EXPECT_FALSE(frozen.needsBackward(i)) << frozen.layers()[i]->name();
  ASSERT_EQ(frozen.learnableParams().size(), 1u);
  EXPECT_EQ(frozen.learnableParams()[0].lrMult, 0.f);
  EXPECT_EQ(frozen.learnableParams()[0].decayMult, 3.f);

  std::string twoSpecs = text;
  twoSpecs.replace(twoSpecs.find("decay_mult: 3 }"), 15, "decay_mult: 3 } param { lr_mult: 1 }");
  expectError<NetError>([&] { Net(parseNet(twoSpecs), pb::TRAIN, ctx); }, {"'bias'", "2 param specs for 1"});
  std::string shared = text;
  shared.replace(shared.find("lr_mult: 0"), 10, "name: \"w\"");
  shared += R"(layer { name: "bias2" type: "TestBias" bottom: "data" top: "x2" param { name: "w" } })";
  expectError<NetError>([&] { Net(parseNet(shared), pb::TRAIN, ctx); }, {"'bias2'", "'w'", "not supported"});

  Net forced(parseNet("force_backward: true\n" + text), pb::TRAIN, ctx);
  EXPECT_TRUE(forced.needsBackward(1));
  EXPECT_TRUE(forced.needsBackward(2));                                 // in place
  EXPECT_EQ(forced.propagateDown(3), (std::vector<bool>{true, false})); // no gradient for the label
  forced.blob("data")->dataFromHost({1, 2, 3, 4, 5, 6});
  EXPECT_NEAR(forced.forward(), 4 * (21 + 3), 1e-3);
  forced.backward();
  for (float v : forced.blob("data")->diffToHost())
    EXPECT_NEAR(v, 4.f, 1e-5f);
}

TEST(NetBuild, InPlaceAndPropagateDown) {
  Context ctx(device());
  Net net(parseNet(R"(
    layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 2 dim: 2 } } }
    layer { name: "bias" type: "TestBias" bottom: "data" top: "x" }
    layer { name: "s" type: "TestScale" bottom: "x" top: "x" power_param { scale: -2 } }
    layer { name: "loss" type: "TestSumLoss" bottom: "x" top: "loss" propagate_down: false }
  )"),
          pb::TEST, ctx);
  EXPECT_EQ(net.blob("x"), net.tops()[2][0]);
  EXPECT_EQ(net.bottoms()[2][0], net.tops()[2][0]);
  EXPECT_FALSE(net.needsBackward(3) && net.propagateDown(3)[0]);
  EXPECT_FALSE(net.needsBackward(1)); // nothing below the loss gets a gradient
}

TEST(NetBuild, CopyParamsFrom) {
  Context ctx(device());
  const std::string a = R"(
    layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 } } }
    layer { name: "bias" type: "TestBias" bottom: "data" top: "x" }
    layer { name: "loss" type: "TestSumLoss" bottom: "x" top: "loss" })";
  Net src(parseNet(a), pb::TRAIN, ctx), dst(parseNet(a), pb::TEST, ctx);
  src.learnableParams()[0].blob->dataFromHost({1, 2, 3});
  dst.copyParamsFrom(src);
  EXPECT_EQ(dst.learnableParams()[0].blob->dataToHost(), (std::vector<float>{1, 2, 3}));
  // Host round trip when the contexts' backends differ: a CPU net from this one.
  Context cpu("cpu");
  Net onCpu(parseNet(a), pb::TEST, cpu);
  onCpu.copyParamsFrom(src);
  EXPECT_EQ(onCpu.learnableParams()[0].blob->dataToHost(), (std::vector<float>{1, 2, 3}));
  std::string b = a;
  b.replace(b.find("dim: 3"), 6, "dim: 4");
  Net other(parseNet(b), pb::TEST, ctx);
  expectError<NetError>([&] { other.copyParamsFrom(src); }, {"'bias'", "4", "3"});
}

TEST(NetBuild, ReshapeFollowsTheInput) {
  Context ctx(device());
  Net net(parseNet(R"(
    layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 2 dim: 3 dim: 4 } } }
    layer { name: "flat" type: "Flatten" bottom: "data" top: "flat" }
    layer { name: "bias" type: "TestBias" bottom: "flat" top: "x" }
  )"),
          pb::TEST, ctx);
  EXPECT_EQ(net.blob("x")->shape(), (Shape{2, 12}));
  net.blob("data")->reshape({5, 3, 2});
  net.reshape();
  EXPECT_EQ(net.blob("flat")->shape(), (Shape{5, 6}));
  EXPECT_EQ(net.blob("x")->shape(), (Shape{5, 6}));
  std::vector<float> v(30, 1.f);
  net.blob("data")->dataFromHost(v);
  net.forward();
  EXPECT_EQ(net.blob("x")->dataToHost(), std::vector<float>(30, 1.5f));
}

// ---- structural layers

TEST(StructuralLayers, FlattenShapesAndSharing) {
  Context ctx(device());
  struct Case {
    int axis, end;
    Shape want;
  };
  for (const Case &c : {Case{1, -1, {2, 60}}, Case{2, 3, {2, 3, 20}}, Case{1, 2, {2, 12, 5}}, Case{0, -1, {120}},
                        Case{-3, -2, {2, 12, 5}}, Case{3, 3, {2, 3, 4, 5}}}) {
    pb::LayerParameter p;
    p.set_name("flat");
    p.set_type("Flatten");
    p.mutable_flatten_param()->set_axis(c.axis);
    p.mutable_flatten_param()->set_end_axis(c.end);
    auto layer = createLayer(p, ctx);
    Blob x(ctx, {2, 3, 4, 5}), y(ctx);
    layer->setUp({&x}, {&y});
    layer->reshape({&x}, {&y});
    EXPECT_EQ(y.shape(), c.want) << c.axis << " " << c.end;
    EXPECT_EQ(y.data(), x.data());
  }
  pb::LayerParameter bad;
  bad.set_name("flatbad");
  bad.set_type("Flatten");
  bad.mutable_flatten_param()->set_axis(2);
  bad.mutable_flatten_param()->set_end_axis(1);
  auto layer = createLayer(bad, ctx);
  Blob x(ctx, {2, 3, 4}), y(ctx);
  expectError<NetError>([&] { layer->setUp({&x}, {&y}); }, {"'flatbad'", "end_axis"});
}

TEST(StructuralLayers, FlattenGradient) {
  Context ctx(device());
  pb::LayerParameter p;
  p.set_name("flat");
  p.set_type("Flatten");
  auto layer = createLayer(p, ctx);
  Blob x(ctx, {2, 3, 2, 2}), y(ctx);
  std::vector<float> v(24);
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = std::sin(float(i));
  x.dataFromHost(v);
  EXPECT_TRUE(testing::checkGradients(*layer, {&x}, {&y}));
}

TEST(StructuralLayers, SplitGradientSumsTopDiffs) {
  Context ctx(device());
  pb::LayerParameter p;
  p.set_name("sp");
  p.set_type("Split");
  auto layer = createLayer(p, ctx);
  Blob x(ctx, {2, 3, 4}), y0(ctx), y1(ctx), y2(ctx);
  std::vector<float> v(24);
  for (size_t i = 0; i < v.size(); ++i)
    v[i] = std::cos(float(i));
  x.dataFromHost(v);
  EXPECT_TRUE(testing::checkGradients(*layer, {&x}, {&y0, &y1, &y2}));
  EXPECT_EQ(y1.dataToHost(), v);
  // Exactly the sum, with NaN in the old bottom diff ignored.
  y0.diffFromHost(std::vector<float>(24, 1.f));
  y1.diffFromHost(std::vector<float>(24, 2.f));
  y2.diffFromHost(std::vector<float>(24, -0.5f));
  x.setDiff(std::nanf(""));
  layer->backward({&y0, &y1, &y2}, {true}, {&x});
  EXPECT_EQ(x.diffToHost(), std::vector<float>(24, 2.5f));
}

TEST(StructuralLayers, InputShapes) {
  Context ctx(device());
  Net net(
      parseNet(
          R"(layer { name: "in" type: "Input" top: "a" top: "b" input_param { shape { dim: 4 dim: 1 dim: 28 dim: 28 } } })"),
      pb::TEST, ctx);
  EXPECT_EQ(net.blob("a")->shape(), (Shape{4, 1, 28, 28}));
  EXPECT_EQ(net.blob("b")->shape(), (Shape{4, 1, 28, 28}));
  EXPECT_EQ(net.blobNames(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(net.forward(), 0.f);
}

// ---- describe() of Caffe's deploy nets (needs the vision and activation layers)

TEST(NetDescribe, DeployNets) {
  if (!fs::is_directory(sharedModels()))
    GTEST_SKIP() << sharedModels() << " is absent";
  for (const char *t : {"Convolution", "Pooling", "InnerProduct", "ReLU", "Softmax", "LRN", "Dropout"})
    if (!layerRegistry().count(t))
      GTEST_SKIP() << "layer type " << t << " is not linked in yet";
  Context ctx(device());
  struct Case {
    const char *file;
    std::vector<std::string> needles;
  };
  for (const Case &c : std::vector<Case>{
           {"examples/mnist/lenet.prototxt",
            {"conv1 64x20x24x24", "pool2 64x50x4x4", "ip1 64x500", "prob 64x10", "total learnable parameters: 431080"}},
           {"examples/cifar10/cifar10_quick.prototxt",
            {"conv1 1x32x32x32", "pool3 1x64x4x4", "ip2 1x10", "total learnable parameters: 145578"}},
           {"models/bvlc_alexnet/deploy.prototxt",
            {"conv1 10x96x55x55", "pool1 10x96x27x27", "conv2 10x256x27x27", "pool5 10x256x6x6", "fc6 10x4096",
             "prob 10x1000", "total learnable parameters: 60965224"}}}) {
    pb::NetParameter n;
    readTextProto(sharedModels() + "/" + c.file, n);
    Net net(n, pb::TEST, ctx);
    const std::string d = net.describe();
    for (const auto &needle : c.needles)
      EXPECT_NE(d.find(needle), std::string::npos) << c.file << " lacks '" << needle << "' in\n" << d;
  }
}

} // namespace
} // namespace lamina::engine

namespace {
// The context says which backend its handle runs on (copyParamsFrom and the solver rely on it).
TEST(Context, ReportsItsBackend) {
  lamina::engine::Context ctx(lt::testBackend() == LAMINA_BACKEND_CUDA ? "cuda" : "cpu");
  laminaBackend_t b = LAMINA_BACKEND_CPU;
  ASSERT_EQ(laminaGetBackend(ctx.h(), &b), LAMINA_STATUS_SUCCESS);
  EXPECT_EQ(ctx.backend, b);
  EXPECT_EQ(ctx.backend, lt::testBackend());
  EXPECT_EQ(ctx.device, 0);
}
} // namespace
