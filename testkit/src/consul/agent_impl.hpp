#pragma once
// The Consul fake's state and request handling, shared by the files of this folder: each
// endpoint group (kv.cpp, txn.cpp, sessions.cpp, agent_api.cpp, health.cpp, catalog.cpp,
// status.cpp) defines its handlers, routes.cpp parses a request and picks the handler,
// blocking.cpp parks and wakes long polls, agent.cpp is the public consul_agent, ui.cpp serves
// the web UI (ui_page.cpp).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "cbes/testkit/consul_agent.hpp"
#include "cbes/testkit/http_server.hpp"
#include "cbes/util/base64.hpp"
#include "cbes/util/go_duration.hpp"
#include "decode.hpp"
#include "reply.hpp"
#include "store.hpp"

namespace cbes::testkit {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace consul_fake;

struct consul_agent::impl {
  consul_agent_options opts;
  mutable std::mutex mu;
  store st;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  ns manual_now{0};

  // fault injection (guarded by mu)
  int fail_remaining = 0;
  int fail_status = 500;
  std::chrono::milliseconds response_delay{0};
  bool frozen = false;
  bool leader_lost = false;
  std::uint64_t wake_epoch = 0;  // spurious wake-up / index reset: waiters return as is
  std::uint64_t drop_epoch = 0;  // drop_long_polls: waiters close their connection

  std::set<asio::steady_timer*> waiters;  // guarded by mu; timers live on the server thread
  std::uint64_t parked_total = 0;         // guarded by mu; see consul_agent::queries_parked()
  mutable std::condition_variable parked_changed;
  std::atomic<std::size_t> served{0};
  std::mt19937_64 rng{std::random_device{}()};
  std::unique_ptr<http_server> server;
  bool running = false;
  bool restart_timers = false;  // shut_down(keep_data): start() restarts the TTL timers

  explicit impl(consul_agent_options o) : opts(std::move(o)), st(opts.node_name, opts.datacenter) {}

  struct waiter_registration {
    impl* self;
    asio::steady_timer* timer;
    ~waiter_registration() {
      std::lock_guard lock(self->mu);
      self->waiters.erase(timer);
    }
  };

  // ------------------------------------------------------------ dispatch

  struct call {
    std::string method;
    std::string path;  // decoded
    std::string rest;  // path after the route prefix
    std::vector<std::pair<std::string, std::string>> query;
    http_headers headers;
    std::string body;
    std::optional<std::uint64_t> content_length;

    bool has(std::string_view k) const {
      return std::any_of(query.begin(), query.end(), [&](const auto& p) { return p.first == k; });
    }
    std::optional<std::string> get(std::string_view k) const {
      for (const auto& [qk, qv] : query) {
        if (qk == k)
          return qv;
      }
      return std::nullopt;
    }
    std::vector<std::string> all(std::string_view k) const {
      std::vector<std::string> out;
      for (const auto& [qk, qv] : query) {
        if (qk == k)
          out.push_back(qv);
      }
      return out;
    }
  };

  using endpoint = asio::awaitable<reply> (impl::*)(call&);
  struct route {
    std::string_view path;
    bool prefix;
    std::string_view methods;
    endpoint fn;
    bool acl_exempt = false;
  };

  // ------------------------------------------------------------ blocking.cpp
  ns now() const;
  void notify();
  asio::awaitable<void> park(std::optional<ns> real_timeout, bool begins);
  asio::awaitable<void> ticker();

  // ------------------------------------------------------------ routes.cpp
  static const std::vector<route>& routes();
  const route* find_route(const std::string& path) const;
  std::optional<std::string> token_of(const call& c) const;
  static const char* c_consistency(bool consistent, bool stale);
  asio::awaitable<http_server::response> handle(http_server::request req);
  asio::awaitable<reply> dispatch(const http_server::request& req);
  std::optional<reply> write_guard() const;
  std::optional<reply> read_guard(const call& c) const;

