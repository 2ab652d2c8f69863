// Protobuf wire format, as far as the ONNX node tests need it: every message is a sequence of
// (key = field << 3 | wire type, value) pairs; wire type 0 is a varint, 1 eight little-endian bytes,
// 2 a varint length then that many bytes (strings, sub-messages, packed repeated scalars), 5 four
// little-endian bytes. Unknown fields are skipped by wire type.
#include "common/onnx_pb.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

namespace onnxpb {

namespace {

class Reader {
public:
  Reader(const char *p, size_t n) : p_(reinterpret_cast<const uint8_t *>(p)), end_(p_ + n) {}
  explicit Reader(const std::string &s) : Reader(s.data(), s.size()) {}
  explicit Reader(std::string &&) = delete; // would point into a dead temporary

  bool done() const { return p_ >= end_; }

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      need(1);
      uint8_t b = *p_++;
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80))
        return v;
    }
    throw ParseError("varint longer than 10 bytes");
  }
  uint32_t fixed32() {
    need(4);
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
      v |= uint32_t(p_[i]) << (8 * i);
    p_ += 4;
    return v;
  }
  uint64_t fixed64() {
    need(8);
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
      v |= uint64_t(p_[i]) << (8 * i);
    p_ += 8;
    return v;
  }
  std::string bytes() {
    uint64_t n = varint();
    need(n);
    std::string s(reinterpret_cast<const char *>(p_), size_t(n));
    p_ += n;
    return s;
  }
  // Reads the next key; false at the end of the message.
  bool next(uint32_t &field, uint32_t &wire) {
    if (done())
      return false;
    uint64_t key = varint();
    field = uint32_t(key >> 3);
    wire = uint32_t(key & 7);
    if (field == 0)
      throw ParseError("field number 0");
    return true;
  }
  void skip(uint32_t wire) {
    switch (wire) {
    case 0: varint(); break;
    case 1: fixed64(); break;
    case 2: bytes(); break;
    case 5: fixed32(); break;
    default: throw ParseError("unsupported wire type " + std::to_string(wire));
    }
  }

private:
  void need(uint64_t n) {
    if (uint64_t(end_ - p_) < n)
      throw ParseError("truncated message");
  }
  const uint8_t *p_, *end_;
};

float asFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
double asDouble(uint64_t u) {
  double d;
  std::memcpy(&d, &u, 8);
  return d;
}

// A repeated scalar field, packed (wire type 2) or not; `one` reads a single element.
template <class F> void repeated(Reader &r, uint32_t wire, uint32_t elemWire, F one) {
  if (wire == 2) {
    std::string packed = r.bytes();
    Reader sub(packed);
    while (!sub.done())
      one(sub);
  } else if (wire == elemWire) {
    one(r);
  } else {
    throw ParseError("repeated field with wire type " + std::to_string(wire));
  }
}

void expectWire(uint32_t wire, uint32_t want, const char *what) {
  if (wire != want)
    throw ParseError(std::string(what) + ": wire type " + std::to_string(wire));
}

