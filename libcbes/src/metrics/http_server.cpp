#include "cbes/metrics/http_server.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <mutex>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "cbes/metrics/dropwizard.hpp"
#include "cbes/metrics/prometheus.hpp"
#include "cbes/util/error.hpp"
#include "cbes/version.hpp"
#include "json_text.hpp"

namespace cbes::metrics {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using strand_type = asio::strand<asio::any_io_executor>;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// After a failed accept (out of file descriptors, say) the loop waits this long before the next,
// so that the failure does not spin a core.
constexpr std::chrono::milliseconds accept_retry_delay{100};

constexpr std::string_view json_type = "application/json";
constexpr std::string_view html_type = "text/html; charset=utf-8";

// A JSON string literal for `text`, quotes and escapes included.
std::string json_string(std::string_view text) {
  return json::serialize(json::string_view(text));
}

bool has_flag(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto param = query.substr(0, amp);
    const auto eq = param.find('=');
    if (param.substr(0, eq) == name)
      return eq == std::string_view::npos || param.substr(eq + 1) != "false";
    if (amp == std::string_view::npos)
      break;
    query.remove_prefix(amp + 1);
  }
  return false;
}

route_reply json_reply(unsigned status, std::string body) {
  return route_reply{
      .status = status, .content_type = std::string(json_type), .body = std::move(body)};
}

std::string index_page() {
  std::string page =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>cbes</title></head><body>\n"
      "<h1>Couchbase Elasticsearch Connector (cbes ";
  page += version;
  page +=
      ")</h1>\n<ul>\n"
      "<li><a href=\"info\">info</a></li>\n"
      "<li><a href=\"health\">health</a></li>\n"
      "<li><a href=\"ready\">ready</a></li>\n"
      "<li><a href=\"metrics?pretty\">metrics</a> (Dropwizard JSON)</li>\n"
      "<li><a href=\"metrics/prometheus\">metrics/prometheus</a></li>\n"
      "</ul>\n</body></html>\n";
  return page;
}

}  // namespace

struct http_server::impl {
  impl(asio::any_io_executor executor, server_settings s, server_sources src)
      : strand(asio::make_strand(executor)),
        acceptor(strand),
        settings(std::move(s)),
        sources(std::move(src)) {}

  strand_type strand;
  tcp::acceptor acceptor;
  server_settings settings;
  server_sources sources;

  std::mutex routes_mutex;
  std::map<std::string, route_handler, std::less<>> routes;
  std::map<std::string, async_route_handler, std::less<>> async_routes;

  // Touched only on the strand.
  bool stopped = false;
  std::uint64_t next_connection = 0;
  std::map<std::uint64_t, beast::tcp_stream*> connections;

  std::optional<route_reply> builtin_reply(const route_request& r);
  route_reply answer(const route_request& r);
  async_route_handler async_route(std::string_view path);
  // A route on an exact path that neither a built-in route nor an added one takes.
  template <class Handler>
  bool add(std::string path, std::map<std::string, Handler, std::less<>>& into, Handler handler);
  route_reply ready_reply();
  route_reply info_reply();
  void close_all();

  static asio::awaitable<void> accept_loop(std::shared_ptr<impl> self);
  static asio::awaitable<void> serve(std::shared_ptr<impl> self, tcp::socket socket);
};

route_reply http_server::impl::ready_reply() {
  const auto reason = sources.ready ? sources.ready() : std::nullopt;
  if (!reason)
    return json_reply(200, R"({"ready":true})");
  return json_reply(503, R"({"ready":false,"reason":)" + json_string(*reason) + "}");
}

route_reply http_server::impl::info_reply() {
  json::object info{{"version", version},
                    {"commit", sources.commit ? *sources.commit : std::string(git_commit())}};
  if (sources.membership)
    info["membership"] = sources.membership();
  return json_reply(200, json_text(info, true));
}

std::optional<route_reply> http_server::impl::builtin_reply(const route_request& r) {
  const bool pretty = has_flag(r.query, "pretty");
  if (r.path == "/")
    return route_reply{.status = 200, .content_type = std::string(html_type), .body = index_page()};
  if (r.path == "/info")
    return info_reply();
  if (r.path == "/health")
    return json_reply(200, R"({"alive":true})");
  if (r.path == "/ready")
    return ready_reply();
  if (r.path == "/metrics" || r.path == "/metrics/dropwizard")
    return json_reply(200, sources.meters ? dropwizard_json(*sources.meters, pretty)
                                          : dropwizard_json(std::vector<meter_snapshot>{}, pretty));
  if (r.path == "/metrics/prometheus") {
    auto text = sources.meters ? prometheus_text(*sources.meters) : std::string();
    return route_reply{.status = 200,
                       .content_type = std::string(prometheus_content_type),
                       .body = std::move(text)};
  }
  return std::nullopt;
}

