#include <catch2/catch.hpp>

#include "integration/testkit/consul/fixture.hpp"

using namespace consul_agent_test;
namespace json = boost::json;

TEST_CASE("session create with defaults is bound to serfHealth with a 15 s lock delay") {
  agent_fixture f;
  auto r = f.call("PUT", "/v1/session/create", "");
  REQUIRE(r.status == 200);
  CHECK_FALSE(r.has_header("X-Consul-Index"));
  auto id = std::string(json::parse(r.body).at("ID").as_string());
  auto info = f.call("GET", "/v1/session/info/" + id);
  auto s = json::parse(info.body).as_array().at(0).as_object();
  CHECK(s.at("LockDelay") == 15000000000);
  CHECK(s.at("Behavior") == "release");
  CHECK(s.at("Node") == "cbes-sandbox");
  CHECK(s.at("NodeChecks") == json::array{"serfHealth"});
  CHECK(s.at("ServiceChecks").is_null());
  CHECK(f.index_of(info) == s.at("ModifyIndex").to_number<std::uint64_t>());
}

TEST_CASE("session fields are matched case-insensitively and lock delays below 1000 are seconds") {
  agent_fixture f;
  auto id = f.create_session(R"({"name":"n","lockdelay":5,"behavior":"delete","ttl":"10s"})");
  auto s = f.json("GET", "/v1/session/info/" + id).as_array().at(0);
  CHECK(s.at("Name") == "n");
  CHECK(s.at("LockDelay") == 5000000000);
  CHECK(s.at("Behavior") == "delete");
  CHECK(s.at("TTL") == "10s");
  auto ms = f.create_session(R"({"LockDelay":"1500ms"})");
  CHECK(f.json("GET", "/v1/session/info/" + ms).as_array().at(0).at("LockDelay") == 1500000000);
}

TEST_CASE("session TTL outside 10s to 24h is a 500 with the exact text") {
  agent_fixture f;
  auto low = f.call("PUT", "/v1/session/create", R"({"TTL":"9s"})");
  CHECK(low.status == 500);
  CHECK(low.body == "Invalid Session TTL '9000000000', must be between [10s=24h0m0s]");
  auto high = f.call("PUT", "/v1/session/create", R"({"TTL":"25h"})");
  CHECK(high.body == "Invalid Session TTL '90000000000000', must be between [10s=24h0m0s]");
  auto bad = f.call("PUT", "/v1/session/create", R"({"TTL":"abc"})");
  CHECK(bad.status == 500);
  CHECK(bad.body == "Session TTL 'abc' invalid: time: invalid duration \"abc\"");
  CHECK(f.call("PUT", "/v1/session/create", R"({"TTL":"0s"})").status == 200);
}

TEST_CASE("session create rejects bad behavior, bad JSON, missing and critical checks") {
  agent_fixture f;
  auto b = f.call("PUT", "/v1/session/create", R"({"Behavior":"explode"})");
  CHECK(b.status == 500);
  CHECK(b.body == "Invalid Behavior setting 'explode'");
  auto j = f.call("PUT", "/v1/session/create", "{not json");
  CHECK(j.status == 400);
  CHECK(j.body.starts_with("Request decode failed: "));
  auto missing = f.call("PUT", "/v1/session/create", R"({"NodeChecks":["nope"]})");
  CHECK(missing.status == 500);
  CHECK(missing.body == "Missing check 'nope' registration");
  f.call("PUT", "/v1/agent/service/register", R"({"Name":"web","Check":{"TTL":"10s"}})");
  auto critical = f.call("PUT", "/v1/session/create",
                         R"({"ServiceChecks":[{"ID":"service:web","Namespace":""}]})");
  CHECK(critical.status == 500);
  CHECK(critical.body == "Check 'service:web' is in critical state");
  auto node = f.call("PUT", "/v1/session/create", R"({"Node":"other"})");
  CHECK(node.body == "Missing node registration");
}

