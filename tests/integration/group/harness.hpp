#pragma once
// Runs cbes::group RPC servers and clients against the in-process fake Consul agent.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio.hpp>

#include "cbes/group/layout.hpp"
#include "cbes/group/rpc.hpp"
#include "consul/watch.hpp"
#include "integration/consul/harness.hpp"
#include "unit/group/result_printer.hpp"

namespace group_it {
using namespace consul_it;
using cbes::group::errc;

inline const std::string group = "g";

// A session as a worker makes one, without lock-delay so a test can bind again at once.
inline asio::awaitable<std::string> new_session(consul::client& c) {
  consul::session_options o;
  o.name = "couchbase:cbes:test";
  o.behavior = consul::session_behavior::delete_keys;
  o.lock_delay = std::chrono::milliseconds(0);
  auto s = co_await c.session().create(o);
  REQUIRE(s);
  co_return *s;
}

inline cbes::group::rpc_server_options server_options(std::string endpoint, std::string session) {
  cbes::group::rpc_server_options o;
  o.group = group;
  o.endpoint_id = std::move(endpoint);
  o.session = std::move(session);
  o.wait = 10s;
  o.retry_interval = 50ms;
  return o;
}

// How a server's serve() ended; empty while it runs.
using outcome = std::shared_ptr<std::optional<cbes::group::result<void>>>;

inline outcome spawn_serve(asio::io_context& io, cbes::group::rpc_server& server) {
  auto out = std::make_shared<std::optional<cbes::group::result<void>>>();
  asio::co_spawn(io, server.serve(),
                 [out](const std::exception_ptr& e, cbes::group::result<void> r) {
                   if (e)
                     out->emplace(cbes::group::make_error(errc::cancelled, "serve() threw"));
                   else
                     out->emplace(std::move(r));
                 });
  return out;
}

// Binds `server` (it must succeed) and serves it in the background.
inline asio::awaitable<outcome> bind_and_serve(asio::io_context& io,
                                               cbes::group::rpc_server& server) {
  auto bound = co_await server.bind();
  REQUIRE(bound);
  co_return spawn_serve(io, server);
}

// Ends whatever the client still runs (a serve loop re-binding for a dead session) and waits
// for serve() to return.
inline void stop(asio::io_context& io, consul::client& c, const outcome& served) {
  c.close();
  io.restart();
  const auto limit = std::chrono::steady_clock::now() + 30s;
  while (!*served && std::chrono::steady_clock::now() < limit)
    io.run_one_for(100ms);
  REQUIRE(*served);
  cbes::test::drain(io);
}

// Blocking reads of `key` until `done` holds for its value (absent = nullopt).
inline asio::awaitable<std::optional<consul::kv_pair>> wait_for(
    consul::client& c, std::string key,
    std::function<bool(const std::optional<consul::kv_pair>&)> done) {
  std::uint64_t index = 0;
  for (int polls = 0; polls < 1000; ++polls) {
    auto r = co_await c.kv().get(key, blocking(index, 10s));
    REQUIRE(r);
    if (done(r->value))
      co_return r->value;
    index = consul::next_index(index, r->meta.index).next_index;
  }
  FAIL("the key never reached the expected state: " << key);
  co_return std::nullopt;
}

}  // namespace group_it
