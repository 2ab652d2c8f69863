// MNIST idx -> LMDB conversion and Datum database summaries.
#include "engine/src/data/convert.h"

#include "engine/src/data/datum.h"
#include "engine/src/data/lmdb.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace lamina::engine {

namespace {
constexpr uint32_t kImagesMagic = 0x00000803; // idx3: unsigned bytes, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801; // idx1: unsigned bytes, 1 dimension

uint32_t bigEndian32(const uint8_t *p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

std::vector<uint8_t> readFile(const std::string &path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f)
    throw DataError("MNIST file '" + path + "' cannot be opened");
  const std::streamoff n = f.tellg();
  std::vector<uint8_t> bytes(size_t(n > 0 ? n : 0));
  f.seekg(0);
  if (n > 0 && !f.read(reinterpret_cast<char *>(bytes.data()), n))
    throw DataError("MNIST file '" + path + "' cannot be read");
  return bytes;
}

// Checks an idx header (magic, dims) and the file size; returns the dims.
std::vector<uint32_t> idxHeader(const std::vector<uint8_t> &bytes, const std::string &path, uint32_t magic, int rank,
                                const char *what) {
  const size_t headerBytes = 4 + 4 * size_t(rank);
  if (bytes.size() < headerBytes)
    throw DataError("MNIST file '" + path + "' is truncated: " + std::to_string(bytes.size()) +
                    " bytes, shorter than an idx header");
  const uint32_t m = bigEndian32(bytes.data());
  if (m != magic) {
    char buf[96];
    std::snprintf(buf, sizeof buf, "bad magic number 0x%08x (expected 0x%08x, an %s file)", m, magic, what);
    throw DataError("MNIST file '" + path + "': " + buf);
  }
  std::vector<uint32_t> dims;
  uint64_t payload = 1;
  for (int i = 0; i < rank; ++i) {
    dims.push_back(bigEndian32(bytes.data() + 4 + 4 * i));
    payload *= dims.back();
  }
  const uint64_t expected = headerBytes + payload;
  if (bytes.size() < expected)
    throw DataError("MNIST file '" + path + "' is truncated: " + std::to_string(bytes.size()) +
                    " bytes, its header says " + std::to_string(expected));
  if (bytes.size() > expected)
    throw DataError("MNIST file '" + path + "' is " + std::to_string(bytes.size()) + " bytes, its header says " +
                    std::to_string(expected) + " (not an idx file of this kind, or corrupt)");
  return dims;
}

// Removes an LMDB database directory made by LmdbWriter (its two files, then the empty directory).
void removeDb(const fs::path &dir) {
  std::error_code ec;
  fs::remove(dir / "data.mdb", ec);
  fs::remove(dir / "lock.mdb", ec);
  if (fs::exists(dir) && !fs::remove(dir, ec))
    throw DataError("cannot remove '" + dir.string() + "': it holds other files than an LMDB database");
}
} // namespace

MnistSet readMnist(const std::string &imagesPath, const std::string &labelsPath) {
  const std::vector<uint8_t> img = readFile(imagesPath);
  const std::vector<uint32_t> d = idxHeader(img, imagesPath, kImagesMagic, 3, "idx3 image");
  const std::vector<uint8_t> lab = readFile(labelsPath);
  const std::vector<uint32_t> n = idxHeader(lab, labelsPath, kLabelsMagic, 1, "idx1 label");
  if (d[0] != n[0])
    throw DataError("MNIST files disagree: '" + imagesPath + "' holds " + std::to_string(d[0]) + " images, '" +
                    labelsPath + "' " + std::to_string(n[0]) + " labels");
  if (d[1] == 0 || d[2] == 0 || d[1] > 65535 || d[2] > 65535)
    throw DataError("MNIST file '" + imagesPath + "': bad image size " + std::to_string(d[1]) + "x" +
                    std::to_string(d[2]));
  MnistSet s;
  s.rows = int(d[1]);
  s.cols = int(d[2]);
  s.pixels.assign(img.begin() + 16, img.end());
  s.labels.assign(lab.begin() + 8, lab.end());
  return s;
}

