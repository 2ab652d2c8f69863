// Test support: RAII wrappers, host <-> backend transfers through double, NaN poisoning, random data,
// per-dtype tolerances. Every test runs on the backend named by LAMINA_TEST_BACKEND (cpu, cuda).
#pragma once

#include <lamina/lamina.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#define LAMINA_ASSERT_OK(expr)                                                                                         \
  do {                                                                                                                 \
    laminaStatus_t lamina_s_ = (expr);                                                                                 \
    ASSERT_EQ(lamina_s_, LAMINA_STATUS_SUCCESS)                                                                        \
        << #expr << ": " << laminaGetErrorString(lamina_s_) << ": " << laminaGetLastErrorMessage();                    \
  } while (0)
#define LAMINA_EXPECT_OK(expr)                                                                                         \
  do {                                                                                                                 \
    laminaStatus_t lamina_s_ = (expr);                                                                                 \
    EXPECT_EQ(lamina_s_, LAMINA_STATUS_SUCCESS)                                                                        \
        << #expr << ": " << laminaGetErrorString(lamina_s_) << ": " << laminaGetLastErrorMessage();                    \
  } while (0)
// Expects status `st` and a last-error message containing `needle` (e.g. the argument name).
#define LAMINA_EXPECT_STATUS(expr, st, needle)                                                                         \
  do {                                                                                                                 \
    laminaStatus_t lamina_s_ = (expr);                                                                                 \
    EXPECT_EQ(lamina_s_, st) << #expr << " gave " << laminaGetErrorString(lamina_s_) << ": "                           \
                             << laminaGetLastErrorMessage();                                                           \
    EXPECT_NE(std::string(laminaGetLastErrorMessage()).find(needle), std::string::npos)                                \
        << "message '" << laminaGetLastErrorMessage() << "' does not mention '" << needle << "'";                      \
  } while (0)

