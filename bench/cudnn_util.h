// Helpers shared by the two cuDNN peers (cudnn_peer.cpp: the classic API, cudnn_graph_peer.cpp: the
// graph/backend API): status checks that throw with the failing call and the status name, device
// buffers, and the host <-> device transfer of the bench's float data in the problem's type.
#pragma once

#include "peer.h"

#include "common/test_util.h" // lt::storeValue / loadValue: the test side's own type conversions

#include <cuda_runtime.h>
#include <cudnn.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace bench {
namespace cudnnutil {

inline void check(cudnnStatus_t s, const char *what) {
  if (s != CUDNN_STATUS_SUCCESS)
    throw std::runtime_error(std::string(what) + ": " + cudnnGetErrorString(s));
}
inline void check(cudaError_t e, const char *what) {
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
  }
}

struct DevMem {
  void *p = nullptr;
  explicit DevMem(size_t bytes) {
    if (bytes)
      check(cudaMalloc(&p, bytes), "cudaMalloc");
  }
  ~DevMem() {
    if (p)
      cudaFree(p);
  }
  DevMem(const DevMem &) = delete;
  DevMem &operator=(const DevMem &) = delete;
};

inline size_t elemSize(laminaDataType_t dt) { return dt == LAMINA_DATA_DOUBLE ? 8 : dt == LAMINA_DATA_FLOAT ? 4 : 2; }

inline cudnnDataType_t cudnnType(laminaDataType_t dt) {
  switch (dt) {
  case LAMINA_DATA_DOUBLE: return CUDNN_DATA_DOUBLE;
  case LAMINA_DATA_HALF: return CUDNN_DATA_HALF;
  case LAMINA_DATA_BFLOAT16: return CUDNN_DATA_BFLOAT16;
  default: return CUDNN_DATA_FLOAT;
  }
}

// Host floats (already rounded to the type by the bench) -> device memory of the type.
inline void upload(const std::vector<float> &v, laminaDataType_t dt, void *dev, cudaStream_t stream) {
  std::vector<unsigned char> host(v.size() * elemSize(dt));
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < int64_t(v.size()); ++i)
    lt::storeValue(dt, host.data(), i, v[size_t(i)]);
  check(cudaMemcpyAsync(dev, host.data(), host.size(), cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync (upload)");
  check(cudaStreamSynchronize(stream), "cudaStreamSynchronize (upload)"); // the host buffer dies here
}

inline std::vector<float> download(laminaDataType_t dt, int64_t n, const void *dev, cudaStream_t stream) {
  std::vector<unsigned char> host(size_t(n) * elemSize(dt));
  check(cudaMemcpyAsync(host.data(), dev, host.size(), cudaMemcpyDeviceToHost, stream), "cudaMemcpyAsync (download)");
  check(cudaStreamSynchronize(stream), "cudaStreamSynchronize (download)");
  std::vector<float> v(static_cast<size_t>(n));
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i)
    v[size_t(i)] = float(lt::loadValue(dt, host.data(), i));
  return v;
}

// The workspace cap of both peers: 4 GiB, or half the free device memory when that is less.
inline size_t workspaceCap() {
  size_t freeB = 0, totalB = 0;
  check(cudaMemGetInfo(&freeB, &totalB), "cudaMemGetInfo");
  return std::min<size_t>(size_t(4) << 30, freeB / 2);
}

// The direction's two inputs and its output size, as the bench defines them:
// x,w -> y | dy,w -> dx | x,dy -> dw.
struct DirIO {
  const std::vector<std::vector<float>> *in1, *in2;
  int64_t nOut;
};
inline DirIO dirIO(const ConvSpec &s, Dir dir, const HostData &data) {
  DirIO io{dir == Dir::BwdData ? &data.dy : &data.x, dir == Dir::BwdFilter ? &data.dy : &data.w,
           dir == Dir::Fwd       ? s.yCount()
           : dir == Dir::BwdData ? s.xCount()
                                 : s.wCount()};
  if (io.in1->empty() || io.in2->empty() || io.in1->size() != io.in2->size())
    throw std::runtime_error("no input data");
  return io;
}

} // namespace cudnnutil
} // namespace bench