// Converts raw_data (little-endian, the element type's own encoding) to doubles.
std::vector<double> decodeRaw(const std::string &raw, int32_t type) {
  std::vector<double> v;
  const auto *b = reinterpret_cast<const uint8_t *>(raw.data());
  auto le = [&](size_t at, int n) {
    uint64_t u = 0;
    for (int i = 0; i < n; ++i)
      u |= uint64_t(b[at + i]) << (8 * i);
    return u;
  };
  size_t size = 0;
  switch (type) {
  case kFloat:
  case kInt32:
  case kUint32: size = 4; break;
  case kDouble:
  case kInt64:
  case kUint64: size = 8; break;
  case kFloat16:
  case kBfloat16:
  case kInt16:
  case kUint16: size = 2; break;
  case kInt8:
  case kUint8:
  case kBool: size = 1; break;
  default: throw ParseError(std::string("raw_data of type ") + dataTypeName(type) + " not supported");
  }
  if (raw.size() % size)
    throw ParseError("raw_data size not a multiple of the element size");
  for (size_t at = 0; at < raw.size(); at += size) {
    uint64_t u = le(at, int(size));
    switch (type) {
    case kFloat: v.push_back(asFloat(uint32_t(u))); break;
    case kDouble: v.push_back(asDouble(u)); break;
    case kFloat16: v.push_back(halfBitsToDouble(uint16_t(u))); break;
    case kBfloat16: v.push_back(bf16BitsToDouble(uint16_t(u))); break;
    case kInt64: v.push_back(double(int64_t(u))); break;
    case kUint64: v.push_back(double(u)); break;
    case kInt32: v.push_back(double(int32_t(uint32_t(u)))); break;
    case kUint32: v.push_back(double(uint32_t(u))); break;
    case kInt16: v.push_back(double(int16_t(uint16_t(u)))); break;
    case kUint16: v.push_back(double(uint16_t(u))); break;
    case kInt8: v.push_back(double(int8_t(uint8_t(u)))); break;
    default: v.push_back(double(uint8_t(u))); break; // uint8, bool
    }
  }
  return v;
}

// TensorProto: dims 1, data_type 2, float_data 4, int32_data 5, int64_data 7, name 8, raw_data 9,
// double_data 10, uint64_data 11. int32_data also carries int8/16, uint8/16, bool and the bit
// patterns of float16/bfloat16.
Tensor readTensor(const std::string &msg) {
  Tensor t;
  Reader r(msg);
  std::string raw;
  bool hasRaw = false;
  std::vector<double> typed;   // float_data, int64_data, double_data, uint64_data
  std::vector<int64_t> int32s; // int32_data, converted once the type is known
  uint32_t f, w;
  while (r.next(f, w)) {
    switch (f) {
    case 1: repeated(r, w, 0, [&](Reader &s) { t.dims.push_back(int64_t(s.varint())); }); break;
    case 2: expectWire(w, 0, "data_type"), t.dataType = int32_t(r.varint()); break;
    case 4: repeated(r, w, 5, [&](Reader &s) { typed.push_back(asFloat(s.fixed32())); }); break;
    case 5: repeated(r, w, 0, [&](Reader &s) { int32s.push_back(int64_t(int32_t(uint32_t(s.varint())))); }); break;
    case 7: repeated(r, w, 0, [&](Reader &s) { typed.push_back(double(int64_t(s.varint()))); }); break;
    case 8: expectWire(w, 2, "name"), t.name = r.bytes(); break;
    case 9: expectWire(w, 2, "raw_data"), raw = r.bytes(), hasRaw = true; break;
    case 10: repeated(r, w, 1, [&](Reader &s) { typed.push_back(asDouble(s.fixed64())); }); break;
    case 11: repeated(r, w, 0, [&](Reader &s) { typed.push_back(double(s.varint())); }); break;
    case 13: throw ParseError("tensor '" + t.name + "' has external data");
    default: r.skip(w);
    }
  }
  if (hasRaw) {
    t.values = decodeRaw(raw, t.dataType);
  } else if (!int32s.empty()) {
    for (int64_t v : int32s) {
      if (t.dataType == kFloat16)
        t.values.push_back(halfBitsToDouble(uint16_t(v)));
      else if (t.dataType == kBfloat16)
        t.values.push_back(bf16BitsToDouble(uint16_t(v)));
      else
        t.values.push_back(double(v));
    }
  } else {
    t.values = std::move(typed);
  }
  if (int64_t(t.values.size()) != t.numel())
    throw ParseError("tensor '" + t.name + "': " + std::to_string(t.values.size()) + " values for " +
                     std::to_string(t.numel()) + " elements (unsupported storage?)");
  return t;
}

