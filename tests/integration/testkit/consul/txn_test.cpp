#include <catch2/catch.hpp>

#include "integration/testkit/consul/fixture.hpp"

using namespace consul_agent_test;
namespace json = boost::json;

TEST_CASE("txn applies all operations with one index and returns results without values") {
  agent_fixture f;
  auto r = f.call("PUT", "/v1/txn",
                  R"([{"KV":{"Verb":"set","Key":"a","Value":"MQ=="}},
                      {"KV":{"Verb":"set","Key":"b","Value":"Mg==","Flags":7}},
                      {"KV":{"Verb":"get","Key":"a"}}])");
  REQUIRE(r.status == 200);
  auto body = json::parse(r.body).as_object();
  CHECK(body.at("Errors").is_null());
  auto results = body.at("Results").as_array();
  REQUIRE(results.size() == 3);
  CHECK(results[0].at("KV").at("Value").is_null());
  CHECK(results[1].at("KV").at("Flags") == 7);
  CHECK(results[2].at("KV").at("Value") == "MQ==");
  CHECK(results[0].at("KV").at("ModifyIndex") == results[1].at("KV").at("ModifyIndex"));
}

TEST_CASE("txn is all or nothing and reports every failed operation with 409") {
  agent_fixture f;
  f.call("PUT", "/v1/kv/exists", "x");
  auto before = f.agent.current_index();
  auto r = f.call("PUT", "/v1/txn",
                  R"([{"KV":{"Verb":"set","Key":"new","Value":"MQ=="}},
                      {"KV":{"Verb":"cas","Key":"exists","Index":1,"Value":"MQ=="}},
                      {"KV":{"Verb":"get","Key":"missing"}},
                      {"KV":{"Verb":"check-not-exists","Key":"exists"}}])");
  CHECK(r.status == 409);
  auto body = json::parse(r.body).as_object();
  CHECK(body.at("Results").is_null());
  auto errors = body.at("Errors").as_array();
  REQUIRE(errors.size() == 3);
  CHECK(errors[0].at("OpIndex") == 1);
  CHECK(errors[0].at("What") == "failed to set key \"exists\", index is stale");
  CHECK(errors[1].at("What") == "key \"missing\" doesn't exist");
  CHECK(errors[2].at("What") == "key \"exists\" exists");
  CHECK(f.call("GET", "/v1/kv/new").status == 404);
  CHECK(f.agent.current_index() == before);
}

TEST_CASE("txn lock unlock and check verbs follow the KV lock rules") {
  agent_fixture f;
  auto s = f.create_session();
  auto ok = f.call("PUT", "/v1/txn",
                   R"([{"KV":{"Verb":"lock","Key":"l","Session":")" + s + R"(","Value":"eA=="}}])");
  CHECK(ok.status == 200);
  auto idx = f.json("GET", "/v1/kv/l").as_array()[0].at("ModifyIndex").to_number<std::uint64_t>();
  auto checks = f.call("PUT", "/v1/txn",
                       R"([{"KV":{"Verb":"check-session","Key":"l","Session":")" + s + R"("}},
                           {"KV":{"Verb":"check-index","Key":"l","Index":)" +
                           std::to_string(idx) + R"(}},{"KV":{"Verb":"get-tree","Key":""}}])");
  CHECK(checks.status == 200);
  CHECK_FALSE(checks.has_header("X-Consul-Index"));
  CHECK(checks.header("X-Consul-KnownLeader") == "true");
  auto other = f.create_session();
  auto bad = f.call("PUT", "/v1/txn",
                    R"([{"KV":{"Verb":"lock","Key":"l","Session":")" + other + R"("}},
                        {"KV":{"Verb":"unlock","Key":"l","Session":")" +
                        other + R"("}},
                        {"KV":{"Verb":"check-index","Key":"l","Index":1}},
                        {"KV":{"Verb":"lock","Key":"m","Session":"nope"}},
                        {"KV":{"Verb":"delete-cas","Key":"l","Index":1}}])");
  CHECK(bad.status == 409);
  auto errors = json::parse(bad.body).at("Errors").as_array();
  REQUIRE(errors.size() == 5);
  CHECK(errors[0].at("What") == "failed to lock key \"l\", lock is already held");
  CHECK(errors[1].at("What") ==
        "failed to unlock key \"l\", lock isn't held, or is held by another session");
  CHECK(errors[2].at("What").as_string() ==
        "failed index check for key \"l\", current modify index " + std::to_string(idx) + " != 1");
  CHECK(errors[3].at("What") == "invalid session \"nope\"");
  CHECK(errors[4].at("What") == "failed to delete key \"l\", index is stale");
}

TEST_CASE("txn delete verbs produce no results and delete-tree removes the prefix") {
  agent_fixture f;
  f.call("PUT", "/v1/kv/tree/a", "1");
  f.call("PUT", "/v1/kv/tree/b", "1");
  f.call("PUT", "/v1/kv/x", "1");
  auto r =
      f.call("PUT", "/v1/txn",
             R"([{"KV":{"Verb":"delete-tree","Key":"tree/"}},{"KV":{"Verb":"delete","Key":"x"}}])");
  CHECK(r.status == 200);
  CHECK(json::parse(r.body).at("Results").as_array().empty());
  CHECK(f.call("GET", "/v1/kv/?recurse").status == 404);
}

TEST_CASE("txn limits: 128 operations, value size and parse errors") {
  agent_fixture f;
  json::array ops;
  for (int i = 0; i < 129; ++i)
    ops.push_back(json::object{{"KV", json::object{{"Verb", "get-or-empty"}, {"Key", "k"}}}});
  auto many = f.call("PUT", "/v1/txn", json::serialize(ops));
  CHECK(many.status == 413);
  CHECK(many.body == "Transaction contains too many operations (129 > 128)");
  auto bad = f.call("PUT", "/v1/txn", "{nope");
  CHECK(bad.status == 400);
  CHECK(bad.body.starts_with("Failed to parse body: "));
}
