#pragma once
// consul::client — asynchronous Consul HTTP API client (Boost.Asio C++20 coroutines).
//
//   consul::client c(io.get_executor(), {.address = "127.0.0.1:8500"});
//   co_await c.kv().put("config", "v1");
//   auto r = co_await c.kv().get("config");         // result<response<optional<kv_pair>>>
//   if (r && r->value) std::cout << r->value->value;
//
// Every call returns awaitable<result<T>>; expected failures are errors, never exceptions.
// No parameter of class type has a default argument (CONTRIBUTING.md, GCC 12 rule 3):
// overloads stand in for them.
// The client is used from one executor (an io_context thread or a strand). Reads retry
// 500/503/429 and connection failures with jittered backoff within `retry_deadline`; writes
// never retry. Closing (or destroying) the client ends every pending call, long polls
// included, with errc::cancelled; so does cancelling the awaiting coroutine.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "consul/error.hpp"
#include "consul/types.hpp"

namespace consul {

namespace detail {
struct client_impl;
using impl_ptr = std::shared_ptr<client_impl>;
}  // namespace detail

template <class T>
using task = boost::asio::awaitable<result<T>>;

enum class scheme { http, https };

struct client_options {
  std::string address = "localhost:8500";  // host[:port]; default port 8500 (https: 8501)
  consul::scheme scheme = scheme::http;
  std::string ca_file;          // https: PEM CA bundle; empty = system default paths
  bool verify_hostname = true;  // https: the certificate must name the host
  std::string token;            // sent as X-Consul-Token (Consul's HTTP API docs)
  std::string datacenter;       // sent as ?dc= on catalog/health/kv/session/txn/status calls
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{30000};  // non-blocking calls, whole exchange
  std::chrono::milliseconds retry_deadline{10000};   // reads: give up this long after a failure
  std::chrono::milliseconds retry_base{100};         // first backoff, doubled per attempt
  std::chrono::milliseconds retry_max{2000};
  std::size_t max_idle_connections = 4;  // keep-alive pool size
};

// Key/value store. Keys are bytes; everything but unreserved characters and '/' is
// percent-encoded; a key starting with '/' is refused with errc::invalid_argument.
class kv_api {
 public:
  // One key; nullopt when absent (404), meta filled either way.
  //   auto r = co_await c.kv().get("svc/config", {.index = last, .wait = 30s});
  task<response<std::optional<kv_pair>>> get(std::string key, query_options q = {}) const;
  // Every key starting with `prefix` (plain string prefix), sorted; empty vector when none.
  //   auto all = co_await c.kv().recurse("svc/");
  task<response<std::vector<kv_pair>>> recurse(std::string prefix, query_options q = {}) const;
  // Key names only; with a separator, names are cut after its first occurrence past the prefix.
  //   auto dirs = co_await c.kv().keys("svc/", "/");
  task<response<std::vector<std::string>>> keys(std::string prefix, std::string separator,
                                                query_options q = {}) const;
  task<response<std::vector<std::string>>> keys(std::string prefix) const {
    return keys(std::move(prefix), std::string(), query_options{});
  }
  // Write; false when a cas/acquire condition failed.
  //   bool won = *co_await c.kv().put("k", "v", {.cas = 0});
  task<bool> put(std::string key, std::string value, kv_put_options o) const;
  task<bool> put(std::string key, std::string value) const {
    return put(std::move(key), std::move(value), kv_put_options());
  }
  // Delete one key or (recurse) a prefix; false when a cas condition failed.
  //   co_await c.kv().remove("svc/", {.recurse = true});
  task<bool> remove(std::string key, kv_delete_options o) const;
  task<bool> remove(std::string key) const { return remove(std::move(key), kv_delete_options()); }

 private:
  friend class client;
  explicit kv_api(detail::impl_ptr p) : impl_(std::move(p)) {}
  detail::impl_ptr impl_;
};

// Sessions.
class session_api {
 public:
  // New session id.   auto id = co_await c.session().create({.name = "leader", .ttl = 15s});
  task<std::string> create(session_options o) const;
  task<std::string> create() const { return create(session_options()); }
  // Idempotent.       co_await c.session().destroy(id);
  task<bool> destroy(std::string id) const;
  // nullopt for an unknown id (Consul answers 200 []).
  task<response<std::optional<session_info>>> info(std::string id, query_options q = {}) const;
  task<response<std::vector<session_info>>> list(query_options q = {}) const;
  task<response<std::vector<session_info>>> node(std::string node, query_options q = {}) const;
  // The session with its current TTL (adopt it); errc::session_not_found when it is gone.
  //   auto s = co_await c.session().renew(id);
  task<session_info> renew(std::string id) const;