// AttributeProto: name 1, f 2, i 3, s 4, t 5, g 6, floats 7, ints 8, strings 9, type 20.
Attribute readAttribute(const std::string &msg) {
  Attribute a;
  Reader r(msg);
  uint32_t f, w;
  while (r.next(f, w)) {
    switch (f) {
    case 1: expectWire(w, 2, "attribute name"), a.name = r.bytes(); break;
    case 2: expectWire(w, 5, "attribute f"), a.f = asFloat(r.fixed32()); break;
    case 3: expectWire(w, 0, "attribute i"), a.i = int64_t(r.varint()); break;
    case 4: expectWire(w, 2, "attribute s"), a.s = r.bytes(); break;
    case 5: expectWire(w, 2, "attribute t"), a.t = readTensor(r.bytes()), a.hasTensor = true; break;
    case 7: repeated(r, w, 5, [&](Reader &s) { a.floats.push_back(asFloat(s.fixed32())); }); break;
    case 8: repeated(r, w, 0, [&](Reader &s) { a.ints.push_back(int64_t(s.varint())); }); break;
    case 9: expectWire(w, 2, "attribute strings"), a.strings.push_back(r.bytes()); break;
    case 20: expectWire(w, 0, "attribute type"), a.type = int32_t(r.varint()); break;
    default: r.skip(w); // g, tensors, graphs, doc_string, ref_attr_name...
    }
  }
  return a;
}

// NodeProto: input 1, output 2, name 3, op_type 4, attribute 5, domain 7.
Node readNode(const std::string &msg) {
  Node n;
  Reader r(msg);
  uint32_t f, w;
  while (r.next(f, w)) {
    switch (f) {
    case 1: expectWire(w, 2, "node input"), n.inputs.push_back(r.bytes()); break;
    case 2: expectWire(w, 2, "node output"), n.outputs.push_back(r.bytes()); break;
    case 3: expectWire(w, 2, "node name"), n.name = r.bytes(); break;
    case 4: expectWire(w, 2, "op_type"), n.opType = r.bytes(); break;
    case 5: expectWire(w, 2, "attribute"), n.attributes.push_back(readAttribute(r.bytes())); break;
    case 7: expectWire(w, 2, "domain"), n.domain = r.bytes(); break;
    default: r.skip(w);
    }
  }
  return n;
}

// TensorShapeProto.Dimension: dim_value 1, dim_param 2 (symbolic: kept as -1).
int64_t readDim(const std::string &msg) {
  Reader r(msg);
  int64_t v = -1;
  uint32_t f, w;
  while (r.next(f, w)) {
    if (f == 1 && w == 0)
      v = int64_t(r.varint());
    else
      r.skip(w);
  }
  return v;
}

// ValueInfoProto: name 1, type 2 -> TypeProto: tensor_type 1 -> elem_type 1, shape 2 -> dim 1.
ValueInfo readValueInfo(const std::string &msg) {
  ValueInfo v;
  Reader r(msg);
  uint32_t f, w;
  while (r.next(f, w)) {
    if (f == 1 && w == 2) {
      v.name = r.bytes();
    } else if (f == 2 && w == 2) {
      std::string typeMsg = r.bytes();
      Reader type(typeMsg);
      while (type.next(f, w)) {
        if (f != 1 || w != 2) {
          type.skip(w); // sequence, map, optional types: not used by the mapped tests
          continue;
        }
        std::string tensorMsg = type.bytes();
        Reader tensor(tensorMsg);
        while (tensor.next(f, w)) {
          if (f == 1 && w == 0) {
            v.elemType = int32_t(tensor.varint());
          } else if (f == 2 && w == 2) {
            v.hasShape = true;
            std::string shapeMsg = tensor.bytes();
            Reader shape(shapeMsg);
            while (shape.next(f, w)) {
              if (f == 1 && w == 2)
                v.dims.push_back(readDim(shape.bytes()));
              else
                shape.skip(w);
            }
          } else {
            tensor.skip(w);
          }
        }
      }
    } else {
      r.skip(w);
    }
  }
  return v;
}