  // blocking query loop. `query` runs under `mu` and fills index/absent.
  // Callers pass lambdas that capture by reference only (CONTRIBUTING.md, GCC 12 rule 4).
  template <class Query>
  asio::awaitable<reply> blocking(const call& c, Query query) {
    std::optional<std::uint64_t> min_index;
    ns wait{0};
    if (auto idx = c.get("index")) {
      auto v = parse_u64(*idx);
      if (!std::holds_alternative<std::uint64_t>(v))
        co_return text(400, "Invalid index");
      min_index = std::get<std::uint64_t>(v);
    }
    if (auto w = c.get("wait")) {
      auto d = cbes::util::parse_go_duration(*w);
      if (!d)
        co_return text(400, "Invalid wait time");
      wait = *d;
    }
    ns deadline{0};
    std::uint64_t epoch = 0, drops = 0;
    bool first_absent = false;
    {
      std::lock_guard lock(mu);
      if (auto err = read_guard(c))
        co_return *err;
      st.run_due(now());
      reply r = query();
      r.meta = true;
      if (!min_index || *min_index == 0 || r.index > *min_index)
        co_return r;
      first_absent = r.absent;
      // clamp to 10m, default 5m, then jitter in [0, timeout/16).
      ns timeout = wait > 10min ? ns{10min} : wait <= ns{0} ? ns{5min} : wait;
      if (opts.jitter && timeout.count() >= 16) {
        std::uniform_int_distribution<std::int64_t> dist(0, timeout.count() / 16 - 1);
        timeout += ns{dist(rng)};
      }
      deadline = now() + timeout;
      epoch = wake_epoch;
      drops = drop_epoch;
    }
    for (bool first = true;; first = false) {
      ns remaining;
      {
        std::lock_guard lock(mu);
        remaining = deadline - now();
      }
      co_await park(std::max(remaining, ns{0}), first);
      std::lock_guard lock(mu);
      if (drop_epoch != drops || !running) {
        reply r;
        r.drop = true;
        co_return r;
      }
      st.run_due(now());
      reply r = query();
      r.meta = true;
      bool changed = r.index > *min_index && !(r.absent && first_absent);
      if (changed || now() >= deadline || wake_epoch != epoch || leader_lost != false) {
        if (leader_lost && !c.has("stale"))
          co_return text(500, "No cluster leader");
        co_return r;
      }
    }
  }

  template <class Fn>
  asio::awaitable<reply> sync(Fn fn) {
    std::lock_guard lock(mu);
    st.run_due(now());
    co_return fn();
  }

  // ------------------------------------------------------------ kv.cpp
  asio::awaitable<reply> kv(call& c);
  static reply conflicting_flags(const call& c);
  static json::value kv_json(const kv_entry& e, bool with_value = true);

  // ------------------------------------------------------------ txn.cpp
  asio::awaitable<reply> txn(call& c);

  // ------------------------------------------------------------ sessions.cpp
  asio::awaitable<reply> session_create(call& c);
  asio::awaitable<reply> session_destroy(call& c);
  asio::awaitable<reply> session_renew(call& c);
  asio::awaitable<reply> session_info(call& c);
  asio::awaitable<reply> session_node(call& c);
  asio::awaitable<reply> session_list(call& c);
  static json::value session_json(const session& s);
  std::optional<reply> session_write_guard(const call& c);
  template <class Keep>
  asio::awaitable<reply> sessions_where(const call& c, Keep keep);

  // ------------------------------------------------------------ agent_api.cpp
  static json::object meta_json(const service& s);
  json::object agent_service_json(const service& s) const;
  asio::awaitable<reply> agent_self(call&);
  asio::awaitable<reply> agent_services(call&);
  asio::awaitable<reply> agent_service(call& c);
  asio::awaitable<reply> agent_checks(call&);
  static std::optional<std::string> parse_check(const json::object& o,
                                                store::check_definition& def);
  asio::awaitable<reply> agent_service_register(call& c);
  asio::awaitable<reply> agent_service_deregister(call& c);
  asio::awaitable<reply> agent_check_register(call& c);
  asio::awaitable<reply> agent_check_deregister(call& c);
  asio::awaitable<reply> ttl_update(std::string id, std::string status, std::string output);
  asio::awaitable<reply> agent_check_pass(call& c);
  asio::awaitable<reply> agent_check_warn(call& c);
  asio::awaitable<reply> agent_check_fail(call& c);
  asio::awaitable<reply> agent_check_update(call& c);

  // ------------------------------------------------------------ health.cpp
  json::object check_json(const check& c, bool agent_view) const;
  asio::awaitable<reply> health_service(call& c);
  asio::awaitable<reply> health_checks(call& c);
  asio::awaitable<reply> health_node(call& c);
  asio::awaitable<reply> health_state(call& c);
  static bool valid_status(const std::string& s);

  // ------------------------------------------------------------ catalog.cpp
  json::object node_json() const;
  std::vector<const service*> tagged_instances(const call& c) const;
  asio::awaitable<reply> catalog_services(call& c);
  asio::awaitable<reply> catalog_service(call& c);
  asio::awaitable<reply> catalog_nodes(call& c);

  // ------------------------------------------------------------ status.cpp
  asio::awaitable<reply> status_leader(call&);
  asio::awaitable<reply> status_peers(call&);
  asio::awaitable<reply> acl_token_self(call& c);
};

}  // namespace cbes::testkit
