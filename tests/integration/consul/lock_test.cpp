#include <catch2/catch.hpp>

#include <memory>
#include <optional>

#include "consul/lock.hpp"
#include "integration/consul/harness.hpp"

using namespace consul_it;
using consul::errc;

namespace {
consul::lock_options fast_lock(std::string who) {
  consul::lock_options o;
  o.key = "service/test/leader";
  o.value = std::move(who);
  o.session_ttl = 10s;
  o.lock_delay = 0ms;
  o.wait = 5s;
  o.retry_time = 100ms;
  return o;
}

// Waits for `l` to be held (acquire running in the background) or fails after `limit`.
asio::awaitable<bool> eventually_held(consul::lock& l, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!l.held() && std::chrono::steady_clock::now() < deadline)
    co_await sleep(20ms);
  co_return l.held();
}

// Waits (generously) for the agent to hold exactly `n` sessions.
asio::awaitable<bool> session_count_becomes(const consul::client& c, std::size_t n) {
  for (int i = 0; i < 500; ++i) {
    auto list = co_await c.session().list();
    if (list && list->value.size() == n)
      co_return true;
    co_await sleep(20ms);
  }
  co_return false;
}
}  // namespace

TEST_CASE("lock handover: the contender takes over when the holder's session is destroyed") {
  agent_fixture f;
  consul::client a(f.io.get_executor(), options_for(f.agent));
  consul::client b(f.io.get_executor(), options_for(f.agent));
  consul::lock la(a, fast_lock("a"));
  consul::lock lb(b, fast_lock("b"));
  run(f.io, [&]() -> asio::awaitable<void> {
    REQUIRE(co_await la.acquire());
    CHECK(la.held());
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, lb.acquire(), asio::detached);
    const bool contending = co_await waiting(f.agent, 2);  // a's monitor and b's acquire
    REQUIRE(contending);
    CHECK_FALSE(lb.held());
    CHECK((co_await a.kv().get("service/test/leader"))->value->value == "a");
    // The operator kills the holder's session: a loses, b takes over.
    REQUIRE(co_await a.session().destroy(la.session_id()));
    auto lost = co_await la.wait_lost();
    REQUIRE_FALSE(lost);
    CHECK(lost.error().code == errc::lock_lost);
    CHECK_FALSE(la.held());
    CHECK(co_await eventually_held(lb, 10s));
    CHECK((co_await b.kv().get("service/test/leader"))->value->value == "b");
    CHECK(co_await lb.release());
  }());
}

TEST_CASE("lock handover when the holder abdicates: one txn, no waiting for lock-delay") {
  agent_fixture f;
  consul::client a(f.io.get_executor(), options_for(f.agent));
  consul::client b(f.io.get_executor(), options_for(f.agent));
  auto oa = fast_lock("a");
  oa.lock_delay = 60s;  // abdication must not leave a lock-delay behind
  auto ob = fast_lock("b");
  ob.retry_time = 30s;  // ... so b never has to retry after a refused acquire
  consul::lock la(a, oa);
  consul::lock lb(b, ob);
  run(f.io, [&]() -> asio::awaitable<void> {
    REQUIRE(co_await la.acquire());
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, lb.acquire(), asio::detached);
    const bool contending = co_await waiting(f.agent, 2);  // a's monitor and b's acquire
    REQUIRE(contending);
    CHECK_FALSE(lb.held());
    const auto start = std::chrono::steady_clock::now();
    REQUIRE(co_await la.abdicate());
    CHECK_FALSE(la.held());
    CHECK(co_await eventually_held(lb, 10s));
    CHECK(std::chrono::steady_clock::now() - start < 10s);
    auto sessions = co_await a.session().list();
    CHECK(sessions->value.size() == 1);  // a's session was destroyed
    CHECK(co_await lb.release());
  }());
}

TEST_CASE("lock handover when the holder's session expires (manual clock)") {
  cbes::testkit::consul_agent_options ao;
  ao.manual_clock = true;
  agent_fixture f(ao);
  consul::client a(f.io.get_executor(), options_for(f.agent));
  consul::client b(f.io.get_executor(), options_for(f.agent));
  auto oa = fast_lock("a");
  oa.renew_interval = 1h;  // a hangs: it never renews
  consul::lock la(a, oa);
  consul::lock lb(b, fast_lock("b"));
  run(f.io, [&]() -> asio::awaitable<void> {
    REQUIRE(co_await la.acquire());
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, lb.acquire(), asio::detached);
    const bool contending = co_await waiting(f.agent, 2);  // a's monitor and b's acquire
    REQUIRE(contending);
    CHECK_FALSE(lb.held());
    f.agent.advance(21s);  // past 2 x TTL
    auto lost = co_await la.wait_lost();
    CHECK(lost.error().code == errc::lock_lost);
    CHECK(co_await eventually_held(lb, 10s));
    // Finish every background loop while the io_context still runs.
    co_await lb.release();
    co_await la.release();
  }());
}

