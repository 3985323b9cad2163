#pragma once
// A small, scriptable Elasticsearch for the sink's integration tests (Elasticsearch's REST API
// docs): `GET /`, `_bulk` with per-item results, fault hooks for whole requests and
// single items, optional auth, TLS and a body limit (413). It records every applied write in
// order so tests can check per-document order. Built on testkit::http_server.
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <catch2/catch.hpp>

#include "cbes/sink/error.hpp"
#include "cbes/testkit/http_server.hpp"

// Lets Catch2 print cbes::sink::result<T> in failed assertions (boost's own operator<< does not
// compile for values without operator<<).
namespace Catch {
template <class T>
struct StringMaker<boost::system::result<T, cbes::sink::error>> {
  static std::string convert(const boost::system::result<T, cbes::sink::error>& r) {
    return r.has_value() ? std::string("value") : r.error().what();
  }
};
}  // namespace Catch

namespace sink_it {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

struct bulk_item {
  std::string action;  // "index" / "delete"
  std::string index;
  std::string id;
  std::string source;  // index only
  std::optional<std::string> routing;
};

// What one injected whole-request fault does.
struct whole_fault {
  int status = 0;  // 0 = none
  std::string body{};
  bool drop = false;  // close the connection without answering
  std::chrono::milliseconds delay{0};
};

// Per-item override: status + error JSON object text ("" = success-looking result).
struct item_fault {
  int status = 429;
  std::string error = R"({"type":"es_rejected_execution_exception","reason":"queue full"})";
};

inline std::string gunzip(const std::string& in) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK)
    return {};
  std::string out;
  char buf[65536];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  }
  inflateEnd(&zs);
  return rc == Z_STREAM_END ? out : std::string{};
}

// Shape of the scripted server.
struct es_options {
  std::string version = "8.11.0";
  bool opensearch = false;
  std::string authorization{};  // required `Authorization` header value; "" = no auth
  std::string tls_cert_file{}, tls_key_file{};
  std::size_t body_limit = 64 * 1024 * 1024;  // bigger bodies get 413 (empty body)
  std::chrono::milliseconds bulk_delay{0};    // every bulk answer waits this long
  std::string tls_client_ca_file{};  // mutual TLS: clients need a certificate this CA signed
};

class scripted_es {
 public:
  using options = es_options;

  explicit scripted_es(options o = {})
      : opts_(std::move(o)),
        server_(server_options(opts_),
                [this](cbes::testkit::http_server::request r) { return handle(std::move(r)); }) {
    server_.start();
  }
  ~scripted_es() { server_.stop(); }

  std::uint16_t port() const { return server_.port(); }
  std::string host() const { return "127.0.0.1:" + std::to_string(port()); }
  void stop() { server_.stop(); }

  // --- scripting (any thread) ---
  void push_root_fault(whole_fault f) {
    std::lock_guard l(mu_);
    root_faults_.push_back(std::move(f));
  }
  void push_bulk_fault(whole_fault f) {
    std::lock_guard l(mu_);
    bulk_faults_.push_back(std::move(f));
  }
  // Called for every item of every bulk request; return a fault to fail that item.
  void set_item_hook(std::function<std::optional<item_fault>(const bulk_item&)> h) {
    std::lock_guard l(mu_);
    item_hook_ = std::move(h);
  }
  void set_version(std::string v, bool opensearch) {
    std::lock_guard l(mu_);
    opts_.version = std::move(v);
    opts_.opensearch = opensearch;
  }

