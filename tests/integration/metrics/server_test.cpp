// The metrics HTTP server over loopback: every route with its status and content type, 404/405,
// HEAD, the request size limit, keep-alive, the read timeout, the connection bound, /ready
// flipping, embedder routes (plain and awaited, with or without the built-in ones), and stop()
// closing what is open.
#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <cerrno>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include "cbes/metrics/connector_metrics.hpp"
#include "cbes/metrics/http_server.hpp"
#include "cbes/testkit/http_client.hpp"
#include "cbes/version.hpp"

// Lets Catch2 print cbes::metrics::result<T> in failed assertions (boost's own operator<< needs
// the error to be printable).
namespace Catch {
template <class T>
struct StringMaker<boost::system::result<T, cbes::metrics::error>> {
  static std::string convert(const boost::system::result<T, cbes::metrics::error>& r) {
    return r.has_value() ? std::string("value") : r.error().what();
  }
};
}  // namespace Catch

using namespace cbes::metrics;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

// A server on 127.0.0.1:<ephemeral>, served by its own thread until the fixture ends.
struct running_server {
  asio::io_context io;
  std::unique_ptr<http_server> server;
  std::thread thread;

  explicit running_server(server_settings s = {}, server_sources src = {}) {
    if (s.address.empty())
      s.address = "127.0.0.1";
    auto r = http_server::start(io.get_executor(), std::move(s), std::move(src));
    REQUIRE(r);
    server = std::move(*r);
    thread = std::thread([this] { io.run(); });
  }
  ~running_server() {
    server->stop();
    thread.join();  // returns only once the accept loop and every connection have ended
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server->port()); }
};

struct raw_response {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
};

