#include <catch2/catch.hpp>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdlib>
#include <filesystem>

#include "cbes/testkit/http_client.hpp"
#include "cbes/testkit/http_server.hpp"

using cbes::testkit::http_server;
using namespace std::chrono_literals;

namespace {

http_server::handler echo() {
  return [](http_server::request req) -> boost::asio::awaitable<http_server::response> {
    http_server::response res;
    if (req.target == "/drop") {
      res.drop = true;
      co_return res;
    }
    if (req.target == "/slow") {
      boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, 50ms);
      co_await t.async_wait(boost::asio::use_awaitable);
    }
    res.headers.emplace_back("X-Method", req.method);
    res.body = req.target + "|" + req.body;
    co_return res;
  };
}

std::string url(const http_server& s) {
  return std::string(s.tls() ? "https" : "http") + "://127.0.0.1:" + std::to_string(s.port());
}

}  // namespace

TEST_CASE("http server answers requests through a coroutine handler") {
  http_server s({}, echo());
  s.start();
  REQUIRE(s.port() != 0);
  auto r = cbes::testkit::http_request(url(s), "PUT", "/x?y=1", "body");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->body == "/x?y=1|body");
  CHECK(r->header("x-method") == "PUT");
  auto slow = cbes::testkit::http_request(url(s), "GET", "/slow");
  REQUIRE(slow);
  CHECK(slow->body == "/slow|");
}

TEST_CASE("http server closes the connection without answering when the handler drops") {
  http_server s({}, echo());
  s.start();
  auto r = cbes::testkit::http_request(url(s), "GET", "/drop", {}, {}, 30s);
  CHECK_FALSE(r.has_value());
  CHECK(cbes::testkit::http_request(url(s), "GET", "/ok"));
}

TEST_CASE("http server can be stopped and stop is idempotent") {
  http_server s({}, echo());
  s.start();
  auto port = s.port();
  s.stop();
  s.stop();
  auto r = cbes::testkit::http_request("http://127.0.0.1:" + std::to_string(port), "GET", "/", {},
                                       {}, 10s);
  CHECK_FALSE(r.has_value());
}

TEST_CASE("http server serves TLS with a PEM certificate and key") {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / ("cbes-tls-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout " + key +
      " -out " + cert + " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    fs::remove_all(dir);
    FAIL("openssl could not create a test certificate");
  }
  http_server::options o;
  o.tls_cert_file = cert;
  o.tls_key_file = key;
  http_server s(o, echo());
  s.start();
  CHECK(s.tls());
  auto r = cbes::testkit::http_request(url(s), "GET", "/tls");
  REQUIRE(r);
  CHECK(r->body == "/tls|");
  s.stop();
  fs::remove_all(dir);
}
