#include <catch2/catch.hpp>

#include "cbes/config/env.hpp"
#include "cbes/config/secret.hpp"

using namespace cbes::config;

TEST_CASE("env: ${VAR} takes the variable's value, ${VAR:default} the default when unset") {
  const auto env = map_environment({{"A", "1"}, {"EMPTY", ""}});
  CHECK(substitute_env("x=${A}", env) == "x=1");
  CHECK(substitute_env("x=${A:9}", env) == "x=1");
  CHECK(substitute_env("x=${B:9}", env) == "x=9");
  CHECK(substitute_env("x=${B:}", env) == "x=");
  CHECK(substitute_env("x=${EMPTY:d}", env) == "x=");  // set but empty is still set
  CHECK(substitute_env("${A}${A}-${B:x:y}", env) == "11-x:y");
}

TEST_CASE("env: an unset ${VAR} without default is left verbatim, like the Java connector") {
  const auto env = map_environment({});
  CHECK(substitute_env("token = '${TOKEN}'", env) == "token = '${TOKEN}'");
  CHECK(substitute_env("${} and ${:d}", env) == "${} and ${:d}");
  CHECK(substitute_env("unclosed ${A", env) == "unclosed ${A");
  CHECK(substitute_env("no placeholders $ {A}", env) == "no placeholders $ {A}");
}

TEST_CASE("env: the process environment is the default lookup") {
  ::setenv("CBES_CONFIG_TEST_VAR", "from-process", 1);
  CHECK(substitute_env("${CBES_CONFIG_TEST_VAR}", process_environment()) == "from-process");
  ::unsetenv("CBES_CONFIG_TEST_VAR");
  CHECK(substitute_env("${CBES_CONFIG_TEST_VAR:gone}", process_environment()) == "gone");
}

TEST_CASE("secret: printing shows only whether it is set") {
  CHECK(redacted(secret{"hunter2"}) == "<redacted>");
  CHECK(redacted(secret{}) == "<empty>");
  CHECK(secret{"hunter2"}.reveal() == "hunter2");
}
