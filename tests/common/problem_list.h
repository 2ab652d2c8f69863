// The problem-list format shared by the tests and lamina-bench: CSV with a header row, '#' comments
// and blank lines ignored. Columns are looked up by name; absent optional columns take defaults.
// Convolution lists use ../shared/bench/conv_layers.csv's columns
//   name,C,H,W,K,R,S,pad_h,pad_w,stride_h,stride_w
// plus optional N, G (groups), dil_h, dil_w, and for 3-D D, T (filter depth), pad_d, stride_d, dil_d.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lt {

struct ProblemRow {
  std::map<std::string, std::string> cols;
  int line = 0;
  bool has(const std::string &c) const { return cols.count(c) && !cols.at(c).empty(); }
  std::string str(const std::string &c, const std::string &dflt = "") const;
  int64_t num(const std::string &c, int64_t dflt) const; // throws std::runtime_error on junk
  int64_t num(const std::string &c) const;               // required column
};

// Throws std::runtime_error naming the file and line on a malformed file. Keeps only the first
// maxProblems() rows when that is set.
std::vector<ProblemRow> loadProblemList(const std::string &path);
// $LAMINA_TEST_MAX_PROBLEMS: when n > 0, every problem list read here (tests and lamina-bench) keeps
// its first n rows, for slow runs such as compute-sanitizer (scripts/gpu_check.sh); 0 = all.
size_t maxProblems();

struct ConvShape {
  std::string name;
  int spatialDims = 2;
  int64_t N = 1, C = 1, K = 1, G = 1;
  int64_t in[3] = {1, 1, 1}, filt[3] = {1, 1, 1}, pad[3] = {}, stride[3] = {1, 1, 1}, dil[3] = {1, 1, 1};
  // spatial dims are in D, H, W order for 3-D and H, W for 2-D
};
ConvShape convShapeFromRow(const ProblemRow &r, int64_t defaultN);
std::vector<ConvShape> loadConvShapes(const std::string &path, int64_t defaultN);

} // namespace lt
