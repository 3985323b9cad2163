#pragma once
// Tests whose only independent check is an external tool (tshark dissecting our bytes) must not
// pass having checked nothing when the tool is missing. They fail, unless the tool is named in
// the opt-out variable CBES_ALLOW_SKIP (comma-separated: `CBES_ALLOW_SKIP=tshark,node,python`, or
// `all`); then the process exits with skip_exit_code, which ctest reports as "Skipped"
// (SKIP_RETURN_CODE in tests/CMakeLists.txt), never as passed.
//
//   TEST_CASE("tshark decodes ...") {
//     cbes::test::require_program("tshark");  // first, before anything is checked
//     ...
//   }
//
// tests/compat/require.sh applies the same rule to the stock-client tests.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <catch2/catch.hpp>

namespace cbes::test {

// What ctest's SKIP_RETURN_CODE names (77, as Automake's test harness uses for a skip).
inline constexpr int skip_exit_code = 77;

// Whether CBES_ALLOW_SKIP lists `tool` (or `all`).
inline bool skip_allowed(std::string_view tool) {
  const char* env = std::getenv("CBES_ALLOW_SKIP");
  std::string_view list = env ? env : "";
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto item = list.substr(0, comma);
    if (item == tool || item == "all")
      return true;
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
  }
  return false;
}

// Whether `program` is on PATH.
inline bool have_program(const std::string& program) {
  return std::system(("command -v '" + program + "' >/dev/null 2>&1").c_str()) == 0;
}

// Returns when `program` is on PATH; otherwise fails the test, or exits the process with
// skip_exit_code when CBES_ALLOW_SKIP names it. Call it before the test checks anything: a skip
// must not hide an earlier failure.
inline void require_program(const std::string& program) {
  if (have_program(program))
    return;
  if (skip_allowed(program)) {
    std::printf("skipped: %s is not installed and CBES_ALLOW_SKIP allows it\n", program.c_str());
    std::fflush(stdout);
    std::exit(skip_exit_code);
  }
  FAIL(program << " is not installed: run scripts/install-deps.sh (or set CBES_ALLOW_SKIP="
               << program << " to skip this test)");
}

}  // namespace cbes::test
