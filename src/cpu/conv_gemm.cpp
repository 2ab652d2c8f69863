// Forward GEMM: explicit im2col into the workspace, then y_g[Kg x cols] = W_g[Kg x Cg*F] * cols
// through BLAS. The column matrix is built per block so it stays cache-sized: a range of output
// positions of one image for large images, or several whole images side by side for small ones
// (so the GEMM is not too thin). Blocks are spread over per-thread workspace slots with
// single-threaded BLAS inside; a single block uses multi-threaded BLAS. Fast paths: a 1x1,
// stride-1, unpadded filter on a packed image is its own column matrix, and a packed float or
// double y is written by the GEMM directly (alpha, beta folded in; BLAS does not read C when
// beta = 0).
#include "cpu/conv_algorithms.h"
#include "cpu/conv_common.h"

#include <climits>

namespace lamina::cpu {
namespace {

constexpr int64_t kColElems = int64_t(1) << 19; // column block target: 2 MiB of float
constexpr int64_t kMinGemmN = 256;              // narrower GEMMs waste the BLAS kernels

bool sameStorage(const ConvProblem &p) { return p.dataType == LAMINA_DATA_FLOAT || p.dataType == LAMINA_DATA_DOUBLE; }
// x itself is the column matrix: 1x1 taps, stride 1, no padding, packed image, no conversion.
bool xIsColumns(const ConvProblem &p) {
  for (int i = 0; i < 3; ++i)
    if (p.filt[i] != 1 || p.stride[i] != 1 || p.pad[i] != 0)
      return false;
  return sameStorage(p) && packedImage(p.x, p.spatialDims, p.inSize());
}

struct Plan {
  int64_t nb;     // images per block (> 1 only with whole images)
  int64_t chunk;  // output positions per block (P when nb > 1)
  int64_t blocks; // ceil(N / nb) * ceil(P / chunk)
  int64_t slots;  // per-thread workspace slots
  bool xDirect, yDirect;
  int64_t colElems() const { return xDirect ? 0 : nb * chunk; } // per row of Cg*F
};

Plan plan(const ConvProblem &p) {
  Plan pl;
  const int64_t CgF = p.Cg() * p.filtSize(), P = p.outSize();
  const int64_t procs = std::max(1, omp_get_num_procs());
  pl.xDirect = xIsColumns(p);
  pl.nb = 1;
  pl.chunk = P;
  if (pl.xDirect) {
    // Nothing to build; whole images.
  } else if (CgF * P > kColElems) {
    pl.chunk = std::min(P, std::max(kMinGemmN, kColElems / CgF));
  } else if (P < kMinGemmN) {
    int64_t perThread = std::max<int64_t>(1, p.N / procs); // keep every thread busy
    pl.nb = std::max<int64_t>(1, std::min({(kMinGemmN + P - 1) / P, perThread, p.N}));
  }
  pl.yDirect = pl.nb == 1 && sameStorage(p) && packedImage(p.y, p.spatialDims, P);
  pl.blocks = (p.N + pl.nb - 1) / pl.nb * ((P + pl.chunk - 1) / pl.chunk);
  pl.slots = std::max<int64_t>(1, std::min(pl.blocks, procs));
  return pl;
}

size_t slotBytes(const ConvProblem &p, const Plan &pl) {
  size_t a = computeSize(p);
  return alignUp(a * p.Cg() * p.filtSize() * pl.colElems()) + (pl.yDirect ? 0 : alignUp(a * p.Kg() * pl.nb * pl.chunk));
}
size_t workspace(const ConvProblem &p) {
  Plan pl = plan(p);
  return alignUp(computeSize(p) * p.K * p.Cg() * p.filtSize()) + size_t(pl.slots) * slotBytes(p, pl);
}

template <class T> void run(const ConvArgs &a) {
  using A = acc_t<T>;
  const ConvProblem &p = *a.p;
  const ConvGeom g = makeGeom(p);
  const Plan pl = plan(p);
  const T *x = static_cast<const T *>(a.x);
  T *y = static_cast<T *>(a.y);
  const int64_t CgF = g.CgF(), chunksPerImage = (g.P + pl.chunk - 1) / pl.chunk;
  WsCarver ws{static_cast<char *>(a.workspace)};
  A *wpack = ws.take<A>(g.K * CgF);
  packFilter(g, static_cast<const T *>(a.w), wpack);
  char *slotBase = ws.p;
  const size_t sb = slotBytes(p, pl);
  const A alpha = A(a.alpha), beta = A(a.beta);
  parallelFor(*a.handle, pl.slots, [&](int64_t s) {
    WsCarver sw{slotBase + s * sb};
    A *cols = pl.xDirect ? nullptr : sw.take<A>(CgF * pl.colElems());
    A *out = pl.yDirect ? nullptr : sw.take<A>(g.Kg * pl.nb * pl.chunk);
    for (int64_t blk = s; blk < pl.blocks; blk += pl.slots) {
      const int64_t n0 = blk / chunksPerImage * pl.nb, nb = std::min(pl.nb, g.N - n0);
      const int64_t p0 = blk % chunksPerImage * pl.chunk, np = std::min(pl.chunk, g.P - p0);
      const int64_t ncols = nb * np; // GEMM N; column j*np + q is image n0 + j, position p0 + q
      for (int64_t grp = 0; grp < g.G; ++grp) {
        const A *B;
        int64_t ldb;
        if (pl.xDirect) {
          B = reinterpret_cast<const A *>(x + n0 * g.xs[0] + grp * g.Cg * g.xs[1]) + p0;
          ldb = g.P;
        } else {
          for (int64_t j = 0; j < nb; ++j)
            im2colRange(g, x + (n0 + j) * g.xs[0] + grp * g.Cg * g.xs[1], p0, np, cols + j * np, ncols);
          B = cols;
          ldb = ncols;
        }
        const A *W = wpack + grp * g.Kg * CgF;
        if (pl.yDirect) {
          A *C = reinterpret_cast<A *>(y + n0 * g.ys[0] + grp * g.Kg * g.ys[1]) + p0;
          gemm(*a.handle, false, false, g.Kg, np, CgF, alpha, W, CgF, B, ldb, beta, C, g.P);
        } else {
          gemm(*a.handle, false, false, g.Kg, ncols, CgF, A(1), W, CgF, B, ldb, A(0), out, ncols);
          if (np == g.P) {
            for (int64_t j = 0; j < nb; ++j)
              storeOutBlock(g, y + (n0 + j) * g.ys[0], grp * g.Kg, g.Kg, out + j * np, alpha, beta, ncols);
          } else { // a position range of one image
            for (int64_t k = 0; k < g.Kg; ++k) {
              T *yk = y + n0 * g.ys[0] + (grp * g.Kg + k) * g.ys[1];
              for (int64_t q = 0; q < np; ++q) {
                int64_t pp = p0 + q, o2 = pp % g.out[2], o1 = (pp / g.out[2]) % g.out[1],
                        o0 = pp / (g.out[2] * g.out[1]);
                storeScaled(yk + o0 * g.ys[2] + o1 * g.ys[3] + o2 * g.ys[4], compute_t<T>(out[k * ncols + q]),
                            compute_t<T>(alpha), compute_t<T>(beta));
              }
            }
          }
        }
      }
    }
  });
}

std::string whyNot(const ConvProblem &p) {
  if (p.Cg() * p.filtSize() > INT_MAX || p.N * p.outSize() > INT_MAX || p.Cg() * p.filtSize() * p.outSize() > INT_MAX)
    return "the column matrix exceeds the 32-bit sizes of the BLAS interface";
  return {};
}
double estimate(const ConvProblem &p) {
  // BLAS time (thin GEMMs run far below peak: depthwise has M = 1, K = taps), plus writing and
  // re-reading the column blocks.
  double small = std::min(1.0, double(p.Kg()) / 32.0) * std::min(1.0, double(p.Cg() * p.filtSize()) / 32.0);
  double gemmMs = p.flops() / (kBlasGflops * std::max(small, 0.05) * 1e6);
  double colBytes = xIsColumns(p) ? 0.0 : double(computeSize(p)) * p.N * p.C * p.filtSize() * p.outSize() * 2.0;
  return kCallOverheadMs + gemmMs + colBytes / (kMemGBps * 1e6 * 4);
}
void runAny(const ConvArgs &a) {
  runSized(a, [](const ConvArgs &b) { LAMINA_DISPATCH_FLOAT_TYPES(b.p->dataType, run, b); });
}

} // namespace

const ConvAlgorithm kConvFwdGemm = {ConvDirection::Forward,
                                    LAMINA_CONVOLUTION_FWD_ALGO_GEMM,
                                    "GEMM",
                                    LAMINA_DETERMINISTIC,
                                    whyNot,
                                    workspace,
                                    estimate,
                                    runAny};

} // namespace lamina::cpu
