// Entry points: convolution algorithm queries, selection, Find, and the forward, backward-data,
// backward-filter and backward-bias runs. Algorithms are backend objects (convAlgorithms), so the
// runs dispatch through the selected algorithm instead of a backend switch.
#include "core/checks.h"
#include "core/conv_problem.h"
#include "core/conv_select.h"
#include "cpu/activation.h"
#include "cpu/conv_algorithms.h"
#include "cpu/tensor_ops.h"
#ifdef LAMINA_WITH_CUDA
#include "cuda/ops.h"
#endif

#include <algorithm>
#include <cstring>

using namespace lamina;

namespace {

ConvProblem fwdProblem(laminaTensorDescriptor_t x, laminaFilterDescriptor_t w, laminaConvolutionDescriptor_t conv,
                       laminaTensorDescriptor_t y) {
  const TensorDesc &xd = descArg(x, "x");
  const FilterDesc &wd = descArg(w, "w");
  const ConvDesc &cd = descArg(conv, "conv");
  const TensorDesc &yd = descArg(y, "y");
  ConvProblem p = makeConvProblem(xd, "x", wd, "w", cd, yd, "y");
  outputArg(yd, "y");
  return p;
}
ConvProblem bwdDataProblem(laminaFilterDescriptor_t w, laminaTensorDescriptor_t dy, laminaConvolutionDescriptor_t conv,
                           laminaTensorDescriptor_t dx) {
  const FilterDesc &wd = descArg(w, "w");
  const TensorDesc &dyd = descArg(dy, "dy");
  const ConvDesc &cd = descArg(conv, "conv");
  const TensorDesc &dxd = descArg(dx, "dx");
  ConvProblem p = makeConvProblem(dxd, "dx", wd, "w", cd, dyd, "dy");
  outputArg(dxd, "dx");
  return p;
}
ConvProblem bwdFilterProblem(laminaTensorDescriptor_t x, laminaTensorDescriptor_t dy,
                             laminaConvolutionDescriptor_t conv, laminaFilterDescriptor_t dw) {
  const TensorDesc &xd = descArg(x, "x");
  const TensorDesc &dyd = descArg(dy, "dy");
  const ConvDesc &cd = descArg(conv, "conv");
  const FilterDesc &dwd = descArg(dw, "dw");
  return makeConvProblem(xd, "x", dwd, "dw", cd, dyd, "dy");
}

template <class Perf, class AlgoT>
void writePerf(const std::vector<ConvAlgoPerf> &ranked, int requested, int *returned, Perf *perf) {
  if (requested < 1)
    fail(LAMINA_STATUS_BAD_PARAM, "argument 'requestedAlgoCount' is %d; it must be >= 1", requested);
  pointerArg(returned, "returnedAlgoCount");
  pointerArg(perf, "perfResults");
  int n = std::min<int>(requested, int(ranked.size()));
  for (int i = 0; i < n; ++i) {
    const ConvAlgoPerf &r = ranked[size_t(i)];
    perf[i].algo = AlgoT(r.algo);
    perf[i].status = r.status;
    perf[i].time = r.time;
    perf[i].memory = r.memory;
    perf[i].determinism = r.determinism;
    perf[i].mathType = r.mathType;
  }
  *returned = n;
}

// The workspace query of one algorithm, which also prepares what its first call would build or load.
size_t workspaceOf(const laminaContext &h, ConvDirection dir, int algo, const ConvProblem &p) {
  const ConvAlgorithm &alg = convAlgorithmFor(h, dir, algo, p, "algo");
  const size_t bytes = alg.workspaceBytes(p);
  if (alg.prepare)
    alg.prepare(h, p, alg);
  return bytes;
}

void runAlgo(const laminaContext &h, ConvDirection dir, int algo, ConvArgs &a) {
  const ConvAlgorithm &al = convAlgorithmFor(h, dir, algo, *a.p, "algo");
  workspaceArg(a.workspace, a.workspaceBytes, al.workspaceBytes(*a.p), "workspace");
  al.run(a);
}

// Scratch backend memory of Find, freed on every path.
struct Scratch {
  const laminaContext &h;
  std::vector<void *> ptrs;
  explicit Scratch(const laminaContext &h_) : h(h_) {}
  ~Scratch() {
    for (void *p : ptrs)
      backendFree(h, p);
  }
  void *alloc(size_t bytes, bool zero) {
    ptrs.push_back(backendMalloc(h, bytes ? bytes : 1));
    if (zero)
      backendMemset(h, ptrs.back(), 0, bytes);
    return ptrs.back();
  }
};

void maxCount(laminaHandle_t handle, int *count, ConvDirection dir) {
  handleArg(handle);
  pointerArg(count, "count");
  *count = convAlgoCount(dir);
}

} // namespace