TEST_CASE("session info for an unknown id is an empty array and destroy is idempotent") {
  agent_fixture f;
  auto r = f.call("GET", "/v1/session/info/00000000-0000-0000-0000-000000000000");
  CHECK(r.status == 200);
  CHECK(r.body == "[]");
  CHECK(r.has_header("X-Consul-Index"));
  CHECK(f.call("PUT", "/v1/session/destroy/unknown").body == "true");
  CHECK(f.call("GET", "/v1/session/list").body == "[]");
}

TEST_CASE("session renew of an unknown id is 404 with the exact text") {
  agent_fixture f;
  auto r = f.call("PUT", "/v1/session/renew/abc");
  CHECK(r.status == 404);
  CHECK(r.body == "Session id 'abc' not found");
  auto id = f.create_session(R"({"TTL":"15s"})");
  auto ok = f.call("PUT", "/v1/session/renew/" + id);
  CHECK(ok.status == 200);
  CHECK(json::parse(ok.body).as_array().at(0).at("TTL") == "15s");
  CHECK(f.call("GET", "/v1/session/renew/" + id).status == 405);
}

TEST_CASE("session list and node list every session of the node") {
  agent_fixture f;
  f.create_session();
  f.create_session();
  CHECK(f.json("GET", "/v1/session/list").as_array().size() == 2);
  CHECK(f.json("GET", "/v1/session/node/cbes-sandbox").as_array().size() == 2);
  CHECK(f.json("GET", "/v1/session/node/other").as_array().empty());
}

TEST_CASE("ttl session is invalidated at twice its TTL and not before") {
  agent_fixture f(agent_fixture::manual());
  auto id = f.create_session(R"({"TTL":"10s"})");
  f.agent.advance(19s);
  CHECK(f.json("GET", "/v1/session/info/" + id).as_array().size() == 1);
  f.call("PUT", "/v1/session/renew/" + id);  // timer restarts at 2 x TTL
  f.agent.advance(19s);
  CHECK(f.json("GET", "/v1/session/info/" + id).as_array().size() == 1);
  f.agent.advance(2s);
  CHECK(f.json("GET", "/v1/session/info/" + id).as_array().empty());
  CHECK(f.call("PUT", "/v1/session/renew/" + id).status == 404);
}

TEST_CASE("acquire sets the session and bumps LockIndex, re-acquire by the holder does not") {
  agent_fixture f;
  auto s1 = f.create_session();
  auto s2 = f.create_session();
  CHECK(f.call("PUT", "/v1/kv/lock?acquire=" + s1, "a").body == "true");
  auto e = f.json("GET", "/v1/kv/lock").as_array()[0];
  CHECK(e.at("Session").as_string() == s1);
  CHECK(e.at("LockIndex") == 1);
  CHECK(f.call("PUT", "/v1/kv/lock?acquire=" + s1, "b").body == "true");
  CHECK(f.json("GET", "/v1/kv/lock").as_array()[0].at("LockIndex") == 1);
  CHECK(f.call("PUT", "/v1/kv/lock?acquire=" + s2, "c").body == "false");
  CHECK(f.call("PUT", "/v1/kv/lock?release=" + s2, "c").body == "false");
  CHECK(f.call("PUT", "/v1/kv/lock?release=" + s1, "released").body == "true");
  e = f.json("GET", "/v1/kv/lock").as_array()[0];
  CHECK_FALSE(e.as_object().contains("Session"));
  CHECK(e.at("Value") == "cmVsZWFzZWQ=");
  CHECK(e.at("LockIndex") == 1);
  // release does not start a lock delay: s2 acquires at once
  CHECK(f.call("PUT", "/v1/kv/lock?acquire=" + s2, "d").body == "true");
  CHECK(f.json("GET", "/v1/kv/lock").as_array()[0].at("LockIndex") == 2);
}

TEST_CASE("acquire with a missing or unknown session is a 500") {
  agent_fixture f;
  auto r = f.call("PUT", "/v1/kv/k?acquire=", "v");
  CHECK(r.status == 500);
  CHECK(r.body == "missing session");
  auto u = f.call("PUT", "/v1/kv/k?acquire=nope", "v");
  CHECK(u.status == 500);
  CHECK(u.body == "invalid session \"nope\"");
}

