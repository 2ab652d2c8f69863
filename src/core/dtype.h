// Data types: sizes, half/bfloat16 conversion (round to nearest even), scalar arguments.
#pragma once

#include <lamina/lamina.h>

#include <cstdint>
#include <cstring>

namespace lamina {

// Storage types for the 16-bit floats; arithmetic is done in float.
struct half_t {
  uint16_t bits;
};
struct bfloat16_t {
  uint16_t bits;
};

size_t dataTypeSize(laminaDataType_t t); // 0 for an invalid value
bool isFloatingType(laminaDataType_t t); // float, double, half, bfloat16
const char *dataTypeName(laminaDataType_t t);

inline float bitsToFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline uint32_t floatToBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float halfToFloat(uint16_t h);
uint16_t floatToHalf(float f);
inline float bf16ToFloat(uint16_t b) { return bitsToFloat(uint32_t(b) << 16); }
inline uint16_t floatToBf16(float f) {
  uint32_t u = floatToBits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return uint16_t((u >> 16) | 0x40); // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return uint16_t(u >> 16);
}

// Typed load/store through the compute type (float or double).
inline float toFloat(float v) { return v; }
inline float toFloat(half_t v) { return halfToFloat(v.bits); }
inline float toFloat(bfloat16_t v) { return bf16ToFloat(v.bits); }
inline double toFloat(double v) { return v; }

template <class T> struct Storage;
template <> struct Storage<float> {
  using Compute = float;
  static float from(float v) { return v; }
};
template <> struct Storage<double> {
  using Compute = double;
  static double from(double v) { return v; }
};
template <> struct Storage<half_t> {
  using Compute = float;
  static half_t from(float v) { return half_t{floatToHalf(v)}; }
};
template <> struct Storage<bfloat16_t> {
  using Compute = float;
  static bfloat16_t from(float v) { return bfloat16_t{floatToBf16(v)}; }
};

// Compute type of storage type T: double for double, float otherwise.
template <class T> using compute_t = typename Storage<T>::Compute;
template <class T> inline T fromCompute(compute_t<T> v) { return Storage<T>::from(v); }

// y = alpha * v + beta * y, never reading y when beta == 0.
template <class T> inline void storeScaled(T *y, compute_t<T> v, compute_t<T> alpha, compute_t<T> beta) {
  compute_t<T> r = alpha * v;
  if (beta != compute_t<T>(0))
    r += beta * compute_t<T>(toFloat(*y));
  *y = fromCompute<T>(r);
}

// Reads a host scalar argument (alpha, beta, value): double for double data, float otherwise.
inline double readScalar(const void *p, laminaDataType_t dataType) {
  return dataType == LAMINA_DATA_DOUBLE ? *static_cast<const double *>(p) : double(*static_cast<const float *>(p));
}

} // namespace lamina

// Calls F<T>(args...) with T the storage type of a floating laminaDataType_t. The four
// instantiations are the whole set: keep it that way (build time).
#define LAMINA_DISPATCH_FLOAT_TYPES(dtype, FN, ...)                                                                    \
  do {                                                                                                                 \
    switch (dtype) {                                                                                                   \
    case LAMINA_DATA_FLOAT: FN<float>(__VA_ARGS__); break;                                                             \
    case LAMINA_DATA_DOUBLE: FN<double>(__VA_ARGS__); break;                                                           \
    case LAMINA_DATA_HALF: FN<::lamina::half_t>(__VA_ARGS__); break;                                                   \
    case LAMINA_DATA_BFLOAT16: FN<::lamina::bfloat16_t>(__VA_ARGS__); break;                                           \
    default: ::lamina::fail(LAMINA_STATUS_NOT_SUPPORTED, "data type %d is not a floating type", int(dtype));           \
    }                                                                                                                  \
  } while (0)
