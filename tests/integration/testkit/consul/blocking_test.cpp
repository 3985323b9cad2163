#include <catch2/catch.hpp>

#include "integration/testkit/consul/fixture.hpp"

using namespace consul_agent_test;
namespace json = boost::json;

// Blocking tests assert behaviour, not speed: "still waiting" is checked with a short look,
// "woken" with a generous limit.
TEST_CASE("a blocking kv get returns when the key changes with the new index") {
  agent_fixture f;
  f.call("PUT", "/v1/kv/w", "1");
  auto idx = f.index_of(f.call("GET", "/v1/kv/w"));
  auto waiting = f.call_async("GET", "/v1/kv/w?index=" + std::to_string(idx) + "&wait=5m");
  CHECK_FALSE(ready_within(waiting, 300ms));
  f.call("PUT", "/v1/kv/w", "2");
  REQUIRE(ready_within(waiting, 30s));
  auto r = waiting.get();
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(f.index_of(*r) > idx);
  CHECK(json::parse(r->body).as_array()[0].at("Value") == "Mg==");
}

TEST_CASE("a blocking get on a missing key keeps waiting on other writes and returns on creation") {
  agent_fixture f;
  auto idx = f.index_of(f.call("GET", "/v1/kv/later"));
  auto waiting = f.call_async("GET", "/v1/kv/later?index=" + std::to_string(idx));
  f.call("PUT", "/v1/kv/unrelated", "x");
  CHECK_FALSE(ready_within(waiting, 300ms));
  f.call("PUT", "/v1/kv/later", "now");
  REQUIRE(ready_within(waiting, 30s));
  CHECK(waiting.get()->status == 200);
}

TEST_CASE("a blocking get on a missing key answers 404 with the index when the wait ends") {
  agent_fixture f(agent_fixture::manual());
  auto idx = f.index_of(f.call("GET", "/v1/kv/never"));
  auto waiting = f.call_async("GET", "/v1/kv/never?index=" + std::to_string(idx) + "&wait=10s");
  CHECK_FALSE(ready_within(waiting, 300ms));
  f.agent.advance(9s);
  CHECK_FALSE(ready_within(waiting, 200ms));
  f.agent.advance(2s);
  REQUIRE(ready_within(waiting, 30s));
  auto r = waiting.get();
  CHECK(r->status == 404);
  CHECK(f.index_of(*r) == idx);
}

TEST_CASE("wait is clamped to ten minutes and defaults to five") {
  agent_fixture f(agent_fixture::manual());
  auto idx = f.index_of(f.call("GET", "/v1/kv/x"));
  auto clamped = f.call_async("GET", "/v1/kv/x?index=" + std::to_string(idx) + "&wait=1h");
  auto dflt = f.call_async("GET", "/v1/kv/x?index=" + std::to_string(idx));
  f.agent.advance(299s);
  CHECK_FALSE(ready_within(dflt, 300ms));
  f.agent.advance(2s);
  REQUIRE(ready_within(dflt, 30s));
  CHECK_FALSE(ready_within(clamped, 200ms));
  f.agent.advance(300s);
  REQUIRE(ready_within(clamped, 30s));
}

TEST_CASE("index and wait parse errors are 400") {
  agent_fixture f;
  auto i = f.call("GET", "/v1/kv/x?index=abc");
  CHECK(i.status == 400);
  CHECK(i.body == "Invalid index");
  auto w = f.call("GET", "/v1/kv/x?index=5&wait=5x");
  CHECK(w.status == 400);
  CHECK(w.body == "Invalid wait time");
  CHECK(f.call("GET", "/v1/kv/x?index=5&wait=1.5s").status == 404);
}

TEST_CASE("a blocking health query wakes on a check status change") {
  agent_fixture f;
  f.call("PUT", "/v1/agent/service/register", R"({"Name":"web","Check":{"TTL":"1m"}})");
  auto idx = f.index_of(f.call("GET", "/v1/health/service/web"));
  auto waiting = f.call_async("GET", "/v1/health/service/web?passing&index=" + std::to_string(idx));
  CHECK_FALSE(ready_within(waiting, 300ms));
  f.call("PUT", "/v1/agent/check/pass/service:web");
  REQUIRE(ready_within(waiting, 30s));
  auto r = waiting.get();
  CHECK(f.index_of(*r) > idx);
  CHECK(json::parse(r->body).as_array().size() == 1);
}

TEST_CASE("output-only ttl updates do not wake health watchers") {
  agent_fixture f;
  f.call("PUT", "/v1/agent/service/register", R"({"Name":"web","Check":{"TTL":"1m"}})");
  f.call("PUT", "/v1/agent/check/pass/service:web?note=1");
  auto idx = f.index_of(f.call("GET", "/v1/health/service/web"));
  f.call("PUT", "/v1/agent/check/pass/service:web?note=2");
  CHECK(f.index_of(f.call("GET", "/v1/health/service/web")) == idx);
}