route_reply http_server::impl::answer(const route_request& r) {
  if (settings.builtin_routes)
    if (auto reply = builtin_reply(r))
      return std::move(*reply);
  route_handler handler;
  {
    std::lock_guard lock(routes_mutex);
    auto it = routes.find(r.path);
    if (it != routes.end())
      handler = it->second;
  }
  if (handler)
    return handler(r);
  return json_reply(404, json_string("path '" + std::string(r.path) + "' not found"));
}

async_route_handler http_server::impl::async_route(std::string_view path) {
  std::lock_guard lock(routes_mutex);
  auto it = async_routes.find(path);
  return it == async_routes.end() ? async_route_handler() : it->second;
}

void http_server::impl::close_all() {
  stopped = true;
  boost::system::error_code ignored;
  acceptor.close(ignored);
  for (auto& [id, stream] : connections)
    stream->close();
}

namespace {

bool builtin_path(std::string_view p) {
  return p == "/" || p == "/info" || p == "/health" || p == "/ready" || p == "/metrics" ||
         p == "/metrics/dropwizard" || p == "/metrics/prometheus";
}

http::response<http::string_body> make_response(const route_reply& reply, unsigned version,
                                                bool keep_alive, bool head) {
  http::response<http::string_body> res{static_cast<http::status>(reply.status), version};
  for (const auto& [name, value] : reply.headers)
    res.set(name, value);
  res.set(http::field::server, user_agent);
  res.set(http::field::content_type, reply.content_type);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(keep_alive);
  // HEAD announces the length GET would send, and sends no body (RFC 9110 9.3.2).
  res.content_length(reply.body.size());
  if (!head)
    res.body() = reply.body;
  return res;
}

route_reply error_reply(unsigned status, std::string message) {
  return json_reply(status, json_string(message));
}

// Inside a coroutine of its own, so that a handler that throws before its first suspension is
// caught like one that throws later.
asio::awaitable<route_reply> call_async(async_route_handler handler, route_request request) {
  auto reply = co_await handler(request);
  co_return reply;
}

}  // namespace

// One connection: requests in turn while the client keeps it alive.
asio::awaitable<void> http_server::impl::serve(std::shared_ptr<impl> self, tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  const auto id = self->next_connection++;
  self->connections.emplace(id, &stream);
  struct forget {
    impl& s;
    std::uint64_t id;
    ~forget() { s.connections.erase(id); }
  } guard{*self, id};

  const auto& settings = self->settings;
  const auto limit = static_cast<std::uint32_t>(
      std::min<std::size_t>(settings.max_request_bytes, std::numeric_limits<std::uint32_t>::max()));
  beast::flat_buffer buffer;
  while (!self->stopped) {
    http::request_parser<http::string_body>
        parser;  // bodies are read (to keep the stream in step), then ignored
    parser.header_limit(limit);
    parser.body_limit(limit);
    stream.expires_after(settings.read_timeout);
    auto [read_ec, read_bytes] = co_await http::async_read(stream, buffer, parser, use_tuple);
    (void)read_bytes;
    bool keep_alive = false;
    http::response<http::string_body> res;
    if (read_ec == http::error::header_limit || read_ec == http::error::body_limit ||
        read_ec == http::error::buffer_overflow) {
      const auto reply = error_reply(
          413, "request larger than " + std::to_string(settings.max_request_bytes) + " bytes");
      res = make_response(reply, 11, false, false);
    } else if (read_ec) {
      break;  // closed, timed out, or not HTTP: nothing worth answering
    } else {
      const auto& req = parser.get();
      keep_alive = req.keep_alive();
      const bool head = req.method() == http::verb::head;
      route_reply reply;
      if (req.method() != http::verb::get && !head) {
        reply = error_reply(
            405, "method '" + std::string(req.method_string()) + "' not allowed; use GET or HEAD");
      } else {
        const std::string_view target = req.target();
        const auto q = target.find('?');
        const route_request r{
            .method = req.method_string(),
            .path = target.substr(0, q),
            .query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1)};
        // A callback that throws (a gauge, /ready, an embedder's route) costs this request a
        // 500, not the connection or the server.
        auto async = self->async_route(r.path);
        if (async) {
          auto [e, answered] =
              co_await asio::co_spawn(self->strand, call_async(std::move(async), r), use_tuple);
          reply = e ? error_reply(500, "internal error: " + util::exception_message(e))
                    : std::move(answered);
        } else {
          try {
            reply = self->answer(r);
          } catch (...) {
            reply = error_reply(
                500, "internal error: " + util::exception_message(std::current_exception()));
          }
        }
      }
      res = make_response(reply, req.version(), keep_alive, head);
      if (reply.status == 405)
        res.set(http::field::allow, "GET, HEAD");
    }
    stream.expires_after(settings.read_timeout);
    auto [write_ec, written] = co_await http::async_write(stream, res, use_tuple);
    (void)written;
    if (write_ec || !keep_alive)
      break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.close();
}

