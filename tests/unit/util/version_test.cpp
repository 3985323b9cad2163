#include <catch2/catch.hpp>

#include <string>

#include "cbes/version.hpp"
#include "consul/version.hpp"

// CBES_PROJECT_VERSION is ${PROJECT_VERSION}, passed by tests/CMakeLists.txt: the generated
// headers must follow the version written in the top-level project() call.
TEST_CASE("the generated version headers carry the CMake project version") {
  CHECK(std::string(CBES_VERSION) == CBES_PROJECT_VERSION);
  CHECK(cbes::version == CBES_PROJECT_VERSION);
  CHECK(std::to_string(CBES_VERSION_MAJOR) + "." + std::to_string(CBES_VERSION_MINOR) + "." +
            std::to_string(CBES_VERSION_PATCH) ==
        CBES_PROJECT_VERSION);
  CHECK(consul::version == CBES_PROJECT_VERSION);
}

TEST_CASE("the user agents name the library and its version") {
  CHECK(cbes::user_agent == std::string("cbes/") + CBES_PROJECT_VERSION);
  CHECK(consul::user_agent == std::string("libconsul/") + CBES_PROJECT_VERSION);
}
