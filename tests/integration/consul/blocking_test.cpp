#include <catch2/catch.hpp>

#include <iostream>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include "consul/client.hpp"
#include "consul/watch.hpp"
#include "integration/consul/harness.hpp"

using namespace consul_it;
using consul::errc;

namespace {
using kv_watch = consul::watch<std::optional<consul::kv_pair>>;

kv_watch watch_key(consul::client& c, std::string key, std::chrono::milliseconds wait) {
  consul::watch_options o;
  o.wait = wait;
  o.rate_refill = 0ms;  // the tests change keys faster than any sane rate limit
  o.backoff = consul::backoff_policy{20ms, 200ms};
  return kv_watch(
      c.get_executor(), [kv = c.kv(), key](consul::query_options q) { return kv.get(key, q); }, o);
}
}  // namespace

TEST_CASE("a blocking query wakes promptly when the key changes") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  consul::client writer(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    REQUIRE(co_await c.kv().put("wake", "0"));
    auto first = co_await c.kv().get("wake");
    REQUIRE(first);
    auto ex = co_await asio::this_coro::executor;
    std::chrono::steady_clock::time_point written;
    const auto mark = f.agent.queries_parked();
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
          const bool waits = co_await parked(f.agent, mark + 1);
          CHECK(waits);
          written = std::chrono::steady_clock::now();
          co_await writer.kv().put("wake", "1");
        },
        asio::detached);
    auto r = co_await c.kv().get("wake", blocking(first->meta.index, 30s));
    const auto woke = std::chrono::steady_clock::now();
    REQUIRE(r);
    REQUIRE(r->value);
    CHECK(r->value->value == "1");
    CHECK(r->meta.index > first->meta.index);
    const auto latency = std::chrono::duration_cast<std::chrono::milliseconds>(woke - written);
    std::cout << "blocking query woke " << latency.count() << " ms after the write\n";
    CHECK(latency < 2s);
  }());
}

TEST_CASE("watch yields distinct values only and ignores spurious wake-ups") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    REQUIRE(co_await c.kv().put("w", "a"));
    auto w = watch_key(c, "w", 30s);
    auto one = co_await w.next();
    REQUIRE(one);
    CHECK(one->value->value == "a");
    auto ex = co_await asio::this_coro::executor;
    const auto mark = f.agent.queries_parked();
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
          const bool waits = co_await parked(f.agent, mark + 1);
          CHECK(waits);
          f.agent.spurious_wakeup();
          // The watch asks again after the empty wake-up; the change must reach that poll.
          const bool waits_again = co_await parked(f.agent, mark + 2);
          CHECK(waits_again);
          co_await c.kv().put("w", "b");
        },
        asio::detached);
    auto two = co_await w.next();
    REQUIRE(two);
    CHECK(two->value->value == "b");
  }());
}

TEST_CASE("watch resets to index 0 when the index goes backwards and keeps delivering") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 20; ++i)
      REQUIRE(co_await c.kv().put("r/" + std::to_string(i), "x"));
    REQUIRE(co_await c.kv().put("r", "before"));
    auto w = watch_key(c, "r", 30s);
    auto one = co_await w.next();
    REQUIRE(one);
    const auto high = w.index();
    auto ex = co_await asio::this_coro::executor;
    const auto mark = f.agent.queries_parked();
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
          const bool waits = co_await parked(f.agent, mark + 1);
          CHECK(waits);
          f.agent.reset_index();
          // The watch starts over from index 0, then blocks on the new, lower index.
          const bool waits_again = co_await parked(f.agent, mark + 2);
          CHECK(waits_again);
          co_await c.kv().put("r", "after");
        },
        asio::detached);
    std::string seen;
    while (seen != "after") {
      auto next = co_await w.next();
      REQUIRE(next);
      REQUIRE(next->value);
      seen = next->value->value;
    }
    CHECK(w.index() < high);
  }());
}