asio::awaitable<void> http_server::impl::accept_loop(std::shared_ptr<impl> self) {
  asio::steady_timer pause(self->strand);
  while (!self->stopped) {
    auto [ec, socket] = co_await self->acceptor.async_accept(use_tuple);
    if (self->stopped)
      break;
    if (ec) {
      pause.expires_after(accept_retry_delay);
      co_await pause.async_wait(use_tuple);
      continue;
    }
    // Over the bound, the newcomer is closed before anything is read: the scraper retries,
    // and the connections already served keep working.
    if (self->connections.size() >= self->settings.max_connections) {
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    asio::co_spawn(self->strand, serve(self, std::move(socket)), asio::detached);
  }
}

namespace {

result<tcp::endpoint> listen_endpoint(const server_settings& s) {
  if (s.address.empty())
    return tcp::endpoint(asio::ip::address_v6::any(), s.port);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(s.address, ec);
  if (ec)
    return error{ec, "listen address '" + s.address +
                         "' is not an IP address; give an IPv4 or IPv6 literal, or none for all "
                         "interfaces"};
  return tcp::endpoint(address, s.port);
}

boost::system::error_code open_and_listen(tcp::acceptor& a, const tcp::endpoint& ep) {
  boost::system::error_code ec;
  a.open(ep.protocol(), ec);
  if (ec)
    return ec;
  if (ep.address().is_v6() && ep.address().is_unspecified())
    a.set_option(asio::ip::v6_only(false), ec);  // the wildcard takes IPv4 as well
  a.set_option(tcp::acceptor::reuse_address(true), ec);
  a.bind(ep, ec);
  if (!ec)
    a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    a.close();
  return ec;
}

}  // namespace

result<std::unique_ptr<http_server>> http_server::start(asio::any_io_executor executor,
                                                        server_settings settings,
                                                        server_sources sources) {
  auto ep = listen_endpoint(settings);
  if (!ep)
    return ep.error();
  auto self = std::make_shared<impl>(executor, std::move(settings), std::move(sources));
  auto ec = open_and_listen(self->acceptor, *ep);
  // A host without IPv6 cannot open the IPv6 wildcard: all interfaces are then IPv4's.
  if (ec && self->settings.address.empty()) {
    ep = tcp::endpoint(asio::ip::address_v4::any(), self->settings.port);
    ec = open_and_listen(self->acceptor, *ep);
  }
  if (ec)
    return error{
        ec, "cannot listen on " +
                (self->settings.address.empty() ? std::string("*") : self->settings.address) + ":" +
                std::to_string(self->settings.port) + ": " + ec.message() +
                "; choose another metrics.httpPort, or stop what uses that port"};
  const auto port = self->acceptor.local_endpoint().port();
  asio::co_spawn(self->strand, impl::accept_loop(self), asio::detached);
  return std::unique_ptr<http_server>(new http_server(std::move(self), port));
}

http_server::http_server(std::shared_ptr<impl> p, std::uint16_t port)
    : impl_(std::move(p)), port_(port) {}

http_server::~http_server() {
  stop();
}

template <class Handler>
bool http_server::impl::add(std::string path, std::map<std::string, Handler, std::less<>>& into,
                            Handler handler) {
  if ((settings.builtin_routes && builtin_path(path)) || !handler)
    return false;
  std::lock_guard lock(routes_mutex);
  if (routes.contains(path) || async_routes.contains(path))
    return false;
  into.emplace(std::move(path), std::move(handler));
  return true;
}

bool http_server::add_route(std::string path, route_handler handler) {
  return impl_->add(std::move(path), impl_->routes, std::move(handler));
}

bool http_server::add_async_route(std::string path, async_route_handler handler) {
  return impl_->add(std::move(path), impl_->async_routes, std::move(handler));
}

void http_server::stop() {
  asio::dispatch(impl_->strand, [self = impl_] { self->close_all(); });
}

}  // namespace cbes::metrics