TEST_CASE("spurious wakeup returns a blocking query with the same index") {
  agent_fixture f;
  f.call("PUT", "/v1/kv/s", "1");
  auto idx = f.index_of(f.call("GET", "/v1/kv/s"));
  auto waiting = f.call_async("GET", "/v1/kv/s?index=" + std::to_string(idx));
  CHECK_FALSE(ready_within(waiting, 300ms));
  f.agent.spurious_wakeup();
  REQUIRE(ready_within(waiting, 30s));
  CHECK(f.index_of(*waiting.get()) == idx);
}

TEST_CASE("reset_index makes indexes go backwards and wakes waiters") {
  agent_fixture f;
  for (int i = 0; i < 20; ++i)
    f.call("PUT", "/v1/kv/r" + std::to_string(i), "x");
  auto idx = f.index_of(f.call("GET", "/v1/kv/r19"));
  auto waiting = f.call_async("GET", "/v1/kv/r19?index=" + std::to_string(idx));
  CHECK_FALSE(ready_within(waiting, 300ms));
  f.agent.reset_index();
  REQUIRE(ready_within(waiting, 30s));
  auto r = waiting.get();
  CHECK(r->status == 200);
  CHECK(f.index_of(*r) < idx);
  CHECK(f.call("GET", "/v1/kv/r0").status == 200);  // data is kept
}

TEST_CASE("drop_long_polls closes waiting connections without an answer") {
  agent_fixture f;
  auto idx = f.index_of(f.call("GET", "/v1/catalog/services"));
  auto waiting = f.call_async("GET", "/v1/catalog/services?index=" + std::to_string(idx));
  CHECK_FALSE(ready_within(waiting, 300ms));
  f.agent.drop_long_polls();
  REQUIRE(ready_within(waiting, 30s));
  CHECK_FALSE(waiting.get().has_value());
  CHECK(f.call("GET", "/v1/catalog/services").status == 200);
}

TEST_CASE("stop closes connections with a pending long poll") {
  agent_fixture f;
  auto idx = f.index_of(f.call("GET", "/v1/kv/x"));
  auto waiting = f.call_async("GET", "/v1/kv/x?index=" + std::to_string(idx));
  CHECK_FALSE(ready_within(waiting, 300ms));
  f.agent.stop();
  REQUIRE(ready_within(waiting, 30s));
  CHECK_FALSE(waiting.get().has_value());
}

TEST_CASE("a blocking session info query wakes when the session is destroyed") {
  agent_fixture f;
  auto id = f.create_session();
  auto idx = f.index_of(f.call("GET", "/v1/session/info/" + id));
  auto waiting = f.call_async("GET", "/v1/session/info/" + id + "?index=" + std::to_string(idx));
  CHECK_FALSE(ready_within(waiting, 300ms));
  f.call("PUT", "/v1/session/destroy/" + id);
  REQUIRE(ready_within(waiting, 30s));
  CHECK(waiting.get()->body == "[]");
}

TEST_CASE("queries_parked counts a blocking query once however often writes wake it") {
  agent_fixture f;
  f.call("PUT", "/v1/kv/once", "1");
  auto idx = f.index_of(f.call("GET", "/v1/kv/once"));
  const auto mark = f.agent.queries_parked();
  auto waiting = f.call_async("GET", "/v1/kv/once?index=" + std::to_string(idx));
  CHECK(f.agent.waiting_queries() == 1);
  // Each write wakes the poll; it re-checks, finds its key unchanged and parks again.
  f.call("PUT", "/v1/kv/other", "a");
  f.call("PUT", "/v1/kv/other", "b");
  CHECK_FALSE(ready_within(waiting, 100ms));
  f.call("PUT", "/v1/kv/once", "2");
  REQUIRE(ready_within(waiting, 30s));
  CHECK(waiting.get()->status == 200);
  CHECK(f.agent.queries_parked() == mark + 1);
  CHECK(f.agent.waiting_queries() == 0);
}

TEST_CASE("wait_until_waiting returns once that many requests are parked together") {
  agent_fixture f;
  auto idx = f.index_of(f.call("GET", "/v1/kv/pair"));
  CHECK_FALSE(f.agent.wait_until_waiting(1, 50ms));
  auto first = f.call_async("GET", "/v1/kv/pair?index=" + std::to_string(idx), false);
  auto second = f.call_async("GET", "/v1/kv/pair?index=" + std::to_string(idx), false);
  REQUIRE(f.agent.wait_until_waiting(2, 30s));
  f.call("PUT", "/v1/kv/pair", "x");
  REQUIRE(ready_within(first, 30s));
  REQUIRE(ready_within(second, 30s));
  CHECK(f.agent.waiting_queries() == 0);
}