TEST_CASE("watch survives dropped long polls") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    auto put = co_await c.kv().put("d", "1");
    REQUIRE(put.has_value());
    auto w = watch_key(c, "d", 30s);
    auto first = co_await w.next();
    REQUIRE(first.has_value());
    auto ex = co_await asio::this_coro::executor;
    const auto mark = f.agent.queries_parked();
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
          // Each drop hits a poll that is parked; the watch reconnects and parks again.
          for (std::uint64_t poll = 1; poll <= 2; ++poll) {
            const bool waits = co_await parked(f.agent, mark + poll);
            CHECK(waits);
            f.agent.drop_long_polls();
          }
          const bool waits = co_await parked(f.agent, mark + 3);
          CHECK(waits);
          co_await c.kv().put("d", "2");
        },
        asio::detached);
    auto r = co_await w.next();
    REQUIRE(r);
    CHECK(r->value->value == "2");
  }());
}

TEST_CASE("reads survive a burst of 500 and 503 answers") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    REQUIRE(co_await c.kv().put("burst", "ok"));
    f.agent.fail_next_requests(3, 500);
    auto r = co_await c.kv().get("burst");
    REQUIRE(r);
    CHECK(r->value->value == "ok");
    f.agent.fail_next_requests(2, 503);
    CHECK(co_await c.kv().get("burst"));
    f.agent.fail_next_requests(2, 429);
    CHECK(co_await c.kv().get("burst"));
  }());
}

TEST_CASE("writes are not retried and report the failure") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    f.agent.fail_next_requests(1, 500);
    auto w = co_await c.kv().put("once", "x");
    REQUIRE_FALSE(w);
    CHECK(w.error().code == errc::no_leader);
    CHECK(w.error().message == "No cluster leader");
    CHECK_FALSE((co_await c.kv().get("once"))->value);
  }());
}

TEST_CASE("a persistent failure is reported within the retry deadline") {
  agent_fixture f;
  auto o = options_for(f.agent);
  o.retry_deadline = 1s;
  consul::client c(f.io.get_executor(), o);
  run(f.io, [&]() -> asio::awaitable<void> {
    f.agent.fail_next_requests(1000000, 500);
    const auto start = std::chrono::steady_clock::now();
    auto r = co_await c.kv().get("k");
    const auto took = std::chrono::steady_clock::now() - start;
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::no_leader);
    CHECK(took < 10s);
    std::cout << "persistent 500 reported after "
              << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
  }());
}

TEST_CASE("an unreachable agent is reported as connection_failed") {
  asio::io_context io;
  // Bind then close a port so nothing listens there.
  std::uint16_t port;
  {
    asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  consul::client_options o;
  o.address = "127.0.0.1:" + std::to_string(port);
  o.retry_deadline = 300ms;
  consul::client c(io.get_executor(), o);
  run(io, [&]() -> asio::awaitable<void> {
    auto r = co_await c.status().leader();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::connection_failed);
  }());
}

TEST_CASE("closing the client ends a pending long poll promptly") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    REQUIRE(co_await c.kv().put("lp", "1"));
    auto first = co_await c.kv().get("lp");
    auto ex = co_await asio::this_coro::executor;
    const auto mark = f.agent.queries_parked();
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
          const bool waits = co_await parked(f.agent, mark + 1);
          CHECK(waits);
          c.close();
        },
        asio::detached);
    const auto start = std::chrono::steady_clock::now();
    auto r = co_await c.kv().get("lp", blocking(first->meta.index, 60s));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::cancelled);
    CHECK(std::chrono::steady_clock::now() - start < 10s);
  }());
}

TEST_CASE("cancelling the awaiting coroutine ends a pending long poll promptly") {
  using namespace boost::asio::experimental::awaitable_operators;
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    REQUIRE(co_await c.kv().put("lp", "1"));
    auto first = co_await c.kv().get("lp");
    const auto start = std::chrono::steady_clock::now();
    const auto mark = f.agent.queries_parked();
    auto which =
        co_await (c.kv().get("lp", blocking(first->meta.index, 60s)) || parked(f.agent, mark + 1));
    // The park signal won: the long poll was parked in the agent when it was cancelled.
    REQUIRE(which.index() == 1);
    CHECK(std::get<1>(which));
    CHECK(std::chrono::steady_clock::now() - start < 10s);
    // The client still works afterwards.
    CHECK(co_await c.kv().get("lp"));
  }());
}
