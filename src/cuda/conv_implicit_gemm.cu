// Forward IMPLICIT_GEMM: the convolution as one GEMM per group whose input operand is gathered from x
// on the fly (im2col addressing decoded with divisions in the main loop, padding read as zero); no
// workspace. The kernel and its tiling are shared with IMPLICIT_PRECOMP_GEMM (conv_igemm_common.cuh).
#include "cuda/conv_algorithms.h"
#include "cuda/conv_igemm_common.cuh"
#include "cuda/conv_tc.h"

namespace lamina::cuda {
namespace {

std::string whyNot(const ConvProblem &) { return {}; }
size_t workspace(const ConvProblem &) { return 0; }
double estimate(const ConvProblem &p) {
  if (tc::whyNotConv(p, tc::Dir::Forward, 0).empty())
    return tc::convEstimateMs(p, tc::Dir::Forward, 0);
  return igemm::tiledEstimateMs(p, 1.0, 1);
}

void run(const ConvArgs &a) {
  // Half/bf16, or float as TF32, NHWC under TENSOR_OP: the mma.sync pipeline (conv_tc_fwd.cu); else the
  // general kernel.
  if (tc::runConv(a, tc::Dir::Forward, 0))
    return;
  const igemm::Geom g = igemm::makeGeom(*a.p);
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(a.p->dataType, igemm::launchForward, a, g, igemm::DivideDecoder{});
}

template <class T> void preloadT() { igemm::preloadForward<T, igemm::DivideDecoder>(); }
} // namespace

void preloadConvFwdImplicitGemm() { LAMINA_CUDA_FOR_FLOAT_TYPES(preloadT); }

const ConvAlgorithm kConvFwdImplicitGemm = {ConvDirection::Forward,
                                            LAMINA_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
                                            "IMPLICIT_GEMM",
                                            LAMINA_DETERMINISTIC,
                                            whyNot,
                                            workspace,
                                            estimate,
                                            run};

} // namespace lamina::cuda
