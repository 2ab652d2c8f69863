// Shared pieces of the CPU convolution algorithms: a normalised 3-D geometry with strides (2-D
// problems get a leading spatial dim of size 1), typed loads, im2col/col2im, filter packing, and
// the workspace slot count of the BLAS paths.
#pragma once

#include "core/conv_geom.h"
#include "core/conv_problem.h"
#include "cpu/cpu_common.h"

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <type_traits>

namespace lamina::cpu {

// The shared geometry (core/conv_geom.h).
using lamina::ConvGeom;
inline ConvGeom makeGeom(const ConvProblem &p) { return makeConvGeom(p); }

template <class T> inline compute_t<T> ld(const T *p) { return compute_t<T>(toFloat(*p)); }

// Accumulation type of the BLAS paths: float for float/half/bfloat16, double for double.
template <class T> using acc_t = compute_t<T>;

// Packs w into [K][Cg*F] rows of A (flip and layout applied, converted).
template <class T, class A> void packFilter(const ConvGeom &g, const T *w, A *out) {
  const T *wb = w + g.wOff;
  for (int64_t k = 0; k < g.K; ++k)
    for (int64_t c = 0; c < g.Cg; ++c)
      for (int64_t f0 = 0; f0 < g.filt[0]; ++f0)
        for (int64_t f1 = 0; f1 < g.filt[1]; ++f1)
          for (int64_t f2 = 0; f2 < g.filt[2]; ++f2)
            *out++ = A(ld(wb + k * g.ws[0] + c * g.ws[1] + f0 * g.ws[2] + f1 * g.ws[3] + f2 * g.ws[4]));
}

// Input coordinate of output o along spatial dim d with filter tap f.
inline int64_t inCoord(const ConvGeom &g, int d, int64_t o, int64_t f) {
  return o * g.str[d] - g.pad[d] + f * g.dil[d];
}

// im2col of Cg channels starting at xc (an image's first channel of one group), restricted to
// output positions [p0, p0 + np): row r = (c, taps) of the column matrix goes to cols + r * ldc,
// position p0 + j to column j. Padding reads as zero.
template <class T, class A>
void im2colRange(const ConvGeom &g, const T *xc, int64_t p0, int64_t np, A *cols, int64_t ldc) {
  const int64_t O2 = g.out[2], s2 = g.str[2], x2 = g.xs[4];
  for (int64_t c = 0; c < g.Cg; ++c)
    for (int64_t f0 = 0; f0 < g.filt[0]; ++f0)
      for (int64_t f1 = 0; f1 < g.filt[1]; ++f1)
        for (int64_t f2 = 0; f2 < g.filt[2]; ++f2) {
          A *dst = cols + (((c * g.filt[0] + f0) * g.filt[1] + f1) * g.filt[2] + f2) * ldc;
          const T *xcc = xc + c * g.xs[1];
          const int64_t base = f2 * g.dil[2] - g.pad[2];
          // Output columns o2 whose input lies inside [0, in): [lo, hi).
          const int64_t lo = base >= 0 ? 0 : std::min(O2, (-base + s2 - 1) / s2);
          const int64_t hi = std::max(lo, g.in[2] - base <= 0 ? 0 : std::min(O2, (g.in[2] - base + s2 - 1) / s2));
          // Walk the positions one output row (fixed o0, o1) at a time; counters, no divisions.
          int64_t a = p0 % O2, o1 = (p0 / O2) % g.out[1], o0 = p0 / O2 / g.out[1];
          for (int64_t pp = p0, end = p0 + np; pp < end;) {
            const int64_t b = std::min(O2, a + (end - pp));
            const int64_t i0 = inCoord(g, 0, o0, f0), i1 = inCoord(g, 1, o1, f1);
            A *d = dst + (pp - p0); // d[j] is column o2 = a + j
            if (i0 < 0 || i0 >= g.in[0] || i1 < 0 || i1 >= g.in[1]) {
              std::fill(d, d + (b - a), A(0));
            } else {
              const T *row = xcc + i0 * g.xs[2] + i1 * g.xs[3];
              const int64_t l = std::max(lo, a), hgh = std::max(l, std::min(hi, b));
              for (int64_t o2 = a; o2 < std::min(l, b); ++o2)
                d[o2 - a] = A(0);
              bool copied = false;
              if constexpr (std::is_same<T, A>::value) {
                if (s2 == 1 && x2 == 1) {
                  std::copy(row + base + l, row + base + hgh, d + (l - a));
                  copied = true;
                }
              }
              if (!copied)
                for (int64_t o2 = l; o2 < hgh; ++o2)
                  d[o2 - a] = A(ld(row + (o2 * s2 + base) * x2));
              for (int64_t o2 = std::max(hgh, a); o2 < b; ++o2)
                d[o2 - a] = A(0);
            }
            pp += b - a;
            a = 0;
            if (++o1 == g.out[1])
              o1 = 0, ++o0;
          }
        }
}

template <class T, class A> void im2col(const ConvGeom &g, const T *xc, A *cols) {
  im2colRange(g, xc, 0, g.P, cols, g.P);
}

// col2im: adds cols[Cg*F][P] into acc[Cg][I] (packed input image of one group).
template <class A> void col2im(const ConvGeom &g, const A *cols, A *acc) {
  for (int64_t c = 0; c < g.Cg; ++c)
    for (int64_t f0 = 0; f0 < g.filt[0]; ++f0)
      for (int64_t f1 = 0; f1 < g.filt[1]; ++f1)
        for (int64_t f2 = 0; f2 < g.filt[2]; ++f2) {
          const A *src = cols + (((c * g.filt[0] + f0) * g.filt[1] + f1) * g.filt[2] + f2) * g.P;
          A *ac = acc + c * g.I;
          for (int64_t o0 = 0; o0 < g.out[0]; ++o0) {
            int64_t i0 = inCoord(g, 0, o0, f0);
            if (i0 < 0 || i0 >= g.in[0])
              continue;
            for (int64_t o1 = 0; o1 < g.out[1]; ++o1) {
              int64_t i1 = inCoord(g, 1, o1, f1);
              if (i1 < 0 || i1 >= g.in[1])
                continue;
              const A *s = src + (o0 * g.out[1] + o1) * g.out[2];
              A *row = ac + (i0 * g.in[1] + i1) * g.in[2];
              for (int64_t o2 = 0; o2 < g.out[2]; ++o2) {
                int64_t i2 = inCoord(g, 2, o2, f2);
                if (i2 >= 0 && i2 < g.in[2])
                  row[i2] += s[o2];
              }
            }
          }
        }
}

// Workspace slots of the BLAS paths: images are spread over this many per-thread buffers.
inline int64_t convSlots(const ConvProblem &p) {
  return std::max<int64_t>(1, std::min<int64_t>(p.N, omp_get_num_procs()));
}

inline size_t alignUp(size_t b) { return (b + 63) / 64 * 64; }
inline size_t computeSize(const ConvProblem &p) { return p.dataType == LAMINA_DATA_DOUBLE ? 8 : 4; }

// Carves consecutive 64-byte aligned arrays out of a workspace.
struct WsCarver {
  char *p;
  template <class A> A *take(int64_t n) {
    A *r = reinterpret_cast<A *>(p);
    p += alignUp(size_t(n) * sizeof(A));
    return r;
  }
};

// Writes a packed [Kg][P] accumulator block of output channels k0.. of image n into y (strided).
// Row k of buf starts at buf + k * ldb (ldb = P when 0).
template <class T, class A>
void storeOutBlock(const ConvGeom &g, T *yn, int64_t k0, int64_t nk, const A *buf, A alpha, A beta, int64_t ldb = 0) {
  if (ldb == 0)
    ldb = g.P;
  for (int64_t k = 0; k < nk; ++k) {
    T *yk = yn + (k0 + k) * g.ys[1];
    const A *b = buf + k * ldb;
    for (int64_t o0 = 0; o0 < g.out[0]; ++o0)
      for (int64_t o1 = 0; o1 < g.out[1]; ++o1)
        for (int64_t o2 = 0; o2 < g.out[2]; ++o2)
          storeScaled(yk + o0 * g.ys[2] + o1 * g.ys[3] + o2 * g.ys[4],
                      compute_t<T>(b[(o0 * g.out[1] + o1) * g.out[2] + o2]), compute_t<T>(alpha), compute_t<T>(beta));
  }
}

// Loads [nk][P] of a strided output-shaped tensor (dy) into a packed buffer.
template <class T, class A> void loadOutBlock(const ConvGeom &g, const T *yn, int64_t k0, int64_t nk, A *buf) {
  for (int64_t k = 0; k < nk; ++k) {
    const T *yk = yn + (k0 + k) * g.ys[1];
    A *b = buf + k * g.P;
    for (int64_t o0 = 0; o0 < g.out[0]; ++o0)
      for (int64_t o1 = 0; o1 < g.out[1]; ++o1)
        for (int64_t o2 = 0; o2 < g.out[2]; ++o2)
          b[(o0 * g.out[1] + o1) * g.out[2] + o2] = A(ld(yk + o0 * g.ys[2] + o1 * g.ys[3] + o2 * g.ys[4]));
  }
}

// True when x's [C][I] block of an image is packed (NCHW order) so it can be a GEMM operand as is.
inline bool packedImage(const TensorDesc &t, int spatialDims, int64_t I) {
  int64_t expect = 1;
  for (int i = spatialDims + 1; i >= 2; --i) {
    if (t.dims[i] != 1 && t.strides[i] != expect)
      return false;
    expect *= t.dims[i];
  }
  return t.dims[1] == 1 || t.strides[1] == I;
}

// Runs f(args) single-threaded for tiny problems: waking a thread team costs more than the work
// (and on a busy machine the waiting threads spin).
template <class F> void runSized(const ConvArgs &a, F &&f) {
  constexpr double kSerialFlops = 1e6;
  if (a.p->flops() < kSerialFlops && a.handle->threads != 1) {
    laminaContext one = *a.handle;
    one.threads = 1;
    ConvArgs b = a;
    b.handle = &one;
    f(b);
  } else {
    f(a);
  }
}

} // namespace lamina::cpu
