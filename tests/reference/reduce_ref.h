// fp64 reference for tensor reduction, on logical values.
#pragma once

#include <cstdint>
#include <vector>

namespace ref {

enum class Reduce { Add, Mul, Min, Max, Amax, Avg, Norm1, Norm2 };

// reduce(a) for each element of c (c's dims: a's or 1), before alpha/beta. indices (if not null)
// receive, for MIN/MAX/AMAX, the row-major index within the reduced block of the first extreme
// element (NaN elements are skipped).
std::vector<double> reduce(Reduce op, const std::vector<int64_t> &aDims, const std::vector<double> &a,
                           const std::vector<int64_t> &cDims, std::vector<int32_t> *indices);

} // namespace ref
