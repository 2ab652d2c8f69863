// Snapshot files: a small tagged binary format (docs/engine.md, "Snapshot format"). Writes go to
// "<path>.tmp" first and are renamed into place, so a crash mid-write never leaves a torn file.
#include "engine/src/snapshot.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

namespace lamina::engine {

namespace {

constexpr char kWeightsMagic[8] = {'L', 'A', 'M', 'I', 'N', 'A', 'W', '1'};
constexpr char kStateMagic[8] = {'L', 'A', 'M', 'I', 'N', 'A', 'S', '1'};
constexpr uint32_t kMaxRank = 32;

static_assert(sizeof(float) == 4, "the snapshot format stores IEEE float32");

class Writer {
public:
  explicit Writer(const std::string &path) : path_(path), tmp_(path + ".tmp") {
    std::error_code ec; // a missing snapshot directory is made (an error shows at the open)
    if (auto dir = std::filesystem::path(path).parent_path(); !dir.empty())
      std::filesystem::create_directories(dir, ec);
    out_.open(tmp_, std::ios::binary);
    if (!out_)
      throw SnapshotError(path_ + ": cannot open for writing");
  }
  void bytes(const void *p, size_t n) { out_.write(static_cast<const char *>(p), std::streamsize(n)); }
  void u32(uint32_t v) { le(v); }
  void i32(int32_t v) { le(uint32_t(v)); }
  void i64(int64_t v) { le(uint64_t(v)); }
  void str(const std::string &s) {
    u64(s.size());
    bytes(s.data(), s.size());
  }
  void u64(uint64_t v) { le(v); }
  void floats(const std::vector<float> &v) {
    u64(v.size());
    for (float f : v) {
      uint32_t b;
      std::memcpy(&b, &f, 4);
      le(b);
    }
  }
  void blob(const Shape &shape, const std::vector<float> &values) {
    u32(uint32_t(shape.size()));
    for (int64_t d : shape)
      i64(d);
    floats(values);
  }
  void finish() {
    out_.close();
    if (!out_)
      throw SnapshotError(path_ + ": write failed (disk full?)");
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0)
      throw SnapshotError(path_ + ": cannot rename " + tmp_ + " into place");
  }

private:
  template <class T> void le(T v) {
    unsigned char b[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); ++i)
      b[i] = static_cast<unsigned char>(v >> (8 * i));
    bytes(b, sizeof(T));
  }
  std::string path_, tmp_;
  std::ofstream out_;
};

class Reader {
public:
  explicit Reader(const std::string &path) : path_(path), in_(path, std::ios::binary) {
    if (!in_)
      throw SnapshotError(path_ + ": cannot open");
    in_.seekg(0, std::ios::end);
    size_ = uint64_t(in_.tellg());
    in_.seekg(0);
  }
  void bytes(void *p, uint64_t n) {
    if (n > size_ - pos_)
      fail("truncated (needs " + std::to_string(n) + " more bytes at offset " + std::to_string(pos_) + ")");
    in_.read(static_cast<char *>(p), std::streamsize(n));
    pos_ += n;
  }
  uint32_t u32() { return le<uint32_t>(); }
  int32_t i32() { return int32_t(le<uint32_t>()); }
  int64_t i64() { return int64_t(le<uint64_t>()); }
  uint64_t u64() { return le<uint64_t>(); }
  std::string str() {
    uint64_t n = u64();
    if (n > size_ - pos_)
      fail("truncated or corrupt (a string of " + std::to_string(n) + " bytes)");
    std::string s(n, '\0');
    bytes(s.data(), n);
    return s;
  }
  std::vector<float> floats() {
    uint64_t n = u64();
    if (n > (size_ - pos_) / 4)
      fail("truncated or corrupt (" + std::to_string(n) + " floats)");
    std::vector<float> v(n);
    for (float &f : v) {
      uint32_t b = le<uint32_t>();
      std::memcpy(&f, &b, 4);
    }
    return v;
  }
  StoredBlob blob() {
    StoredBlob b;
    uint32_t rank = u32();
    if (rank > kMaxRank)
      fail("corrupt blob rank " + std::to_string(rank));
    for (uint32_t i = 0; i < rank; ++i) {
      int64_t d = i64();
      if (d < 0)
        fail("corrupt blob dimension " + std::to_string(d));
      b.shape.push_back(d);
    }
    b.values = floats();
    if (int64_t(b.values.size()) != shapeCount(b.shape))
      fail("blob of shape " + shapeString(b.shape) + " holds " + std::to_string(b.values.size()) + " values");
    return b;
  }
  void magic(const char (&m)[8], const char *what) {
    char got[8] = {};
    if (size_ < 8)
      fail(std::string("not a ") + what + " file (too short)");
    bytes(got, 8);
    if (std::memcmp(got, m, 8) != 0)
      fail(std::string("not a ") + what + " file (bad magic)");
  }
  void end() {
    if (pos_ != size_)
      fail(std::to_string(size_ - pos_) + " unexpected trailing bytes");
  }
  [[noreturn]] void fail(const std::string &msg) const { throw SnapshotError(path_ + ": " + msg); }

private:
  template <class T> T le() {
    unsigned char b[sizeof(T)];
    bytes(b, sizeof(T));
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
      v |= T(b[i]) << (8 * i);
    return v;
  }
  std::string path_;
  std::ifstream in_;
  uint64_t size_ = 0, pos_ = 0;
};

} // namespace

