// cluster::on_topology_change is a subscription list: the DCP consumer's own subscription sits
// next to the application's, every subscriber hears each applied config, and subscriptions
// added or removed during a notification are safe.
#include <catch2/catch.hpp>

#include <vector>

#include "cbes/dcp/consumer.hpp"
#include "integration/couchbase/harness.hpp"

using namespace couchbase_it;
namespace dcp = cbes::dcp;

namespace {

struct listener_log {
  std::vector<std::int64_t> revs;
  std::int64_t last() const { return revs.empty() ? 0 : revs.back(); }
};

}  // namespace

TEST_CASE("two topology subscribers both hear a change while a DCP consumer runs") {
  constexpr std::uint16_t vbuckets = 16;
  cbes::testkit::couchbase_cluster fake(fake_options(2, vbuckets));
  fake.start();
  asio::io_context io;
  auto o = client_options(fake);
  o.config_poll_interval = 200ms;
  auto client = connect_client(io, o);

  listener_log first, second, late, nested;
  const auto first_id = client->on_topology_change(
      [&](std::shared_ptr<const cb::topology> t) { first.revs.push_back(t->rev); });

  dcp::consumer_options co;
  co.name = "cbes-subscribers";
  co.noop_interval = 2s;
  auto consumer = run(io, [&]() -> asio::awaitable<std::shared_ptr<dcp::consumer>> {
    auto c = co_await dcp::consumer::create(client, co);
    REQUIRE(c);
    co_return *c;
  }());
  std::map<std::uint16_t, std::uint64_t> seen;
  consumer->on_event([&](dcp::event ev) {
    seen[ev.vbucket] = ev.seqno;
    consumer->acknowledge(ev);
  });

  // Subscribed after the consumer: does not replace it (the consumer still follows the move).
  client->on_topology_change(
      [&](std::shared_ptr<const cb::topology> t) { second.revs.push_back(t->rev); });
  // Adds a subscriber and removes itself from inside a notification.
  std::uint64_t self_id = 0;
  self_id = client->on_topology_change([&](std::shared_ptr<const cb::topology> t) {
    nested.revs.push_back(t->rev);
    client->on_topology_change(
        [&](std::shared_ptr<const cb::topology> u) { late.revs.push_back(u->rev); });
    client->remove_topology_handler(self_id);
  });

  std::vector<std::uint16_t> all;
  for (std::uint16_t vb = 0; vb < vbuckets; ++vb)
    all.push_back(vb);
  run(io, [&]() -> asio::awaitable<void> {
    auto from = co_await consumer->states_from_beginning(all);
    REQUIRE(from);
    auto r = co_await consumer->open(*from);
    REQUIRE(r);
  }());
  for (int i = 0; i < 50; ++i)
    fake.upsert("default", "k" + std::to_string(i), R"({"i":1})");

  const auto vb = fake.vbucket_of("default", "k0");
  const auto to = fake.active_node("default", vb) == 0 ? std::size_t{1} : std::size_t{0};
  fake.move_vbucket("default", vb, to);
  const auto rev = fake.config_rev();
  REQUIRE(run(io, eventually([&] { return first.last() >= rev && second.last() >= rev; }, 60000ms),
              90s));
  CHECK(nested.revs.size() == 1);  // removed itself on its first call
  CHECK(late.revs.empty());        // added during that call: hears from the next change on

  // The consumer's subscription survived the others: the moved vbucket resumes on its new node.
  fake.upsert("default", "k0", R"({"i":2})");
  std::map<std::uint16_t, std::uint64_t> targets;
  for (auto v : all)
    targets[v] = fake.high_seqno("default", v);
  REQUIRE(run(io, eventually([&] { return consumer->reached(targets); }, 60000ms), 90s));
  CHECK(seen[vb] == fake.high_seqno("default", vb));

  // A removed subscriber hears nothing more; the others (and the late one) hear the next change.
  client->remove_topology_handler(first_id);
  const auto first_count = first.revs.size();
  fake.move_vbucket("default", vb, to == 0 ? 1 : 0);
  const auto rev2 = fake.config_rev();
  REQUIRE(run(io, eventually([&] { return second.last() >= rev2 && late.last() >= rev2; }, 60000ms),
              90s));
  CHECK(first.revs.size() == first_count);
  CHECK(nested.revs.size() == 1);

  consumer->stop();
  consumer.reset();
  client->close();
  client.reset();
  drain(io);
}

TEST_CASE("a throwing topology handler surfaces from run() and does not silence the others") {
  cbes::testkit::couchbase_cluster fake(fake_options(2));
  fake.start();
  asio::io_context io;
  auto o = client_options(fake);
  o.config_poll_interval = 3600s;  // the push is what brings the change
  auto client = connect_client(io, o);
  client->on_topology_change(
      [](std::shared_ptr<const cb::topology>) { throw std::runtime_error("subscriber bug"); });
  int heard = 0;
  client->on_topology_change([&](std::shared_ptr<const cb::topology>) { ++heard; });
  fake.move_vbucket("default", 0, 1 - fake.active_node("default", 0));
  std::string thrown;
  const auto limit = std::chrono::steady_clock::now() + 30s;
  io.restart();
  while ((heard == 0 || thrown.empty()) && std::chrono::steady_clock::now() < limit) {
    try {
      io.run_one_for(100ms);
    } catch (const std::runtime_error& e) {
      thrown = e.what();
    }
  }
  CHECK(heard == 1);
  CHECK(thrown == "subscriber bug");
  // The connection that carried the push is still there: a subscriber's bug is not its failure.
  CHECK(client->counters().open_connections == 1);
  CHECK(client->counters().connections_opened == 1);
  client->close();
  client.reset();
  drain(io);
}
