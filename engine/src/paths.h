// How relative paths inside solver and net files are resolved. Caffe's files name paths relative
// to a Caffe checkout ("examples/mnist/lenet_train_test.prototxt", "examples/mnist/mnist_train_lmdb");
// here prototxt paths resolve against `root` (e.g. ../shared/caffe-models) and data, mean files and
// snapshot prefixes against `dataRoot` (e.g. data/caffe), so read-only model folders can be used
// while the data and snapshots live elsewhere. Absolute paths are used as they are.
#pragma once

#include <string>

namespace lamina::engine {

struct PathMap {
  std::string root = ".";     // `--root`: where net/solver prototxt paths are found
  std::string dataRoot = "."; // `--data-root`: data sources, mean files, snapshot prefixes
  std::string proto(const std::string &p) const { return join(root, p); }
  std::string data(const std::string &p) const { return join(dataRoot, p); }
  static std::string join(const std::string &base, const std::string &p) {
    if (p.empty() || p[0] == '/' || base.empty() || base == ".")
      return p;
    return base + (base.back() == '/' ? "" : "/") + p;
  }
};

} // namespace lamina::engine
