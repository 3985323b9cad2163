#include <catch2/catch.hpp>

#include "integration/testkit/consul/fixture.hpp"

using namespace consul_agent_test;
namespace json = boost::json;

TEST_CASE("fail_next_requests answers the next n requests with the chosen status") {
  agent_fixture f;
  f.agent.fail_next_requests(2, 500);
  auto a = f.call("GET", "/v1/kv/x");
  CHECK(a.status == 500);
  CHECK(a.body == "No cluster leader");
  CHECK(f.call("PUT", "/v1/kv/x", "v").status == 500);
  CHECK(f.call("PUT", "/v1/kv/x", "v").status == 200);
  f.agent.fail_next_requests(1, 503);
  CHECK(f.call("GET", "/v1/kv/x").body == "Service Unavailable");
  f.agent.fail_next_requests(1, 429);
  auto t = f.call("GET", "/v1/kv/x");
  CHECK(t.status == 429);
  CHECK(t.body.empty());
}

TEST_CASE("lose_leader fails default reads and writes but stale reads still answer") {
  agent_fixture f;
  f.call("PUT", "/v1/kv/k", "v");
  f.agent.lose_leader();
  auto r = f.call("GET", "/v1/kv/k");
  CHECK(r.status == 500);
  CHECK(r.body == "No cluster leader");
  CHECK(f.call("PUT", "/v1/kv/k", "w").body == "No cluster leader");
  auto stale = f.call("GET", "/v1/kv/k?stale");
  CHECK(stale.status == 200);
  CHECK(stale.header("X-Consul-KnownLeader") == "false");
  CHECK(f.call("GET", "/v1/status/leader").body == "\"\"");
  f.agent.lose_leader(false);
  CHECK(f.call("GET", "/v1/kv/k").status == 200);
}

TEST_CASE("stale and consistent together are rejected") {
  agent_fixture f;
  auto r = f.call("GET", "/v1/kv/k?stale&consistent");
  CHECK(r.status == 400);
  CHECK(r.body == "Cannot specify ?stale with ?consistent, conflicting semantics.");
}

TEST_CASE("freeze reads requests but answers only after unfreezing") {
  agent_fixture f;
  f.agent.freeze(true);
  auto pending = f.call_async("GET", "/v1/status/leader");
  CHECK_FALSE(ready_within(pending, 300ms));
  f.agent.freeze(false);
  REQUIRE(ready_within(pending, 30s));
  CHECK(pending.get()->status == 200);
}

TEST_CASE("delay_responses delays every answer") {
  agent_fixture f;
  f.agent.delay_responses(400ms);
  auto start = std::chrono::steady_clock::now();
  CHECK(f.call("GET", "/v1/status/leader").status == 200);
  CHECK(std::chrono::steady_clock::now() - start >= 400ms);
  f.agent.delay_responses(0ms);
}

TEST_CASE("requests_served counts every request") {
  agent_fixture f;
  auto before = f.agent.requests_served();
  f.call("GET", "/v1/status/leader");
  f.call("GET", "/v1/nope");
  CHECK(f.agent.requests_served() == before + 2);
}

TEST_CASE("with an ACL master token unknown or missing tokens get 403 ACL not found") {
  auto o = agent_fixture::default_options();
  o.acl_master_token = "root";
  agent_fixture f(o);
  auto none = f.call("GET", "/v1/kv/x");
  CHECK(none.status == 403);
  CHECK(none.body == "ACL not found");
  CHECK(none.header("X-Consul-Default-ACL-Policy") == "deny");
  CHECK(f.call("GET", "/v1/kv/x", {}, {{"X-Consul-Token", "wrong"}}).status == 403);
  CHECK(f.call("GET", "/v1/kv/x", {}, {{"X-Consul-Token", "root"}}).status == 404);
  CHECK(f.call("GET", "/v1/kv/x?token=root").status == 404);
  CHECK(f.call("GET", "/v1/kv/x", {}, {{"Authorization", "bearer root extra"}}).status == 404);
  CHECK(f.call("GET", "/v1/status/leader").status == 200);  // status endpoints are exempt
  CHECK(f.json("GET", "/v1/acl/token/self?token=root").at("SecretID") == "root");
}

TEST_CASE("acl endpoints answer 401 when ACLs are disabled") {
  agent_fixture f;
  auto r = f.call("GET", "/v1/acl/token/self");
  CHECK(r.status == 401);
  CHECK(r.body == "ACL support disabled");
}

TEST_CASE("start fails with a system error when the port is taken") {
  agent_fixture f;
  auto o = agent_fixture::default_options();
  o.port = f.agent.port();
  cbes::testkit::consul_agent second(o);
  CHECK_THROWS_AS(second.start(), std::system_error);
}
