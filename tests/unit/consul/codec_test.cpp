#include <catch2/catch.hpp>

#include "consul/codec.hpp"
#include "unit/consul/result_printer.hpp"

using consul::errc;

TEST_CASE("keys are percent-encoded except unreserved characters and slash") {
  CHECK(consul::percent_encode("a/b c%?#+:~", true) == "a/b%20c%25%3F%23%2B%3A~");
  CHECK(consul::percent_encode("a/b", false) == "a%2Fb");
  CHECK(consul::percent_encode("\xC3\xA9", true) == "%C3%A9");
  CHECK(*consul::kv_path("web/a b") == "/v1/kv/web/a%20b");
  CHECK(*consul::kv_path("folder/") == "/v1/kv/folder/");
}

TEST_CASE("a key starting with a slash is refused client-side with a clear error") {
  auto r = consul::kv_path("/etc");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::invalid_argument);
  CHECK(r.error().message == "Invalid key. Key must not begin with a '/': /etc");
}

TEST_CASE("an empty key is refused unless a prefix read allows it") {
  CHECK_FALSE(consul::kv_path(""));
  CHECK(*consul::kv_path("", true) == "/v1/kv/");
}

TEST_CASE("unsigned 64-bit text parses exactly and rejects anything else") {
  CHECK(consul::parse_uint64("18446744073709551615") == UINT64_MAX);
  CHECK(consul::parse_uint64("0") == 0u);
  CHECK_FALSE(consul::parse_uint64("18446744073709551616"));
  CHECK_FALSE(consul::parse_uint64("-1"));
  CHECK_FALSE(consul::parse_uint64("12a"));
  CHECK_FALSE(consul::parse_uint64(""));
}

TEST_CASE("query meta comes from the X-Consul headers and tolerates their absence") {
  auto m = consul::parse_query_meta("9007199254740993", "true", "12");
  CHECK(m.index == 9007199254740993ull);
  CHECK(m.known_leader);
  CHECK(m.last_contact == std::chrono::milliseconds(12));
  auto none = consul::parse_query_meta("", "", "");
  CHECK(none.index == 0);
  CHECK_FALSE(none.known_leader);
}

TEST_CASE("a KV entry parses with base64 value, session and indexes") {
  auto r = consul::parse_kv_pairs(
      R"([{"LockIndex":2,"Key":"k","Flags":7,"Value":"dGVzdA==","Session":"s-1",)"
      R"("CreateIndex":7,"ModifyIndex":9}])");
  REQUIRE(r);
  REQUIRE(r->size() == 1);
  const auto& p = r->front();
  CHECK(p.key == "k");
  CHECK(p.value == "test");
  CHECK(p.flags == 7);
  CHECK(p.session == "s-1");
  CHECK(p.lock_index == 2);
  CHECK(p.create_index == 7);
  CHECK(p.modify_index == 9);
}

TEST_CASE("KV Flags above 2^63 parse as unsigned 64-bit without loss") {
  // SemaphoreFlagValue (Consul's HTTP API docs) and the maximum.
  auto r = consul::parse_kv_pairs(R"([{"Key":"a","Flags":16210313421097356768,"Value":null},)"
                                  R"({"Key":"b","Flags":18446744073709551615,"Value":null},)"
                                  R"({"Key":"c","Flags":3304740253564472344,"Value":null}])");
  REQUIRE(r);
  CHECK((*r)[0].flags == 16210313421097356768ull);
  CHECK((*r)[1].flags == 18446744073709551615ull);
  CHECK((*r)[2].flags == 3304740253564472344ull);
}

TEST_CASE("KV Value null reads as an empty value") {
  auto r = consul::parse_kv_pairs(R"([{"Key":"e","Flags":0,"Value":null}])");
  REQUIRE(r);
  CHECK(r->front().value.empty());
  CHECK(r->front().session.empty());
}

TEST_CASE("malformed or mis-shaped bodies give invalid_response, never a crash") {
  for (std::string_view body : {"", "[", "{\"Key\":", "not json", "[1,2]", "{}", "[{\"Key\":5}]",
                                R"([{"Key":"k","Value":"***"}])", R"([{"Key":"k","Flags":-1}])",
                                R"([{"Key":"k","Flags":1.5}])"}) {
    INFO(body);
    auto r = consul::parse_kv_pairs(body);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_response);
    CHECK_FALSE(r.error().message.empty());
  }
  CHECK_FALSE(consul::parse_bool("yes"));
  CHECK_FALSE(consul::parse_session_id("{}"));
  CHECK_FALSE(consul::parse_agent_self("[]"));
  CHECK_FALSE(consul::parse_health_service("{\"x\":1}"));
  CHECK_FALSE(consul::parse_txn_response(409, "{}"));
  CHECK_FALSE(consul::parse_sessions("[{\"ID\":5}]"));
}

