// laminaMatmul on the GPU: the row-major product C = op(A) op(B) is the column-major product
// C^T = op(B)^T op(A)^T, so cuBLAS gets B first, then A, with the row-major leading dims unchanged
// (a row-major r x c matrix with row stride ld is a column-major c x r matrix with ld).
#include "cuda/blas.h"
#include "cuda/ops.h"

namespace lamina::cuda {

void matmul(const laminaContext &h, const MatmulArgs &a) {
  GemmCall g;
  g.abType = g.cType = a.dataType;
  g.math = a.math;
  g.transA = a.transB; // column-major A' = B
  g.transB = a.transA; // column-major B' = A
  g.m = a.n;
  g.n = a.m;
  g.k = a.k;
  g.alpha = a.alpha;
  g.beta = a.beta;
  g.A = a.B;
  g.lda = a.ldb;
  g.strideA = a.strideB;
  g.B = a.A;
  g.ldb = a.lda;
  g.strideB = a.strideA;
  g.C = a.C;
  g.ldc = a.ldc;
  g.strideC = a.strideC;
  g.batch = a.batch;
  gemmStridedBatched(h, g);
}

} // namespace lamina::cuda
