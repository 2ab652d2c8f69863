// A convolution problem's geometry with every spatial dim present, shared by the CPU and CUDA
// algorithms: the problem's spatial dims are right-aligned (slot 2 is the innermost, W), unused leading
// slots have size 1 and stride 0. The filter strides and wOff include the flip of LAMINA_CONVOLUTION
// mode (negative strides from the last tap), so every algorithm is written as a cross-correlation:
// the logical tap f of filter row k is at w + wOff + k*ws[0] + c*ws[1] + f.ws. Plain data: CUDA
// kernels take it by value.
#pragma once

#include "core/conv_problem.h"

#include <cstdint>

namespace lamina {

struct ConvGeom {
  int64_t N, C, K, G, Cg, Kg;
  int64_t in[3], filt[3], out[3], pad[3], str[3], dil[3];
  int64_t xs[5], ys[5], ws[5]; // strides: n (k for w), c, spatial 0..2
  int64_t wOff;                // offset of logical filter element (0, 0, 0, 0, 0)
  int64_t F, P, I;             // filter, output and input spatial sizes
  int64_t CgF() const { return Cg * F; }
};

inline ConvGeom makeConvGeom(const ConvProblem &p) {
  ConvGeom g;
  g.N = p.N, g.C = p.C, g.K = p.K, g.G = p.G, g.Cg = p.Cg(), g.Kg = p.Kg();
  g.xs[0] = p.x.strides[0], g.xs[1] = p.x.strides[1];
  g.ys[0] = p.y.strides[0], g.ys[1] = p.y.strides[1];
  g.ws[0] = p.w.strides[0], g.ws[1] = p.w.strides[1];
  g.wOff = 0;
  const int off = 3 - p.spatialDims;
  for (int i = 0; i < 3; ++i) {
    const int j = i - off; // the problem's spatial dim, or < 0 when the slot is unused
    const bool used = j >= 0;
    g.in[i] = used ? p.in[j] : 1, g.filt[i] = used ? p.filt[j] : 1, g.out[i] = used ? p.out[j] : 1;
    g.pad[i] = used ? p.pad[j] : 0, g.str[i] = used ? p.stride[j] : 1, g.dil[i] = used ? p.dil[j] : 1;
    g.xs[2 + i] = used ? p.x.strides[2 + j] : 0;
    g.ys[2 + i] = used ? p.y.strides[2 + j] : 0;
    int64_t s = used ? p.w.strides[2 + j] : 0;
    if (p.flip) {
      g.wOff += (g.filt[i] - 1) * s;
      s = -s;
    }
    g.ws[2 + i] = s;
  }
  g.F = p.filtSize(), g.P = p.outSize(), g.I = p.inSize();
  return g;
}

} // namespace lamina