TEST_CASE("boolean, string and string-array bodies parse") {
  CHECK(*consul::parse_bool("true"));
  CHECK_FALSE(*consul::parse_bool("false"));
  CHECK(*consul::parse_json_string(R"("127.0.0.1:8300")") == "127.0.0.1:8300");
  CHECK(consul::parse_json_string(R"("")")->empty());
  CHECK(*consul::parse_string_array(R"(["web/bar","web/subdir/"])") ==
        std::vector<std::string>{"web/bar", "web/subdir/"});
  CHECK(consul::parse_string_array("null")->empty());
}

TEST_CASE("sessions parse with TTL, lock-delay in nanoseconds and checks") {
  auto r = consul::parse_sessions(
      R"([{"ID":"adf4238a","Name":"leader","Node":"n1","LockDelay":15000000000,)"
      R"("Behavior":"delete","TTL":"30s","NodeChecks":["serfHealth"],)"
      R"("ServiceChecks":[{"ID":"service:web","Namespace":""}],"CreateIndex":5,"ModifyIndex":5}])");
  REQUIRE(r);
  REQUIRE(r->size() == 1);
  const auto& s = r->front();
  CHECK(s.id == "adf4238a");
  CHECK(s.lock_delay == std::chrono::seconds(15));
  CHECK(s.behavior == consul::session_behavior::delete_keys);
  CHECK(s.ttl == "30s");
  CHECK(s.ttl_duration == std::chrono::seconds(30));
  CHECK(s.node_checks == std::vector<std::string>{"serfHealth"});
  CHECK(s.service_checks == std::vector<std::string>{"service:web"});
  CHECK(consul::parse_sessions("[]")->empty());
  CHECK(*consul::parse_session_id(R"({"ID":"abc"})") == "abc");
}

TEST_CASE("a number beyond a long where an integer belongs is an invalid response, not a wrap") {
  // A double cast to an integer out of its range is undefined behaviour (fuzz/consul_json.cpp).
  auto r = consul::parse_sessions(R"([{"ID":"a","LockDelay":1.5e124}])");
  CHECK_FALSE(r);
  r = consul::parse_sessions(R"([{"ID":"a","LockDelay":-9.3e18}])");
  CHECK_FALSE(r);
  r = consul::parse_sessions(R"([{"ID":"a","LockDelay":1.5e10}])");
  REQUIRE(r);
  CHECK(r->front().lock_delay == std::chrono::seconds(15));
}

TEST_CASE("agent self, services and checks parse") {
  auto self = consul::parse_agent_self(
      R"({"Config":{"Datacenter":"dc1","NodeName":"n1","Version":"1.15.0"},)"
      R"("Member":{"Name":"n1","Addr":"127.0.0.1"}})");
  REQUIRE(self);
  CHECK(self->node_name == "n1");
  CHECK(self->datacenter == "dc1");
  CHECK(self->member_address == "127.0.0.1");
  auto services = consul::parse_agent_services(
      R"({"web1":{"ID":"web1","Service":"web","Tags":["a"],"Meta":{"k":"v"},"Port":80,)"
      R"("Address":""}})");
  REQUIRE(services);
  CHECK(services->at("web1").service == "web");
  CHECK(services->at("web1").meta.at("k") == "v");
  CHECK(services->at("web1").port == 80);
  auto checks = consul::parse_agent_checks(
      R"({"service:web1":{"Node":"n1","CheckID":"service:web1","Status":"critical",)"
      R"("Output":"TTL expired","ServiceID":"web1","ServiceTags":[]}})");
  REQUIRE(checks);
  CHECK(checks->at("service:web1").status == "critical");
}

TEST_CASE("health service entries parse with node checks and an empty service address") {
  auto r = consul::parse_health_service(
      R"([{"Node":{"ID":"x","Node":"n1","Address":"127.0.0.1","Datacenter":"dc1"},)"
      R"("Service":{"ID":"web1","Service":"web","Tags":[],"Address":"","Port":80},)"
      R"("Checks":[{"CheckID":"serfHealth","Status":"passing"},)"
      R"({"CheckID":"service:web1","Status":"warning","ServiceID":"web1"}]}])");
  REQUIRE(r);
  REQUIRE(r->size() == 1);
  CHECK(r->front().node.address == "127.0.0.1");
  CHECK(r->front().service.address.empty());
  CHECK(r->front().checks.size() == 2);
  CHECK(consul::parse_health_service("[]")->empty());
}