namespace lt {

// The entries of `all` whose name(x) is in the comma-separated list of environment variable `env`
// (LAMINA_TEST_DTYPES, LAMINA_TEST_LAYOUTS: the slow sanitizer passes); all of them when it is unset,
// empty or names none.
template <class T, class Name> std::vector<T> keepListed(const std::vector<T> &all, const char *env, Name name) {
  const char *e = std::getenv(env);
  if (!e || !*e)
    return all;
  const std::string list = std::string(",") + e + ",";
  std::vector<T> kept;
  for (const T &x : all)
    if (list.find(std::string(",") + name(x) + ",") != std::string::npos)
      kept.push_back(x);
  return kept.empty() ? all : kept;
}

// Backend under test, from LAMINA_TEST_BACKEND (default cpu).
laminaBackend_t testBackend();
// A handle on the backend under test; tests call GTEST_SKIP() when !ok().
struct Handle {
  laminaHandle_t h = nullptr;
  Handle();
  ~Handle();
  Handle(const Handle &) = delete;
  Handle &operator=(const Handle &) = delete;
  operator laminaHandle_t() const { return h; }
  bool ok() const { return h != nullptr; }
};
#define LT_HANDLE_OR_SKIP(var)                                                                                         \
  ::lt::Handle var;                                                                                                    \
  if (!var.ok())                                                                                                       \
  GTEST_SKIP() << "backend unavailable: " << laminaGetLastErrorMessage()

enum class Layout { NCHW, NHWC, Strided }; // Strided: NCHW order with padding in every stride
const char *layoutName(Layout l);
std::vector<int64_t> makeStrides(const std::vector<int64_t> &dims, Layout l);

struct Tensor {
  laminaTensorDescriptor_t d = nullptr;
  laminaDataType_t dtype = LAMINA_DATA_FLOAT;
  std::vector<int64_t> dims, strides;
  Tensor(laminaDataType_t dt, std::vector<int64_t> dims, Layout l = Layout::NCHW);
  Tensor(laminaDataType_t dt, std::vector<int64_t> dims, std::vector<int64_t> strides);
  ~Tensor();
  Tensor(const Tensor &) = delete;
  Tensor &operator=(const Tensor &) = delete;
  operator laminaTensorDescriptor_t() const { return d; }
  int64_t numel() const;
  size_t bytes() const;                 // span in bytes
  int64_t offset(int64_t linear) const; // element offset of a row-major logical index
};

struct Filter {
  laminaFilterDescriptor_t d = nullptr;
  laminaDataType_t dtype;
  std::vector<int64_t> dims, strides; // K, C, spatial order
  Filter(laminaDataType_t dt, std::vector<int64_t> dims, laminaTensorFormat_t format = LAMINA_TENSOR_NCHW);
  ~Filter();
  Filter(const Filter &) = delete;
  Filter &operator=(const Filter &) = delete;
  operator laminaFilterDescriptor_t() const { return d; }
  int64_t numel() const;
  size_t bytes() const;
  int64_t offset(int64_t linear) const;
};

// Backend memory, filled with NaN (in `dtype`) on allocation.
struct Buffer {
  const Handle &h;
  void *p = nullptr;
  size_t bytes = 0;
  laminaDataType_t dtype;
  Buffer(const Handle &h, size_t bytes, laminaDataType_t dtype = LAMINA_DATA_FLOAT);
  ~Buffer();
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  void poison(); // every element NaN again
};

// Value conversion through the storage type (round to nearest even), independent of the library.
double roundTo(laminaDataType_t dt, double v);
void storeValue(laminaDataType_t dt, void *base, int64_t offset, double v);
double loadValue(laminaDataType_t dt, const void *base, int64_t offset);

// Logical (row-major over dims) values <-> backend memory at the given strides. upload writes every
// gap byte of the span as NaN; the values are rounded to dt first.
void upload(const Handle &h, laminaDataType_t dt, const std::vector<int64_t> &dims, const std::vector<int64_t> &strides,
            const std::vector<double> &values, void *dev);
std::vector<double> download(const Handle &h, laminaDataType_t dt, const std::vector<int64_t> &dims,
                             const std::vector<int64_t> &strides, const void *dev);
inline void upload(const Handle &h, const Tensor &t, const std::vector<double> &v, void *dev) {
  upload(h, t.dtype, t.dims, t.strides, v, dev);
}
inline std::vector<double> download(const Handle &h, const Tensor &t, const void *dev) {
  return download(h, t.dtype, t.dims, t.strides, dev);
}
inline void upload(const Handle &h, const Filter &f, const std::vector<double> &v, void *dev) {
  upload(h, f.dtype, f.dims, f.strides, v, dev);
}
inline std::vector<double> download(const Handle &h, const Filter &f, const void *dev) {
  return download(h, f.dtype, f.dims, f.strides, dev);
}

// Every element of t's span that is not one of t's elements (a stride gap) is still NaN, as
// upload/Buffer left it: the op wrote nothing outside its output.
::testing::AssertionResult gapsUntouched(const Handle &h, const Tensor &t, const void *dev);

// n uniform values in [lo, hi), rounded to dt (so the fp64 reference sees exactly what the backend
// sees). Never all zero.
std::vector<double> randomValues(int64_t n, uint64_t seed, laminaDataType_t dt, double lo = -1.0, double hi = 1.0);

// Tolerance for results of dtype dt (see docs/testing.md): |got - ref| <= tol * (|ref| + scale)
// where scale is the RMS of ref (so sums with cancellation are judged against their magnitude).
double tolerance(laminaDataType_t dt);
// With a math type: TENSOR_OP on float data (TF32) gets half's tolerance.
double tolerance(laminaDataType_t dt, laminaMathType_t math);
// Math types worth testing on the backend under test: DEFAULT (CPU); DEFAULT and TENSOR_OP (CUDA).
const std::vector<laminaMathType_t> &mathTypes();
::testing::AssertionResult allClose(const std::vector<double> &got, const std::vector<double> &ref, double tol);

// Host scalar for alpha/beta: float for every type but double.
struct Scalar {
  float f;
  double d;
  explicit Scalar(double v) : f(float(v)), d(v) {}
  const void *ptr(laminaDataType_t dt) const { return dt == LAMINA_DATA_DOUBLE ? (const void *)&d : (const void *)&f; }
};

const std::vector<laminaDataType_t> &floatTypes(); // float, double, half, bfloat16
const char *dtypeName(laminaDataType_t dt);

} // namespace lt
