// The execution context: backend selection by name.
#include "engine/src/context.h"

#include <stdexcept>

namespace lamina::engine {

namespace {
lamina::Handle makeHandle(const std::string &device, laminaBackend_t &backend, int &ordinal) {
  if (device == "cpu") {
    backend = LAMINA_BACKEND_CPU;
    return lamina::Handle(LAMINA_BACKEND_CPU);
  }
  if (device.rfind("cuda", 0) == 0) {
    ordinal = 0;
    if (device.size() > 4) {
      if (device[4] != ':' || device.size() == 5)
        throw std::runtime_error("bad device '" + device + "' (cpu, cuda or cuda:N)");
      ordinal = std::stoi(device.substr(5));
    }
    int available = 0;
    laminaIsBackendAvailable(LAMINA_BACKEND_CUDA, &available);
    if (!available)
      throw std::runtime_error("device '" + device + "': no usable CUDA GPU (or Lamina built without CUDA)");
    if (laminaCudaSetDevice(ordinal) != LAMINA_STATUS_SUCCESS)
      throw std::runtime_error("device '" + device + "': " + laminaGetLastErrorMessage());
    backend = LAMINA_BACKEND_CUDA;
    return lamina::Handle(LAMINA_BACKEND_CUDA);
  }
  throw std::runtime_error("unknown device '" + device + "' (cpu, cuda or cuda:N)");
}
} // namespace

// backend and device are declared after handle, so their initialisers would run after makeHandle
// wrote them: the handle is made into locals and the fields set here.
Context::Context(const std::string &device, uint64_t s) : Context(device, s, Picked{}) {}

Context::Context(const std::string &deviceName, uint64_t s, Picked p)
    : handle(makeHandle(deviceName, p.backend, p.device)) {
  backend = p.backend;
  device = p.device;
  reseed(s);
}

void Context::reseed(uint64_t s) {
  seed = s;
  rng.seed(s);
}

} // namespace lamina::engine
