// The client's HTTP transport: one connection per in-flight request (so every long poll has
// its own, Consul's HTTP API docs), idle connections kept alive for reuse.
#include <boost/asio/ssl/host_name_verification.hpp>

#include "cancel_as_value.hpp"
#include "client_impl.hpp"
#include "consul/backoff.hpp"
#include "consul/codec.hpp"
#include "consul/version.hpp"

namespace consul::detail {
namespace {

constexpr std::size_t max_body_bytes = 64 * 1024 * 1024;
constexpr std::chrono::milliseconds default_blocking_wait{300000};  // default 5 m
constexpr std::chrono::milliseconds max_blocking_wait{600000};      // clamp 10 m

error transport_error(const boost::system::error_code& ec, std::string_view step, bool closed) {
  if (closed)
    return make_error(errc::cancelled, "client closed");
  if (ec == beast::error::timeout)
    return make_error(errc::timeout, std::string(step) + " timed out");
  if (ec == asio::error::operation_aborted)
    return make_error(errc::cancelled, std::string(step) + " cancelled");
  return make_error(errc::connection_failed, std::string(step) + ": " + ec.message());
}

// Split "host[:port]" / "[v6]:port".
void split_address(const std::string& address, bool https, std::string& host, std::string& port) {
  std::string a = address.empty() ? "localhost" : address;
  port = https ? "8501" : "8500";
  if (a.front() == '[') {
    auto close = a.find(']');
    host = a.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    if (close != std::string::npos && close + 1 < a.size() && a[close + 1] == ':')
      port = a.substr(close + 2);
    return;
  }
  auto colon = a.rfind(':');
  if (colon != std::string::npos && a.find(':') == colon) {
    host = a.substr(0, colon);
    port = a.substr(colon + 1);
  } else {
    host = a;
  }
}

}  // namespace

std::chrono::milliseconds blocking_read_timeout(std::chrono::milliseconds wait) {
  auto w = wait.count() <= 0 ? default_blocking_wait : std::min(wait, max_blocking_wait);
  return w + w / 16 + std::chrono::milliseconds(10000);
}

error http_failure(const http_response& r) {
  return error_from_http(r.status, r.body);
}

client_impl::client_impl(asio::any_io_executor ex, client_options o)
    : executor(std::move(ex)), options(std::move(o)) {
  split_address(options.address, options.scheme == scheme::https, host, port);
  if (options.scheme == scheme::https) {
    tls_context.emplace(asio::ssl::context::tls_client);
    boost::system::error_code ec;
    if (!options.ca_file.empty())
      tls_context->load_verify_file(options.ca_file, ec);
    else
      tls_context->set_default_verify_paths(ec);
    if (ec)
      tls_setup_error = "cannot load CA '" + options.ca_file + "': " + ec.message();
    tls_context->set_verify_mode(asio::ssl::verify_peer);
  }
}

std::string client_impl::target(std::string path,
                                std::vector<std::pair<std::string, std::string>> query,
                                bool with_dc) const {
  if (with_dc && !options.datacenter.empty())
    query.emplace_back("dc", options.datacenter);
  char sep = '?';
  for (const auto& [k, v] : query) {
    path += sep;
    sep = '&';
    path += percent_encode(k, false);
    if (!v.empty() || k == "cas" || k == "index") {
      path += '=';
      path += percent_encode(v, false);
    }
  }
  return path;
}

std::uint64_t client_impl::on_close(std::function<void()> f) {
  const auto id = ++next_cancel_id;
  cancellers.emplace(id, std::move(f));
  return id;
}

void client_impl::close() {
  if (closed)
    return;
  closed = true;
  idle.clear();
  auto pending = std::move(cancellers);
  cancellers.clear();
  for (auto& [id, f] : pending)
    f();
}

asio::awaitable<result<std::unique_ptr<connection>>> client_impl::connect() {
  if (!tls_setup_error.empty())
    co_return make_error(errc::tls_failed, tls_setup_error);
  boost::system::error_code ec;
  asio::ip::tcp::resolver resolver(executor);
  const auto reg = on_close([&resolver] { resolver.cancel(); });
  auto endpoints =
      co_await resolver.async_resolve(host, port, asio::redirect_error(asio::use_awaitable, ec));
  forget(reg);
  if (ec || closed)
    co_return transport_error(ec, "resolving " + host, closed);

  auto c = std::make_unique<connection>();
  if (tls_context)
    c->tls.emplace(executor, *tls_context);
  else
    c->plain.emplace(executor);
  auto* raw = c.get();
  const auto reg2 = on_close([raw] { raw->lowest().close(); });
  struct unregister {
    client_impl* self;
    std::uint64_t id;
    ~unregister() { self->forget(id); }
  } guard{this, reg2};

  c->lowest().expires_after(options.connect_timeout);
  co_await c->lowest().async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec || closed)
    co_return transport_error(ec, "connecting to " + options.address, closed);
  if (c->tls) {
    // SSL_set_tlsext_host_name is a macro with a C cast; call what it expands to.
    if (SSL_ctrl(c->tls->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(host.c_str())) != 1)
      co_return make_error(errc::tls_failed, "TLS: cannot set SNI host name");
    if (options.verify_hostname)
      c->tls->set_verify_callback(asio::ssl::host_name_verification(host));
    c->lowest().expires_after(options.connect_timeout);
    co_await c->tls->async_handshake(asio::ssl::stream_base::client,
                                     asio::redirect_error(asio::use_awaitable, ec));
    if (ec || closed) {
      if (closed || ec == beast::error::timeout || ec == asio::error::operation_aborted)
        co_return transport_error(ec, "TLS handshake", closed);
      co_return make_error(errc::tls_failed,
                           "TLS handshake with " + options.address + " failed: " + ec.message());
    }
  }
  c->lowest().expires_never();
  co_return std::move(c);
}

