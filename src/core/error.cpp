#include "core/error.h"

#include <cstdarg>
#include <cstdio>
#include <string>

namespace lamina {

namespace {
thread_local std::string g_lastError;
}

void fail(laminaStatus_t status, const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  throw Error(status, buf);
}

void setLastError(const char *function, const char *message) { g_lastError = std::string(function) + ": " + message; }

const char *lastErrorMessage() { return g_lastError.c_str(); }

} // namespace lamina
