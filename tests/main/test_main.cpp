// main() of every test program: when LAMINA_TEST_BACKEND names a backend that is not available
// (no GPU, or not built in), the program exits 77 so ctest reports it as skipped, not passed.
#include "common/test_util.h"

#include <cstdio>

int main(int argc, char **argv) {
  int available = 0;
  laminaBackend_t b = lt::testBackend();
  if (laminaIsBackendAvailable(b, &available) != LAMINA_STATUS_SUCCESS || !available) {
    std::printf("backend %s unavailable: skipping all tests\n", b == LAMINA_BACKEND_CUDA ? "cuda" : "cpu");
    return 77;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
