// The one Catch2 main shared by every test executable.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "support/require_tool.hpp"

int main(int argc, char* argv[]) {
  const int failed = Catch::Session().run(argc, argv);
  // Catch2 exits with the number of failed assertions; 77 of them must not read as a skip to
  // ctest (SKIP_RETURN_CODE), so that count is reported as one more.
  return failed == cbes::test::skip_exit_code ? failed + 1 : failed;
}
