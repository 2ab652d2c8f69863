#include "core/descriptors.h"

#include <algorithm>
#include <numeric>

namespace lamina {

const char *descKindName(DescKind k) {
  switch (k) {
  case DescKind::Tensor: return "tensor";
  case DescKind::Filter: return "filter";
  case DescKind::Convolution: return "convolution";
  case DescKind::Pooling: return "pooling";
  case DescKind::Activation: return "activation";
  case DescKind::LRN: return "LRN";
  case DescKind::Dropout: return "dropout";
  case DescKind::OpTensor: return "op-tensor";
  case DescKind::ReduceTensor: return "reduce-tensor";
  case DescKind::Dead: return "destroyed descriptor";
  }
  return "unknown object";
}

int64_t TensorDesc::numel() const {
  int64_t n = 1;
  for (int i = 0; i < nbDims; ++i)
    n *= dims[i];
  return n;
}

int64_t TensorDesc::spanElements() const {
  int64_t s = 1;
  for (int i = 0; i < nbDims; ++i)
    s += (dims[i] - 1) * strides[i];
  return s;
}

bool TensorDesc::isPackedNCHW() const {
  int64_t expect = 1;
  for (int i = nbDims - 1; i >= 0; --i) {
    if (dims[i] != 1 && strides[i] != expect)
      return false;
    expect *= dims[i];
  }
  return true;
}

bool TensorDesc::isPackedNHWC() const {
  if (nbDims < 3)
    return isPackedNCHW();
  // memory order: N, spatial..., C
  int64_t expect = 1;
  if (dims[1] != 1 && strides[1] != expect)
    return false;
  expect *= dims[1];
  for (int i = nbDims - 1; i >= 2; --i) {
    if (dims[i] != 1 && strides[i] != expect)
      return false;
    expect *= dims[i];
  }
  return dims[0] == 1 || strides[0] == expect;
}

bool TensorDesc::sameDims(const TensorDesc &o) const {
  return nbDims == o.nbDims && std::equal(dims, dims + nbDims, o.dims);
}

bool TensorDesc::sameLayout(const TensorDesc &o) const {
  return sameDims(o) && std::equal(strides, strides + nbDims, o.strides);
}

bool TensorDesc::hasOverlap() const {
  // Sort the non-trivial dims by stride; the layout is overlap-free when each stride is at least
  // the span of all smaller-stride dims (sufficient, and what every real layout satisfies).
  int idx[LAMINA_DIM_MAX];
  int n = 0;
  for (int i = 0; i < nbDims; ++i)
    if (dims[i] > 1)
      idx[n++] = i;
  for (int a = 1; a < n; ++a) // insertion sort: at most 8 entries
    for (int b = a; b > 0 && strides[idx[b]] < strides[idx[b - 1]]; --b)
      std::swap(idx[b], idx[b - 1]);
  int64_t span = 1; // elements covered by the dims seen so far
  for (int j = 0; j < n; ++j) {
    int64_t s = strides[idx[j]];
    if (s < span)
      return true;
    span = s * (dims[idx[j]] - 1) + span;
  }
  return false;
}

int64_t FilterDesc::numel() const {
  int64_t n = 1;
  for (int i = 0; i < nbDims; ++i)
    n *= dims[i];
  return n;
}

TensorDesc FilterDesc::asTensor() const {
  TensorDesc t;
  t.dataType = dataType;
  t.nbDims = nbDims;
  std::copy(dims, dims + nbDims, t.dims);
  std::copy(strides, strides + nbDims, t.strides);
  return t;
}

int64_t PoolingDesc::outputSize(int i, int64_t in) const {
  int64_t span = in + 2 * pads[i] - window[i];
  if (span < 0)
    return 0;
  if (!ceilMode)
    return span / strides[i] + 1;
  int64_t out = (span + strides[i] - 1) / strides[i] + 1;
  // Caffe: the last window must start inside the image or its leading padding.
  if ((out - 1) * strides[i] >= in + pads[i])
    --out;
  return out;
}

} // namespace lamina
