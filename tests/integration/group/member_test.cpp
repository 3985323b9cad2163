// A worker's presence in its group (cbes::group::member) against the fake Consul agent: the
// Java connector's service, check and session shapes, heartbeats, the kill switch, rejoining
// after Consul dropped the session, and the report on leaving.
#include <catch2/catch.hpp>

#include <algorithm>

#include "cbes/group/member.hpp"
#include "integration/couchbase/harness.hpp"
#include "integration/group/harness.hpp"

using namespace group_it;
using cbes::group::member;
using cbes::group::member_options;

namespace {

member_options fast_options(std::string service_id = {}) {
  member_options o;
  o.group = "example-group";
  o.service_id = std::move(service_id);
  o.heartbeat = 1000ms;  // TTL 2 s
  o.retry = 50ms;
  o.kill_switch = 1500ms;
  o.deregister_critical_service_after = std::chrono::minutes(5);
  return o;
}

// Waits on the io_context (which keeps serving the member) until `pred` holds.
asio::awaitable<bool> until(std::function<bool()> pred, std::chrono::milliseconds limit = 20s) {
  return couchbase_it::eventually(std::move(pred), limit);
}

struct fixture {
  cbes::testkit::consul_agent agent;
  asio::io_context io;
  std::optional<consul::client> consul;

  fixture() {
    agent.start();
    auto o = options_for(agent);
    o.request_timeout = 500ms;  // a frozen agent must fail heartbeats quickly
    o.retry_deadline = 200ms;
    consul.emplace(io.get_executor(), o);
  }
  ~fixture() {
    consul->close();
    cbes::test::drain(io);
  }

  std::unique_ptr<member> join(member_options o) {
    return run(io, [&]() -> asio::awaitable<std::unique_ptr<member>> {
      auto m = co_await member::join(*consul, std::move(o));
      INFO((m ? std::string() : m.error().what()));
      REQUIRE(m);
      co_return std::move(*m);
    }());
  }
};

}  // namespace

TEST_CASE("member: join registers the Java connector's service, check and session") {
  fixture f;
  auto m = f.join(fast_options("second"));
  CHECK(m->service_id() == "second");
  CHECK(m->endpoint_id() == "cbes-sandbox::127.0.0.1::second");
  run(f.io, [&]() -> asio::awaitable<void> {
    auto services = co_await f.consul->agent().services();
    REQUIRE(services);
    REQUIRE(services->count("second") == 1);
    const auto& s = services->at("second");
    CHECK(s.service == "example-group");
    CHECK(s.tags == std::vector<std::string>{"couchbase-elasticsearch-connector"});
    CHECK(s.meta.at("uuid") == m->instance_uuid());
    auto checks = co_await f.consul->agent().checks();
    REQUIRE(checks);
    REQUIRE(checks->count("service:second") == 1);
    CHECK(checks->at("service:second").status == "passing");
    CHECK(checks->at("service:second").notes.empty());
    CHECK(checks->at("service:second").output == "(second) OK");
    auto info = co_await f.consul->session().info(m->session());
    REQUIRE(info);
    REQUIRE(info->value);
    CHECK(info->value->name == "couchbase:cbes:second");
    CHECK(info->value->behavior == consul::session_behavior::delete_keys);
    CHECK(info->value->lock_delay == 15s);
    CHECK(info->value->ttl.empty());  // liveness comes from the checks, not a session TTL
    CHECK(info->value->node_checks == std::vector<std::string>{"serfHealth"});
    CHECK(info->value->service_checks == std::vector<std::string>{"service:second"});
  }());
}

TEST_CASE("member: the service id defaults to the group name, bad options are refused") {
  fixture f;
  auto m = f.join(fast_options());
  CHECK(m->service_id() == "example-group");
  CHECK(m->endpoint_id() == "cbes-sandbox::127.0.0.1::example-group");
  run(f.io, [&]() -> asio::awaitable<void> {
    auto no_group = fast_options();
    no_group.group.clear();
    auto r1 = co_await member::join(*f.consul, no_group);
    REQUIRE_FALSE(r1);
    CHECK(r1.error().code == cbes::group::errc::invalid_argument);
    auto late_switch = fast_options("x");
    late_switch.kill_switch = 2 * late_switch.heartbeat;  // would fire after the TTL
    auto r2 = co_await member::join(*f.consul, late_switch);
    REQUIRE_FALSE(r2);
    CHECK(r2.error().message.find("kill switch") != std::string::npos);
  }());
}