// A blocking loopback client that sends bytes verbatim and reads with a deadline (POSIX recv with
// SO_RCVTIMEO: a test that waits for the server to close a connection waits on that signal).
class raw_client {
 public:
  explicit raw_client(std::uint16_t port) : socket_(io_) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
    timeval tv{.tv_sec = 10, .tv_usec = 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  void send(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }

  // Reads one response; `head_only` for answers to HEAD (no body follows).
  raw_response read_response(bool head_only = false) {
    raw_response r;
    while (pending_.find("\r\n\r\n") == std::string::npos)
      REQUIRE(fill());
    const auto end = pending_.find("\r\n\r\n");
    r.head = pending_.substr(0, end);
    pending_.erase(0, end + 4);
    r.status = std::stoi(r.head.substr(9, 3));
    std::size_t length = 0;
    if (auto cl = lower(r.head).find("content-length: "); cl != std::string::npos)
      length = std::stoul(r.head.substr(cl + 16));
    if (head_only)
      return r;
    while (pending_.size() < length)
      REQUIRE(fill());
    r.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return r;
  }

  // True when the server closed (EOF or reset) within the receive deadline, with no more bytes.
  bool closed_by_peer() {
    char c;
    const auto n = ::recv(socket_.native_handle(), &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

 private:
  static std::string lower(std::string s) {
    for (auto& c : s)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  bool fill() {
    char buf[4096];
    const auto n = ::recv(socket_.native_handle(), buf, sizeof buf, 0);
    if (n <= 0)
      return false;
    pending_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  asio::io_context io_;
  tcp::socket socket_;
  std::string pending_;
};

std::string get(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: test\r\n\r\n";
}

}  // namespace

TEST_CASE("every built-in route answers with its status and content type") {
  registry reg(tags{{"bucket", "b"}});
  connector_metrics m(reg);
  m.write_queue.set(5);
  m.latency.record(2ms);
  server_sources src{.meters = &reg,
                     .membership = [] { return std::string("2/3"); },
                     .ready = {},
                     .commit = "abc123"};
  running_server s({}, src);
  const auto url = s.url();

  auto r = cbes::testkit::http_request(url, "GET", "/");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->header("Content-Type") == "text/html; charset=utf-8");
  CHECK(r->body.find("href=\"metrics/prometheus\"") != std::string::npos);

  r = cbes::testkit::http_request(url, "GET", "/info");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->header("Content-Type") == "application/json");
  const auto info = json::parse(r->body);
  CHECK(info.at("version").as_string() == cbes::version);
  CHECK(info.at("commit") == "abc123");
  CHECK(info.at("membership") == "2/3");

  r = cbes::testkit::http_request(url, "GET", "/health");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(json::parse(r->body).at("alive") == true);

  r = cbes::testkit::http_request(url, "GET", "/ready");
  REQUIRE(r);
  CHECK(r->status == 200);  // no readiness callback: ready once serving

  for (const char* path : {"/metrics", "/metrics/dropwizard", "/metrics/dropwizard?pretty"}) {
    INFO(path);
    r = cbes::testkit::http_request(url, "GET", path);
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->header("Content-Type") == "application/json");
    const auto doc = json::parse(r->body);
    CHECK(doc.at("version") == "4.0.0");
    CHECK(doc.at("gauges").at("cbes.writeQueue{bucket=b}").at("value").to_number<double>() == 5);
    CHECK(doc.at("timers").at("cbes.latency{bucket=b}").at("count").to_number<double>() == 1);
    CHECK((r->body.find("\n  ") != std::string::npos) ==
          (std::string_view(path).find("pretty") != std::string_view::npos));
  }

  r = cbes::testkit::http_request(url, "GET", "/metrics/prometheus");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(r->body.find("\ncbes_write_queue{bucket=\"b\"} 5\n") != std::string::npos);
  CHECK(r->body.find("\ncbes_latency_seconds_count{bucket=\"b\"} 1\n") != std::string::npos);
}

TEST_CASE("an unknown path gets 404 with a JSON string naming the path") {
  running_server s;
  auto r = cbes::testkit::http_request(s.url(), "GET", "/nope?x=1");
  REQUIRE(r);
  CHECK(r->status == 404);
  CHECK(r->header("Content-Type") == "application/json");
  CHECK(json::parse(r->body) == "path '/nope' not found");
  r = cbes::testkit::http_request(s.url(), "GET", "/a%22b");
  REQUIRE(r);
  CHECK(json::parse(r->body) == "path '/a%22b' not found");
}

TEST_CASE("methods other than GET and HEAD get 405 naming the allowed ones") {
  running_server s;
  for (const char* method : {"POST", "PUT", "DELETE"}) {
    auto r = cbes::testkit::http_request(s.url(), method, "/metrics", "x");
    REQUIRE(r);
    CHECK(r->status == 405);
    CHECK(r->header("Allow") == "GET, HEAD");
  }
}

TEST_CASE("HEAD answers with GET's headers and no body, and the connection stays usable") {
  registry reg;
  reg.gauge("g").set(1);
  running_server s({}, server_sources{.meters = &reg});
  raw_client c(s.server->port());
  c.send("GET /metrics/prometheus HTTP/1.1\r\nHost: t\r\n\r\n");
  const auto full = c.read_response();
  c.send("HEAD /metrics/prometheus HTTP/1.1\r\nHost: t\r\n\r\n");
  const auto head = c.read_response(true);
  CHECK(head.status == 200);
  CHECK(head.head.find("Content-Length: " + std::to_string(full.body.size())) != std::string::npos);
  CHECK(head.head.find("text/plain; version=0.0.4") != std::string::npos);
  // Had the HEAD answer carried a body, it would be read here as the next status line.
  c.send(get("/health"));
  const auto next = c.read_response();
  CHECK(next.status == 200);
  CHECK(next.body == R"({"alive":true})");
}

TEST_CASE("/ready answers 503 with the reason until the callback reports ready") {
  std::atomic<bool> ready{false};
  server_sources src{.ready = [&ready]() -> std::optional<std::string> {
    if (!ready)
      return std::string("waiting for \"partitions\"");
    return std::nullopt;
  }};
  running_server s({}, src);
  auto r = cbes::testkit::http_request(s.url(), "GET", "/ready");
  REQUIRE(r);
  CHECK(r->status == 503);
  const auto body = json::parse(r->body);
  CHECK(body.at("ready") == false);
  CHECK(body.at("reason") == "waiting for \"partitions\"");
  ready = true;
  r = cbes::testkit::http_request(s.url(), "GET", "/ready");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(json::parse(r->body).at("ready") == true);
  // /health never depended on readiness.
  ready = false;
  r = cbes::testkit::http_request(s.url(), "GET", "/health");
  REQUIRE(r);
  CHECK(r->status == 200);
}

TEST_CASE("a request over the size limit is refused with 413 and the connection closed") {
  running_server s(server_settings{.max_request_bytes = 4096});
  SECTION("headers") {
    raw_client c(s.server->port());
    c.send("GET /metrics HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(8192, 'a') + "\r\n\r\n");
    CHECK(c.read_response().status == 413);
    CHECK(c.closed_by_peer());
  }
  SECTION("body announced by Content-Length") {
    raw_client c(s.server->port());
    c.send("GET /metrics HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n");
    const auto r = c.read_response();
    CHECK(r.status == 413);
    CHECK(r.body.find("4096") != std::string::npos);
    CHECK(c.closed_by_peer());
  }
  SECTION("a request under the limit still works") {
    raw_client c(s.server->port());
    c.send("GET /health HTTP/1.1\r\nHost: t\r\nX-Small: " + std::string(1000, 'a') + "\r\n\r\n");
    CHECK(c.read_response().status == 200);
  }
}

TEST_CASE("keep-alive serves several requests on one connection, Connection: close ends it") {
  running_server s;
  raw_client c(s.server->port());
  for (int i = 0; i < 3; ++i) {
    c.send(get("/health"));
    CHECK(c.read_response().status == 200);
  }
  c.send("GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  CHECK(c.read_response().status == 200);
  CHECK(c.closed_by_peer());
}

TEST_CASE("a connection that sends nothing is closed when the read timeout passes") {
  running_server s(server_settings{.read_timeout = 200ms});
  raw_client idle(s.server->port());
  CHECK(idle.closed_by_peer());
  raw_client after_request(s.server->port());
  after_request.send(get("/health"));
  CHECK(after_request.read_response().status == 200);
  CHECK(after_request.closed_by_peer());  // kept alive, then idle past the timeout
}

TEST_CASE("connections over the bound are closed at once, the others keep working") {
  running_server s(server_settings{.max_connections = 2});
  raw_client a(s.server->port()), b(s.server->port());
  // Each answered request proves the server holds that connection.
  a.send(get("/health"));
  CHECK(a.read_response().status == 200);
  b.send(get("/health"));
  CHECK(b.read_response().status == 200);
  raw_client third(s.server->port());
  CHECK(third.closed_by_peer());
  a.send(get("/health"));
  CHECK(a.read_response().status == 200);
}

TEST_CASE("stop() closes open connections and stops accepting") {
  running_server s;
  const auto port = s.server->port();
  raw_client c(port);
  c.send(get("/health"));
  CHECK(c.read_response().status == 200);
  raw_client silent(port);  // accepted, mid-read
  s.server->stop();
  CHECK(c.closed_by_peer());
  CHECK(silent.closed_by_peer());
  asio::io_context io;
  tcp::socket late(io);
  boost::system::error_code ec;
  late.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  CHECK(ec == asio::error::connection_refused);
  s.server->stop();  // idempotent
}

TEST_CASE("an embedder's route answers on its path, built-in paths cannot be taken") {
  running_server s;
  CHECK(s.server->add_route("/group", [](const route_request& r) {
    return route_reply{
        .status = 200, .content_type = "text/plain", .body = "q=" + std::string(r.query)};
  }));
  CHECK_FALSE(s.server->add_route("/group", [](const route_request&) { return route_reply{}; }));
  CHECK_FALSE(s.server->add_route("/metrics", [](const route_request&) { return route_reply{}; }));
  auto r = cbes::testkit::http_request(s.url(), "GET", "/group?x=1");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->header("Content-Type") == "text/plain");
  CHECK(r->body == "q=x=1");
}

TEST_CASE("port 0 picks a free port, a port in use and a bad address are errors") {
  running_server s;
  CHECK(s.server->port() != 0);
  asio::io_context io;
  auto taken = http_server::start(io.get_executor(),
                                  server_settings{.address = "127.0.0.1", .port = s.server->port()},
                                  server_sources{});
  REQUIRE_FALSE(taken);
  CHECK(taken.error().code == asio::error::address_in_use);
  CHECK(taken.error().what().find(std::to_string(s.server->port())) != std::string::npos);
  auto bad = http_server::start(io.get_executor(), server_settings{.address = "not-an-ip"},
                                server_sources{});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().what().find("not-an-ip") != std::string::npos);
}

TEST_CASE("without an address the server listens on every interface") {
  asio::io_context io;
  auto r = http_server::start(io.get_executor(), server_settings{}, server_sources{});
  REQUIRE(r);
  std::thread t([&io] { io.run(); });
  const auto resp = cbes::testkit::http_request("http://127.0.0.1:" + std::to_string((*r)->port()),
                                                "GET", "/health");
  (*r)->stop();
  t.join();
  REQUIRE(resp);
  CHECK(resp->status == 200);
}

TEST_CASE("a callback that throws costs its request a 500, not the server") {
  server_sources src{.ready = []() -> std::optional<std::string> {
    throw std::runtime_error("state unavailable");
  }};
  running_server s({}, src);
  raw_client c(s.server->port());
  c.send(get("/ready"));
  const auto r = c.read_response();
  CHECK(r.status == 500);
  CHECK(r.body.find("state unavailable") != std::string::npos);
  c.send(get("/health"));  // same connection, still served
  CHECK(c.read_response().status == 200);
}

TEST_CASE("without the built-in routes only the embedder's paths answer, / included") {
  running_server s(server_settings{.builtin_routes = false});
  CHECK(s.server->add_route("/", [](const route_request&) {
    return route_reply{.status = 200, .content_type = "text/html", .body = "<p>page</p>"};
  }));
  CHECK_FALSE(s.server->add_async_route(
      "/", [](route_request) -> asio::awaitable<route_reply> { co_return route_reply{}; }));
  auto r = cbes::testkit::http_request(s.url(), "GET", "/");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "<p>page</p>");
  for (const char* path : {"/metrics", "/health", "/info", "/ready", "/metrics/prometheus"}) {
    r = cbes::testkit::http_request(s.url(), "GET", path);
    REQUIRE(r);
    CHECK(r->status == 404);
  }
}

