#include <catch2/catch.hpp>

#include <map>

#include "integration/couchbase/harness.hpp"

using namespace couchbase_it;
using cb::errc;

namespace {

struct fixture {
  cbes::testkit::couchbase_cluster fake;
  asio::io_context io;
  std::shared_ptr<cb::cluster> client;

  // `poll`: refresh the config every 2.5 s as well (off in effect otherwise, so that pushes or
  // NOT_MY_VBUCKET bodies are what moves the client).
  fixture(std::size_t nodes, bool push, bool poll = true) : fake(fake_options(nodes)) {
    fake.start();
    auto o = client_options(fake);
    o.config_push = push;
    o.config_poll_interval = push && poll ? 2500ms : 3600000ms;
    client = connect_client(io, o);
  }
  ~fixture() {
    client->close();
    client.reset();
    drain(io);
  }

  // Writes `count` documents one after another, calling `disrupt` from inside the stream after
  // `at` of them; every write must succeed, and each document must hold its value afterwards.
  void stream_with(int count, int at, const std::function<void()>& disrupt) {
    std::map<std::string, std::string> written;
    run(io, [&]() -> asio::awaitable<void> {
      for (int i = 0; i < count; ++i) {
        if (i == at)
          disrupt();
        const std::string key = "doc-" + std::to_string(i);
        const std::string value = R"({"i":)" + std::to_string(i) + "}";
        auto r = co_await client->upsert({}, key, value);
        INFO(key);
        REQUIRE(r);
        written[key] = value;
        // Read back a few older ones too, so reads cross the change as well.
        if (i % 10 == 0 && i > 0) {
          auto g = co_await client->get({}, "doc-" + std::to_string(i / 2));
          REQUIRE(g);
          CHECK(g->value == R"({"i":)" + std::to_string(i / 2) + "}");
        }
      }
    }());
    REQUIRE(written.size() == static_cast<std::size_t>(count));
    for (const auto& [key, value] : written) {
      auto doc = fake.get("default", key);
      INFO(key);
      REQUIRE(doc);
      CHECK(doc->value == value);
    }
  }
};

}  // namespace

TEST_CASE("a pushed config updates the topology without any operation") {
  fixture f(2, true);
  const auto before = f.client->current_topology()->rev;
  const auto to = 1 - f.fake.active_node("default", 5);
  f.fake.move_vbucket("default", 5, to);
  run(f.io, [&]() -> asio::awaitable<void> {
    auto awaited1 = co_await eventually([&] { return f.client->current_topology()->rev > before; });
    CHECK(awaited1);
    CHECK(f.client->current_topology()->active_node(5) == to);
  }());
  CHECK(f.client->counters().configs_pushed >= 1);
}

TEST_CASE("vbucket moves in the middle of a stream of writes lose nothing (NMVB path)") {
  fixture f(2, false);
  f.stream_with(300, 100, [&] {
    // Move every vbucket of node 0 to node 1 and half of node 1's to node 0.
    for (std::uint16_t vb = 0; vb < 64; ++vb) {
      const auto from = f.fake.active_node("default", vb);
      if (from == 0 || vb % 2 == 0)
        f.fake.move_vbucket("default", vb, 1 - from);
    }
  });
  CHECK(f.client->current_topology()->rev == f.fake.config_rev());
  const auto counts = f.client->counters();
  CHECK(counts.configs_pushed == 0);
  CHECK(counts.configs_from_not_my_vbucket > 0);
}

TEST_CASE("vbucket moves in the middle of a stream of writes lose nothing (push path)") {
  fixture f(2, true, false);
  f.stream_with(300, 100, [&] {
    for (std::uint16_t vb = 0; vb < 64; vb += 3)
      f.fake.move_vbucket("default", vb, 1 - f.fake.active_node("default", vb));
  });
  // The last pushed revision is applied, and without a poll: pushes (or the NOT_MY_VBUCKET
  // bodies of requests that raced them) carried it.
  run(f.io, [&]() -> asio::awaitable<void> {
    auto latest = co_await eventually(
        [&] { return f.client->current_topology()->rev == f.fake.config_rev(); });
    CHECK(latest);
  }());
  const auto counts = f.client->counters();
  CHECK(counts.configs_pushed > 0);
  CHECK(counts.config_polls == 0);
}

TEST_CASE("a node failover in the middle of a stream of writes loses nothing") {
  fixture f(3, true);
  f.stream_with(300, 120, [&] { f.fake.failover(2); });
  auto topo = f.client->current_topology();
  CHECK(topo->nodes.size() == 2);
  for (std::uint16_t vb = 0; vb < 64; ++vb)
    CHECK(topo->active_node(vb).has_value());
}

TEST_CASE("a node failover without config push is found through the dead connection") {
  fixture f(3, false);
  f.stream_with(200, 50, [&] { f.fake.failover(1); });
  CHECK(f.client->current_topology()->nodes.size() == 2);
}

TEST_CASE("all connections dropped in the middle of a stream are re-opened") {
  fixture f(2, true);
  cb::cluster_counters before;
  f.stream_with(200, 80, [&] {
    before = f.client->counters();
    f.fake.drop_connections();
  });
  REQUIRE(before.open_connections == 2);
  const auto after = f.client->counters();
  CHECK(after.connections_opened >= before.connections_opened + 2);  // both nodes again
  CHECK(after.open_connections == 2);
  CHECK(f.fake.connection_count() == 2);
}

TEST_CASE("a node added and rebalanced in is used after the move") {
  fixture f(1, true);
  f.stream_with(150, 50, [&] { f.fake.add_node(); });
  run(f.io, [&]() -> asio::awaitable<void> {
    auto awaited2 = co_await eventually(
        [&] { return f.client->current_topology()->rev == f.fake.config_rev(); });
    CHECK(awaited2);
  }());
  CHECK(f.client->current_topology()->nodes.size() == 2);
}

TEST_CASE("operations fail with errc::closed after the cluster is closed") {
  fixture f(1, true);
  f.client->close();
  run(f.io, [&]() -> asio::awaitable<void> {
    auto r = co_await f.client->get({}, "x");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::closed);
  }());
}