TEST_CASE("catalog services parse as name to tags") {
  auto r = consul::parse_catalog_services(R"({"consul":[],"web":["v1","primary"]})");
  REQUIRE(r);
  CHECK(r->at("consul").empty());
  CHECK(r->at("web") == std::vector<std::string>{"v1", "primary"});
}

TEST_CASE("a committed txn parses its KV results") {
  auto r = consul::parse_txn_response(
      200, R"({"Results":[{"KV":{"Key":"a","Value":"dGVzdA==","ModifyIndex":12}},)"
           R"({"KV":{"Key":"b","Value":null,"Flags":18446744073709551615}}],"Errors":null})");
  REQUIRE(r);
  CHECK(r->committed);
  REQUIRE(r->results.size() == 2);
  CHECK(r->results[0].value == "test");
  CHECK(r->results[1].flags == UINT64_MAX);
  CHECK(r->errors.empty());
}

TEST_CASE("a failed txn (409) reports every failed op with its index and text") {
  auto r = consul::parse_txn_response(
      409, R"({"Results":null,"Errors":[{"OpIndex":0,"What":"failed to lock key \"k\", lock is )"
           R"(already held"},{"OpIndex":2,"What":"key \"x\" doesn't exist"}]})");
  REQUIRE(r);
  CHECK_FALSE(r->committed);
  REQUIRE(r->errors.size() == 2);
  CHECK(r->errors[0].op_index == 0);
  CHECK(r->errors[0].what == "failed to lock key \"k\", lock is already held");
  CHECK(r->errors[1].op_index == 2);
}

TEST_CASE("txn ops encode verbs, base64 values, flags, indexes and sessions") {
  auto body = consul::encode_txn(
      {consul::txn_op::set("a", "test", UINT64_MAX), consul::txn_op::check_session("k", "s1"),
       consul::txn_op::remove_cas("d", 9), consul::txn_op::check_not_exists("n")});
  CHECK(body.find(R"("Verb":"set")") != std::string::npos);
  CHECK(body.find(R"("Value":"dGVzdA==")") != std::string::npos);
  CHECK(body.find(R"("Flags":18446744073709551615)") != std::string::npos);
  CHECK(body.find(R"("Verb":"check-session")") != std::string::npos);
  CHECK(body.find(R"("Session":"s1")") != std::string::npos);
  CHECK(body.find(R"("Verb":"delete-cas")") != std::string::npos);
  CHECK(body.find(R"("Index":9)") != std::string::npos);
  CHECK(body.find(R"("Verb":"check-not-exists")") != std::string::npos);
}

TEST_CASE("session create bodies carry TTL, lock-delay, behavior and explicit no-checks") {
  consul::session_options o;
  o.name = "leader";
  o.ttl = std::chrono::seconds(15);
  o.lock_delay = std::chrono::milliseconds(1500);
  o.behavior = consul::session_behavior::delete_keys;
  o.service_checks = {"service:web"};
  auto body = consul::encode_session_create(o);
  CHECK(body.find(R"("TTL":"15s")") != std::string::npos);
  CHECK(body.find(R"("LockDelay":"1500ms")") != std::string::npos);
  CHECK(body.find(R"("Behavior":"delete")") != std::string::npos);
  CHECK(body.find(R"("ServiceChecks":[{"ID":"service:web"}])") != std::string::npos);
  consul::session_options none;
  none.no_checks = true;
  CHECK(consul::encode_session_create(none).find(R"("Checks":[])") != std::string::npos);
}

TEST_CASE("service registration bodies carry the TTL check and its reaper delay") {
  consul::service_registration r;
  r.id = "web-1";
  r.name = "web";
  r.port = 8080;
  r.meta = {{"version", "1"}};
  consul::ttl_check c;
  c.ttl = std::chrono::seconds(10);
  c.deregister_critical_service_after = std::chrono::minutes(1);
  c.status = consul::check_status::passing;
  r.check = c;
  auto body = consul::encode_service_registration(r);
  CHECK(body.find(R"("ID":"web-1")") != std::string::npos);
  CHECK(body.find(R"("TTL":"10s")") != std::string::npos);
  CHECK(body.find(R"("DeregisterCriticalServiceAfter":"1m0s")") != std::string::npos);
  CHECK(body.find(R"("Status":"passing")") != std::string::npos);
  CHECK(body.find(R"("Meta":{"version":"1"})") != std::string::npos);
}