TEST_CASE("an async route answers once its coroutine completes, others are served meanwhile") {
  running_server s;
  // Completes only when the test cancels it from the server's thread.
  asio::steady_timer gate(s.io, asio::steady_timer::time_point::max());
  CHECK(
      s.server->add_async_route("/slow", [&gate](route_request r) -> asio::awaitable<route_reply> {
        const std::string query(r.query);  // the views stay valid across the wait
        boost::system::error_code ec;
        co_await gate.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        co_return route_reply{.status = 200,
                              .content_type = "text/plain",
                              .body = "late " + query,
                              .headers = {{"X-Read-At", "12345"}, {"Content-Type", "ignored"}}};
      }));
  CHECK(s.server->add_async_route("/broken", [](route_request) -> asio::awaitable<route_reply> {
    throw std::runtime_error("no answer today");
    co_return route_reply{};
  }));
  CHECK_FALSE(s.server->add_async_route(
      "/metrics", [](route_request) -> asio::awaitable<route_reply> { co_return route_reply{}; }));
  CHECK_FALSE(s.server->add_route("/slow", [](const route_request&) { return route_reply{}; }));

  raw_client waiting(s.server->port());
  waiting.send(get("/slow?n=1"));
  raw_client other(s.server->port());
  other.send(get("/health"));
  CHECK(other.read_response().status == 200);
  other.send(get("/broken"));
  const auto broken = other.read_response();
  CHECK(broken.status == 500);
  CHECK(broken.body.find("no answer today") != std::string::npos);

  asio::post(s.io, [&gate] { gate.cancel(); });
  const auto late = waiting.read_response();
  CHECK(late.status == 200);
  CHECK(late.body == "late n=1");
  // The route's own header goes out; the server's Content-Type wins over the route's copy.
  CHECK(late.head.find("\r\nX-Read-At: 12345\r\n") != std::string::npos);
  CHECK(late.head.find("Content-Type: text/plain\r\n") != std::string::npos);
  CHECK(late.head.find("ignored") == std::string::npos);
}