void saveWeights(const Net &net, const std::string &path) {
  Writer w(path);
  w.bytes(kWeightsMagic, 8);
  uint32_t layers = 0;
  for (const auto &l : net.layers())
    layers += l->blobs().empty() ? 0 : 1;
  w.u32(layers);
  for (const auto &l : net.layers()) {
    if (l->blobs().empty())
      continue;
    w.str(l->name());
    w.str(l->type());
    w.u32(uint32_t(l->blobs().size()));
    for (const auto &b : l->blobs())
      w.blob(b->shape(), b->dataToHost());
  }
  w.finish();
}

int loadWeights(Net &net, const std::string &path) {
  Reader r(path);
  r.magic(kWeightsMagic, "Lamina weights");
  std::map<std::string, std::vector<StoredBlob>> stored;
  uint32_t layers = r.u32();
  for (uint32_t i = 0; i < layers; ++i) {
    std::string name = r.str();
    r.str(); // type: informational
    uint32_t n = r.u32();
    if (n > 1024)
      r.fail("corrupt blob count " + std::to_string(n) + " for layer '" + name + "'");
    auto &v = stored[name];
    for (uint32_t j = 0; j < n; ++j)
      v.push_back(r.blob());
  }
  r.end();
  int copied = 0;
  for (const auto &l : net.layers()) {
    auto it = stored.find(l->name());
    if (it == stored.end())
      continue;
    auto &blobs = l->blobs();
    if (blobs.size() != it->second.size())
      throw SnapshotError(path + ": layer '" + l->name() + "' has " + std::to_string(blobs.size()) +
                          " blobs in the net but " + std::to_string(it->second.size()) + " in the file");
    for (size_t j = 0; j < blobs.size(); ++j) {
      const StoredBlob &s = it->second[j];
      if (s.shape != blobs[j]->shape())
        throw SnapshotError(path + ": layer '" + l->name() + "' blob " + std::to_string(j) + " is " +
                            shapeString(blobs[j]->shape()) + " in the net but " + shapeString(s.shape) +
                            " in the file");
      blobs[j]->dataFromHost(s.values);
    }
    ++copied;
  }
  return copied;
}

void saveSolverState(const SolverStateData &s, const std::string &path) {
  Writer w(path);
  w.bytes(kStateMagic, 8);
  w.i32(s.iter);
  w.i32(s.currentStep);
  w.str(s.solverType);
  w.str(s.weightsFile);
  w.str(s.rng);
  w.floats(s.lossWindow);
  w.u32(uint32_t(s.history.size()));
  for (const auto &h : s.history) {
    w.u32(uint32_t(h.size()));
    for (const auto &b : h)
      w.blob(b.shape, b.values);
  }
  w.u32(uint32_t(s.layerStates.size()));
  for (const auto &kv : s.layerStates) {
    w.str(kv.first);
    w.str(kv.second);
  }
  w.finish();
}

SolverStateData loadSolverState(const std::string &path) {
  Reader r(path);
  r.magic(kStateMagic, "Lamina solver state");
  SolverStateData s;
  s.iter = r.i32();
  s.currentStep = r.i32();
  if (s.iter < 0 || s.currentStep < 0)
    r.fail("corrupt iteration " + std::to_string(s.iter));
  s.solverType = r.str();
  s.weightsFile = r.str();
  s.rng = r.str();
  s.lossWindow = r.floats();
  uint32_t params = r.u32();
  for (uint32_t i = 0; i < params; ++i) {
    uint32_t n = r.u32();
    if (n > 16)
      r.fail("corrupt history count " + std::to_string(n));
    std::vector<StoredBlob> h;
    for (uint32_t j = 0; j < n; ++j)
      h.push_back(r.blob());
    s.history.push_back(std::move(h));
  }
  uint32_t states = r.u32();
  for (uint32_t i = 0; i < states; ++i) {
    std::string name = r.str();
    s.layerStates.emplace_back(name, r.str());
  }
  r.end();
  return s;
}

} // namespace lamina::engine
