#include "common/problem_list.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace lt {

static std::vector<std::string> splitCsv(const std::string &line) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream ss(line);
  while (std::getline(ss, cur, ',')) {
    size_t b = cur.find_first_not_of(" \t\r"), e = cur.find_last_not_of(" \t\r");
    out.push_back(b == std::string::npos ? "" : cur.substr(b, e - b + 1));
  }
  if (!line.empty() && line.back() == ',')
    out.push_back("");
  return out;
}

std::string ProblemRow::str(const std::string &c, const std::string &dflt) const { return has(c) ? cols.at(c) : dflt; }

int64_t ProblemRow::num(const std::string &c, int64_t dflt) const {
  if (!has(c))
    return dflt;
  const std::string &s = cols.at(c);
  size_t pos = 0;
  long long v = 0;
  try {
    v = std::stoll(s, &pos);
  } catch (...) {
    pos = 0;
  }
  if (pos != s.size())
    throw std::runtime_error("line " + std::to_string(line) + ": column '" + c + "' is not an integer: '" + s + "'");
  return v;
}

int64_t ProblemRow::num(const std::string &c) const {
  if (!has(c))
    throw std::runtime_error("line " + std::to_string(line) + ": required column '" + c + "' is missing");
  return num(c, 0);
}

std::vector<ProblemRow> loadProblemList(const std::string &path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("cannot open problem list '" + path + "'");
  std::vector<std::string> header;
  std::vector<ProblemRow> rows;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    size_t b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#')
      continue;
    auto fields = splitCsv(line);
    if (header.empty()) {
      header = fields;
      continue;
    }
    if (fields.size() != header.size())
      throw std::runtime_error(path + ":" + std::to_string(n) + ": " + std::to_string(fields.size()) +
                               " fields, header has " + std::to_string(header.size()));
    ProblemRow r;
    r.line = n;
    for (size_t i = 0; i < header.size(); ++i)
      r.cols[header[i]] = fields[i];
    rows.push_back(std::move(r));
  }
  // LAMINA_TEST_PROBLEMS=PREFIX keeps the rows whose name starts with it (sanitizer runs on a few rows).
  if (const char *e = std::getenv("LAMINA_TEST_PROBLEMS"); e && *e) {
    const std::string prefix = e;
    rows.erase(std::remove_if(rows.begin(), rows.end(),
                              [&](const ProblemRow &r) {
                                const auto it = r.cols.find("name");
                                return it == r.cols.end() || it->second.rfind(prefix, 0) != 0;
                              }),
               rows.end());
  }
  if (size_t limit = maxProblems(); limit && rows.size() > limit)
    rows.resize(limit);
  return rows;
}

size_t maxProblems() {
  const char *e = std::getenv("LAMINA_TEST_MAX_PROBLEMS");
  if (!e || !*e)
    return 0;
  char *end = nullptr;
  long long n = std::strtoll(e, &end, 10);
  return *end || n < 0 ? 0 : size_t(n);
}

ConvShape convShapeFromRow(const ProblemRow &r, int64_t defaultN) {
  ConvShape s;
  s.name = r.str("name", "row" + std::to_string(r.line));
  s.N = r.num("N", defaultN);
  s.C = r.num("C");
  s.K = r.num("K");
  s.G = r.num("G", 1);
  bool is3d = r.has("D");
  s.spatialDims = is3d ? 3 : 2;
  int o = 0;
  if (is3d) {
    s.in[0] = r.num("D");
    s.filt[0] = r.num("T", 1);
    s.pad[0] = r.num("pad_d", 0);
    s.stride[0] = r.num("stride_d", 1);
    s.dil[0] = r.num("dil_d", 1);
    o = 1;
  }
  s.in[o] = r.num("H");
  s.in[o + 1] = r.num("W");
  s.filt[o] = r.num("R");
  s.filt[o + 1] = r.num("S");
  s.pad[o] = r.num("pad_h", 0);
  s.pad[o + 1] = r.num("pad_w", 0);
  s.stride[o] = r.num("stride_h", 1);
  s.stride[o + 1] = r.num("stride_w", 1);
  s.dil[o] = r.num("dil_h", 1);
  s.dil[o + 1] = r.num("dil_w", 1);
  return s;
}

std::vector<ConvShape> loadConvShapes(const std::string &path, int64_t defaultN) {
  std::vector<ConvShape> out;
  for (const auto &r : loadProblemList(path)) {
    try {
      out.push_back(convShapeFromRow(r, defaultN));
    } catch (const std::exception &e) {
      throw std::runtime_error(path + ": " + e.what());
    }
  }
  return out;
}

} // namespace lt
