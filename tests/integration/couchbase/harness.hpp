#pragma once
// Runs cbes::couchbase coroutines on a test-owned io_context against the in-process fake
// cluster (cbes::testkit::couchbase_cluster, which runs its own I/O thread).
#include <chrono>
#include <string>

#include <boost/asio.hpp>
#include <catch2/catch.hpp>

#include "cbes/couchbase/cluster.hpp"
#include "cbes/couchbase/connection.hpp"
#include "cbes/testkit/couchbase_cluster.hpp"
#include "support/run_coroutine.hpp"
#include "unit/couchbase/result_printer.hpp"

namespace couchbase_it {
namespace asio = boost::asio;
namespace cb = cbes::couchbase;
using namespace std::chrono_literals;

using cbes::test::drain;
using cbes::test::run;

inline cbes::testkit::couchbase_cluster_options fake_options(std::size_t nodes = 1,
                                                             std::uint16_t vbuckets = 64) {
  cbes::testkit::couchbase_cluster_options o;
  o.nodes = nodes;
  o.buckets = {cbes::testkit::couchbase_bucket_options{"default", vbuckets, 0}};
  o.users = {{"Administrator", "password", {}}, {"reader", "secret", {"default"}}};
  o.scram_iterations = 64;  // fast; the count is the server's choice anyway
  return o;
}

inline cb::cluster_options client_options(const cbes::testkit::couchbase_cluster& fake) {
  cb::cluster_options o;
  o.seeds = fake.connection_string();
  o.username = "Administrator";
  o.password = "password";
  o.bucket = "default";
  o.connect_timeout = 10s;
  o.bootstrap_timeout = 20s;
  o.operation_timeout = 30s;
  return o;
}

inline cb::connection_options connection_options_for(const cbes::testkit::couchbase_cluster& fake,
                                                     std::size_t node = 0) {
  cb::connection_options o;
  o.address = {"127.0.0.1", fake.kv_port(node)};
  o.username = "Administrator";
  o.password = "password";
  o.bucket = "default";
  o.bootstrap_timeout = 20s;
  return o;
}

// Waits (on the io_context, without blocking it) until `pred` holds or `limit` passes.
template <class Pred>
asio::awaitable<bool> eventually(Pred pred, std::chrono::milliseconds limit = 30000ms) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline)
      co_return false;
    t.expires_after(5ms);
    co_await t.async_wait(asio::use_awaitable);
  }
  co_return true;
}

// Connects a client for a fixture; fails the test when bootstrap fails.
inline std::shared_ptr<cb::cluster> connect_client(asio::io_context& io,
                                                   const cb::cluster_options& o) {
  return run(io, [&]() -> asio::awaitable<std::shared_ptr<cb::cluster>> {
    auto c = co_await cb::cluster::connect(io.get_executor(), o);
    REQUIRE(c);
    co_return *c;
  }());
}

}  // namespace couchbase_it
