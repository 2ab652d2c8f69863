// A convolution problem in normalised form, and the algorithm interface every backend implements.
// Modelled on MIOpen's solvers: an algorithm is a stateless object that says whether it applies,
// how much workspace it needs, and runs. Ordered lists per backend and direction (first applicable
// entry is the default preference) live beside the algorithms, e.g. src/cpu/conv_fwd_list.cpp.
#pragma once

#include "core/descriptors.h"
#include "core/handle.h"

#include <string>
#include <vector>

namespace lamina {

enum class ConvDirection { Forward, BackwardData, BackwardFilter };
const char *convDirectionName(ConvDirection d);

struct ConvProblem {
  // x: N x C x in..., w: K x (C/G) x filt..., y: N x K x out... (dims in that order; memory layout
  // is in the descriptors' strides).
  TensorDesc x, y;
  FilterDesc w;
  laminaDataType_t dataType = LAMINA_DATA_FLOAT;
  laminaDataType_t computeType = LAMINA_DATA_FLOAT;
  laminaMathType_t math = LAMINA_DEFAULT_MATH;
  bool flip = false; // LAMINA_CONVOLUTION mode: the filter is applied mirrored
  int spatialDims = 2;
  int64_t N = 0, C = 0, K = 0, G = 1;
  int64_t in[3] = {1, 1, 1}, filt[3] = {1, 1, 1}, out[3] = {1, 1, 1};
  int64_t pad[3] = {}, stride[3] = {1, 1, 1}, dil[3] = {1, 1, 1};

  int64_t Cg() const { return C / G; } // input channels per group
  int64_t Kg() const { return K / G; } // output channels per group
  int64_t inSize() const { return in[0] * in[1] * in[2]; }
  int64_t outSize() const { return out[0] * out[1] * out[2]; }
  int64_t filtSize() const { return filt[0] * filt[1] * filt[2]; }
  double flops() const { return 2.0 * N * K * outSize() * Cg() * filtSize(); }
  // Any stride past 1 (spatial dims beyond spatialDims have stride 1).
  bool strided() const { return stride[0] != 1 || stride[1] != 1 || stride[2] != 1; }
};

// Validates x, w, conv and y together (the names are the public argument names, for messages)
// and returns the normalised problem. Spatial dims beyond spatialDims are 1.
ConvProblem makeConvProblem(const TensorDesc &x, const char *xName, const FilterDesc &w, const char *wName,
                            const ConvDesc &conv, const TensorDesc &y, const char *yName);
// Output dims of the forward convolution (N, K, out...), checking that the window fits.
void convOutputDims(const TensorDesc &x, const FilterDesc &w, const ConvDesc &conv, int64_t outDims[]);

// Buffers of one call. Forward reads x, w and writes y; backward-data reads dy (in y's place), w
// and writes dx (in x's place); backward-filter reads x, dy and writes dw.
struct ConvArgs {
  const laminaContext *handle = nullptr;
  const ConvProblem *p = nullptr;
  const void *x = nullptr;        // forward, backward-filter
  const void *w = nullptr;        // forward, backward-data
  const void *dy = nullptr;       // backward-data, backward-filter
  void *y = nullptr;              // forward output
  void *dx = nullptr;             // backward-data output
  void *dw = nullptr;             // backward-filter output
  double alpha = 1.0, beta = 0.0; // out = alpha * result + beta * out; out unread when beta == 0
  void *workspace = nullptr;
  size_t workspaceBytes = 0;
};

struct ConvAlgorithm {
  ConvDirection direction;
  int algo; // the public enum value of its direction
  const char *name;
  laminaDeterminism_t determinism;
  // Empty when the algorithm applies, else the reason it does not (reported with NOT_SUPPORTED).
  std::string (*whyNot)(const ConvProblem &p);
  size_t (*workspaceBytes)(const ConvProblem &p);
  // Rough cost in milliseconds for ranking without running; only the order matters.
  double (*estimateMs)(const ConvProblem &p);
  void (*run)(const ConvArgs &a);
  // Optional: builds or loads now what the first run would otherwise (FFT: its cuFFT plans, 20-100 ms
  // the first time a plane size is seen, CUDA loading cuFFT's kernels; the algorithms calling cuBLAS:
  // one run on scratch buffers, CUDA loading the kernels cuBLAS picks for the shape, 2-15 ms). The
  // per-algorithm workspace query calls it with the algorithm itself, so the first call runs as fast
  // as the next ones; the rankings do not.
  void (*prepare)(const laminaContext &h, const ConvProblem &p, const ConvAlgorithm &self) = nullptr;
};

// The ordered algorithm list of one backend and direction (empty if the backend has none).
const std::vector<const ConvAlgorithm *> &convAlgorithms(laminaBackend_t backend, ConvDirection dir);
// Defined by each backend's list files.
const std::vector<const ConvAlgorithm *> &cpuConvAlgorithms(ConvDirection dir);
const std::vector<const ConvAlgorithm *> &cudaConvAlgorithms(ConvDirection dir);

} // namespace lamina
