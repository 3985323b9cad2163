#include <catch2/catch.hpp>

#include "cbes/config/consul_config.hpp"
#include "result_printer.hpp"

using namespace cbes::config;
using Catch::Matchers::Contains;
using namespace std::chrono_literals;

namespace {

load_options no_environment() {
  load_options o;
  o.environment = map_environment({});
  return o;
}

}  // namespace

TEST_CASE("consul config: defaults when keys are absent") {
  auto empty = parse_consul_config("", "consul.toml", no_environment());
  REQUIRE(empty);
  CHECK(empty->acl_token.empty());
  CHECK(empty->deregister_service_on_graceful_shutdown);
  CHECK(empty->deregister_critical_service_after == 168h);
  auto table_only = parse_consul_config("[consul]\n", "consul.toml", no_environment());
  REQUIRE(table_only);
  CHECK(table_only->deregister_critical_service_after == 168h);
}

TEST_CASE("consul config: keys, coercions and ${VAR} substitution") {
  load_options o;
  o.environment = map_environment({{"TOKEN", "abc-123"}});
  auto r = parse_consul_config(
      "[consul]\naclToken = '${TOKEN}'\n"
      "deregisterServiceOnGracefulShutdown = 'false'\n"
      "deregisterCriticalServiceAfter = '90m'\n",
      "consul.toml", o);
  REQUIRE(r);
  CHECK(r->acl_token.reveal() == "abc-123");
  CHECK_FALSE(r->deregister_service_on_graceful_shutdown);
  CHECK(r->deregister_critical_service_after == 5400s);
}

TEST_CASE("consul config: deregisterCriticalServiceAfter below Consul's 1m minimum is an error") {
  CHECK(parse_consul_config("[consul]\nderegisterCriticalServiceAfter = '1m'\n", "c.toml",
                            no_environment()));
  auto r = parse_consul_config("[consul]\nderegisterCriticalServiceAfter = '59s'\n", "c.toml",
                               no_environment());
  REQUIRE_FALSE(r);
  CHECK_THAT(r.error().what(), Contains("consul.deregisterCriticalServiceAfter at c.toml:2:1: "
                                        "must be at least 1m"));
}

TEST_CASE("consul config: unknown tables and keys are errors, the token is never quoted") {
  auto key = parse_consul_config("[consul]\nacl = 'x'\n", "c.toml", no_environment());
  CHECK_THAT(key.error().what(), Contains("Unrecognized item 'consul.acl' at c.toml:2:1; expected "
                                          "items in this context are: [aclToken, "
                                          "deregisterServiceOnGracefulShutdown, "
                                          "deregisterCriticalServiceAfter, pathToCaCertificate, "
                                          "hostnameVerification]"));
  auto top = parse_consul_config("[consol]\n", "c.toml", no_environment());
  CHECK_THAT(top.error().what(), Contains("Unrecognized item 'consol' at c.toml:1:1"));
  auto token =
      parse_consul_config("[consul]\naclToken = ['hunter2']\n", "c.toml", no_environment());
  REQUIRE_FALSE(token);
  CHECK_THAT(token.error().what(), Contains("consul.aclToken at c.toml:2:1: expected a string, got "
                                            "an array"));
  CHECK_THAT(token.error().what(), !Contains("hunter2"));
}

TEST_CASE("consul config: the example consul.toml loads") {
  auto r = load_consul_config(CBES_SOURCE_DIR "/examples/consul.toml", no_environment());
  REQUIRE(r);
  CHECK(r->acl_token.empty());
  CHECK(r->deregister_service_on_graceful_shutdown);
  CHECK(r->deregister_critical_service_after == 168h);
  auto missing = load_consul_config(CBES_SOURCE_DIR "/examples/none.toml", no_environment());
  CHECK_THAT(missing.error().what(), Contains("none.toml: the file does not exist"));
}

TEST_CASE("consul config: pathToCaCertificate must name a file, hostnameVerification a boolean") {
  auto none = parse_consul_config("[consul]\n", "c.toml", no_environment());
  REQUIRE(none);
  CHECK(none->ca_certificate.empty());
  CHECK(none->hostname_verification);
  // A file that exists (this source file stands in for a PEM: only its existence is checked here).
  const std::string file = CBES_SOURCE_DIR "/tests/unit/config/consul_config_test.cpp";
  auto ok = parse_consul_config(
      "[consul]\npathToCaCertificate = '" + file + "'\nhostnameVerification = false\n", "c.toml",
      no_environment());
  REQUIRE(ok);
  CHECK(ok->ca_certificate == std::filesystem::path(file));
  CHECK_FALSE(ok->hostname_verification);
  auto missing = parse_consul_config("[consul]\npathToCaCertificate = '/no/such/ca.pem'\n",
                                     "c.toml", no_environment());
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().what(),
             Contains("consul.pathToCaCertificate at c.toml:2:1: file '/no/such/ca.pem' does "
                      "not exist"));
}
