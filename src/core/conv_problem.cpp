#include "core/conv_problem.h"

#include "core/checks.h"

namespace lamina {

const char *convDirectionName(ConvDirection d) {
  switch (d) {
  case ConvDirection::Forward: return "forward";
  case ConvDirection::BackwardData: return "backward-data";
  case ConvDirection::BackwardFilter: return "backward-filter";
  }
  return "?";
}

const std::vector<const ConvAlgorithm *> &convAlgorithms(laminaBackend_t backend, ConvDirection dir) {
  return backend == LAMINA_BACKEND_CUDA ? cudaConvAlgorithms(dir) : cpuConvAlgorithms(dir);
}

namespace {
void checkGeometry(const TensorDesc &x, const FilterDesc &w, const ConvDesc &conv) {
  int sd = conv.spatialDims;
  if (x.nbDims != sd + 2)
    fail(LAMINA_STATUS_BAD_DIMS, "the convolution has %d spatial dims, so x needs %d dims, not %d", sd, sd + 2,
         x.nbDims);
  if (w.nbDims != sd + 2)
    fail(LAMINA_STATUS_BAD_DIMS, "the convolution has %d spatial dims, so w needs %d dims, not %d", sd, sd + 2,
         w.nbDims);
  if (x.dims[1] % conv.groups != 0)
    fail(LAMINA_STATUS_SHAPE_MISMATCH, "x has %lld channels, not a multiple of the group count %lld",
         (long long)x.dims[1], (long long)conv.groups);
  if (w.dims[0] % conv.groups != 0)
    fail(LAMINA_STATUS_SHAPE_MISMATCH, "w has %lld output channels, not a multiple of the group count %lld",
         (long long)w.dims[0], (long long)conv.groups);
  if (w.dims[1] * conv.groups != x.dims[1])
    fail(LAMINA_STATUS_SHAPE_MISMATCH,
         "w has %lld input channels per group; x's %lld channels in %lld groups need %lld", (long long)w.dims[1],
         (long long)x.dims[1], (long long)conv.groups, (long long)(x.dims[1] / conv.groups));
}
} // namespace

void convOutputDims(const TensorDesc &x, const FilterDesc &w, const ConvDesc &conv, int64_t outDims[]) {
  checkGeometry(x, w, conv);
  outDims[0] = x.dims[0];
  outDims[1] = w.dims[0];
  for (int i = 0; i < conv.spatialDims; ++i) {
    int64_t extent = conv.dilations[i] * (w.dims[2 + i] - 1) + 1;
    int64_t padded = x.dims[2 + i] + 2 * conv.pads[i];
    if (extent > padded)
      fail(LAMINA_STATUS_SHAPE_MISMATCH,
           "spatial dim %d: the dilated filter spans %lld but the padded input is only %lld", i, (long long)extent,
           (long long)padded);
    outDims[2 + i] = (padded - extent) / conv.strides[i] + 1;
  }
}

ConvProblem makeConvProblem(const TensorDesc &x, const char *xName, const FilterDesc &w, const char *wName,
                            const ConvDesc &conv, const TensorDesc &y, const char *yName) {
  floatTypeArg(x.dataType, xName);
  sameTypeArg(x.dataType, xName, w.dataType, wName);
  sameTypeArg(x.dataType, xName, y.dataType, yName);
  if (x.dataType == LAMINA_DATA_DOUBLE && conv.computeType != LAMINA_DATA_DOUBLE)
    fail(LAMINA_STATUS_NOT_SUPPORTED, "double data needs compute type double, not %s", dataTypeName(conv.computeType));
  if (x.dataType != LAMINA_DATA_DOUBLE && conv.computeType != LAMINA_DATA_FLOAT)
    fail(LAMINA_STATUS_NOT_SUPPORTED, "%s data needs compute type float, not %s", dataTypeName(x.dataType),
         dataTypeName(conv.computeType));
  int64_t outDims[LAMINA_DIM_MAX];
  convOutputDims(x, w, conv, outDims);
  if (y.nbDims != x.nbDims || !std::equal(outDims, outDims + x.nbDims, y.dims))
    fail(LAMINA_STATUS_SHAPE_MISMATCH, "'%s' is %s but the convolution of '%s' by '%s' gives %s", yName,
         dimsString(y.dims, y.nbDims).c_str(), xName, wName, dimsString(outDims, x.nbDims).c_str());
  ConvProblem p;
  p.x = x;
  p.y = y;
  p.w = w;
  p.dataType = x.dataType;
  p.computeType = conv.computeType;
  p.math = conv.mathType;
  p.flip = conv.mode == LAMINA_CONVOLUTION;
  p.spatialDims = conv.spatialDims;
  p.N = x.dims[0];
  p.C = x.dims[1];
  p.K = w.dims[0];
  p.G = conv.groups;
  for (int i = 0; i < conv.spatialDims; ++i) {
    p.in[i] = x.dims[2 + i];
    p.filt[i] = w.dims[2 + i];
    p.out[i] = y.dims[2 + i];
    p.pad[i] = conv.pads[i];
    p.stride[i] = conv.strides[i];
    p.dil[i] = conv.dilations[i];
  }
  return p;
}

} // namespace lamina
