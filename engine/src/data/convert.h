// Data set conversion and inspection behind `lamina data`: MNIST idx files into LMDB databases of
// Datums (Caffe's convert_mnist_data layout: keys "%08d", 1 x 28 x 28 uint8 + label), and a summary
// of a Datum database.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace lamina::engine {

// One idx image file and its label file, validated: magic numbers, counts that agree, file sizes
// that match the headers. Throws DataError naming the file for anything else.
struct MnistSet {
  int rows = 0, cols = 0;
  std::vector<uint8_t> pixels; // count x rows x cols
  std::vector<uint8_t> labels; // count
  size_t count() const { return labels.size(); }
};
MnistSet readMnist(const std::string &imagesPath, const std::string &labelsPath);

// The idx file of `stem` ("train-images", "t10k-labels", ...) in dir: "<stem>-idx3-ubyte" (or idx1),
// or the "<stem>.idx3-ubyte" spelling. A ".gz" alone gets an error saying to decompress it.
std::string findIdxFile(const std::string &dir, const std::string &stem);

struct MnistConvertResult {
  std::string trainPath, testPath;
  size_t trainCount = 0, testCount = 0;
};
// Writes <outDir>/mnist_train_lmdb and <outDir>/mnist_test_lmdb. Both inputs are validated before
// anything is written; each database is written under a temporary name and renamed when complete.
// With `replace`, existing databases of those names are removed first (otherwise: an error).
MnistConvertResult convertMnist(const std::string &idxDir, const std::string &outDir, bool replace = false);

// Writes one MNIST set as a Datum LMDB at `path` (must not exist).
void writeMnistLmdb(const MnistSet &set, const std::string &path);

struct DatumDbSummary {
  uint64_t count = 0;
  std::string firstKey, lastKey;
  int channels = 0, height = 0, width = 0;
  bool floatData = false;
  std::map<int, uint64_t> labels; // label -> records
};
// Reads every record (each must decode as a Datum).
DatumDbSummary summarizeDatumDb(const std::string &path);

} // namespace lamina::engine