TEST_CASE("lock-delay is honoured: a free key is not acquired before it passes") {
  cbes::testkit::consul_agent_options ao;
  ao.manual_clock = true;
  agent_fixture f(ao);
  consul::client a(f.io.get_executor(), options_for(f.agent));
  consul::client b(f.io.get_executor(), options_for(f.agent));
  auto oa = fast_lock("a");
  oa.lock_delay = 15s;
  consul::lock la(a, oa);
  consul::lock lb(b, fast_lock("b"));
  run(f.io, [&]() -> asio::awaitable<void> {
    REQUIRE(co_await la.acquire());
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, lb.acquire(), asio::detached);
    const bool contending = co_await waiting(f.agent, 2);  // a's monitor and b's acquire
    REQUIRE(contending);
    REQUIRE(co_await a.session().destroy(la.session_id()));  // starts a 15 s lock-delay
    // Not a synchronisation: a window in which b tries (every 100 ms) and must be refused.
    co_await sleep(1s);
    auto key = co_await b.kv().get("service/test/leader");
    REQUIRE(key->value);
    CHECK(key->value->session.empty());  // free ...
    CHECK_FALSE(lb.held());              // ... but not acquirable yet
    f.agent.advance(16s);
    CHECK(co_await eventually_held(lb, 10s));
    co_await lb.release();
    co_await la.release();
  }());
}

TEST_CASE("a lock holder is told when its key is deleted") {
  agent_fixture f;
  consul::client a(f.io.get_executor(), options_for(f.agent));
  consul::lock la(a, fast_lock("a"));
  run(f.io, [&]() -> asio::awaitable<void> {
    REQUIRE(co_await la.acquire());
    const bool monitoring = co_await waiting(f.agent, 1);  // a's monitor
    REQUIRE(monitoring);
    REQUIRE(co_await a.kv().remove("service/test/leader"));
    auto lost = co_await la.wait_lost();
    CHECK(lost.error().code == errc::lock_lost);
    CHECK(lost.error().message.find("deleted") != std::string::npos);
    CHECK(co_await la.release());
  }());
}

TEST_CASE("lock handover when the holder's lock object is destroyed") {
  agent_fixture f;
  consul::client a(f.io.get_executor(), options_for(f.agent));
  consul::client b(f.io.get_executor(), options_for(f.agent));
  auto oa = fast_lock("a");
  oa.lock_delay = 60s;  // the destructor releases before destroying: no lock-delay
  auto ob = fast_lock("b");
  ob.retry_time = 30s;
  auto la = std::make_unique<consul::lock>(a, oa);
  consul::lock lb(b, ob);
  run(f.io, [&]() -> asio::awaitable<void> {
    REQUIRE(co_await la->acquire());
    auto ex = co_await asio::this_coro::executor;
    asio::co_spawn(ex, lb.acquire(), asio::detached);
    const bool contending = co_await waiting(f.agent, 2);  // a's monitor and b's acquire
    REQUIRE(contending);
    CHECK_FALSE(lb.held());
    la.reset();  // renewer and monitor stop; release + destroy run in the background
    CHECK(co_await eventually_held(lb, 10s));
    CHECK((co_await b.kv().get("service/test/leader"))->value->value == "b");
    CHECK(co_await session_count_becomes(b, 1));  // a's session was destroyed too
    CHECK(co_await lb.release());
  }());
}

TEST_CASE("a lock destroyed while its acquire waits stands down and leaves nothing behind") {
  agent_fixture f;
  consul::client a(f.io.get_executor(), options_for(f.agent));
  consul::client b(f.io.get_executor(), options_for(f.agent));
  consul::lock la(a, fast_lock("a"));
  auto lb = std::make_unique<consul::lock>(b, fast_lock("b"));
  run(f.io, [&]() -> asio::awaitable<void> {
    REQUIRE(co_await la.acquire());
    auto ex = co_await asio::this_coro::executor;
    std::optional<consul::result<void>> outcome;
    asio::co_spawn(ex, lb->acquire(), [&](std::exception_ptr, consul::result<void> r) {
      outcome.emplace(std::move(r));
    });
    const bool contending = co_await waiting(f.agent, 2);  // b waits on the held key, a monitors it
    REQUIRE(contending);
    lb.reset();
    CHECK(co_await la.release());  // wakes b's query: it must not take the free key now
    for (int i = 0; i < 500 && !outcome; ++i)
      co_await sleep(20ms);
    REQUIRE(outcome);
    REQUIRE_FALSE(*outcome);
    CHECK(outcome->error().code == errc::cancelled);
    CHECK(co_await session_count_becomes(a, 0));  // b's session, destroyed in the background
    auto key = co_await a.kv().get("service/test/leader");
    REQUIRE(key);
    REQUIRE(key->value);
    CHECK(key->value->session.empty());
  }());
}
