// The ONNX protobuf decoder (tests/common/onnx_pb) on hand-encoded messages, so it is checked even
// where the ONNX test data is not installed: every storage form the node tests use, packed and
// unpacked repeated fields, skipped unknown fields, and malformed input.
#include "common/onnx_pb.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

namespace {

// A tiny protobuf encoder for building test messages.
struct Enc {
  std::string s;
  Enc &varint(uint64_t v) {
    do {
      uint8_t b = v & 0x7f;
      v >>= 7;
      s.push_back(char(v ? b | 0x80 : b));
    } while (v);
    return *this;
  }
  Enc &key(uint32_t field, uint32_t wire) { return varint(uint64_t(field) << 3 | wire); }
  Enc &vint(uint32_t field, uint64_t v) { return key(field, 0).varint(v); }
  Enc &bytes(uint32_t field, const std::string &b) {
    key(field, 2).varint(b.size());
    s += b;
    return *this;
  }
  Enc &f32(uint32_t field, float f) {
    key(field, 5);
    return raw(&f, 4);
  }
  Enc &f64(uint32_t field, double d) {
    key(field, 1);
    return raw(&d, 8);
  }
  Enc &raw(const void *p, size_t n) { // little-endian host assumed, as ONNX's raw_data is
    s.append(static_cast<const char *>(p), n);
    return *this;
  }
};

TEST(OnnxPb, FloatTensorPackedAndUnpacked) {
  Enc floats;
  for (float f : {1.5f, -2.25f, 3e-8f, 0.0f, 1e30f, -7.0f})
    floats.raw(&f, 4);
  Enc t;
  t.vint(1, 2).vint(1, 3).vint(2, onnxpb::kFloat).bytes(8, "x").bytes(4, floats.s);
  t.f64(99, 1.0).key(98, 5).raw("abcd", 4).bytes(97, "unknown"); // unknown fields are skipped
  onnxpb::Tensor r = onnxpb::parseTensor(t.s);
  EXPECT_EQ(r.name, "x");
  EXPECT_EQ(r.dims, (std::vector<int64_t>{2, 3}));
  ASSERT_EQ(r.values.size(), 6u);
  EXPECT_EQ(r.values[0], 1.5);
  EXPECT_EQ(r.values[2], double(3e-8f));
  EXPECT_EQ(r.values[4], double(1e30f));
  EXPECT_EQ(r.values[5], -7.0);

  Enc packedDims, t2; // dims packed, float_data unpacked
  packedDims.varint(1).varint(2);
  t2.bytes(1, packedDims.s).vint(2, onnxpb::kFloat).f32(4, 0.5f).f32(4, -0.75f);
  r = onnxpb::parseTensor(t2.s);
  EXPECT_EQ(r.dims, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(r.values, (std::vector<double>{0.5, -0.75}));
}

TEST(OnnxPb, RawDataOfEveryUsedType) {
  const uint16_t halves[] = {0x3c00, 0xc000, 0x7bff, 0x0001, 0x8400};
  Enc h;
  h.vint(1, 5).vint(2, onnxpb::kFloat16).bytes(9, std::string(reinterpret_cast<const char *>(halves), 10));
  auto r = onnxpb::parseTensor(h.s);
  EXPECT_EQ(r.values, (std::vector<double>{1.0, -2.0, 65504.0, std::ldexp(1.0, -24), -std::ldexp(1.0, -14)}));

  const double d[] = {0.1, -1e300};
  Enc dt;
  dt.vint(1, 2).vint(2, onnxpb::kDouble).bytes(9, std::string(reinterpret_cast<const char *>(d), 16));
  EXPECT_EQ(onnxpb::parseTensor(dt.s).values, (std::vector<double>{0.1, -1e300}));

  const int64_t i[] = {-5, 1LL << 40};
  Enc it;
  it.vint(1, 2).vint(2, onnxpb::kInt64).bytes(9, std::string(reinterpret_cast<const char *>(i), 16));
  EXPECT_EQ(onnxpb::parseTensor(it.s).values, (std::vector<double>{-5.0, double(1LL << 40)}));

  const uint8_t u[] = {0, 255, 7};
  Enc ut;
  ut.vint(1, 3).vint(2, onnxpb::kUint8).bytes(9, std::string(reinterpret_cast<const char *>(u), 3));
  EXPECT_EQ(onnxpb::parseTensor(ut.s).values, (std::vector<double>{0, 255, 7}));
}

TEST(OnnxPb, TypedFields) {
  Enc i64, dbl, i32; // int64_data with a negative value (10-byte varint), packed double_data
  i64.varint(uint64_t(int64_t(-3))).varint(12);
  Enc t;
  t.vint(1, 2).vint(2, onnxpb::kInt64).bytes(7, i64.s);
  EXPECT_EQ(onnxpb::parseTensor(t.s).values, (std::vector<double>{-3, 12}));
  double ds[] = {2.5, -0.125};
  dbl.raw(ds, 16);
  Enc t2;
  t2.vint(1, 2).vint(2, onnxpb::kDouble).bytes(10, dbl.s);
  EXPECT_EQ(onnxpb::parseTensor(t2.s).values, (std::vector<double>{2.5, -0.125}));
  i32.varint(0x3800).varint(0xbc00); // float16 bit patterns in int32_data
  Enc t3;
  t3.vint(1, 2).vint(2, onnxpb::kFloat16).bytes(5, i32.s);
  EXPECT_EQ(onnxpb::parseTensor(t3.s).values, (std::vector<double>{0.5, -1.0}));
  Enc t4; // a scalar: no dims, one value
  t4.vint(2, onnxpb::kFloat).f32(4, 4.0f);
  auto s = onnxpb::parseTensor(t4.s);
  EXPECT_TRUE(s.dims.empty());
  EXPECT_EQ(s.values, std::vector<double>{4.0});
}

TEST(OnnxPb, Model) {
  Enc ints, floats;
  ints.varint(1).varint(uint64_t(int64_t(-2)));
  float fl[] = {0.5f, 2.0f};
  floats.raw(fl, 8);
  Enc a1, a2, a3, a4, a5;
  a1.bytes(1, "kernel_shape").vint(20, onnxpb::kAttrInts).bytes(8, ints.s);
  a2.bytes(1, "alpha").vint(20, onnxpb::kAttrFloat).f32(2, 0.25f);
  a3.bytes(1, "auto_pad").vint(20, onnxpb::kAttrString).bytes(4, "SAME_UPPER");
  a4.bytes(1, "group").vint(20, onnxpb::kAttrInt).vint(3, 4);
  a5.bytes(1, "scales").vint(20, onnxpb::kAttrFloats).bytes(7, floats.s).f32(7, 3.0f);
  Enc node;
  node.bytes(1, "X").bytes(1, "").bytes(1, "W").bytes(2, "Y").bytes(3, "n0").bytes(4, "Conv");
  for (Enc *a : {&a1, &a2, &a3, &a4, &a5})
    node.bytes(5, a->s);
  Enc d1, d2, shape, tensorType, type, input, init, graph, opset, opset2, model;
  d1.vint(1, 7);
  d2.bytes(2, "batch"); // symbolic
  shape.bytes(1, d1.s).bytes(1, d2.s);
  tensorType.vint(1, onnxpb::kFloat).bytes(2, shape.s);
  type.bytes(1, tensorType.s);
  input.bytes(1, "X").bytes(2, type.s).bytes(3, "doc");
  init.vint(1, 1).vint(2, onnxpb::kFloat).bytes(8, "W").f32(4, 9.0f);
  graph.bytes(1, node.s).bytes(2, "g").bytes(5, init.s).bytes(11, input.s).bytes(12, input.s);
  opset.bytes(1, "ai.onnx.ml").vint(2, 3);
  opset2.bytes(1, "").vint(2, 13);
  model.vint(1, 7).bytes(2, "backend-test").bytes(7, graph.s).bytes(8, opset.s).bytes(8, opset2.s);

  onnxpb::Model m = onnxpb::parseModel(model.s);
  EXPECT_EQ(m.irVersion, 7);
  EXPECT_EQ(m.producerName, "backend-test");
  EXPECT_EQ(m.defaultOpset(), 13);
  ASSERT_EQ(m.graph.nodes.size(), 1u);
  const onnxpb::Node &n = m.graph.nodes[0];
  EXPECT_EQ(n.opType, "Conv");
  EXPECT_EQ(n.name, "n0");
  EXPECT_EQ(n.inputs, (std::vector<std::string>{"X", "", "W"}));
  EXPECT_EQ(n.outputs, std::vector<std::string>{"Y"});
  EXPECT_EQ(n.getInts("kernel_shape", {}), (std::vector<int64_t>{1, -2}));
  EXPECT_EQ(n.getFloat("alpha", 0), 0.25f);
  EXPECT_EQ(n.getString("auto_pad", ""), "SAME_UPPER");
  EXPECT_EQ(n.getInt("group", 1), 4);
  EXPECT_EQ(n.getInt("absent", 17), 17);
  EXPECT_EQ(n.find("scales")->floats, (std::vector<float>{0.5f, 2.0f, 3.0f}));
  ASSERT_EQ(m.graph.inputs.size(), 1u);
  EXPECT_EQ(m.graph.inputs[0].name, "X");
  EXPECT_EQ(m.graph.inputs[0].elemType, onnxpb::kFloat);
  EXPECT_EQ(m.graph.inputs[0].dims, (std::vector<int64_t>{7, -1}));
  ASSERT_EQ(m.graph.initializers.size(), 1u);
  EXPECT_EQ(m.graph.initializers[0].values, std::vector<double>{9.0});
  EXPECT_EQ(m.graph.outputs.size(), 1u);
}

TEST(OnnxPb, MalformedInputThrows) {
  Enc t;
  t.vint(1, 2).vint(2, onnxpb::kFloat).f32(4, 1.0f); // 2 elements, 1 value
  EXPECT_THROW(onnxpb::parseTensor(t.s), onnxpb::ParseError);
  Enc trunc;
  trunc.bytes(8, "name");
  std::string cut = trunc.s.substr(0, trunc.s.size() - 2);
  EXPECT_THROW(onnxpb::parseTensor(cut), onnxpb::ParseError);
  EXPECT_THROW(onnxpb::parseTensor(std::string("\x80", 1)), onnxpb::ParseError); // unterminated varint
  EXPECT_THROW(onnxpb::parseTensor(std::string("\x0b", 1)), onnxpb::ParseError); // group wire type 3
  Enc raw;
  raw.vint(1, 1).vint(2, onnxpb::kFloat).bytes(9, "abc"); // 3 bytes of float raw_data
  EXPECT_THROW(onnxpb::parseTensor(raw.s), onnxpb::ParseError);
  EXPECT_THROW(onnxpb::loadModel("/nonexistent/model.onnx"), onnxpb::ParseError);
}

} // namespace
