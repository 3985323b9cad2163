#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cbes/group/layout.hpp"
#include "unit/group/result_printer.hpp"

using namespace cbes::group;

TEST_CASE("group keys follow the Java connector's layout under couchbase/cbes/") {
  CHECK(config_key("g") == "couchbase/cbes/g/config");
  CHECK(control_key("g") == "couchbase/cbes/g/control");
  CHECK(leader_key("g") == "couchbase/cbes/g/leader");
  CHECK(rpc_prefix("g") == "couchbase/cbes/g/rpc/");
  CHECK(rpc_key("g", "node1::10.0.0.5::g") == "couchbase/cbes/g/rpc/node1::10.0.0.5::g");
}

TEST_CASE("an endpoint id joins node, address and service id with :: and parses back") {
  const auto id = endpoint_id("node1", "10.0.0.5", "example-group");
  CHECK(id == "node1::10.0.0.5::example-group");
  const auto e = parse_endpoint_id(id);
  REQUIRE(e);
  CHECK(*e == endpoint{"node1", "10.0.0.5", "example-group"});
  CHECK(endpoint_id(*e) == id);
}

TEST_CASE("an endpoint id without exactly three non-empty parts is refused") {
  for (const char* bad : {"", "node1", "node1::10.0.0.5", "a::b::c::d", "::b::c", "a::::c",
                          "a::b::", "fe80::1::x::y"}) {
    INFO(bad);
    const auto e = parse_endpoint_id(bad);
    REQUIRE_FALSE(e);
    CHECK(e.error().code == errc::invalid_argument);
  }
}

TEST_CASE("an absent or empty control document reads as {} and not paused") {
  const auto c = parse_control("");
  REQUIRE(c);
  CHECK_FALSE(c->paused);
  CHECK(c->json == "{}");
  CHECK(with_paused(*c, true) == R"({"paused":true})");
}

TEST_CASE("control paused counts only as the JSON boolean true") {
  CHECK(parse_control(R"({"paused":true})")->paused);
  CHECK_FALSE(parse_control(R"({"paused":false})")->paused);
  CHECK_FALSE(parse_control(R"({"paused":"true"})")->paused);
  CHECK_FALSE(parse_control(R"({"other":1})")->paused);
}

TEST_CASE("pause and resume keep the control document's other fields") {
  const auto c = parse_control(R"({"note":"maintenance","owner":{"name":"ops"}})");
  REQUIRE(c);
  CHECK(with_paused(*c, true) == R"({"note":"maintenance","owner":{"name":"ops"},"paused":true})");
  const auto paused = parse_control(with_paused(*c, true));
  REQUIRE(paused);
  CHECK(with_paused(*paused, false) ==
        R"({"note":"maintenance","owner":{"name":"ops"},"paused":false})");
}

TEST_CASE("a control document that is not a JSON object is an invalid document") {
  for (const char* bad : {"[]", "true", "{", "paused"}) {
    INFO(bad);
    const auto c = parse_control(bad);
    REQUIRE_FALSE(c);
    CHECK(c.error().code == errc::invalid_document);
  }
}

TEST_CASE("configured groups are the keys under the root ending in /config, sorted, once each") {
  const std::vector<std::string> keys{
      "couchbase/cbes/b/config",      "couchbase/cbes/a/config",        "couchbase/cbes/a/leader",
      "couchbase/cbes/a/rpc/n::a::s", "couchbase/cbes/a/config",        "other/root/c/config",
      "couchbase/cbes//config",       "couchbase/cbes/nested/x/config", "couchbase/cbes/config"};
  CHECK(group_names(keys) == std::vector<std::string>{"a", "b", "nested/x"});
  CHECK(group_names({}).empty());
}
