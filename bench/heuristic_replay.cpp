// lamina-heuristic-replay: the CUDA backend's PREFER_FASTEST pick, from its estimates alone (no GPU
// needed), for every row of a lamina-bench --csv file, scored against the times that run measured:
// how many picks fall within 10% of the fastest measured algorithm, and which picks differ from the
// ones recorded (a heuristic change checked against past measurements before device time is spent).
// Links the library's objects directly (the estimates are internal). usage:
//   lamina-heuristic-replay BENCH_CSV [--misses]
// The recorded files must come from the same kernels: a kernel change makes its old times stale.
// Without a GPU the sm_90a paths (wgmma, TMA) are not planned, so half/bf16 tensor-core entries are
// estimated by their cp.async plans (the ranking against the other algorithms rarely changes).
#include "core/conv_problem.h"
#include "core/descriptors.h"
#include "lamina/lamina.h"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace lamina;
static std::vector<std::string> split(const std::string &s) {
  std::vector<std::string> out;
  std::string cur;
  bool q = false;
  for (char c : s) {
    if (c == '"')
      q = !q;
    else if (c == ',' && !q)
      out.push_back(cur), cur.clear();
    else
      cur += c;
  }
  out.push_back(cur);
  return out;
}
static std::vector<int64_t> dims(const std::string &s) {
  std::vector<int64_t> v;
  std::stringstream ss(s);
  std::string t;
  while (std::getline(ss, t, 'x'))
    v.push_back(std::stoll(t));
  return v;
}
static std::string shortName(const char *n) {
  std::string s = n;
  if (s == "IMPLICIT_GEMM")
    return "implicit";
  if (s == "IMPLICIT_PRECOMP_GEMM")
    return "precomp";
  if (s == "GEMM")
    return "gemm";
  if (s == "DIRECT")
    return "direct";
  return s;
}
int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: lamina-heuristic-replay BENCH_CSV [--misses]\n");
    return 2;
  }
  std::ifstream f(argv[1]);
  if (!f) {
    std::fprintf(stderr, "lamina-heuristic-replay: cannot read %s\n", argv[1]);
    return 2;
  }
  std::string line;
  std::getline(f, line);
  auto hdr = split(line);
  std::map<std::string, int> col;
  for (size_t i = 0; i < hdr.size(); ++i)
    col[hdr[i]] = int(i);
  struct Row {
    std::vector<std::string> v;
    std::map<std::string, double> ms;
    std::string picked;
  };
  std::map<std::string, Row> rows;
  std::vector<std::string> order;
  while (std::getline(f, line)) {
    auto v = split(line);
    std::string key = v[col["layer"]] + "|" + v[col["config"]] + "|" + v[col["direction"]] + "|" + v[col["batch"]];
    if (!rows.count(key))
      order.push_back(key), rows[key].v = v;
    double ms = v[col["lamina_ms"]].empty() ? NAN : std::stod(v[col["lamina_ms"]]);
    if (!v[col["note"]].empty() && v[col["note"]][0] == '~')
      ms = NAN;
    rows[key].ms[v[col["algorithm"]]] = ms;
    if (v[col["picked"]] == "1")
      rows[key].picked = v[col["algorithm"]];
  }
  int total = 0, good = 0, goodOld = 0, changed = 0;
  for (auto &key : order) {
    Row &r = rows[key];
    auto &v = r.v;
    const std::string dtype = v[col["dtype"]], layout = v[col["layout"]], math = v[col["math"]],
                      dir = v[col["direction"]];
    laminaDataType_t dt = dtype == "half"       ? LAMINA_DATA_HALF
                          : dtype == "bfloat16" ? LAMINA_DATA_BFLOAT16
                          : dtype == "double"   ? LAMINA_DATA_DOUBLE
                                                : LAMINA_DATA_FLOAT;
    laminaTensorFormat_t fmt = layout == "nhwc" ? LAMINA_TENSOR_NHWC : LAMINA_TENSOR_NCHW;
    laminaMathType_t mt = math == "tensor_op" ? LAMINA_TENSOR_OP_MATH
                          : math == "fma"     ? LAMINA_FMA_MATH
                                              : LAMINA_DEFAULT_MATH;
    auto in = dims(v[col["in"]]), fl = dims(v[col["filt"]]), pd = dims(v[col["pad"]]), st = dims(v[col["stride"]]),
         dl = dims(v[col["dil"]]);
    int64_t N = std::stoll(v[col["batch"]]), C = std::stoll(v[col["C"]]), K = std::stoll(v[col["K"]]),
            G = std::stoll(v[col["G"]]);
    // 2-D rows only (the bench's layer list): in = 1xHxW, filt = 1xRxS, pad/stride/dil one or three values.
    int nsp = 2;
    int64_t xd[5] = {N, C, in[1], in[2]}, wd[5] = {K, C / G, fl[1], fl[2]};
    int64_t pads[2] = {pd.size() > 1 ? pd[1] : pd[0], pd.size() > 1 ? pd[2] : pd[0]};
    int64_t strs[2] = {st.size() > 1 ? st[1] : st[0], st.size() > 1 ? st[2] : st[0]};
    int64_t dils[2] = {dl.size() > 1 ? dl[1] : dl[0], dl.size() > 1 ? dl[2] : dl[0]};
    laminaTensorDescriptor_t x, y;
    laminaFilterDescriptor_t w;
    laminaConvolutionDescriptor_t c;
    laminaCreateTensorDescriptor(&x), laminaCreateTensorDescriptor(&y), laminaCreateFilterDescriptor(&w),
        laminaCreateConvolutionDescriptor(&c);
    laminaSetTensorNdDescriptorEx(x, fmt, dt, 4, xd);
    laminaSetFilterNdDescriptor(w, dt, fmt, 4, wd);
    laminaSetConvolutionNdDescriptor(c, nsp, pads, strs, dils, LAMINA_CROSS_CORRELATION,
                                     dt == LAMINA_DATA_DOUBLE ? LAMINA_DATA_DOUBLE : LAMINA_DATA_FLOAT);
    if (G > 1)
      laminaSetConvolutionGroupCount(c, int(G));
    laminaSetConvolutionMathType(c, mt);
    int64_t yd[5];
    laminaGetConvolutionNdForwardOutputDim(c, x, w, 4, yd);
    laminaSetTensorNdDescriptorEx(y, fmt, dt, 4, yd);
    ConvProblem p = makeConvProblem(x->d, "x", w->d, "w", c->d, y->d, "y");
    ConvDirection d = dir == "fwd"        ? ConvDirection::Forward
                      : dir == "bwd_data" ? ConvDirection::BackwardData
                                          : ConvDirection::BackwardFilter;
    std::string pick;
    double best = INFINITY;
    std::string ests;
    for (const ConvAlgorithm *a : cudaConvAlgorithms(d)) {
      if (!a->whyNot(p).empty())
        continue;
      double e = a->estimateMs(p);
      char b[64];
      snprintf(b, sizeof b, " %s~%.3g", shortName(a->name).c_str(), e);
      ests += b;
      if (e < best)
        best = e, pick = shortName(a->name);
    }
    double bestMs = INFINITY;
    for (auto &m : r.ms)
      if (!std::isnan(m.second))
        bestMs = std::min(bestMs, m.second);
    auto within = [&](const std::string &a) {
      return r.ms.count(a) && !std::isnan(r.ms[a]) && r.ms[a] <= 1.1 * bestMs;
    };
    ++total;
    good += within(pick);
    goodOld += within(r.picked);
    if (pick != r.picked) {
      ++changed;
      printf("%-48s was %-9s now %-9s (%s)  measured:", key.c_str(), r.picked.c_str(), pick.c_str(), ests.c_str());
      for (auto &m : r.ms)
        printf(" %s=%.4g", m.first.c_str(), m.second);
      printf("\n");
    } else if (argc > 2 && !within(pick)) {
      printf("MISS %-43s pick %-9s (%s)  measured:", key.c_str(), pick.c_str(), ests.c_str());
      for (auto &m : r.ms)
        printf(" %s=%.4g", m.first.c_str(), m.second);
      printf("\n");
    }
  }
  if (total == 0) {
    std::fprintf(stderr, "lamina-heuristic-replay: no rows in %s\n", argv[1]);
    return 1;
  }
  printf("rows %d: recorded picks within 10%% of best %d (%.1f%%), replayed picks %d (%.1f%%), %d changed\n", total,
         goodOld, 100.0 * goodOld / total, good, 100.0 * good / total, changed);
}