// GraphProto: node 1, name 2, initializer 5, input 11, output 12.
Graph readGraph(const std::string &msg) {
  Graph g;
  Reader r(msg);
  uint32_t f, w;
  while (r.next(f, w)) {
    switch (f) {
    case 1: expectWire(w, 2, "node"), g.nodes.push_back(readNode(r.bytes())); break;
    case 2: expectWire(w, 2, "graph name"), g.name = r.bytes(); break;
    case 5: expectWire(w, 2, "initializer"), g.initializers.push_back(readTensor(r.bytes())); break;
    case 11: expectWire(w, 2, "graph input"), g.inputs.push_back(readValueInfo(r.bytes())); break;
    case 12: expectWire(w, 2, "graph output"), g.outputs.push_back(readValueInfo(r.bytes())); break;
    default: r.skip(w);
    }
  }
  return g;
}

} // namespace

const char *dataTypeName(int32_t t) {
  switch (t) {
  case kFloat: return "FLOAT";
  case kUint8: return "UINT8";
  case kInt8: return "INT8";
  case kUint16: return "UINT16";
  case kInt16: return "INT16";
  case kInt32: return "INT32";
  case kInt64: return "INT64";
  case kString: return "STRING";
  case kBool: return "BOOL";
  case kFloat16: return "FLOAT16";
  case kDouble: return "DOUBLE";
  case kUint32: return "UINT32";
  case kUint64: return "UINT64";
  case kBfloat16: return "BFLOAT16";
  default: return "UNKNOWN";
  }
}

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

const Attribute *Node::find(const std::string &attr) const {
  for (const Attribute &a : attributes)
    if (a.name == attr)
      return &a;
  return nullptr;
}
int64_t Node::getInt(const std::string &attr, int64_t def) const {
  const Attribute *a = find(attr);
  return a ? a->i : def;
}
float Node::getFloat(const std::string &attr, float def) const {
  const Attribute *a = find(attr);
  return a ? a->f : def;
}
std::string Node::getString(const std::string &attr, const std::string &def) const {
  const Attribute *a = find(attr);
  return a ? a->s : def;
}
std::vector<int64_t> Node::getInts(const std::string &attr, const std::vector<int64_t> &def) const {
  const Attribute *a = find(attr);
  return a ? a->ints : def;
}

int64_t Model::defaultOpset() const {
  for (const OperatorSet &o : opsets)
    if (o.domain.empty() || o.domain == "ai.onnx")
      return o.version;
  return 0;
}

// ModelProto: ir_version 1, producer_name 2, graph 7, opset_import 8 (domain 1, version 2).
Model parseModel(const std::string &bytes) {
  Model m;
  Reader r(bytes);
  uint32_t f, w;
  while (r.next(f, w)) {
    switch (f) {
    case 1: expectWire(w, 0, "ir_version"), m.irVersion = int64_t(r.varint()); break;
    case 2: expectWire(w, 2, "producer_name"), m.producerName = r.bytes(); break;
    case 7: expectWire(w, 2, "graph"), m.graph = readGraph(r.bytes()); break;
    case 8: {
      expectWire(w, 2, "opset_import");
      OperatorSet o;
      std::string msg = r.bytes();
      Reader s(msg);
      while (s.next(f, w)) {
        if (f == 1 && w == 2)
          o.domain = s.bytes();
        else if (f == 2 && w == 0)
          o.version = int64_t(s.varint());
        else
          s.skip(w);
      }
      m.opsets.push_back(o);
      break;
    }
    default: r.skip(w);
    }
  }
  return m;
}

Tensor parseTensor(const std::string &bytes) { return readTensor(bytes); }

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw ParseError("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double halfBitsToDouble(uint16_t bits) {
  int sign = bits >> 15, exp = (bits >> 10) & 0x1f, mant = bits & 0x3ff;
  double v;
  if (exp == 0)
    v = std::ldexp(double(mant), -24); // subnormal
  else if (exp == 31)
    v = mant ? std::nan("") : INFINITY;
  else
    v = std::ldexp(double(mant | 0x400), exp - 25);
  return sign ? -v : v;
}

double bf16BitsToDouble(uint16_t bits) {
  uint32_t u = uint32_t(bits) << 16;
  return double(asFloat(u));
}

} // namespace onnxpb
