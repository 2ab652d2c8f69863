// fp64 references for the tensor operations, on logical (row-major over dims) values.
#pragma once

#include <cstdint>
#include <vector>

namespace ref {

using Dims = std::vector<int64_t>;

// Index into `from` (each dim equal to `to`'s or 1) of element i of `to`.
int64_t broadcastIndex(const Dims &from, const Dims &to, int64_t i);

// c = alpha * a + beta * c, a broadcast to c's dims.
std::vector<double> addTensor(double alpha, const Dims &aDims, const std::vector<double> &a, double beta,
                              const Dims &cDims, const std::vector<double> &c);

enum class Op { Add, Mul, Min, Max, Sqrt, Not, Div, Pow, Exp, Log, Abs, Sign, CmpGe };
bool isUnary(Op op);
// c = op(alpha1 * a, alpha2 * b) + beta * c; b broadcast; the unary ops ignore b. With
// propagateNan min/max of a NaN give NaN, else the other operand; CmpGe with a NaN gives NaN with
// propagateNan, else 0. The arithmetic ops follow IEEE.
std::vector<double> opTensor(Op op, bool propagateNan, double alpha1, const std::vector<double> &a, double alpha2,
                             const Dims &bDims, const std::vector<double> &b, double beta, const Dims &cDims,
                             const std::vector<double> &c);

} // namespace ref
