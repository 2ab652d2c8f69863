// Small helpers shared by the vision layers (conv, pooling, LRN, batch norm, scale, inner product,
// dropout, concat, eltwise): scaling constants, packed and strided float descriptors, axis checks.
#pragma once

#include "engine/src/layer.h"

namespace lamina::engine::vision {

inline const float kOne = 1.f, kZero = 0.f, kMinusOne = -1.f;

// A packed float descriptor of these dims (at least 1 dim; Lamina takes them as N, C, spatial...).
inline lamina::TensorDescriptor packedDesc(const lamina::Dims &dims) {
  return lamina::TensorDescriptor(LAMINA_DATA_FLOAT, dims);
}
inline void setPacked(lamina::TensorDescriptor &d, const lamina::Dims &dims) {
  d.setNdEx(LAMINA_TENSOR_NCHW, LAMINA_DATA_FLOAT, dims);
}
inline void setStrided(lamina::TensorDescriptor &d, const lamina::Dims &dims, const lamina::Dims &strides) {
  d.setNd(LAMINA_DATA_FLOAT, dims, strides);
}

// Caffe's CanonicalAxisIndex: a negative axis counts from the end; -1 when out of range.
inline int canonicalAxis(int axis, int rank) {
  int a = axis < 0 ? axis + rank : axis;
  return a < 0 || a >= rank ? -1 : a;
}

} // namespace lamina::engine::vision
