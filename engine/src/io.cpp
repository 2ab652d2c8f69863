// Prototxt reading with protobuf's full text-format parser, and the V1 / legacy-input upgrades.
#include "engine/src/io.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

namespace lamina::engine {

namespace pb = ::lamina::net;
namespace gp = ::google::protobuf;

namespace {

// Keeps the first error (protobuf reports 0-based line and column; we print 1-based).
class FirstErrorCollector : public gp::io::ErrorCollector {
public:
  void AddError(int line, gp::io::ColumnNumber column, const std::string &message) override {
    if (has)
      return;
    has = true;
    this->line = line;
    this->column = column;
    this->message = message;
  }
  void AddWarning(int, gp::io::ColumnNumber, const std::string &) override {}
  bool has = false;
  int line = 0, column = 0;
  std::string message;
};

std::string readFile(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    throw ParseError(path + ": cannot open file");
  std::ostringstream s;
  s << f.rdbuf();
  if (f.bad())
    throw ParseError(path + ": read error");
  return s.str();
}

// Parses without throwing; on failure fills the collector.
bool tryParse(const std::string &text, gp::Message &msg, FirstErrorCollector &errors) {
  gp::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  parser.AllowUnknownField(false);
  parser.AllowUnknownExtension(false);
  bool ok = parser.ParseFromString(text, &msg);
  if (!ok && !errors.has) {
    errors.has = true;
    errors.message = "parse error";
  }
  return ok;
}

const std::map<pb::V1LayerParameter::LayerType, const char *> &v1TypeNames() {
  static const std::map<pb::V1LayerParameter::LayerType, const char *> m = {
      {pb::V1LayerParameter::ACCURACY, "Accuracy"},
      {pb::V1LayerParameter::CONCAT, "Concat"},
      {pb::V1LayerParameter::CONVOLUTION, "Convolution"},
      {pb::V1LayerParameter::DATA, "Data"},
      {pb::V1LayerParameter::DROPOUT, "Dropout"},
      {pb::V1LayerParameter::EUCLIDEAN_LOSS, "EuclideanLoss"},
      {pb::V1LayerParameter::ELTWISE, "Eltwise"},
      {pb::V1LayerParameter::FLATTEN, "Flatten"},
      {pb::V1LayerParameter::INNER_PRODUCT, "InnerProduct"},
      {pb::V1LayerParameter::LRN, "LRN"},
      {pb::V1LayerParameter::POOLING, "Pooling"},
      {pb::V1LayerParameter::POWER, "Power"},
      {pb::V1LayerParameter::RELU, "ReLU"},
      {pb::V1LayerParameter::SIGMOID, "Sigmoid"},
      {pb::V1LayerParameter::SIGMOID_CROSS_ENTROPY_LOSS, "SigmoidCrossEntropyLoss"},
      {pb::V1LayerParameter::SOFTMAX, "Softmax"},
      {pb::V1LayerParameter::SOFTMAX_LOSS, "SoftmaxWithLoss"},
      {pb::V1LayerParameter::SPLIT, "Split"},
      {pb::V1LayerParameter::TANH, "TanH"},
  };
  return m;
}

void upgradeV1Layer(const pb::V1LayerParameter &v1, pb::LayerParameter &l) {
  l.set_name(v1.name());
  auto it = v1TypeNames().find(v1.type());
  if (it == v1TypeNames().end())
    throw ParseError("layer '" + v1.name() + "': V1 layer type " + pb::V1LayerParameter::LayerType_Name(v1.type()) +
                     " has no current equivalent");
  l.set_type(it->second);
  for (const auto &b : v1.bottom())
    l.add_bottom(b);
  for (const auto &t : v1.top())
    l.add_top(t);
  for (const auto &r : v1.include())
    *l.add_include() = r;
  for (const auto &r : v1.exclude())
    *l.add_exclude() = r;
  for (const auto &b : v1.blobs())
    *l.add_blobs() = b;
  for (float w : v1.loss_weight())
    l.add_loss_weight(w);
  // V1 kept per-blob names, learning rates and decays in three parallel lists; now one ParamSpec each.
  const int nParams = std::max({v1.param_size(), v1.blobs_lr_size(), v1.weight_decay_size()});
  for (int i = 0; i < nParams; ++i) {
    pb::ParamSpec *p = l.add_param();
    if (i < v1.param_size())
      p->set_name(v1.param(i));
    if (i < v1.blobs_lr_size())
      p->set_lr_mult(v1.blobs_lr(i));
    if (i < v1.weight_decay_size())
      p->set_decay_mult(v1.weight_decay(i));
  }
#define LAMINA_V1_COPY(FIELD)                                                                                          \
  if (v1.has_##FIELD())                                                                                                \
  *l.mutable_##FIELD() = v1.FIELD()
  LAMINA_V1_COPY(accuracy_param);
  LAMINA_V1_COPY(concat_param);
  LAMINA_V1_COPY(convolution_param);
  LAMINA_V1_COPY(data_param);
  LAMINA_V1_COPY(dropout_param);
  LAMINA_V1_COPY(eltwise_param);
  LAMINA_V1_COPY(inner_product_param);
  LAMINA_V1_COPY(lrn_param);
  LAMINA_V1_COPY(pooling_param);
  LAMINA_V1_COPY(power_param);
  LAMINA_V1_COPY(relu_param);
  LAMINA_V1_COPY(sigmoid_param);
  LAMINA_V1_COPY(softmax_param);
  LAMINA_V1_COPY(tanh_param);
  LAMINA_V1_COPY(transform_param);
  LAMINA_V1_COPY(loss_param);
#undef LAMINA_V1_COPY
}

// The net-level `input` + `input_shape` / `input_dim` form becomes one Input layer in front.
void upgradeInputs(pb::NetParameter &net) {
  if (net.input_size() == 0) {
    if (net.input_shape_size() || net.input_dim_size())
      throw ParseError("net '" + net.name() + "': input_shape / input_dim given without `input`");
    return;
  }
  pb::LayerParameter in;
  in.set_name("input");
  in.set_type("Input");
  const int n = net.input_size();
  const bool byShape = net.input_shape_size() > 0;
  if (byShape && net.input_dim_size())
    throw ParseError("net '" + net.name() + "': both input_shape and input_dim given");
  if (byShape && net.input_shape_size() != n && net.input_shape_size() != 1)
    throw ParseError("net '" + net.name() + "': " + std::to_string(n) + " inputs but " +
                     std::to_string(net.input_shape_size()) + " input_shape entries");
  if (!byShape && net.input_dim_size() != 4 * n)
    throw ParseError("net '" + net.name() + "': " + std::to_string(n) + " inputs need " + std::to_string(4 * n) +
                     " input_dim values, got " + std::to_string(net.input_dim_size()));
  for (int i = 0; i < n; ++i) {
    in.add_top(net.input(i));
    pb::BlobShape *s = in.mutable_input_param()->add_shape();
    if (byShape) {
      *s = net.input_shape(net.input_shape_size() == 1 ? 0 : i);
    } else {
      for (int d = 0; d < 4; ++d)
        s->add_dim(net.input_dim(4 * i + d));
    }
  }
  net.clear_input();
  net.clear_input_shape();
  net.clear_input_dim();
  auto *layers = net.mutable_layer();
  layers->Add(std::move(in));
  // Move the new layer to the front.
  for (int i = layers->size() - 1; i > 0; --i)
    layers->SwapElements(i, i - 1);
}

} // namespace

void parseTextProto(const std::string &text, const std::string &nameForErrors, gp::Message &msg) {
  FirstErrorCollector errors;
  if (!tryParse(text, msg, errors)) {
    std::ostringstream o;
    o << nameForErrors << ":" << errors.line + 1 << ":" << errors.column + 1 << ": " << errors.message;
    throw ParseError(o.str());
  }
}

void readTextProto(const std::string &path, gp::Message &msg) { parseTextProto(readFile(path), path, msg); }

void upgradeNet(pb::NetParameter &net) {
  if (net.layers_size() > 0) {
    if (net.layer_size() > 0)
      throw ParseError("net '" + net.name() + "': has both `layer` (current) and `layers` (V1) entries");
    for (const auto &v1 : net.layers())
      upgradeV1Layer(v1, *net.add_layer());
    net.clear_layers();
  }
  upgradeInputs(net);
}

bool looksLikeSolver(const std::string &path) {
  const std::string text = readFile(path);
  FirstErrorCollector asNet, asSolver;
  pb::NetParameter net;
  pb::SolverParameter solver;
  if (tryParse(text, net, asNet))
    return false;
  if (tryParse(text, solver, asSolver))
    return true;
  // Malformed either way: the reading that got further is the more likely intent.
  return std::make_pair(asSolver.line, asSolver.column) > std::make_pair(asNet.line, asNet.column);
}

} // namespace lamina::engine
