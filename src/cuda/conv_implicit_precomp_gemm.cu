// Forward IMPLICIT_PRECOMP_GEMM: the IMPLICIT_GEMM tiling (conv_igemm_common.cuh), but a small kernel
// first decodes every reduction index j = (c, taps) into a table in the workspace (x offset, w offset,
// tap displacement per spatial slot), so the main loop reads one warp-uniform table entry per index
// instead of dividing.
#include "cuda/conv_algorithms.h"
#include "cuda/conv_igemm_common.cuh"
#include "cuda/conv_tc.h"

namespace lamina::cuda {
namespace {

constexpr size_t kTableAlign = 64; // the caller's workspace pointer need not be aligned

__global__ void buildTapTable(const igemm::Geom g, igemm::Tap *table) {
  LAMINA_GRID_STRIDE_LOOP(j, g.Kred) { table[j] = igemm::decodeTap(g, j); }
}

std::string whyNot(const ConvProblem &) { return {}; }
size_t tableBytes(const ConvProblem &p) { return size_t(p.Cg() * p.filtSize()) * sizeof(igemm::Tap) + kTableAlign; }
// The tensor-core path may split the reduction (fp32 partials in the workspace); the general path
// keeps its table.
size_t workspace(const ConvProblem &p) {
  return std::max(tableBytes(p), tc::convWorkspace(p, tc::Dir::Forward, tc::kSplitK | tc::kStage));
}
double estimate(const ConvProblem &p) {
  if (tc::whyNotConv(p, tc::Dir::Forward, tc::kSplitK | tc::kStage).empty())
    return tc::convEstimateMs(p, tc::Dir::Forward, tc::kSplitK | tc::kStage) * 0.99; // ties go to the split plan
  return igemm::tiledEstimateMs(p, 1.25, 2);
}

void run(const ConvArgs &a) {
  if (tc::runConv(a, tc::Dir::Forward, tc::kSplitK | tc::kStage))
    return;
  const igemm::Geom g = igemm::makeGeom(*a.p);
  const uintptr_t raw = reinterpret_cast<uintptr_t>(a.workspace);
  igemm::Tap *table = reinterpret_cast<igemm::Tap *>((raw + kTableAlign - 1) / kTableAlign * kTableAlign);
  buildTapTable<<<gridFor(g.Kred), kBlock, 0, streamOf(*a.handle)>>>(g, table);
  LAMINA_CUDA_LAUNCHED();
  LAMINA_CUDA_DISPATCH_FLOAT_TYPES(a.p->dataType, igemm::launchForward, a, g, igemm::TableDecoder{table});
}

template <class T> void preloadT() { igemm::preloadForward<T, igemm::TableDecoder>(); }
} // namespace

void preloadConvFwdImplicitPrecompGemm() {
  preloadKernel(buildTapTable);
  LAMINA_CUDA_FOR_FLOAT_TYPES(preloadT);
}

const ConvAlgorithm kConvFwdImplicitPrecompGemm = {ConvDirection::Forward,
                                                   LAMINA_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM,
                                                   "IMPLICIT_PRECOMP_GEMM",
                                                   LAMINA_DETERMINISTIC,
                                                   whyNot,
                                                   workspace,
                                                   estimate,
                                                   run};

} // namespace lamina::cuda