TEST_CASE("member: heartbeats keep the check passing past its TTL") {
  fixture f;
  auto m = f.join(fast_options());
  asio::co_spawn(f.io, m->run(), asio::detached);
  run(f.io, [&]() -> asio::awaitable<void> {
    // Five heartbeats span more than twice the 2 s TTL.
    REQUIRE(co_await until([&] { return m->heartbeats() >= 5; }));
    auto checks = co_await f.consul->agent().checks();
    REQUIRE(checks);
    CHECK(checks->at("service:example-group").status == "passing");
    auto info = co_await f.consul->session().info(m->session());
    REQUIRE(info);
    CHECK(info->value.has_value());
    CHECK(m->rejoins() == 0);
  }());
  m->stop();
}

TEST_CASE("member: the kill switch fires when Consul stops answering, then heartbeats resume") {
  fixture f;
  auto m = f.join(fast_options());
  asio::co_spawn(f.io, m->run(), asio::detached);
  bool fired = false;
  m->arm([&] { fired = true; });
  run(f.io, [&]() -> asio::awaitable<void> {
    const auto before = m->heartbeats();
    f.agent.freeze(true);
    REQUIRE(co_await until([&] { return fired; }));
    CHECK_FALSE(m->alive());
    CHECK(m->heartbeats() == before);  // it fired because no heartbeat succeeded
    f.agent.freeze(false);
    REQUIRE(co_await until([&] { return m->alive(); }));
    CHECK(m->heartbeats() > before);
  }());
  m->stop();
}

TEST_CASE("member: a disarmed kill switch does not fire") {
  fixture f;
  auto m = f.join(fast_options());
  bool fired = false;
  m->arm([&] { fired = true; });
  m->disarm();
  // No heartbeats run, so the deadline the switch was armed with passes after 1.5 s.
  run(f.io, [&]() -> asio::awaitable<void> {
    REQUIRE(co_await until([&] { return !m->alive(); }));
    asio::steady_timer settle(f.io, 100ms);  // an expired timer's handler is queued by now
    co_await settle.async_wait(asio::use_awaitable);
  }());
  CHECK_FALSE(fired);
}

TEST_CASE("member: when Consul drops the session the member joins again with a new one") {
  fixture f;
  std::string rejoined_with;
  auto o = fast_options();
  o.on_rejoined = [&](const std::string& s) { rejoined_with = s; };
  auto m = f.join(o);
  const auto first = m->session();
  asio::co_spawn(f.io, m->run(), asio::detached);
  run(f.io, [&]() -> asio::awaitable<void> {
    // serfHealth critical invalidates every session on the node (behaviour delete).
    f.agent.kill_node(true);
    auto gone = [&]() -> asio::awaitable<bool> {
      auto info = co_await f.consul->session().info(first);
      co_return info && !info->value;
    };
    bool is_gone = false;
    for (int i = 0; i < 100 && !is_gone; ++i)
      is_gone = co_await gone();
    REQUIRE(is_gone);
    f.agent.kill_node(false);
    REQUIRE(co_await until([&] { return m->rejoins() == 1; }));
    CHECK(rejoined_with == m->session());
    CHECK(m->session() != first);
    auto info = co_await f.consul->session().info(m->session());
    REQUIRE(info);
    CHECK(info->value.has_value());
  }());
  m->stop();
}

TEST_CASE("member: leaving deregisters, or fails the check with the note") {
  fixture f;
  SECTION("graceful, deregisterServiceOnGracefulShutdown = true") {
    auto m = f.join(fast_options());
    run(f.io, [&]() -> asio::awaitable<void> {
      m->stop();
      co_await m->leave(true, "Graceful shutdown complete.");
      auto services = co_await f.consul->agent().services();
      REQUIRE(services);
      CHECK(services->count("example-group") == 0);
      // The session was bound to the removed check: it is gone too.
      auto info = co_await f.consul->session().info(m->session());
      REQUIRE(info);
      CHECK_FALSE(info->value.has_value());
    }());
  }
  SECTION("graceful, deregisterServiceOnGracefulShutdown = false") {
    auto o = fast_options();
    o.deregister_on_graceful_shutdown = false;
    auto m = f.join(o);
    run(f.io, [&]() -> asio::awaitable<void> {
      m->stop();
      co_await m->leave(true, "Graceful shutdown complete.");
      auto checks = co_await f.consul->agent().checks();
      REQUIRE(checks);
      CHECK(checks->at("service:example-group").status == "critical");
      CHECK(checks->at("service:example-group").output ==
            "(example-group) Graceful shutdown complete.");
    }());
  }
  SECTION("after a fatal error") {
    auto m = f.join(fast_options());
    run(f.io, [&]() -> asio::awaitable<void> {
      m->stop();
      co_await m->leave(false, "Shutdown triggered by exception: boom");
      auto checks = co_await f.consul->agent().checks();
      REQUIRE(checks);
      CHECK(checks->at("service:example-group").status == "critical");
      CHECK(checks->at("service:example-group").output ==
            "(example-group) Shutdown triggered by exception: boom");
    }());
  }
}
