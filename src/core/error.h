// Errors inside the library are C++ exceptions carrying a status; src/api turns them into return
// codes (apiCall) and nowhere else. The message lands in the thread-local last-error string.
#pragma once

#include <lamina/lamina.h>

#include <stdexcept>
#include <string>

namespace lamina {

struct Error : std::runtime_error {
  laminaStatus_t status;
  Error(laminaStatus_t s, const std::string &msg) : std::runtime_error(msg), status(s) {}
};

// Throws Error(status, printf-formatted message).
[[noreturn]] void fail(laminaStatus_t status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// Records "function: message" as this thread's last error message.
void setLastError(const char *function, const char *message);

// Runs body; maps exceptions to statuses and records the message. Every extern "C" entry point is
// `return lamina::apiCall(__func__, [&] { ... });`.
template <class Body> laminaStatus_t apiCall(const char *function, Body &&body) noexcept {
  try {
    body();
    return LAMINA_STATUS_SUCCESS;
  } catch (const Error &e) {
    setLastError(function, e.what());
    return e.status;
  } catch (const std::bad_alloc &) {
    setLastError(function, "out of host memory");
    return LAMINA_STATUS_ALLOC_FAILED;
  } catch (const std::exception &e) {
    setLastError(function, e.what());
    return LAMINA_STATUS_INTERNAL_ERROR;
  } catch (...) {
    setLastError(function, "unknown exception");
    return LAMINA_STATUS_INTERNAL_ERROR;
  }
}

} // namespace lamina

#define LAMINA_CHECK(cond, status, ...)                                                                                \
  do {                                                                                                                 \
    if (!(cond))                                                                                                       \
      ::lamina::fail(status, __VA_ARGS__);                                                                             \
  } while (0)
