// Internal form of every public descriptor. Each starts with a magic number of its kind, so a
// descriptor of the wrong kind, or a destroyed one, is caught as WRONG_DESCRIPTOR.
#pragma once

#include "core/dtype.h"
#include "core/error.h"

#include <lamina/lamina.h>

#include <cstdint>

namespace lamina {

enum class DescKind : uint32_t {
  Tensor = 0x4C4D0001,
  Filter,
  Convolution,
  Pooling,
  Activation,
  LRN,
  Dropout,
  OpTensor,
  ReduceTensor,
  Dead = 0xDEADDEAD // written by Destroy
};
const char *descKindName(DescKind k);

struct DescHeader {
  DescKind kind;
  bool isSet = false; // false until a Set call succeeded
  explicit DescHeader(DescKind k) : kind(k) {}
};

// A strided view of memory: dims[i] elements at strides[i] (in elements).
struct TensorDesc {
  laminaDataType_t dataType = LAMINA_DATA_FLOAT;
  int nbDims = 0;
  int64_t dims[LAMINA_DIM_MAX] = {};
  int64_t strides[LAMINA_DIM_MAX] = {};

  int64_t numel() const;        // product of dims
  int64_t spanElements() const; // offset of the farthest element + 1
  size_t sizeInBytes() const { return size_t(spanElements()) * dataTypeSize(dataType); }
  bool isPackedNCHW() const; // fully packed, dims in N, C, spatial... memory order
  bool isPackedNHWC() const; // fully packed, N, spatial..., C memory order
  bool sameDims(const TensorDesc &o) const;
  bool sameLayout(const TensorDesc &o) const; // same dims and strides
  // True when two different in-bounds indices map to the same offset (a bad output tensor).
  bool hasOverlap() const;
};

struct FilterDesc {
  laminaDataType_t dataType = LAMINA_DATA_FLOAT;
  laminaTensorFormat_t format = LAMINA_TENSOR_NCHW;
  int nbDims = 0;                       // 2 + spatial
  int64_t dims[LAMINA_DIM_MAX] = {};    // K, C per group, spatial...
  int64_t strides[LAMINA_DIM_MAX] = {}; // derived from format, in the same K, C, spatial order
  int64_t numel() const;
  size_t sizeInBytes() const { return size_t(numel()) * dataTypeSize(dataType); }
  TensorDesc asTensor() const; // the same memory as a K x C x spatial tensor
};

struct ConvDesc {
  int spatialDims = 0;
  int64_t pads[3] = {};
  int64_t strides[3] = {1, 1, 1};
  int64_t dilations[3] = {1, 1, 1};
  laminaConvolutionMode_t mode = LAMINA_CROSS_CORRELATION;
  laminaDataType_t computeType = LAMINA_DATA_FLOAT;
  int64_t groups = 1;
  laminaMathType_t mathType = LAMINA_DEFAULT_MATH;
};

struct PoolingDesc {
  laminaPoolingMode_t mode = LAMINA_POOLING_MAX;
  laminaNanPropagation_t nan = LAMINA_NOT_PROPAGATE_NAN;
  int spatialDims = 0;
  int64_t window[3] = {};
  int64_t pads[3] = {};
  int64_t strides[3] = {};
  bool ceilMode = false;
  // Output size along spatial dim i for an input of size `in` (0 or less when it does not fit).
  int64_t outputSize(int i, int64_t in) const;
};

struct ActivationDesc {
  laminaActivationMode_t mode = LAMINA_ACTIVATION_RELU;
  laminaNanPropagation_t nan = LAMINA_NOT_PROPAGATE_NAN;
  double coef = 0.0;
};

struct LRNDesc {
  unsigned n = 5;
  double alpha = 1e-4, beta = 0.75, k = 2.0;
};

struct DropoutDesc {
  float dropout = 0.f;
  void *states = nullptr; // backend memory, laminaDropoutGetStatesSize bytes
  size_t stateBytes = 0;
  unsigned long long seed = 0;
  laminaBackend_t backend = LAMINA_BACKEND_CPU;
};

struct OpTensorDesc {
  laminaOpTensorOp_t op = LAMINA_OP_TENSOR_ADD;
  laminaDataType_t computeType = LAMINA_DATA_FLOAT;
  laminaNanPropagation_t nan = LAMINA_NOT_PROPAGATE_NAN;
  // The unary ops read a only (b and bData may be NULL).
  bool unary() const {
    return op == LAMINA_OP_TENSOR_SQRT || op == LAMINA_OP_TENSOR_NOT || op == LAMINA_OP_TENSOR_EXP ||
           op == LAMINA_OP_TENSOR_LOG || op == LAMINA_OP_TENSOR_ABS || op == LAMINA_OP_TENSOR_SIGN;
  }
};

struct ReduceTensorDesc {
  laminaReduceTensorOp_t op = LAMINA_REDUCE_TENSOR_ADD;
  laminaDataType_t computeType = LAMINA_DATA_FLOAT;
  laminaNanPropagation_t nan = LAMINA_NOT_PROPAGATE_NAN;
  laminaReduceTensorIndices_t indices = LAMINA_REDUCE_TENSOR_NO_INDICES;
};

} // namespace lamina

// The public opaque types. `DescHeader` first, then the payload.
struct laminaTensorStruct {
  static constexpr lamina::DescKind kKind = lamina::DescKind::Tensor;
  lamina::DescHeader h{kKind};
  lamina::TensorDesc d;
};
struct laminaFilterStruct {
  static constexpr lamina::DescKind kKind = lamina::DescKind::Filter;
  lamina::DescHeader h{kKind};
  lamina::FilterDesc d;
};
struct laminaConvolutionStruct {
  static constexpr lamina::DescKind kKind = lamina::DescKind::Convolution;
  lamina::DescHeader h{kKind};
  lamina::ConvDesc d;
};
struct laminaPoolingStruct {
  static constexpr lamina::DescKind kKind = lamina::DescKind::Pooling;
  lamina::DescHeader h{kKind};
  lamina::PoolingDesc d;
};
struct laminaActivationStruct {
  static constexpr lamina::DescKind kKind = lamina::DescKind::Activation;
  lamina::DescHeader h{kKind};
  lamina::ActivationDesc d;
};
struct laminaLRNStruct {
  static constexpr lamina::DescKind kKind = lamina::DescKind::LRN;
  lamina::DescHeader h{kKind};
  lamina::LRNDesc d;
};
struct laminaDropoutStruct {
  static constexpr lamina::DescKind kKind = lamina::DescKind::Dropout;
  lamina::DescHeader h{kKind};
  lamina::DropoutDesc d;
};
struct laminaOpTensorStruct {
  static constexpr lamina::DescKind kKind = lamina::DescKind::OpTensor;
  lamina::DescHeader h{kKind};
  lamina::OpTensorDesc d;
};
struct laminaReduceTensorStruct {
  static constexpr lamina::DescKind kKind = lamina::DescKind::ReduceTensor;
  lamina::DescHeader h{kKind};
  lamina::ReduceTensorDesc d;
};
