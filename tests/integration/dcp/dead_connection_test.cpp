// a producer that goes silent (here: the fake's process frozen with SIGSTOP, so its sockets
// stay open but nothing arrives, not even NOOPs) is declared dead after 2× the noop interval;
// the consumer reconnects and resumes every stream from its position once the node is back.
#include <catch2/catch.hpp>

#include "integration/dcp/harness.hpp"
#include "integration/dcp/sandbox.hpp"

using namespace dcp_it;

TEST_CASE("dcp: a silent connection is declared dead and every stream resumes") {
  sandbox sb(200, {"--vbuckets=64"});
  REQUIRE(!sb.connection_string.empty());
  asio::io_context io;
  cb::cluster_options co;
  co.seeds = sb.connection_string;
  co.username = "Administrator";
  co.password = "password";
  co.bucket = "default";
  co.operation_timeout = 30s;
  co.connect_timeout = 5s;
  co.bootstrap_timeout = 5s;
  auto client = run(io, [&]() -> asio::awaitable<std::shared_ptr<cb::cluster>> {
    auto c = co_await cb::cluster::connect(io.get_executor(), co);
    REQUIRE(c);
    co_return *c;
  }());
  recorder rec;
  dcp::consumer_options o;
  o.name = "cbes-dead-test";
  o.noop_interval = 500ms;
  auto consumer = run(io, [&]() -> asio::awaitable<std::shared_ptr<dcp::consumer>> {
    auto c = co_await dcp::consumer::create(client, o);
    REQUIRE(c);
    co_return *c;
  }());
  consumer->on_event([&](dcp::event ev) {
    rec.on(ev);
    consumer->acknowledge(ev);
  });
  auto targets = [&]() {
    return run(io, [&]() -> asio::awaitable<std::map<std::uint16_t, std::uint64_t>> {
      auto s = co_await client->get_all_vb_seqnos();
      REQUIRE(s);
      std::map<std::uint16_t, std::uint64_t> out;
      for (const auto& e : *s)
        out[e.vbucket] = e.seqno;
      co_return out;
    }());
  };
  run(io, [&]() -> asio::awaitable<void> {
    auto from = co_await consumer->states_from_beginning(all_vbuckets(64));
    REQUIRE(from);
    auto r = co_await consumer->open(*from);
    REQUIRE(r);
  }());
  auto first = targets();
  REQUIRE(run(io, eventually([&] { return consumer->reached(first); }, 60000ms)));
  CHECK(rec.count(dcp::event_type::mutation) == 200);

  ::kill(sb.pid, SIGSTOP);
  const bool declared_dead =
      run(io, eventually([&] { return consumer->stats().reconnects >= 1; }, 30000ms));
  ::kill(sb.pid, SIGCONT);
  REQUIRE(declared_dead);

  run(io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 50; ++i) {
      auto r = co_await client->upsert({}, "after-" + std::to_string(i), R"({"x":1})");
      REQUIRE(r);
    }
  }());
  auto second = targets();
  REQUIRE(run(io, eventually([&] { return consumer->reached(second); }, 60000ms)));
  CHECK(rec.violations.empty());
  CHECK(rec.count(dcp::event_type::mutation) == 250);
  consumer->stop();
  consumer.reset();
  client->close();
  client.reset();
  drain(io);
}
