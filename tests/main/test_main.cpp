// main() of every test program: when LAMINA_TEST_BACKEND names a backend that is not available
// (no GPU, or not built in), the program exits 77 so ctest reports it as skipped, not passed.
#include "common/test_util.h"

#include <csignal>
#include <cstdio>
#include <execinfo.h>
#include <unistd.h>

namespace {
// The GPU machine has no debugger: a crashing test prints its stack (binary(+offset) frames, for
// addr2line -f -C -e BINARY OFFSET) before dying.
void printStackAndDie(int sig) {
  void *frames[64];
  int n = backtrace(frames, 64);
  const char msg[] = "\n*** fatal signal: stack follows\n";
  (void)!write(2, msg, sizeof msg - 1);
  backtrace_symbols_fd(frames, n, 2);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}
} // namespace

int main(int argc, char **argv) {
  int available = 0;
  laminaBackend_t b = lt::testBackend();
  if (laminaIsBackendAvailable(b, &available) != LAMINA_STATUS_SUCCESS || !available) {
    std::printf("backend %s unavailable: skipping all tests\n", b == LAMINA_BACKEND_CUDA ? "cuda" : "cpu");
    return 77;
  }
  std::signal(SIGSEGV, printStackAndDie);
  std::signal(SIGBUS, printStackAndDie);
  std::signal(SIGFPE, printStackAndDie);
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