std::string findIdxFile(const std::string &dir, const std::string &stem) {
  const std::string kind = stem.find("images") != std::string::npos ? "idx3" : "idx1";
  const std::string names[] = {stem + "-" + kind + "-ubyte", stem + "." + kind + "-ubyte"};
  std::error_code ec;
  for (const std::string &n : names)
    if (fs::is_regular_file(fs::path(dir) / n, ec))
      return (fs::path(dir) / n).string();
  for (const std::string &n : names)
    if (fs::exists(fs::path(dir) / (n + ".gz"), ec))
      throw DataError("'" + (fs::path(dir) / (n + ".gz")).string() +
                      "' is gzip-compressed: decompress it first (gunzip -k)");
  throw DataError("no MNIST file '" + names[0] + "' (or '" + names[1] + "') in '" + dir +
                  "' (scripts/fetch_mnist.sh fetches them into data/mnist)");
}

void writeMnistLmdb(const MnistSet &set, const std::string &path) {
  LmdbWriter w(path);
  pb::Datum d;
  d.set_channels(1);
  d.set_height(set.rows);
  d.set_width(set.cols);
  const size_t per = size_t(set.rows) * size_t(set.cols);
  std::string value;
  char key[32];
  for (size_t i = 0; i < set.count(); ++i) {
    d.set_data(set.pixels.data() + i * per, per);
    d.set_label(set.labels[i]);
    d.SerializeToString(&value);
    std::snprintf(key, sizeof key, "%08zu", i);
    w.put(key, value);
  }
  w.commit();
}

MnistConvertResult convertMnist(const std::string &idxDir, const std::string &outDir, bool replace) {
  // Read and check everything first: a bad input leaves no partial output.
  MnistSet train = readMnist(findIdxFile(idxDir, "train-images"), findIdxFile(idxDir, "train-labels"));
  MnistSet test = readMnist(findIdxFile(idxDir, "t10k-images"), findIdxFile(idxDir, "t10k-labels"));
  MnistConvertResult r;
  r.trainPath = (fs::path(outDir) / "mnist_train_lmdb").string();
  r.testPath = (fs::path(outDir) / "mnist_test_lmdb").string();
  std::error_code ec;
  for (const std::string &p : {r.trainPath, r.testPath}) {
    if (!fs::exists(p, ec))
      continue;
    if (!replace)
      throw DataError("'" + p + "' already exists (remove it, or pass --force to replace it)");
  }
  fs::create_directories(outDir, ec);
  if (ec)
    throw DataError("cannot create '" + outDir + "': " + ec.message());
  const std::pair<const MnistSet *, std::string> jobs[] = {{&train, r.trainPath}, {&test, r.testPath}};
  for (const auto &[set, path] : jobs) {
    const fs::path tmp = path + ".partial-" + std::to_string(getpid());
    removeDb(tmp);
    writeMnistLmdb(*set, tmp.string());
    if (fs::exists(path, ec))
      removeDb(path);
    fs::rename(tmp, path, ec);
    if (ec)
      throw DataError("cannot rename '" + tmp.string() + "' to '" + path + "': " + ec.message());
  }
  r.trainCount = train.count();
  r.testCount = test.count();
  return r;
}

DatumDbSummary summarizeDatumDb(const std::string &path) {
  LmdbCursor c(LmdbEnv::openReadOnly(path));
  DatumDbSummary s;
  s.count = c.size();
  pb::Datum d;
  for (uint64_t i = 0; i < s.count; ++i) {
    size_t n = 0;
    const void *v = c.value(&n);
    const std::string key = c.key();
    decodeDatum(v, n, "record '" + key + "' of '" + path + "'", d);
    if (i == 0) {
      s.firstKey = key;
      s.channels = d.channels();
      s.height = d.height();
      s.width = d.width();
      s.floatData = d.data().empty();
    }
    s.lastKey = key;
    ++s.labels[d.label()];
    c.next();
  }
  return s;
}

} // namespace lamina::engine