 private:
  friend class client;
  explicit session_api(detail::impl_ptr p) : impl_(std::move(p)) {}
  detail::impl_ptr impl_;
};

// The local agent.
class agent_api {
 public:
  //   auto self = co_await c.agent().self();   // self->node_name, self->datacenter
  task<agent_self> self() const;
  //   co_await c.agent().register_service({.name = "web", .port = 80, .check = ttl_check{}});
  task<void> register_service(service_registration r) const;
  // An unknown id counts as success (new agents answer 404).
  task<void> deregister_service(std::string service_id) const;
  //   co_await c.agent().pass("service:web", "ok");
  task<void> pass(std::string check_id, std::string note) const;
  task<void> warn(std::string check_id, std::string note) const;
  task<void> fail(std::string check_id, std::string note) const;
  task<void> pass(std::string check_id) const { return pass(std::move(check_id), std::string()); }
  // errc::not_found for an unknown check: the agent lost the registration.
  task<void> update(std::string check_id, check_status status, std::string output) const;
  task<std::map<std::string, service_entry>> services() const;
  task<std::map<std::string, health_check>> checks() const;

 private:
  friend class client;
  explicit agent_api(detail::impl_ptr p) : impl_(std::move(p)) {}
  detail::impl_ptr impl_;
};

// Health.
class health_api {
 public:
  //   auto up = co_await c.health().service("web", {.passing = true});
  task<response<std::vector<health_entry>>> service(std::string name, health_options o,
                                                    query_options q = {}) const;
  task<response<std::vector<health_entry>>> service(std::string name) const {
    return service(std::move(name), health_options(), query_options{});
  }

 private:
  friend class client;
  explicit health_api(detail::impl_ptr p) : impl_(std::move(p)) {}
  detail::impl_ptr impl_;
};

// Catalog.
class catalog_api {
 public:
  //   auto names = co_await c.catalog().services();   // name -> tags
  task<response<std::map<std::string, std::vector<std::string>>>> services(
      query_options q = {}) const;

 private:
  friend class client;
  explicit catalog_api(detail::impl_ptr p) : impl_(std::move(p)) {}
  detail::impl_ptr impl_;
};

// Raft status.
class status_api {
 public:
  // Empty string when the cluster has no leader.   auto l = co_await c.status().leader();
  task<std::string> leader() const;
  task<std::vector<std::string>> peers() const;

 private:
  friend class client;
  explicit status_api(detail::impl_ptr p) : impl_(std::move(p)) {}
  detail::impl_ptr impl_;
};

// Transactions: all ops apply or none; a failed txn is a value with every failed op.
class txn_api {
 public:
  //   auto r = co_await c.txn().run({txn_op::check_session("k", sid), txn_op::remove("k")});
  //   if (r && !r->committed) for (auto& e : r->errors) std::cerr << e.what;
  task<txn_result> run(std::vector<txn_op> ops) const;

 private:
  friend class client;
  explicit txn_api(detail::impl_ptr p) : impl_(std::move(p)) {}
  detail::impl_ptr impl_;
};

class client {
 public:
  explicit client(boost::asio::any_io_executor ex, client_options options = {});
  ~client();  // closes: pending calls end with errc::cancelled
  client(const client&) = delete;
  client& operator=(const client&) = delete;
  client(client&&) noexcept;
  client& operator=(client&&) noexcept;

  kv_api kv() const { return kv_api(impl_); }
  session_api session() const { return session_api(impl_); }
  agent_api agent() const { return agent_api(impl_); }
  health_api health() const { return health_api(impl_); }
  catalog_api catalog() const { return catalog_api(impl_); }
  status_api status() const { return status_api(impl_); }
  txn_api txn() const { return txn_api(impl_); }

  // Ends every pending call (long polls included) and refuses new ones. Idempotent.
  void close();
  boost::asio::any_io_executor get_executor() const;
  const client_options& options() const;

 private:
  detail::impl_ptr impl_;
};

}  // namespace consul