asio::awaitable<result<http_response>> client_impl::exchange(
    connection& c, const http::request<http::string_body>& req,
    std::chrono::milliseconds read_timeout, bool& nothing_received) {
  boost::system::error_code ec;
  nothing_received = true;
  auto* raw = &c;
  const auto reg = on_close([raw] { raw->lowest().close(); });
  struct unregister {
    client_impl* self;
    std::uint64_t id;
    ~unregister() { self->forget(id); }
  } guard{this, reg};

  c.lowest().expires_after(options.request_timeout);
  if (c.tls)
    co_await http::async_write(*c.tls, req, asio::redirect_error(asio::use_awaitable, ec));
  else
    co_await http::async_write(*c.plain, req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec || closed)
    co_return transport_error(ec, "sending " + std::string(req.target()), closed);

  http::response_parser<http::string_body> parser;
  parser.body_limit(max_body_bytes);
  c.lowest().expires_after(read_timeout);
  if (c.tls)
    co_await http::async_read(*c.tls, c.buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
  else
    co_await http::async_read(*c.plain, c.buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
  nothing_received = !parser.got_some();
  c.lowest().expires_never();
  if (ec || closed) {
    const auto& http_category = make_error_code(http::error::end_of_stream).category();
    if (!closed && ec.category() == http_category && ec != http::error::end_of_stream &&
        ec != http::error::partial_message)
      co_return make_error(
          errc::invalid_response,
          "malformed HTTP response to " + std::string(req.target()) + ": " + ec.message());
    co_return transport_error(ec, "reading response to " + std::string(req.target()), closed);
  }
  auto& res = parser.get();
  http_response out;
  out.status = static_cast<int>(res.result_int());
  out.meta = parse_query_meta(res["X-Consul-Index"], res["X-Consul-KnownLeader"],
                              res["X-Consul-LastContact"]);
  out.body = std::move(res.body());
  if (!res.keep_alive())
    c.lowest().close();
  co_return out;
}

asio::awaitable<result<http_response>> client_impl::attempt(const http_request& r) {
  http::request<http::string_body> req{r.method, r.target, 11};
  req.set(http::field::host, host);
  req.set(http::field::user_agent, consul::user_agent);
  if (!options.token.empty())
    req.set("X-Consul-Token", options.token);
  if (r.json_body)
    req.set(http::field::content_type, "application/json");
  req.body() = r.body;
  req.prepare_payload();
  req.keep_alive(true);
  const auto read_timeout = r.read_timeout.value_or(options.request_timeout);

  // A pooled connection may have been closed by the server while idle; if it fails before any
  // byte of an answer arrives, the request never ran: retry once on a fresh connection.
  for (int round = 0; round < 2; ++round) {
    if (closed)
      co_return make_error(errc::cancelled, "client closed");
    std::unique_ptr<connection> c;
    bool reused = false;
    if (!idle.empty()) {
      c = std::move(idle.back());
      idle.pop_back();
      reused = true;
    } else {
      auto fresh = co_await connect();
      if (!fresh)
        co_return fresh.error();
      c = std::move(*fresh);
    }
    bool nothing_received = true;
    auto res = co_await exchange(*c, req, read_timeout, nothing_received);
    if (!res) {
      if (reused && nothing_received && res.error().code == errc::connection_failed)
        continue;
      co_return res.error();
    }
    if (!closed && c->lowest().socket().is_open() && idle.size() < options.max_idle_connections)
      idle.push_back(std::move(c));
    co_return res;
  }
  co_return make_error(errc::connection_failed, "connection closed by " + options.address);
}

asio::awaitable<result<http_response>> client_impl::perform_retrying(const http_request& req) {
  using clock = std::chrono::steady_clock;
  std::optional<clock::time_point> first_failure;
  const backoff_policy policy{options.retry_base, options.retry_max};
  for (unsigned n = 0;; ++n) {
    auto res = co_await attempt(req);
    const bool retryable_status =
        res && (res->status == 500 || res->status == 503 || res->status == 429);
    const bool retryable_error =
        !res && (res.error().code == errc::connection_failed || res.error().code == errc::timeout);
    if (!req.idempotent || !(retryable_status || retryable_error))
      co_return res;
    auto cs = co_await asio::this_coro::cancellation_state;
    if (closed || cs.cancelled() != asio::cancellation_type::none)
      co_return make_error(errc::cancelled, "cancelled while retrying");
    const auto now = clock::now();
    if (!first_failure)
      first_failure = now;
    const auto delay = backoff_delay(policy, n, random_unit());
    if (now + delay > *first_failure + options.retry_deadline)
      co_return res;  // report the last failure: the deadline would pass while waiting
    asio::steady_timer timer(executor, delay);
    const auto reg = on_close([&timer] { timer.cancel(); });
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    forget(reg);
    if (closed || ec)
      co_return make_error(errc::cancelled, closed ? "client closed" : "cancelled while retrying");
  }
}

asio::awaitable<result<http_response>> client_impl::perform(http_request req) {
  // Keep this call alive even if the client object goes away mid-flight.
  auto self = shared_from_this();
  if (closed)
    co_return make_error(errc::cancelled, "client closed");
  // Cancellation must come back as errc::cancelled, not as an exception.
  co_return co_await cancel_as_value(perform_retrying(req));
}

}  // namespace consul::detail
