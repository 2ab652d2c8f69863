#include "reference/tensor_ops_ref.h"

#include <cmath>

namespace ref {

int64_t broadcastIndex(const Dims &from, const Dims &to, int64_t i) {
  // Split i into to's multi-index (last dim fastest), then rebuild it in from's dims.
  std::vector<int64_t> idx(to.size());
  for (size_t d = to.size(); d-- > 0;) {
    idx[d] = i % to[d];
    i /= to[d];
  }
  int64_t j = 0;
  for (size_t d = 0; d < to.size(); ++d)
    j = j * from[d] + (from[d] == 1 ? 0 : idx[d]);
  return j;
}

std::vector<double> addTensor(double alpha, const Dims &aDims, const std::vector<double> &a, double beta,
                              const Dims &cDims, const std::vector<double> &c) {
  std::vector<double> out(c.size());
  for (size_t i = 0; i < c.size(); ++i) {
    double v = alpha * a[size_t(broadcastIndex(aDims, cDims, int64_t(i)))];
    out[i] = beta == 0 ? v : v + beta * c[i];
  }
  return out;
}

bool isUnary(Op op) {
  return op == Op::Sqrt || op == Op::Not || op == Op::Exp || op == Op::Log || op == Op::Abs || op == Op::Sign;
}

std::vector<double> opTensor(Op op, bool propagateNan, double alpha1, const std::vector<double> &a, double alpha2,
                             const Dims &bDims, const std::vector<double> &b, double beta, const Dims &cDims,
                             const std::vector<double> &c) {
  std::vector<double> out(a.size()); // a has c's dims; c is read only when beta != 0
  for (size_t i = 0; i < a.size(); ++i) {
    double x = alpha1 * a[i];
    double y = isUnary(op) ? 0.0 : alpha2 * b[size_t(broadcastIndex(bDims, cDims, int64_t(i)))];
    double r = 0;
    bool anyNan = std::isnan(x) || std::isnan(y);
    switch (op) {
    case Op::Add: r = x + y; break;
    case Op::Mul: r = x * y; break;
    case Op::Min: r = anyNan ? (propagateNan ? NAN : (std::isnan(x) ? y : x)) : (x < y ? x : y); break;
    case Op::Max: r = anyNan ? (propagateNan ? NAN : (std::isnan(x) ? y : x)) : (x > y ? x : y); break;
    case Op::Sqrt: r = std::sqrt(x); break;
    case Op::Not: r = 1.0 - x; break;
    case Op::Div: r = x / y; break;
    case Op::Pow: r = std::pow(x, y); break;
    case Op::Exp: r = std::exp(x); break;
    case Op::Log: r = std::log(x); break;
    case Op::Abs: r = std::fabs(x); break;
    case Op::Sign: r = std::isnan(x) ? NAN : (x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0)); break;
    case Op::CmpGe: r = anyNan ? (propagateNan ? NAN : 0.0) : (x >= y ? 1.0 : 0.0); break;
    }
    out[i] = beta == 0 ? r : r + beta * c[i];
  }
  return out;
}

} // namespace ref
