// `lamina data mnist <idx-dir> <out-dir>` converts the MNIST idx files into LMDB databases of Datums;
// `lamina data info <lmdb>` summarizes a Datum database (count, shape, label histogram).
#include "engine/cli/commands.h"
#include "engine/src/data/convert.h"

#include <chrono>
#include <cstdio>

namespace lamina::cli {

namespace {
int usage() {
  std::fprintf(stderr, "usage: lamina data mnist <idx-dir> <out-dir> [--force]\n"
                       "       lamina data info <lmdb>\n");
  return 2;
}

int runMnist(const Args &a) {
  if (a.positional.size() != 3)
    return usage();
  const auto t0 = std::chrono::steady_clock::now();
  auto r = engine::convertMnist(a.positional[1], a.positional[2], a.has("force"));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("wrote %s (%zu images)\nwrote %s (%zu images)\n(%.1f s)\n", r.trainPath.c_str(), r.trainCount,
              r.testPath.c_str(), r.testCount, s);
  return 0;
}

int runInfo(const Args &a) {
  if (a.positional.size() != 2)
    return usage();
  auto s = engine::summarizeDatumDb(a.positional[1]);
  std::printf("%s: %llu records", a.positional[1].c_str(), (unsigned long long)s.count);
  if (s.count == 0) {
    std::printf("\n");
    return 0;
  }
  std::printf(", keys %s .. %s\nfirst datum: %dx%dx%d %s\nlabels:", s.firstKey.c_str(), s.lastKey.c_str(), s.channels,
              s.height, s.width, s.floatData ? "float" : "uint8");
  for (const auto &kv : s.labels)
    std::printf(" %d:%llu", kv.first, (unsigned long long)kv.second);
  std::printf("\n");
  return 0;
}

int runData(const Args &a) {
  if (a.positional.empty())
    return usage();
  if (a.positional[0] == "mnist")
    return runMnist(a);
  if (a.positional[0] == "info")
    return runInfo(a);
  return usage();
}
} // namespace

LAMINA_REGISTER_COMMAND(
    data, runData,
    "data mnist <idx-dir> <out-dir> [--force]  MNIST idx files -> <out-dir>/mnist_{train,test}_lmdb\n"
    "  data info <lmdb>                          records, shape and label histogram of a database",
    {"force"});

} // namespace lamina::cli
