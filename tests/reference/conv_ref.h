// Independent fp64 convolution reference: plain loops over logical (row-major, N C spatial...)
// arrays, written for clarity and sharing no code with src/.
#pragma once

#include <cstdint>
#include <vector>

namespace lt::ref {

struct ConvSpec {
  int spatialDims = 2;
  int64_t N = 1, C = 1, K = 1, G = 1;
  // Spatial sizes in D, H, W order (first spatialDims entries used; the rest must be 1).
  int64_t in[3] = {1, 1, 1}, filt[3] = {1, 1, 1}, pad[3] = {0, 0, 0}, stride[3] = {1, 1, 1}, dil[3] = {1, 1, 1};
  bool convolutionMode = false; // LAMINA_CONVOLUTION: filter mirrored
  int64_t outSize(int d) const;
  std::vector<int64_t> xDims() const; // N, C, in...
  std::vector<int64_t> wDims() const; // K, C/G, filt...
  std::vector<int64_t> yDims() const; // N, K, out...
};

// y = conv(x, w) (no alpha/beta).
std::vector<double> convForward(const ConvSpec &s, const std::vector<double> &x, const std::vector<double> &w);
// dx = gradient of sum(y * dy) with respect to x.
std::vector<double> convBackwardData(const ConvSpec &s, const std::vector<double> &dy, const std::vector<double> &w);
// dw = gradient of sum(y * dy) with respect to w.
std::vector<double> convBackwardFilter(const ConvSpec &s, const std::vector<double> &x, const std::vector<double> &dy);
// db[c] = sum of dy over every dim but 1.
std::vector<double> convBackwardBias(const std::vector<int64_t> &dyDims, const std::vector<double> &dy);

} // namespace lt::ref
