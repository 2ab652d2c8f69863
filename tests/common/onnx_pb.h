// Minimal reader of the ONNX protobuf files the node tests ship (model.onnx, input_*.pb, output_*.pb).
// A hand-written wire-format decoder: no protobuf library, no generated code. It knows only the
// fields the node-test runner needs and skips every other field, so newer files still parse.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace onnxpb {

// TensorProto.DataType values used by the tests.
enum DataType : int32_t {
  kUndefined = 0,
  kFloat = 1,
  kUint8 = 2,
  kInt8 = 3,
  kUint16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,
  kBool = 9,
  kFloat16 = 10,
  kDouble = 11,
  kUint32 = 12,
  kUint64 = 13,
  kBfloat16 = 16
};
const char *dataTypeName(int32_t t);

struct ParseError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A tensor's values, converted to double whatever the stored type (exact for every type the
// tests use but int64 beyond 2^53, which none of them reaches).
struct Tensor {
  std::string name;
  int32_t dataType = kUndefined;
  std::vector<int64_t> dims; // empty for a scalar
  std::vector<double> values;
  int64_t numel() const;
};

// AttributeProto.AttributeType values.
enum AttrType : int32_t {
  kAttrFloat = 1,
  kAttrInt = 2,
  kAttrString = 3,
  kAttrTensor = 4,
  kAttrGraph = 5,
  kAttrFloats = 6,
  kAttrInts = 7,
  kAttrStrings = 8
};

struct Attribute {
  std::string name;
  int32_t type = 0;
  float f = 0;
  int64_t i = 0;
  std::string s;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  bool hasTensor = false;
  Tensor t;
};

struct Node {
  std::string name, opType, domain;
  std::vector<std::string> inputs, outputs; // an empty name marks an omitted optional argument
  std::vector<Attribute> attributes;

  const Attribute *find(const std::string &attr) const;
  int64_t getInt(const std::string &attr, int64_t def) const;
  float getFloat(const std::string &attr, float def) const;
  std::string getString(const std::string &attr, const std::string &def) const;
  std::vector<int64_t> getInts(const std::string &attr, const std::vector<int64_t> &def) const;
};

// A graph input or output: name, element type and shape (-1 for a symbolic dim).
struct ValueInfo {
  std::string name;
  int32_t elemType = kUndefined;
  bool hasShape = false;
  std::vector<int64_t> dims;
};

struct Graph {
  std::string name;
  std::vector<Node> nodes;
  std::vector<Tensor> initializers;
  std::vector<ValueInfo> inputs, outputs;
};

struct OperatorSet {
  std::string domain; // "" or "ai.onnx" is the default domain
  int64_t version = 0;
};

struct Model {
  int64_t irVersion = 0;
  std::string producerName;
  std::vector<OperatorSet> opsets;
  Graph graph;
  // Opset version of the default ONNX domain (0 when not imported).
  int64_t defaultOpset() const;
};

Model parseModel(const std::string &bytes);
Tensor parseTensor(const std::string &bytes);

std::string readFile(const std::string &path); // throws ParseError when unreadable
inline Model loadModel(const std::string &path) { return parseModel(readFile(path)); }
inline Tensor loadTensor(const std::string &path) { return parseTensor(readFile(path)); }

// IEEE binary16 and bfloat16 bit patterns to double (exact).
double halfBitsToDouble(uint16_t bits);
double bf16BitsToDouble(uint16_t bits);

} // namespace onnxpb
