// Operations that need a node another operation is still connecting to wait for that connect to
// end (a signal), not by polling.
#include <catch2/catch.hpp>

#include "integration/couchbase/harness.hpp"

using namespace couchbase_it;

namespace {

asio::awaitable<void> get_one(std::shared_ptr<cb::cluster> c, std::string key, int* ok, int* done) {
  auto r = co_await c->get({}, std::move(key));
  if (r && r->value == "{}")
    ++*ok;
  ++*done;
}

}  // namespace

TEST_CASE("operations waiting for another's connect wake when it completes, without polling") {
  cbes::testkit::couchbase_cluster fake(fake_options(2));
  fake.start();
  asio::io_context io;
  auto o = client_options(fake);
  o.config_poll_interval = 3600s;
  auto client = connect_client(io, o);
  REQUIRE(client->counters().open_connections == 1);  // the seed's node only

  // Twenty documents on the node the client is not connected to yet.
  std::vector<std::string> keys;
  for (int i = 0; keys.size() < 20; ++i) {
    const std::string key = "k" + std::to_string(i);
    const auto vb = fake.vbucket_of("default", key);
    if (fake.active_node("default", vb) == 1) {  // the seed is node 0
      fake.upsert("default", key, "{}");
      keys.push_back(key);
    }
  }
  // Every answer (the new connection's seven bootstrap steps, then the gets) takes 100 ms: the
  // first get connects for 0.7 s while the other nineteen wait for it.
  fake.delay_responses(100ms);
  int ok = 0;
  int done = 0;
  for (const auto& key : keys)
    asio::co_spawn(io, get_one(client, key, &ok, &done), asio::detached);
  std::size_t handlers = 0;
  const auto limit = std::chrono::steady_clock::now() + 60s;
  io.restart();
  while (done < static_cast<int>(keys.size()) && std::chrono::steady_clock::now() < limit)
    handlers += io.run_one_for(100ms);
  fake.delay_responses(0ms);
  CHECK(ok == 20);
  CHECK(client->counters().connections_opened == 2);  // one connect, shared by all
  // Each get costs a few handlers (start, write, read, resume); polling every 5 ms for 0.7 s
  // would cost ~140 wake-ups per waiter, ~2700 in all.
  INFO("handlers run: " << handlers);
  CHECK(handlers < 600);
  client->close();
  client.reset();
  drain(io);
}
