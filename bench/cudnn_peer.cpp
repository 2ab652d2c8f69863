// The cuDNN peer for --backend cuda (built only when cuDNN is found; linked by lamina-bench, never by
// the library). Classic cuDNN API: per layer and direction cudnnFind*AlgorithmEx measures every
// algorithm on the real buffers with a workspace we allocate (what cudnn.benchmark does), the fastest
// is then timed with the bench's clock on the shared stream, like Lamina's algorithms.
// Math: Lamina DEFAULT/FMA -> CUDNN_FMA_MATH (cuDNN's DEFAULT would allow TF32 for float data on
// Ampere and later, and tensor cores for half); Lamina TENSOR_OP -> CUDNN_TENSOR_OP_MATH (TF32 for
// float; never ..._ALLOW_CONVERSION, which would down-convert float to half). double: DEFAULT.
#include "cudnn_util.h"
#include "peer.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {
namespace {

using namespace cudnnutil;

#define CK(call) check((call), #call)

cudnnMathType_t cudnnMath(const ConvSpec &s) {
  if (s.dtype == LAMINA_DATA_DOUBLE)
    return CUDNN_DEFAULT_MATH;
  return s.math == LAMINA_TENSOR_OP_MATH ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH;
}

const char *mathName(cudnnMathType_t m) {
  switch (m) {
  case CUDNN_DEFAULT_MATH: return "default";
  case CUDNN_TENSOR_OP_MATH: return "tensor_op";
  case CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION: return "tensor_op_conv";
  case CUDNN_FMA_MATH: return "fma";
  }
  return "?";
}

const char *algoName(Dir d, int a) {
  static const char *fwd[] = {"IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT", "FFT", "FFT_TILING",
                              "WINOGRAD",      "WINOGRAD_NONFUSED"};
  static const char *bwdData[] = {"ALGO_0", "ALGO_1", "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
  static const char *bwdFilter[] = {"ALGO_0", "ALGO_1", "FFT", "ALGO_3", "WINOGRAD", "WINOGRAD_NONFUSED", "FFT_TILING"};
  switch (d) {
  case Dir::Fwd: return a >= 0 && a < 8 ? fwd[a] : "?";
  case Dir::BwdData: return a >= 0 && a < 6 ? bwdData[a] : "?";
  case Dir::BwdFilter: return a >= 0 && a < 7 ? bwdFilter[a] : "?";
  }
  return "?";
}

// The descriptors of one problem: 4-D (1-D and 2-D convolutions, H = 1 for 1-D) or 5-D tensors.
struct Descs {
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  cudnnConvolutionDescriptor_t conv = nullptr;

  explicit Descs(const ConvSpec &s) {
    CK(cudnnCreateTensorDescriptor(&x));
    CK(cudnnCreateTensorDescriptor(&y));
    CK(cudnnCreateFilterDescriptor(&w));
    CK(cudnnCreateConvolutionDescriptor(&conv));
    const int nb = s.spatialDims == 3 ? 5 : 4;
    const int first = 3 - (nb - 2); // index into the D, H, W arrays of ConvSpec
    int xd[5] = {int(s.N), int(s.C)}, wd[5] = {int(s.K), int(s.C / s.G)}, yd[5] = {int(s.N), int(s.K)};
    int pad[3], stride[3], dil[3];
    for (int i = 0; i < nb - 2; ++i) {
      xd[2 + i] = int(s.in[first + i]);
      wd[2 + i] = int(s.filt[first + i]);
      yd[2 + i] = int(s.out[first + i]);
      pad[i] = int(s.pad[first + i]);
      stride[i] = int(s.stride[first + i]);
      dil[i] = int(s.dil[first + i]);
    }
    const cudnnTensorFormat_t fmt = s.nhwc ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
    const cudnnDataType_t t = cudnnType(s.dtype);
    CK(cudnnSetTensorNdDescriptorEx(x, fmt, t, nb, xd));
    CK(cudnnSetTensorNdDescriptorEx(y, fmt, t, nb, yd));
    CK(cudnnSetFilterNdDescriptor(w, t, fmt, nb, wd));
    CK(cudnnSetConvolutionNdDescriptor(conv, nb - 2, pad, stride, dil, CUDNN_CROSS_CORRELATION,
                                       s.dtype == LAMINA_DATA_DOUBLE ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT));
    CK(cudnnSetConvolutionGroupCount(conv, int(s.G)));
    CK(cudnnSetConvolutionMathType(conv, cudnnMath(s)));
    int od[5] = {};
    CK(cudnnGetConvolutionNdForwardOutputDim(conv, x, w, nb, od));
    for (int i = 0; i < nb; ++i)
      if (od[i] != yd[i])
        throw std::runtime_error("cuDNN computes output dim " + std::to_string(i) + " = " + std::to_string(od[i]) +
                                 ", Lamina " + std::to_string(yd[i]));
  }
  ~Descs() {
    cudnnDestroyTensorDescriptor(x);
    cudnnDestroyTensorDescriptor(y);
    cudnnDestroyFilterDescriptor(w);
    cudnnDestroyConvolutionDescriptor(conv);
  }
  Descs(const Descs &) = delete;
  Descs &operator=(const Descs &) = delete;
};

class CudnnPeer final : public Peer {
public:
  CudnnPeer() { CK(cudnnCreate(&h_)); }
  ~CudnnPeer() override { cudnnDestroy(h_); }
  CudnnPeer(const CudnnPeer &) = delete;
  CudnnPeer &operator=(const CudnnPeer &) = delete;
  const char *name() const override { return "cudnn"; }
  std::string version() const override {
    size_t v = cudnnGetVersion(); // 9.x: major * 10000 + minor * 100 + patch
    char buf[96];
    std::snprintf(buf, sizeof buf, "%zu.%zu.%zu (header %d.%d.%d)", v / 10000, v / 100 % 100, v % 100, CUDNN_MAJOR,
                  CUDNN_MINOR, CUDNN_PATCHLEVEL);
    return buf;
  }
  void setThreads(int) override {}

  PeerResult run(const ConvSpec &s, Dir dir, const HostData &data, const TimingOptions &t) override {
    PeerResult r;
    try {
      runImpl(s, dir, data, t, r);
    } catch (const std::exception &e) {
      r = PeerResult();
      r.why = std::string("cuDNN: ") + e.what();
    }
    return r;
  }

private:
  cudnnHandle_t h_ = nullptr;

  // The largest workspace any algorithm of the direction asks for, within what the GPU can spare.
  size_t findWorkspaceBytes(const Descs &d, Dir dir) {
    size_t best = 0;
    const int count = dir == Dir::Fwd       ? int(CUDNN_CONVOLUTION_FWD_ALGO_COUNT)
                      : dir == Dir::BwdData ? int(CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT)
                                            : int(CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT);
    for (int a = 0; a < count; ++a) {
      size_t b = 0;
      cudnnStatus_t st =
          dir == Dir::Fwd
              ? cudnnGetConvolutionForwardWorkspaceSize(h_, d.x, d.w, d.conv, d.y, cudnnConvolutionFwdAlgo_t(a), &b)
          : dir == Dir::BwdData ? cudnnGetConvolutionBackwardDataWorkspaceSize(h_, d.w, d.y, d.conv, d.x,
                                                                               cudnnConvolutionBwdDataAlgo_t(a), &b)
                                : cudnnGetConvolutionBackwardFilterWorkspaceSize(
                                      h_, d.x, d.y, d.conv, d.w, cudnnConvolutionBwdFilterAlgo_t(a), &b);
      if (st == CUDNN_STATUS_SUCCESS)
        best = std::max(best, b);
    }
    return std::min(best, workspaceCap());
  }

  void runImpl(const ConvSpec &s, Dir dir, const HostData &data, const TimingOptions &t, PeerResult &r) {
    cudaStream_t stream = static_cast<cudaStream_t>(t.stream);
    CK(cudnnSetStream(h_, stream));
    Descs d(s);
    const laminaDataType_t dt = s.dtype;
    const size_t es = elemSize(dt);
    // in1/in2/out as in the bench: x,w -> y | dy,w -> dx | x,dy -> dw
    const auto &h1 = dir == Dir::BwdData ? data.dy : data.x;
    const auto &h2 = dir == Dir::BwdFilter ? data.dy : data.w;
    const int64_t nOut = dir == Dir::Fwd ? s.yCount() : dir == Dir::BwdData ? s.xCount() : s.wCount();
    if (h1.empty() || h2.empty() || h1.size() != h2.size())
      throw std::runtime_error("no input data");
    const size_t sets = h1.size();
    std::vector<std::unique_ptr<DevMem>> d1, d2;
    for (size_t i = 0; i < sets; ++i) {
      d1.push_back(std::make_unique<DevMem>(h1[i].size() * es));
      d2.push_back(std::make_unique<DevMem>(h2[i].size() * es));
      upload(h1[i], dt, d1.back()->p, stream);
      upload(h2[i], dt, d2.back()->p, stream);
    }
    DevMem out(size_t(nOut) * es);
    const size_t wsBytes = findWorkspaceBytes(d, dir);
    DevMem ws(wsBytes);

    // Measure every algorithm on set 0; perf results come sorted fastest first.
    int algo = -1;
    cudnnMathType_t math = cudnnMath(s);
    size_t need = 0;
    int returned = 0;
    auto pickFrom = [&](const auto *perf, int n) {
      for (int i = 0; i < n && algo < 0; ++i)
        if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].memory <= wsBytes)
          algo = int(perf[i].algo), math = perf[i].mathType, need = perf[i].memory;
    };
    switch (dir) {
    case Dir::Fwd: {
      cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
      CK(cudnnFindConvolutionForwardAlgorithmEx(h_, d.x, d1[0]->p, d.w, d2[0]->p, d.conv, d.y, out.p,
                                                CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &returned, perf, ws.p, wsBytes));
      pickFrom(perf, returned);
      break;
    }
    case Dir::BwdData: {
      cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
      CK(cudnnFindConvolutionBackwardDataAlgorithmEx(h_, d.w, d2[0]->p, d.y, d1[0]->p, d.conv, d.x, out.p,
                                                     CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &returned, perf, ws.p,
                                                     wsBytes));
      pickFrom(perf, returned);
      break;
    }
    case Dir::BwdFilter: {
      cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
      CK(cudnnFindConvolutionBackwardFilterAlgorithmEx(h_, d.x, d1[0]->p, d.y, d2[0]->p, d.conv, d.w, out.p,
                                                       CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &returned, perf, ws.p,
                                                       wsBytes));
      pickFrom(perf, returned);
      break;
    }
    }
    if (algo < 0)
      throw std::runtime_error("no algorithm runs this problem within the workspace of " +
                               std::to_string(wsBytes >> 20) + " MiB");
    CK(cudnnSetConvolutionMathType(d.conv, math)); // the math type the measurement ran with

    const float f1 = 1.f, f0 = 0.f;
    const double d1v = 1.0, d0v = 0.0;
    const bool dbl = dt == LAMINA_DATA_DOUBLE;
    const void *one = dbl ? (const void *)&d1v : &f1, *zero = dbl ? (const void *)&d0v : &f0;
    auto runOnce = [&](size_t k) {
      cudnnStatus_t st = CUDNN_STATUS_SUCCESS;
      switch (dir) {
      case Dir::Fwd:
        st = cudnnConvolutionForward(h_, one, d.x, d1[k]->p, d.w, d2[k]->p, d.conv, cudnnConvolutionFwdAlgo_t(algo),
                                     ws.p, wsBytes, zero, d.y, out.p);
        break;
      case Dir::BwdData:
        st = cudnnConvolutionBackwardData(h_, one, d.w, d2[k]->p, d.y, d1[k]->p, d.conv,
                                          cudnnConvolutionBwdDataAlgo_t(algo), ws.p, wsBytes, zero, d.x, out.p);
        break;
      case Dir::BwdFilter:
        st = cudnnConvolutionBackwardFilter(h_, one, d.x, d1[k]->p, d.y, d2[k]->p, d.conv,
                                            cudnnConvolutionBwdFilterAlgo_t(algo), ws.p, wsBytes, zero, d.w, out.p);
        break;
      }
      return st;
    };
    cudnnStatus_t st = CUDNN_STATUS_SUCCESS;
    r.plainMs = timeMedianMs(
        t,
        [&](int i) {
          if (st == CUDNN_STATUS_SUCCESS)
            st = runOnce(size_t(i) % sets);
        },
        nullptr, nullptr, &r.plainIssueMs);
    check(st, algoName(dir, algo));
    // The output on set 0, for the bench's comparison with Lamina.
    check(runOnce(0), algoName(dir, algo));
    r.out = download(dt, nOut, out.p, stream);
    r.nativeMs = -1; // cuDNN runs on the plain layouts themselves: no separate native figure
    char impl[160];
    std::snprintf(impl, sizeof impl, "%s %s ws=%.1fMiB", algoName(dir, algo), mathName(math), double(need) / (1 << 20));
    r.impl = impl;
    r.ok = true;
  }
};

} // namespace

std::unique_ptr<Peer> makeCudnnPeer() { return std::make_unique<CudnnPeer>(); }

} // namespace bench