  // --- inspection ---
  std::map<std::string, std::string> index_contents(const std::string& index) const {
    std::lock_guard l(mu_);
    auto it = docs_.find(index);
    return it == docs_.end() ? std::map<std::string, std::string>{} : it->second;
  }
  std::vector<bulk_item> applied() const {
    std::lock_guard l(mu_);
    return applied_;
  }
  std::vector<std::vector<bulk_item>> bulk_requests() const {
    std::lock_guard l(mu_);
    return requests_;
  }
  std::vector<cbes::testkit::http_headers> bulk_headers() const {
    std::lock_guard l(mu_);
    return headers_;
  }
  // The verified client certificate's CN of every bulk request ("" without one).
  std::vector<std::string> bulk_client_cns() const {
    std::lock_guard l(mu_);
    return client_cns_;
  }
  std::size_t root_requests() const { return root_requests_; }
  std::size_t max_concurrent_bulks() const { return max_in_flight_; }

 private:
  static cbes::testkit::http_server::options server_options(const es_options& o) {
    cbes::testkit::http_server::options so;
    so.tls_cert_file = o.tls_cert_file;
    so.tls_key_file = o.tls_key_file;
    so.tls_client_ca_file = o.tls_client_ca_file;
    so.body_limit = 256 * 1024 * 1024;
    return so;
  }

  using request = cbes::testkit::http_server::request;
  using response = cbes::testkit::http_server::response;

  static response dropped() {
    response r;
    r.drop = true;
    return r;
  }

  static response json_response(int status, std::string body) {
    return {status,
            {{"Content-Type", "application/json; charset=UTF-8"},
             {"X-elastic-product", "Elasticsearch"}},
            std::move(body)};
  }

  std::string root_body() const {
    json::object version{{"number", opts_.version}};
    if (opts_.opensearch)
      version.emplace("distribution", "opensearch");
    else
      version.emplace("build_flavor", "default");
    json::object root{
        {"name", "node-1"},
        {"cluster_name", "test"},
        {"version", version},
        {"tagline", opts_.opensearch ? "The OpenSearch Project: https://opensearch.org/"
                                     : "You Know, for Search"}};
    return json::serialize(root);
  }