extern "C" {

// ---------------------------------------------------------------- forward

laminaStatus_t laminaGetConvolutionForwardAlgorithmMaxCount(laminaHandle_t handle, int *count) {
  return apiCall(__func__, [&] { maxCount(handle, count, ConvDirection::Forward); });
}

laminaStatus_t laminaGetConvolutionForwardWorkspaceSize(laminaHandle_t handle, laminaTensorDescriptor_t x,
                                                        laminaFilterDescriptor_t w, laminaConvolutionDescriptor_t conv,
                                                        laminaTensorDescriptor_t y, laminaConvolutionFwdAlgo_t algo,
                                                        size_t *bytes) {
  return apiCall(__func__, [&] {
    const laminaContext &h = handleArg(handle);
    ConvProblem p = fwdProblem(x, w, conv, y);
    pointerArg(bytes, "bytes");
    *bytes = workspaceOf(h, ConvDirection::Forward, enumValue(algo), p);
  });
}

laminaStatus_t laminaGetConvolutionForwardAlgorithm(laminaHandle_t handle, laminaTensorDescriptor_t x,
                                                    laminaFilterDescriptor_t w, laminaConvolutionDescriptor_t conv,
                                                    laminaTensorDescriptor_t y,
                                                    laminaConvolutionPreference_t preference, size_t memoryLimitInBytes,
                                                    laminaConvolutionFwdAlgo_t *algo) {
  return apiCall(__func__, [&] {
    const laminaContext &h = handleArg(handle);
    ConvProblem p = fwdProblem(x, w, conv, y);
    pointerArg(algo, "algo");
    *algo = laminaConvolutionFwdAlgo_t(
        convPickAlgorithm(h, ConvDirection::Forward, p, enumValue(preference), memoryLimitInBytes));
  });
}

laminaStatus_t laminaGetConvolutionForwardAlgorithmHeuristics(
    laminaHandle_t handle, laminaTensorDescriptor_t x, laminaFilterDescriptor_t w, laminaConvolutionDescriptor_t conv,
    laminaTensorDescriptor_t y, int requestedAlgoCount, int *returnedAlgoCount, laminaConvolutionFwdAlgoPerf_t *perf) {
  return apiCall(__func__, [&] {
    const laminaContext &h = handleArg(handle);
    ConvProblem p = fwdProblem(x, w, conv, y);
    writePerf<laminaConvolutionFwdAlgoPerf_t, laminaConvolutionFwdAlgo_t>(
        convRankHeuristic(h, ConvDirection::Forward, p), requestedAlgoCount, returnedAlgoCount, perf);
  });
}

laminaStatus_t laminaFindConvolutionForwardAlgorithm(laminaHandle_t handle, laminaTensorDescriptor_t x,
                                                     laminaFilterDescriptor_t w, laminaConvolutionDescriptor_t conv,
                                                     laminaTensorDescriptor_t y, int requestedAlgoCount,
                                                     int *returnedAlgoCount, laminaConvolutionFwdAlgoPerf_t *perf) {
  return apiCall(__func__, [&] {
    const laminaContext &h = handleArg(handle);
    ConvProblem p = fwdProblem(x, w, conv, y);
    writePerf<laminaConvolutionFwdAlgoPerf_t, laminaConvolutionFwdAlgo_t>({}, requestedAlgoCount, returnedAlgoCount,
                                                                          perf); // argument checks first
    Scratch s(h);
    ConvArgs a;
    a.handle = &h;
    a.p = &p;
    a.x = s.alloc(p.x.sizeInBytes(), true);
    a.w = s.alloc(p.w.sizeInBytes(), true);
    a.y = s.alloc(p.y.sizeInBytes(), false);
    a.workspaceBytes = convMaxWorkspace(h, ConvDirection::Forward, p);
    a.workspace = s.alloc(a.workspaceBytes, false);
    writePerf<laminaConvolutionFwdAlgoPerf_t, laminaConvolutionFwdAlgo_t>(convMeasure(h, ConvDirection::Forward, a),
                                                                          requestedAlgoCount, returnedAlgoCount, perf);
  });
}

laminaStatus_t laminaFindConvolutionForwardAlgorithmEx(laminaHandle_t handle, laminaTensorDescriptor_t x,
                                                       const void *xData, laminaFilterDescriptor_t w, const void *wData,
                                                       laminaConvolutionDescriptor_t conv, laminaTensorDescriptor_t y,
                                                       void *yData, int requestedAlgoCount, int *returnedAlgoCount,
                                                       laminaConvolutionFwdAlgoPerf_t *perf, void *workspace,
                                                       size_t workspaceBytes) {
  return apiCall(__func__, [&] {
    const laminaContext &h = handleArg(handle);
    ConvProblem p = fwdProblem(x, w, conv, y);
    dataArg(h, xData, "xData");
    dataArg(h, wData, "wData");
    dataArg(h, yData, "yData");
    if (workspaceBytes > 0)
      dataArg(h, workspace, "workspace");
    writePerf<laminaConvolutionFwdAlgoPerf_t, laminaConvolutionFwdAlgo_t>({}, requestedAlgoCount, returnedAlgoCount,
                                                                          perf);
    ConvArgs a;
    a.handle = &h;
    a.p = &p;
    a.x = xData, a.w = wData, a.y = yData;
    a.workspace = workspace, a.workspaceBytes = workspace ? workspaceBytes : 0;
    writePerf<laminaConvolutionFwdAlgoPerf_t, laminaConvolutionFwdAlgo_t>(convMeasure(h, ConvDirection::Forward, a),
                                                                          requestedAlgoCount, returnedAlgoCount, perf);
  });
}

laminaStatus_t laminaConvolutionForward(laminaHandle_t handle, const void *alpha, laminaTensorDescriptor_t x,
                                        const void *xData, laminaFilterDescriptor_t w, const void *wData,
                                        laminaConvolutionDescriptor_t conv, laminaConvolutionFwdAlgo_t algo,
                                        void *workspace, size_t workspaceBytes, const void *beta,
                                        laminaTensorDescriptor_t y, void *yData) {
  return apiCall(__func__, [&] {
    const laminaContext &h = handleArg(handle);
    ConvProblem p = fwdProblem(x, w, conv, y);
    ConvArgs a;
    a.handle = &h;
    a.p = &p;
    a.alpha = scalarArg(alpha, p.dataType, "alpha");
    a.beta = scalarArg(beta, p.dataType, "beta");
    dataArg(h, xData, "xData");
    dataArg(h, wData, "wData");
    dataArg(h, yData, "yData");
    a.x = xData, a.w = wData, a.y = yData;
    a.workspace = workspace, a.workspaceBytes = workspaceBytes;
    runAlgo(h, ConvDirection::Forward, enumValue(algo), a);
  });
}

// y = act(alpha1 * conv(x, w) + alpha2 * z + bias), cuDNN's cudnnConvolutionBiasActivationForward. Composed
// from the forward (its beta carries alpha2 * z), a bias broadcast add and the activation in place: the
// same kernels as the separate calls, one call for the user; every check before the first write.
laminaStatus_t laminaConvolutionBiasActivationForward(
    laminaHandle_t handle, const void *alpha1, laminaTensorDescriptor_t x, const void *xData,
    laminaFilterDescriptor_t w, const void *wData, laminaConvolutionDescriptor_t conv, laminaConvolutionFwdAlgo_t algo,
    void *workspace, size_t workspaceBytes, const void *alpha2, laminaTensorDescriptor_t z, const void *zData,
    laminaTensorDescriptor_t bias, const void *biasData, laminaActivationDescriptor_t act, laminaTensorDescriptor_t y,
    void *yData) {
  return apiCall(__func__, [&] {
    const laminaContext &h = handleArg(handle);
    ConvProblem p = fwdProblem(x, w, conv, y);
    const TensorDesc &yd = descArg(y, "y");
    const TensorDesc &zd = descArg(z, "z");
    const TensorDesc &bd = descArg(bias, "bias");
    const ActivationDesc &ad = descArg(act, "act");
    sameTypeArg(zd.dataType, "z", yd.dataType, "y");
    sameDimsArg(zd, "z", yd, "y");
    sameTypeArg(bd.dataType, "bias", yd.dataType, "y");
    bool biasOk = bd.nbDims == yd.nbDims;
    for (int d = 0; biasOk && d < bd.nbDims; ++d)
      biasOk = bd.dims[d] == (d == 1 ? yd.dims[1] : 1);
    if (!biasOk)
      fail(LAMINA_STATUS_SHAPE_MISMATCH, "'bias' is %s; it must be 1 x K x 1... with K = %lld (y's channels)",
           dimsString(bd.dims, bd.nbDims).c_str(), static_cast<long long>(yd.dims[1]));
    ConvArgs a;
    a.handle = &h;
    a.p = &p;
    a.alpha = scalarArg(alpha1, p.dataType, "alpha1");
    const double a2 = scalarArg(alpha2, p.dataType, "alpha2");
    dataArg(h, xData, "xData");
    dataArg(h, wData, "wData");
    dataArg(h, yData, "yData");
    dataArg(h, biasData, "biasData");
    if (a2 != 0) {
      dataArg(h, zData, "zData");
      if (zData == yData && !zd.sameLayout(yd))
        fail(LAMINA_STATUS_BAD_PARAM,
             "'zData' == 'yData' but descriptors 'z' and 'y' differ; in place needs identical ones");
    }
    a.x = xData, a.w = wData, a.y = yData;
    a.workspace = workspace, a.workspaceBytes = workspaceBytes;
    const ConvAlgorithm &al = convAlgorithmFor(h, ConvDirection::Forward, enumValue(algo), p, "algo");
    workspaceArg(a.workspace, a.workspaceBytes, al.workspaceBytes(p), "workspace");
    a.beta = 0.0;
    if (a2 != 0) { // y = z first unless z is y; the forward then blends alpha2 * y
      if (zData != yData) {
        if (h.backend == LAMINA_BACKEND_CPU)
          cpu::addTensor(h, 1.0, zd, zData, 0.0, yd, yData);
#ifdef LAMINA_WITH_CUDA
        else
          cuda::addTensor(h, 1.0, zd, zData, 0.0, yd, yData);
#endif
      }
      a.beta = a2;
    }
    al.run(a);
    const bool identity = ad.mode == LAMINA_ACTIVATION_IDENTITY; // no third pass
    if (h.backend == LAMINA_BACKEND_CPU) {
      cpu::addTensor(h, 1.0, bd, biasData, 1.0, yd, yData);
      if (!identity)
        cpu::activationForward(h, ad, 1.0, yd, yData, 0.0, yd, yData);
    }
#ifdef LAMINA_WITH_CUDA
    else {
      cuda::addTensor(h, 1.0, bd, biasData, 1.0, yd, yData);
      if (!identity)
        cuda::activationForward(h, ad, 1.0, yd, yData, 0.0, yd, yData);
    }
#endif
  });
}

// ---------------------------------------------------------------- backward data

laminaStatus_t laminaGetConvolutionBackwardDataAlgorithmMaxCount(laminaHandle_t handle, int *count) {
  return apiCall(__func__, [&] { maxCount(handle, count, ConvDirection::BackwardData); });
}

laminaStatus_t laminaGetConvolutionBackwardDataWorkspaceSize(laminaHandle_t handle, laminaFilterDescriptor_t w,
                                                             laminaTensorDescriptor_t dy,
                                                             laminaConvolutionDescriptor_t conv,
                                                             laminaTensorDescriptor_t dx,
                                                             laminaConvolutionBwdDataAlgo_t algo, size_t *bytes) {
  return apiCall(__func__, [&] {
    const laminaContext &h = handleArg(handle);
    ConvProblem p = bwdDataProblem(w, dy, conv, dx);
    pointerArg(bytes, "bytes");
    *bytes = workspaceOf(h, ConvDirection::BackwardData, enumValue(algo), p);
  });
}

laminaStatus_t
laminaGetConvolutionBackwardDataAlgorithm(laminaHandle_t handle, laminaFilterDescriptor_t w,
                                          laminaTensorDescriptor_t dy, laminaConvolutionDescriptor_t conv,
                                          laminaTensorDescriptor_t dx, laminaConvolutionPreference_t preference,
                                          size_t memoryLimitInBytes, laminaConvolutionBwdDataAlgo_t *algo) {
  return apiCall(__func__, [&] {
    const laminaContext &h = handleArg(handle);
    ConvProblem p = bwdDataProblem(w, dy, conv, dx);
    pointerArg(algo, "algo");
    *algo = laminaConvolutionBwdDataAlgo_t(
        convPickAlgorithm(h, ConvDirection::BackwardData, p, enumValue(preference), memoryLimitInBytes));
  });
}

laminaStatus_t laminaGetConvolutionBackwardDataAlgorithmHeuristics(laminaHandle_t handle, laminaFilterDescriptor_t w,
                                                                   laminaTensorDescriptor_t dy,
                                                                   laminaConvolutionDescriptor_t conv,
                                                                   laminaTensorDescriptor_t dx, int requestedAlgoCount,
                                                                   int *returnedAlgoCount,
                                                                   laminaConvolutionBwdDataAlgoPerf_t *perf) {
  return apiCall(__func__, [&] {
    const laminaContext &h = handleArg(handle);
    ConvProblem p = bwdDataProblem(w, dy, conv, dx);
    writePerf<laminaConvolutionBwdDataAlgoPerf_t, laminaConvolutionBwdDataAlgo_t>(
        convRankHeuristic(h, ConvDirection::BackwardData, p), requestedAlgoCount, returnedAlgoCount, perf);
  });
}

laminaStatus_t laminaFindConvolutionBackwardDataAlgorithm(laminaHandle_t handle, laminaFilterDescriptor_t w,
                                                          laminaTensorDescriptor_t dy,
                                                          laminaConvolutionDescriptor_t conv,
                                                          laminaTensorDescriptor_t dx, int requestedAlgoCount,
                                                          int *returnedAlgoCount,
                                                          laminaConvolutionBwdDataAlgoPerf_t *perf) {
  return apiCall(__func__, [&] {
    const laminaContext &h = handleArg(handle);
    ConvProblem p = bwdDataProblem(w, dy, conv, dx);
    writePerf<laminaConvolutionBwdDataAlgoPerf_t, laminaConvolutionBwdDataAlgo_t>({}, requestedAlgoCount,
                                                                                  returnedAlgoCount, perf);
    Scratch s(h);
    ConvArgs a;
    a.handle = &h;
    a.p = &p;
    a.w = s.alloc(p.w.sizeInBytes(), true);
    a.dy = s.alloc(p.y.sizeInBytes(), true);
    a.dx = s.alloc(p.x.sizeInBytes(), false);
    a.workspaceBytes = convMaxWorkspace(h, ConvDirection::BackwardData, p);
    a.workspace = s.alloc(a.workspaceBytes, false);
    writePerf<laminaConvolutionBwdDataAlgoPerf_t, laminaConvolutionBwdDataAlgo_t>(
        convMeasure(h, ConvDirection::BackwardData, a), requestedAlgoCount, returnedAlgoCount, perf);
  });
}

laminaStatus_t laminaFindConvolutionBackwardDataAlgorithmEx(laminaHandle_t handle, laminaFilterDescriptor_t w,
                                                            const void *wData, laminaTensorDescriptor_t dy,
                                                            const void *dyData, laminaConvolutionDescriptor_t conv,
                                                            laminaTensorDescriptor_t dx, void *dxData,
                                                            int requestedAlgoCount, int *returnedAlgoCount,
                                                            laminaConvolutionBwdDataAlgoPerf_t *perf, void *workspace,
                                                            size_t workspaceBytes) {
  return apiCall(__func__, [&] {
    const laminaContext &h = handleArg(handle);
    ConvProblem p = bwdDataProblem(w, dy, conv, dx);
    dataArg(h, wData, "wData");
    dataArg(h, dyData, "dyData");
    dataArg(h, dxData, "dxData");
    if (workspaceBytes > 0)
      dataArg(h, workspace, "workspace");
    writePerf<laminaConvolutionBwdDataAlgoPerf_t, laminaConvolutionBwdDataAlgo_t>({}, requestedAlgoCount,
                                                                                  returnedAlgoCount, perf);
    ConvArgs a;
    a.handle = &h;
    a.p = &p;
    a.w = wData, a.dy = dyData, a.dx = dxData;
    a.workspace = workspace, a.workspaceBytes = workspace ? workspaceBytes : 0;
    writePerf<laminaConvolutionBwdDataAlgoPerf_t, laminaConvolutionBwdDataAlgo_t>(
        convMeasure(h, ConvDirection::BackwardData, a), requestedAlgoCount, returnedAlgoCount, perf);
  });
}

laminaStatus_t laminaConvolutionBackwardData(laminaHandle_t handle, const void *alpha, laminaFilterDescriptor_t w,
                                             const void *wData, laminaTensorDescriptor_t dy, const void *dyData,
                                             laminaConvolutionDescriptor_t conv, laminaConvolutionBwdDataAlgo_t algo,
                                             void *workspace, size_t workspaceBytes, const void *beta,
                                             laminaTensorDescriptor_t dx, void *dxData) {
  return apiCall(__func__, [&] {
    const laminaContext &h = handleArg(handle);
    ConvProblem p = bwdDataProblem(w, dy, conv, dx);
    ConvArgs a;
    a.handle = &h;
    a.p = &p;
    a.alpha = scalarArg(alpha, p.dataType, "alpha");
    a.beta = scalarArg(beta, p.dataType, "beta");
    dataArg(h, wData, "wData");
    dataArg(h, dyData, "dyData");
    dataArg(h, dxData, "dxData");
    a.w = wData, a.dy = dyData, a.dx = dxData;
    a.workspace = workspace, a.workspaceBytes = workspaceBytes;
    runAlgo(h, ConvDirection::BackwardData, enumValue(algo), a);
  });
}

// ---------------------------------------------------------------- backward filter

laminaStatus_t laminaGetConvolutionBackwardFilterAlgorithmMaxCount(laminaHandle_t handle, int *count) {
  return apiCall(__func__, [&] { maxCount(handle, count, ConvDirection::BackwardFilter); });
}

laminaStatus_t laminaGetConvolutionBackwardFilterWorkspaceSize(laminaHandle_t handle, laminaTensorDescriptor_t x,
                                                               laminaTensorDescriptor_t dy,
                                                               laminaConvolutionDescriptor_t conv,
                                                               laminaFilterDescriptor_t dw,
                                                               laminaConvolutionBwdFilterAlgo_t algo, size_t *bytes) {
  return apiCall(__func__, [&] {
    const laminaContext &h = handleArg(handle);
    ConvProblem p = bwdFilterProblem(x, dy, conv, dw);
    pointerArg(bytes, "bytes");
    *bytes = workspaceOf(h, ConvDirection::BackwardFilter, enumValue(algo), p);
  });
}

laminaStatus_t
laminaGetConvolutionBackwardFilterAlgorithm(laminaHandle_t handle, laminaTensorDescriptor_t x,
                                            laminaTensorDescriptor_t dy, laminaConvolutionDescriptor_t conv,
                                            laminaFilterDescriptor_t dw, laminaConvolutionPreference_t preference,
                                            size_t memoryLimitInBytes, laminaConvolutionBwdFilterAlgo_t *algo) {
  return apiCall(__func__, [&] {
    const laminaContext &h = handleArg(handle);
    ConvProblem p = bwdFilterProblem(x, dy, conv, dw);
    pointerArg(algo, "algo");
    *algo = laminaConvolutionBwdFilterAlgo_t(
        convPickAlgorithm(h, ConvDirection::BackwardFilter, p, enumValue(preference), memoryLimitInBytes));
  });
}

laminaStatus_t laminaGetConvolutionBackwardFilterAlgorithmHeuristics(laminaHandle_t handle, laminaTensorDescriptor_t x,
                                                                     laminaTensorDescriptor_t dy,
                                                                     laminaConvolutionDescriptor_t conv,
                                                                     laminaFilterDescriptor_t dw,
                                                                     int requestedAlgoCount, int *returnedAlgoCount,
                                                                     laminaConvolutionBwdFilterAlgoPerf_t *perf) {
  return apiCall(__func__, [&] {
    const laminaContext &h = handleArg(handle);
    ConvProblem p = bwdFilterProblem(x, dy, conv, dw);
    writePerf<laminaConvolutionBwdFilterAlgoPerf_t, laminaConvolutionBwdFilterAlgo_t>(
        convRankHeuristic(h, ConvDirection::BackwardFilter, p), requestedAlgoCount, returnedAlgoCount, perf);
  });
}

laminaStatus_t laminaFindConvolutionBackwardFilterAlgorithm(laminaHandle_t handle, laminaTensorDescriptor_t x,
                                                            laminaTensorDescriptor_t dy,
                                                            laminaConvolutionDescriptor_t conv,
                                                            laminaFilterDescriptor_t dw, int requestedAlgoCount,
                                                            int *returnedAlgoCount,
                                                            laminaConvolutionBwdFilterAlgoPerf_t *perf) {
  return apiCall(__func__, [&] {
    const laminaContext &h = handleArg(handle);
    ConvProblem p = bwdFilterProblem(x, dy, conv, dw);
    writePerf<laminaConvolutionBwdFilterAlgoPerf_t, laminaConvolutionBwdFilterAlgo_t>({}, requestedAlgoCount,
                                                                                      returnedAlgoCount, perf);
    Scratch s(h);
    ConvArgs a;
    a.handle = &h;
    a.p = &p;
    a.x = s.alloc(p.x.sizeInBytes(), true);
    a.dy = s.alloc(p.y.sizeInBytes(), true);
    a.dw = s.alloc(p.w.sizeInBytes(), false);
    a.workspaceBytes = convMaxWorkspace(h, ConvDirection::BackwardFilter, p);
    a.workspace = s.alloc(a.workspaceBytes, false);
    writePerf<laminaConvolutionBwdFilterAlgoPerf_t, laminaConvolutionBwdFilterAlgo_t>(
        convMeasure(h, ConvDirection::BackwardFilter, a), requestedAlgoCount, returnedAlgoCount, perf);
  });
}

laminaStatus_t laminaFindConvolutionBackwardFilterAlgorithmEx(laminaHandle_t handle, laminaTensorDescriptor_t x,
                                                              const void *xData, laminaTensorDescriptor_t dy,
                                                              const void *dyData, laminaConvolutionDescriptor_t conv,
                                                              laminaFilterDescriptor_t dw, void *dwData,
                                                              int requestedAlgoCount, int *returnedAlgoCount,
                                                              laminaConvolutionBwdFilterAlgoPerf_t *perf,
                                                              void *workspace, size_t workspaceBytes) {
  return apiCall(__func__, [&] {
    const laminaContext &h = handleArg(handle);
    ConvProblem p = bwdFilterProblem(x, dy, conv, dw);
    dataArg(h, xData, "xData");
    dataArg(h, dyData, "dyData");
    dataArg(h, dwData, "dwData");
    if (workspaceBytes > 0)
      dataArg(h, workspace, "workspace");
    writePerf<laminaConvolutionBwdFilterAlgoPerf_t, laminaConvolutionBwdFilterAlgo_t>({}, requestedAlgoCount,
                                                                                      returnedAlgoCount, perf);
    ConvArgs a;
    a.handle = &h;
    a.p = &p;
    a.x = xData, a.dy = dyData, a.dw = dwData;
    a.workspace = workspace, a.workspaceBytes = workspace ? workspaceBytes : 0;
    writePerf<laminaConvolutionBwdFilterAlgoPerf_t, laminaConvolutionBwdFilterAlgo_t>(
        convMeasure(h, ConvDirection::BackwardFilter, a), requestedAlgoCount, returnedAlgoCount, perf);
  });
}

laminaStatus_t laminaConvolutionBackwardFilter(laminaHandle_t handle, const void *alpha, laminaTensorDescriptor_t x,
                                               const void *xData, laminaTensorDescriptor_t dy, const void *dyData,
                                               laminaConvolutionDescriptor_t conv,
                                               laminaConvolutionBwdFilterAlgo_t algo, void *workspace,
                                               size_t workspaceBytes, const void *beta, laminaFilterDescriptor_t dw,
                                               void *dwData) {
  return apiCall(__func__, [&] {
    const laminaContext &h = handleArg(handle);
    ConvProblem p = bwdFilterProblem(x, dy, conv, dw);
    ConvArgs a;
    a.handle = &h;
    a.p = &p;
    a.alpha = scalarArg(alpha, p.dataType, "alpha");
    a.beta = scalarArg(beta, p.dataType, "beta");
    dataArg(h, xData, "xData");
    dataArg(h, dyData, "dyData");
    dataArg(h, dwData, "dwData");
    a.x = xData, a.dy = dyData, a.dw = dwData;
    a.workspace = workspace, a.workspaceBytes = workspaceBytes;
    runAlgo(h, ConvDirection::BackwardFilter, enumValue(algo), a);
  });
}

// ---------------------------------------------------------------- backward bias

laminaStatus_t laminaConvolutionBackwardBias(laminaHandle_t handle, const void *alpha, laminaTensorDescriptor_t dy,
                                             const void *dyData, const void *beta, laminaTensorDescriptor_t db,
                                             void *dbData) {
  return apiCall(__func__, [&] {
    const laminaContext &h = handleArg(handle);
    const TensorDesc &dyd = descArg(dy, "dy");
    const TensorDesc &dbd = descArg(db, "db");
    floatTypeArg(dyd.dataType, "dy");
    sameTypeArg(dyd.dataType, "dy", dbd.dataType, "db");
    if (dyd.nbDims < 3)
      fail(LAMINA_STATUS_BAD_DIMS, "'dy' has %d dims; it needs N, C and spatial dims", dyd.nbDims);
    bool shapeOk = dbd.nbDims == dyd.nbDims && dbd.dims[1] == dyd.dims[1];
    for (int i = 0; shapeOk && i < dbd.nbDims; ++i)
      if (i != 1 && dbd.dims[i] != 1)
        shapeOk = false;
    if (!shapeOk)
      fail(LAMINA_STATUS_SHAPE_MISMATCH, "'db' is %s but dy %s needs 1x%lld with every other dim 1",
           dimsString(dbd.dims, dbd.nbDims).c_str(), dimsString(dyd.dims, dyd.nbDims).c_str(), (long long)dyd.dims[1]);
    double a = scalarArg(alpha, dyd.dataType, "alpha");
    double b = scalarArg(beta, dyd.dataType, "beta");
    dataArg(h, dyData, "dyData");
    dataArg(h, dbData, "dbData");
    switch (h.backend) {
    case LAMINA_BACKEND_CPU: cpu::convBackwardBias(h, dyd, dyData, dbd, dbData, a, b); break;
#ifdef LAMINA_WITH_CUDA
    case LAMINA_BACKEND_CUDA: cuda::convBackwardBias(h, dyd, dyData, dbd, dbData, a, b); break;
#endif
    default: fail(LAMINA_STATUS_NOT_SUPPORTED, "convolution backward bias is not implemented on this backend");
    }
  });
}

} // extern "C"
