#pragma once
// The connector's metrics and health HTTP server (the Java connector's `metrics.httpPort`
// server, plus the liveness/readiness probes Kubernetes wants):
//
//   /                    small HTML page with links
//   /info                {"version":…,"commit":…,"membership":"n/m"}
//   /health              200 while the process serves
//   /ready               200 once `ready()` says so, else 503 {"ready":false,"reason":…}
//   /metrics             Dropwizard JSON (`?pretty` indents), also at /metrics/dropwizard
//   /metrics/prometheus  Prometheus text format 0.0.4
//   anything else        404 "path '<p>' not found"; methods other than GET/HEAD get 405
//
// With `builtin_routes = false` only the embedder's routes answer (`/` included): a page served
// by a tool (cbes-consul's group dashboard) shows no metrics routes it has nothing behind.
//
// HTTP/1.1 with keep-alive; each request is limited in size (1 MiB, as in Java), each read has a
// deadline, and the number of open connections is bounded (the extra ones are closed at once).
// Runs on a strand of the executor it is given; every member may be called from any thread.
//
//   cbes::metrics::server_sources src{.meters = &reg,
//                                     .membership = [&] { return group.membership(); },
//                                     .ready = [&]() -> std::optional<std::string> {
//                                       if (!streaming) return "not streaming yet";
//                                       return std::nullopt; }};
//   cbes::metrics::server_settings settings{.port = 31415};
//   auto server = cbes::metrics::http_server::start(io.get_executor(), settings, src);
//   if (!server) { log(server.error().what()); return; }
//   log("metrics on port {}", (*server)->port());
//   ...
//   (*server)->stop();  // also done by the destructor
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include "cbes/metrics/registry.hpp"
#include "cbes/util/error.hpp"

namespace cbes::metrics {

struct server_settings {
  // Listen address; empty = every interface, as the Java connector does (IPv6 wildcard that also
  // takes IPv4, or 0.0.0.0 where IPv6 is off). Use "127.0.0.1" to keep the server local.
  std::string address{};
  // 0 = an ephemeral port (http_server::port() tells which). Java's -1 ("off") is the caller's
  // business: do not start the server.
  std::uint16_t port = 0;
  // The Java connector refuses requests over 1 MiB; the answer is 413.
  std::size_t max_request_bytes = 1024 * 1024;
  // How long a connection may take to send one request (and to take the answer); an idle
  // keep-alive connection is closed when it passes.
  std::chrono::milliseconds read_timeout{10000};
  std::size_t max_connections = 64;
  // false: none of the routes above; every path but those added with add_route() is a 404.
  bool builtin_routes = true;
};

// Where the built-in routes get their content. Callbacks run on the server's strand and must be
// safe to call from there; one that throws makes that request a 500. What they reference (and
// `meters`) must outlive the server's handlers: stop() the server and let its executor finish
// (or stop) before destroying them.
struct server_sources {
  const registry* meters = nullptr;  // nullptr: the metrics routes show an empty registry
  // "<member number>/<total members>" for /info; empty function: no "membership" member.
  std::function<std::string()> membership{};
  // nullopt = ready; otherwise the reason /ready answers 503 with. Empty function: ready as soon
  // as the server runs.
  std::function<std::optional<std::string>()> ready{};
  // /info's "commit"; defaults to what the build recorded (cbes/version.hpp).
  std::optional<std::string> commit{};
};

// A request as an embedder's route sees it.
struct route_request {
  std::string_view method;  // "GET" or "HEAD" (HEAD answers carry no body)
  std::string_view path;    // without the query
  std::string_view query;   // after '?', "" when none
};

struct route_reply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body{};
  // Extra response headers (name, value), e.g. when the data in the body was read. The server's
  // own (Server, Content-Type, Content-Length, Cache-Control, Connection) are set after these.
  std::vector<std::pair<std::string, std::string>> headers{};
};

using route_handler = std::function<route_reply(const route_request&)>;
// A route whose answer needs I/O (a Consul read, say). The coroutine runs on the server's strand;
// the request's views stay valid until it completes. Other connections are served meanwhile.
using async_route_handler = std::function<boost::asio::awaitable<route_reply>(route_request)>;

// Why the server could not start: the address does not parse, or the port is taken.
struct error {
  boost::system::error_code code;
  std::string message;
  std::string what() const { return "metrics: " + message; }
};
template <class T>
using result = boost::system::result<T, error>;
using util::throw_exception_from_error;

class http_server {
 public:
  // Binds and listens now (so a taken port is an error here), then serves on `executor`.
  static result<std::unique_ptr<http_server>> start(boost::asio::any_io_executor executor,
                                                    server_settings settings,
                                                    server_sources sources);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // The port the server listens on (the ephemeral one when settings.port was 0).
  std::uint16_t port() const noexcept { return port_; }

  // Adds a route for an exact path. Built-in paths (unless settings.builtin_routes is false) and
  // paths already added are refused (false).
  //
  //   server->add_route("/group", [&](const route_request&) {
  //     return route_reply{.content_type = "text/html", .body = render()}; });
  bool add_route(std::string path, route_handler handler);
  // The same for an answer that must be awaited.
  //
  //   server->add_async_route("/status.json", [&](route_request) { return read_status(); });
  bool add_async_route(std::string path, async_route_handler handler);

  // Stops accepting and closes every connection, idle or busy. Idempotent.
  void stop();

 private:
  struct impl;
  http_server(std::shared_ptr<impl> p, std::uint16_t port);
  std::shared_ptr<impl> impl_;
  std::uint16_t port_;
};

}  // namespace cbes::metrics
