#include "common/test_util.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>

namespace lt {

laminaBackend_t testBackend() {
  const char *e = std::getenv("LAMINA_TEST_BACKEND");
  return (e && std::string(e) == "cuda") ? LAMINA_BACKEND_CUDA : LAMINA_BACKEND_CPU;
}

Handle::Handle() {
  if (laminaCreateWithBackend(&h, testBackend()) != LAMINA_STATUS_SUCCESS)
    h = nullptr;
}
Handle::~Handle() {
  if (h)
    laminaDestroy(h);
}

const char *layoutName(Layout l) {
  switch (l) {
  case Layout::NCHW: return "nchw";
  case Layout::NHWC: return "nhwc";
  case Layout::Strided: return "strided";
  }
  return "?";
}

std::vector<int64_t> makeStrides(const std::vector<int64_t> &dims, Layout l) {
  size_t n = dims.size();
  std::vector<int64_t> s(n);
  std::vector<size_t> order; // memory order, outermost first
  if (l == Layout::NHWC && n >= 3) {
    order.push_back(0);
    for (size_t i = 2; i < n; ++i)
      order.push_back(i);
    order.push_back(1);
  } else {
    for (size_t i = 0; i < n; ++i)
      order.push_back(i);
  }
  int64_t acc = 1;
  for (size_t j = n; j-- > 0;) {
    s[order[j]] = acc;
    // Strided: pad each dim's extent by a small odd amount so no stride is packed.
    acc *= dims[order[j]] + (l == Layout::Strided ? (j % 2 ? 1 : 3) : 0);
  }
  return s;
}

static int64_t offsetIn(const std::vector<int64_t> &dims, const std::vector<int64_t> &strides, int64_t i) {
  int64_t off = 0;
  for (size_t d = dims.size(); d-- > 0;) {
    off += (i % dims[d]) * strides[d];
    i /= dims[d];
  }
  return off;
}
static int64_t product(const std::vector<int64_t> &v) {
  int64_t p = 1;
  for (auto x : v)
    p *= x;
  return p;
}
static size_t elemSize(laminaDataType_t dt) {
  switch (dt) {
  case LAMINA_DATA_DOUBLE: return 8;
  case LAMINA_DATA_HALF:
  case LAMINA_DATA_BFLOAT16: return 2;
  case LAMINA_DATA_INT8:
  case LAMINA_DATA_UINT8: return 1;
  default: return 4;
  }
}
static size_t spanBytes(laminaDataType_t dt, const std::vector<int64_t> &dims, const std::vector<int64_t> &strides) {
  int64_t span = 1;
  for (size_t i = 0; i < dims.size(); ++i)
    span += (dims[i] - 1) * strides[i];
  return size_t(span) * elemSize(dt);
}

Tensor::Tensor(laminaDataType_t dt, std::vector<int64_t> dims_, Layout l) : Tensor(dt, dims_, makeStrides(dims_, l)) {}
Tensor::Tensor(laminaDataType_t dt, std::vector<int64_t> dims_, std::vector<int64_t> strides_)
    : dtype(dt), dims(std::move(dims_)), strides(std::move(strides_)) {
  laminaCreateTensorDescriptor(&d);
  laminaStatus_t s = laminaSetTensorNdDescriptor(d, dt, int(dims.size()), dims.data(), strides.data());
  if (s != LAMINA_STATUS_SUCCESS)
    ADD_FAILURE() << "tensor descriptor: " << laminaGetLastErrorMessage();
}
Tensor::~Tensor() { laminaDestroyTensorDescriptor(d); }
int64_t Tensor::numel() const { return product(dims); }
size_t Tensor::bytes() const { return spanBytes(dtype, dims, strides); }
int64_t Tensor::offset(int64_t i) const { return offsetIn(dims, strides, i); }

Filter::Filter(laminaDataType_t dt, std::vector<int64_t> dims_, laminaTensorFormat_t format)
    : dtype(dt), dims(std::move(dims_)) {
  strides = makeStrides(dims, format == LAMINA_TENSOR_NHWC ? Layout::NHWC : Layout::NCHW);
  laminaCreateFilterDescriptor(&d);
  laminaStatus_t s = laminaSetFilterNdDescriptor(d, dt, format, int(dims.size()), dims.data());
  if (s != LAMINA_STATUS_SUCCESS)
    ADD_FAILURE() << "filter descriptor: " << laminaGetLastErrorMessage();
}
Filter::~Filter() { laminaDestroyFilterDescriptor(d); }
int64_t Filter::numel() const { return product(dims); }
size_t Filter::bytes() const { return spanBytes(dtype, dims, strides); }
int64_t Filter::offset(int64_t i) const { return offsetIn(dims, strides, i); }

// ---- conversions, written independently of the library's
static uint16_t toHalfBits(double v) {
  if (std::isnan(v))
    return 0x7e00;
  uint16_t sign = std::signbit(v) ? 0x8000 : 0;
  double a = std::fabs(v);
  if (a >= 65520.0)
    return sign | 0x7c00;
  if (a < std::ldexp(1.0, -14)) {                       // subnormal: units of 2^-24
    double q = std::nearbyint(a * std::ldexp(1.0, 24)); // default rounding: nearest even
    return sign | uint16_t(q);
  }
  int e;
  double m = std::frexp(a, &e);          // a = m * 2^e, m in [0.5, 1)
  double q = std::nearbyint(m * 2048.0); // 11 significant bits
  if (q >= 2048.0) {
    q /= 2.0;
    ++e;
  }
  int exp = e - 1 + 15;
  if (exp >= 31)
    return sign | 0x7c00;
  return sign | uint16_t(exp << 10) | (uint16_t(q) & 0x3ff);
}
static double fromHalfBits(uint16_t h) {
  int exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  double v;
  if (exp == 31)
    v = man ? NAN : INFINITY;
  else if (exp == 0)
    v = std::ldexp(double(man), -24);
  else
    v = std::ldexp(double(man + 1024), exp - 25);
  return (h & 0x8000) ? -v : v;
}
static uint16_t toBf16Bits(double v) {
  if (std::isnan(v))
    return 0x7fc0;
  float f = float(v); // double -> float first, then nearest-even to 8 significant bits
  uint32_t u;
  std::memcpy(&u, &f, 4);
  uint32_t lower = u & 0xffff, upper = u >> 16;
  if (lower > 0x8000 || (lower == 0x8000 && (upper & 1)))
    ++upper;
  return uint16_t(upper);
}
static double fromBf16Bits(uint16_t b) {
  uint32_t u = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

double roundTo(laminaDataType_t dt, double v) {
  switch (dt) {
  case LAMINA_DATA_FLOAT: return double(float(v));
  case LAMINA_DATA_HALF: return fromHalfBits(toHalfBits(v));
  case LAMINA_DATA_BFLOAT16: return fromBf16Bits(toBf16Bits(v));
  default: return v;
  }
}

void storeValue(laminaDataType_t dt, void *base, int64_t off, double v) {
  switch (dt) {
  case LAMINA_DATA_FLOAT: static_cast<float *>(base)[off] = float(v); break;
  case LAMINA_DATA_DOUBLE: static_cast<double *>(base)[off] = v; break;
  case LAMINA_DATA_HALF: static_cast<uint16_t *>(base)[off] = toHalfBits(v); break;
  case LAMINA_DATA_BFLOAT16: static_cast<uint16_t *>(base)[off] = toBf16Bits(v); break;
  case LAMINA_DATA_INT32: static_cast<int32_t *>(base)[off] = int32_t(v); break;
  case LAMINA_DATA_INT8: static_cast<int8_t *>(base)[off] = int8_t(v); break;
  case LAMINA_DATA_UINT8: static_cast<uint8_t *>(base)[off] = uint8_t(v); break;
  }
}

double loadValue(laminaDataType_t dt, const void *base, int64_t off) {
  switch (dt) {
  case LAMINA_DATA_FLOAT: return static_cast<const float *>(base)[off];
  case LAMINA_DATA_DOUBLE: return static_cast<const double *>(base)[off];
  case LAMINA_DATA_HALF: return fromHalfBits(static_cast<const uint16_t *>(base)[off]);
  case LAMINA_DATA_BFLOAT16: return fromBf16Bits(static_cast<const uint16_t *>(base)[off]);
  case LAMINA_DATA_INT32: return static_cast<const int32_t *>(base)[off];
  case LAMINA_DATA_INT8: return static_cast<const int8_t *>(base)[off];
  case LAMINA_DATA_UINT8: return static_cast<const uint8_t *>(base)[off];
  }
  return NAN;
}

static void fillNaN(laminaDataType_t dt, std::vector<unsigned char> &host) {
  size_t es = elemSize(dt);
  for (size_t i = 0; i + es <= host.size(); i += es)
    storeValue(dt, host.data(), int64_t(i / es), NAN);
}

Buffer::Buffer(const Handle &h_, size_t bytes_, laminaDataType_t dt) : h(h_), bytes(bytes_), dtype(dt) {
  if (laminaMalloc(h, &p, bytes ? bytes : 1) != LAMINA_STATUS_SUCCESS)
    ADD_FAILURE() << "laminaMalloc: " << laminaGetLastErrorMessage();
  poison();
}
Buffer::~Buffer() { laminaFree(h, p); }
void Buffer::poison() {
  if (!p || !bytes)
    return;
  std::vector<unsigned char> host(bytes, 0xff);
  fillNaN(dtype, host);
  laminaMemcpy(h, p, host.data(), bytes, LAMINA_MEMCPY_HOST_TO_DEVICE);
}

void upload(const Handle &h, laminaDataType_t dt, const std::vector<int64_t> &dims, const std::vector<int64_t> &strides,
            const std::vector<double> &values, void *dev) {
  size_t bytes = spanBytes(dt, dims, strides);
  std::vector<unsigned char> host(bytes, 0xff);
  fillNaN(dt, host);
  int64_t n = product(dims);
  if (int64_t(values.size()) != n)
    ADD_FAILURE() << "upload: " << values.size() << " values for " << n << " elements";
  for (int64_t i = 0; i < n && i < int64_t(values.size()); ++i)
    storeValue(dt, host.data(), offsetIn(dims, strides, i), values[size_t(i)]);
  laminaStatus_t s = laminaMemcpy(h, dev, host.data(), bytes, LAMINA_MEMCPY_HOST_TO_DEVICE);
  if (s != LAMINA_STATUS_SUCCESS)
    ADD_FAILURE() << "upload: " << laminaGetLastErrorMessage();
}

std::vector<double> download(const Handle &h, laminaDataType_t dt, const std::vector<int64_t> &dims,
                             const std::vector<int64_t> &strides, const void *dev) {
  size_t bytes = spanBytes(dt, dims, strides);
  std::vector<unsigned char> host(bytes);
  laminaStatus_t s = laminaMemcpy(h, host.data(), dev, bytes, LAMINA_MEMCPY_DEVICE_TO_HOST);
  if (s != LAMINA_STATUS_SUCCESS)
    ADD_FAILURE() << "download: " << laminaGetLastErrorMessage();
  laminaSynchronize(h);
  int64_t n = product(dims);
  std::vector<double> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    out[size_t(i)] = loadValue(dt, host.data(), offsetIn(dims, strides, i));
  return out;
}

::testing::AssertionResult gapsUntouched(const Handle &h, const Tensor &t, const void *dev) {
  int64_t span = 1;
  for (size_t i = 0; i < t.dims.size(); ++i)
    span += (t.dims[i] - 1) * t.strides[i];
  std::vector<unsigned char> host(t.bytes());
  if (laminaMemcpy(h, host.data(), dev, host.size(), LAMINA_MEMCPY_DEVICE_TO_HOST) != LAMINA_STATUS_SUCCESS)
    return ::testing::AssertionFailure() << laminaGetLastErrorMessage();
  std::vector<bool> inside(static_cast<size_t>(span), false);
  for (int64_t i = 0; i < t.numel(); ++i)
    inside[size_t(t.offset(i))] = true;
  for (int64_t o = 0; o < span; ++o)
    if (!inside[size_t(o)] && !std::isnan(loadValue(t.dtype, host.data(), o)))
      return ::testing::AssertionFailure() << "gap element at offset " << o << " was overwritten";
  return ::testing::AssertionSuccess();
}

std::vector<double> randomValues(int64_t n, uint64_t seed, laminaDataType_t dt, double lo, double hi) {
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull + 12345);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(static_cast<size_t>(n));
  bool nonzero = false;
  for (auto &x : v) {
    x = roundTo(dt, u(rng));
    nonzero |= x != 0.0;
  }
  if (!nonzero && n > 0)
    v[0] = roundTo(dt, hi > 0 ? hi * 0.5 : lo * 0.5);
  return v;
}

double tolerance(laminaDataType_t dt) {
  switch (dt) {
  case LAMINA_DATA_DOUBLE: return 1e-10;
  case LAMINA_DATA_FLOAT: return 2e-5;
  case LAMINA_DATA_HALF: return 4e-3;
  case LAMINA_DATA_BFLOAT16: return 2e-2;
  default: return 0;
  }
}

double tolerance(laminaDataType_t dt, laminaMathType_t math) {
  // TF32 keeps 10 mantissa bits, like half: float data on tensor cores gets half's tolerance.
  if (math == LAMINA_TENSOR_OP_MATH && dt == LAMINA_DATA_FLOAT)
    return tolerance(LAMINA_DATA_HALF);
  return tolerance(dt);
}

const std::vector<laminaMathType_t> &mathTypes() {
  static const std::vector<laminaMathType_t> cpu = {LAMINA_DEFAULT_MATH};
  static const std::vector<laminaMathType_t> gpu = {LAMINA_DEFAULT_MATH, LAMINA_TENSOR_OP_MATH};
  return testBackend() == LAMINA_BACKEND_CUDA ? gpu : cpu;
}

::testing::AssertionResult allClose(const std::vector<double> &got, const std::vector<double> &ref, double tol) {
  if (got.size() != ref.size())
    return ::testing::AssertionFailure() << "size " << got.size() << " != reference size " << ref.size();
  double ss = 0;
  for (double r : ref)
    ss += r * r;
  double scale = ref.empty() ? 0 : std::sqrt(ss / double(ref.size()));
  size_t bad = 0, first = 0;
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double err = std::fabs(got[i] - ref[i]);
    double lim = tol * (std::fabs(ref[i]) + scale);
    bool ok = err <= lim || (std::isinf(ref[i]) && got[i] == ref[i]);
    if (!ok || std::isnan(got[i])) {
      if (!bad)
        first = i;
      ++bad;
      if (!(err <= worst))
        worst = err;
    }
  }
  if (!bad)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad << " of " << got.size() << " elements off (tol " << tol << ", rms "
                                       << scale << "); first at " << first << ": got " << got[first] << ", want "
                                       << ref[first] << "; worst error " << worst;
}

const std::vector<laminaDataType_t> &floatTypes() {
  // LAMINA_TEST_DTYPES=half,float (names as dtypeName) keeps only those.
  static const std::vector<laminaDataType_t> t = keepListed<laminaDataType_t>(
      {LAMINA_DATA_FLOAT, LAMINA_DATA_DOUBLE, LAMINA_DATA_HALF, LAMINA_DATA_BFLOAT16}, "LAMINA_TEST_DTYPES", dtypeName);
  return t;
}

const char *dtypeName(laminaDataType_t dt) {
  switch (dt) {
  case LAMINA_DATA_FLOAT: return "float";
  case LAMINA_DATA_DOUBLE: return "double";
  case LAMINA_DATA_HALF: return "half";
  case LAMINA_DATA_BFLOAT16: return "bfloat16";
  default: return "other";
  }
}

} // namespace lt
