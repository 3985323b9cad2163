#pragma once
// Runs cbes::couchbase coroutines on a test-owned io_context against the in-process fake
// cluster (cbes::testkit::couchbase_cluster, which runs its own I/O thread).
#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>

#include <boost/asio.hpp>

#include "cbes/couchbase/cluster.hpp"
#include "cbes/couchbase/connection.hpp"
#include "cbes/testkit/couchbase_cluster.hpp"
#include "unit/couchbase/result_printer.hpp"

namespace couchbase_it {
namespace asio = boost::asio;
namespace cb = cbes::couchbase;
using namespace std::chrono_literals;

// Note for test authors: never write `REQUIRE(co_await x)`: GCC 12 evaluates a co_await inside
// Catch's assertion macros twice (a remove then fails as "not found"). Await into a local first.
//
// Runs `a` on `io` until it completes; rethrows Catch failures raised inside the coroutine.
// The limit is generous: it only catches hangs, never measures speed.
template <class T>
T run(asio::io_context& io, asio::awaitable<T> a, std::chrono::seconds limit = 120s) {
  std::optional<T> out;
  std::exception_ptr err;
  bool done = false;
  asio::co_spawn(io, std::move(a), [&](std::exception_ptr e, T v) {
    err = e;
    if (!e)
      out.emplace(std::move(v));
    done = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + limit;
  io.restart();
  while (!done && std::chrono::steady_clock::now() < deadline)
    io.run_one_for(100ms);
  if (err)
    std::rethrow_exception(err);
  if (!done)
    throw std::runtime_error("test coroutine did not finish in time");
  return std::move(*out);
}

inline void run(asio::io_context& io, asio::awaitable<void> a, std::chrono::seconds limit = 120s) {
  run(
      io,
      [](asio::awaitable<void> inner) -> asio::awaitable<int> {
        co_await std::move(inner);
        co_return 0;
      }(std::move(a)),
      limit);
}

// Lets remaining handlers (closed sockets, cancelled timers) finish so nothing outlives the test.
inline void drain(asio::io_context& io) {
  io.restart();
  for (int i = 0; i < 50 && io.poll() > 0; ++i) {
  }
}

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

}  // namespace couchbase_it