  static asio::awaitable<void> sleep(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  asio::awaitable<response> handle(request r) {
    const bool root = r.method == "GET" && (r.target == "/" || r.target.empty());
    if (root)
      ++root_requests_;
    if (!opts_.authorization.empty()) {
      auto auth = cbes::testkit::find_header(r.headers, "Authorization");
      if (!auth || *auth != opts_.authorization)
        co_return json_response(
            401,
            R"({"error":{"root_cause":[{"type":"security_exception","reason":"unable to authenticate user [elastic] for REST request [/]"}],"type":"security_exception","reason":"unable to authenticate user [elastic] for REST request [/]"},"status":401})");
    }
    if (root) {
      std::optional<whole_fault> f;
      {
        std::lock_guard l(mu_);
        if (!root_faults_.empty()) {
          f = root_faults_.front();
          root_faults_.pop_front();
        }
      }
      if (f && f->drop)
        co_return dropped();
      if (f && f->status)
        co_return json_response(f->status, f->body);
      std::lock_guard l(mu_);
      co_return json_response(200, root_body());
    }
    if (r.method == "POST" && r.target.starts_with("/_bulk"))
      co_return co_await bulk(std::move(r));
    co_return json_response(404, R"({"error":"no handler","status":404})");
  }

  asio::awaitable<response> bulk(request r) {
    struct in_flight {
      std::atomic<std::size_t>& n;
      std::atomic<std::size_t>& max;
      in_flight(std::atomic<std::size_t>& a, std::atomic<std::size_t>& m) : n(a), max(m) {
        auto now = ++n;
        auto seen = max.load();
        while (now > seen && !max.compare_exchange_weak(seen, now)) {
        }
      }
      ~in_flight() { --n; }
    } guard(in_flight_, max_in_flight_);
    if (auto enc = cbes::testkit::find_header(r.headers, "Content-Encoding"); enc && *enc == "gzip")
      r.body = gunzip(r.body);
    if (opts_.bulk_delay.count())
      co_await sleep(opts_.bulk_delay);
    std::optional<whole_fault> f;
    {
      std::lock_guard l(mu_);
      headers_.push_back(r.headers);
      client_cns_.push_back(r.client_cn);
      if (!bulk_faults_.empty()) {
        f = bulk_faults_.front();
        bulk_faults_.pop_front();
      }
    }
    if (f && f->delay.count())
      co_await sleep(f->delay);
    if (f && f->drop)
      co_return dropped();
    if (f && f->status)
      co_return json_response(f->status, f->body);
    if (r.body.size() > opts_.body_limit)
      co_return json_response(413, {});

    std::vector<bulk_item> items;
    std::size_t pos = 0;
    while (pos < r.body.size()) {
      auto nl = r.body.find('\n', pos);
      if (nl == std::string::npos)
        co_return json_response(400, R"({"error":"not newline terminated","status":400})");
      auto action = json::parse(std::string_view(r.body).substr(pos, nl - pos)).as_object();
      pos = nl + 1;
      bulk_item it;
      const auto& [name, meta_value] = *action.begin();
      const auto& meta = meta_value.as_object();
      it.action = std::string(name);
      it.index = std::string(meta.at("_index").as_string());
      it.id = std::string(meta.at("_id").as_string());
      if (auto* rt = meta.if_contains("routing"))
        it.routing = std::string(rt->as_string());
      if (it.action == "index") {
        nl = r.body.find('\n', pos);
        it.source = r.body.substr(pos, nl - pos);
        pos = nl + 1;
      }
      items.push_back(std::move(it));
    }

    std::lock_guard l(mu_);
    requests_.push_back(items);
    json::array out;
    bool errors = false;
    for (const auto& it : items) {
      json::object res{{"_index", it.index}, {"_id", it.id}};
      std::optional<item_fault> fault = item_hook_ ? item_hook_(it) : std::nullopt;
      if (fault) {
        res.emplace("status", fault->status);
        if (!fault->error.empty()) {
          res.emplace("error", json::parse(fault->error));
          errors = true;
        }
      } else if (it.action == "index") {
        auto& slot = docs_[it.index][it.id];
        res.emplace("result", slot.empty() ? "created" : "updated");
        res.emplace("status", slot.empty() ? 201 : 200);
        slot = it.source;
        applied_.push_back(it);
      } else {
        auto& idx = docs_[it.index];
        const bool found = idx.erase(it.id) > 0;
        res.emplace("result", found ? "deleted" : "not_found");
        res.emplace("status", found ? 200 : 404);
        applied_.push_back(it);
      }
      out.push_back(json::object{{it.action, res}});
    }
    co_return json_response(
        200, json::serialize(json::object{{"took", 1}, {"errors", errors}, {"items", out}}));
  }

  options opts_;
  mutable std::mutex mu_;
  std::deque<whole_fault> root_faults_, bulk_faults_;
  std::function<std::optional<item_fault>(const bulk_item&)> item_hook_;
  std::map<std::string, std::map<std::string, std::string>> docs_;
  std::vector<bulk_item> applied_;
  std::vector<std::vector<bulk_item>> requests_;
  std::vector<cbes::testkit::http_headers> headers_;
  std::vector<std::string> client_cns_;
  std::atomic<std::size_t> root_requests_{0};
  std::atomic<std::size_t> in_flight_{0}, max_in_flight_{0};
  cbes::testkit::http_server server_;
};

// Runs `task` on `io` to completion; rethrows what it threw (Catch2 assertions included).
template <class T>
T run(asio::io_context& io, asio::awaitable<T> task) {
  std::optional<T> out;
  std::exception_ptr err;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T v) {
    err = e;
    if (!e)
      out.emplace(std::move(v));
  });
  io.restart();
  io.run();
  if (err)
    std::rethrow_exception(err);
  return std::move(*out);
}

inline void run(asio::io_context& io, asio::awaitable<void> task) {
  std::exception_ptr err;
  asio::co_spawn(io, std::move(task), [&](std::exception_ptr e) { err = e; });
  io.restart();
  io.run();
  if (err)
    std::rethrow_exception(err);
}

}  // namespace sink_it