TEST_CASE("a plain put on a locked key keeps the session but resets LockIndex") {
  agent_fixture f;
  auto s = f.create_session();
  f.call("PUT", "/v1/kv/l?acquire=" + s, "a");
  f.call("PUT", "/v1/kv/l", "overwrite");
  auto e = f.json("GET", "/v1/kv/l").as_array()[0];
  CHECK(e.at("Session").as_string() == s);
  CHECK(e.at("LockIndex") == 0);
}

TEST_CASE("destroying a release session clears held keys and starts the lock delay") {
  agent_fixture f(agent_fixture::manual());
  auto s1 = f.create_session(R"({"LockDelay":"10s"})");
  auto s2 = f.create_session();
  f.call("PUT", "/v1/kv/ld?acquire=" + s1, "v");
  f.call("PUT", "/v1/session/destroy/" + s1);
  auto e = f.json("GET", "/v1/kv/ld").as_array()[0];
  CHECK_FALSE(e.as_object().contains("Session"));
  CHECK(e.at("Value") == "dg==");
  CHECK(f.call("PUT", "/v1/kv/ld?acquire=" + s2, "w").body == "false");
  CHECK_FALSE(f.json("GET", "/v1/kv/ld").as_array()[0].as_object().contains("Session"));
  f.agent.advance(9s);
  CHECK(f.call("PUT", "/v1/kv/ld?acquire=" + s2, "w").body == "false");
  f.agent.advance(2s);
  CHECK(f.call("PUT", "/v1/kv/ld?acquire=" + s2, "w").body == "true");
}

TEST_CASE("lock delay is capped at 60 seconds and checked before the session") {
  agent_fixture f(agent_fixture::manual());
  auto s1 = f.create_session(R"({"LockDelay":"5m"})");
  f.call("PUT", "/v1/kv/cap?acquire=" + s1, "v");
  f.call("PUT", "/v1/session/destroy/" + s1);
  CHECK(f.call("PUT", "/v1/kv/cap?acquire=unknown", "w").body == "false");
  f.agent.advance(61s);
  auto s2 = f.create_session();
  CHECK(f.call("PUT", "/v1/kv/cap?acquire=" + s2, "w").body == "true");
}

TEST_CASE("a delete-behavior session deletes its keys when it expires") {
  agent_fixture f(agent_fixture::manual());
  auto s = f.create_session(R"({"TTL":"10s","Behavior":"delete","LockDelay":"0s"})");
  f.call("PUT", "/v1/kv/eph?acquire=" + s, "v");
  f.agent.advance(21s);
  CHECK(f.call("GET", "/v1/kv/eph").status == 404);
  auto s2 = f.create_session();
  CHECK(f.call("PUT", "/v1/kv/eph?acquire=" + s2, "w").body == "true");  // LockDelay 0
}

TEST_CASE("a session bound to a check is invalidated when the check turns critical") {
  agent_fixture f;
  f.call("PUT", "/v1/agent/service/register",
         R"({"Name":"web","Check":{"TTL":"30s","Status":"passing"}})");
  auto s =
      f.create_session(R"({"NodeChecks":["serfHealth"],"ServiceChecks":[{"ID":"service:web"}]})");
  f.call("PUT", "/v1/kv/leader?acquire=" + s, "me");
  f.call("PUT", "/v1/agent/check/fail/service:web?note=down");
  CHECK(f.json("GET", "/v1/session/info/" + s).as_array().empty());
  CHECK_FALSE(f.json("GET", "/v1/kv/leader").as_array()[0].as_object().contains("Session"));
}

TEST_CASE("killing the node invalidates sessions bound to serfHealth") {
  agent_fixture f;
  auto s = f.create_session();
  auto none = f.create_session(R"({"Checks":[]})");
  f.agent.kill_node();
  CHECK(f.json("GET", "/v1/session/info/" + s).as_array().empty());
  CHECK(f.json("GET", "/v1/session/info/" + none).as_array().size() == 1);
  auto r = f.call("PUT", "/v1/session/create", "");
  CHECK(r.status == 500);
  CHECK(r.body == "Check 'serfHealth' is in critical state");
  f.agent.kill_node(false);
  CHECK(f.call("PUT", "/v1/session/create", "").status == 200);
}
