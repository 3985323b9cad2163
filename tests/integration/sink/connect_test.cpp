// The HTTP pool and version sniff against a scripted Elasticsearch over loopback: auth headers,
// TLS, keep-alive, host back-off, gzip, version refusal and the sniff retry deadline.
#include "integration/sink/scripted_es.hpp"  // first: warning pragmas

#include <catch2/catch.hpp>

#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>

#include "cbes/sink/http_pool.hpp"
#include "cbes/sink/server_info.hpp"
#include "support/dead_port.hpp"
#include "support/test_pki.hpp"

using namespace cbes::sink;
using namespace sink_it;

namespace {

using cbes::test::pki;

std::unique_ptr<http_pool> make_pool(asio::io_context& io, connection_settings cs) {
  auto p = http_pool::create(io.get_executor(), std::move(cs));
  REQUIRE(p);
  return std::move(*p);
}

const sniff_settings quick_sniff{.deadline = 20s, .first_delay = 10ms, .max_delay = 50ms};

}  // namespace

TEST_CASE("basic auth is sent as Authorization: Basic base64(user:password)") {
  scripted_es es({.authorization = "Basic ZWxhc3RpYzpjaGFuZ2VtZQ=="});  // elastic:changeme
  asio::io_context io;
  auto pool = make_pool(io, {.hosts = {es.host()}, .username = "elastic", .password = "changeme"});
  auto r = run(io, pool->request(http_method::get, "/", {}));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->elastic_product == "Elasticsearch");
}

TEST_CASE("an API key replaces basic auth") {
  scripted_es es({.authorization = "ApiKey a2V5OnNlY3JldA=="});
  asio::io_context io;
  auto pool = make_pool(io, {.hosts = {es.host()},
                             .username = "ignored",
                             .password = "ignored",
                             .api_key = "a2V5OnNlY3JldA=="});
  auto r = run(io, pool->request(http_method::get, "/", {}));
  REQUIRE(r);
  CHECK(r->status == 200);
}

TEST_CASE("wrong credentials make the sniff fail at once, naming the credential settings") {
  scripted_es es({.authorization = "Basic ZWxhc3RpYzpjaGFuZ2VtZQ=="});
  asio::io_context io;
  auto pool = make_pool(io, {.hosts = {es.host()}, .username = "elastic", .password = "wrong"});
  auto r = run(io, sniff(*pool, quick_sniff));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::authentication_failed);
  CHECK(r.error().message.find("elasticsearch.username") != std::string::npos);
  CHECK(r.error().message.find("elasticsearch.pathToPassword") != std::string::npos);
  CHECK(es.root_requests() == 1);
}

TEST_CASE("https with a trusted CA and hostname verification works") {
  pki p("ok");
  scripted_es es({.tls_cert_file = p.file("server.pem"), .tls_key_file = p.file("server.key")});
  asio::io_context io;
  for (const std::string host : {"https://127.0.0.1:", "https://localhost:"}) {
    auto pool = make_pool(io, {.hosts = {host + std::to_string(es.port())},
                               .secure_connection = true,
                               .ca_file = p.file("ca.pem")});
    auto info = run(io, sniff(*pool, quick_sniff));
    REQUIRE(info);
    CHECK(info->describe() == "Elasticsearch 8.11.0");
  }
}

TEST_CASE("https with the wrong CA fails the handshake with a hint") {
  pki p("bad");
  scripted_es es({.tls_cert_file = p.file("server.pem"), .tls_key_file = p.file("server.key")});
  asio::io_context io;
  auto pool = make_pool(io, {.hosts = {"127.0.0.1:" + std::to_string(es.port())},
                             .secure_connection = true,
                             .ca_file = p.file("other-ca.pem")});
  auto r = run(io, pool->request(http_method::get, "/", {}));
  REQUIRE_FALSE(r);
  // A settings problem no retry fixes: the version sniff gives up at once on it.
  CHECK(r.error().code == errc::invalid_argument);
  CHECK(r.error().message.find("TLS handshake") != std::string::npos);
  CHECK(r.error().message.find("pathToCaCertificate") != std::string::npos);
}

TEST_CASE("hostname verification refuses a certificate for another name") {
  pki p("name");
  // Signed by the trusted CA, but for other.example only.
  scripted_es es({.tls_cert_file = p.file("other-name.pem"), .tls_key_file = p.file("server.key")});
  asio::io_context io;
  auto pool = make_pool(io, {.hosts = {"127.0.0.1:" + std::to_string(es.port())},
                             .secure_connection = true,
                             .ca_file = p.file("ca.pem")});
  auto r = run(io, pool->request(http_method::get, "/", {}));
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("TLS handshake") != std::string::npos);

  auto lax = make_pool(io, {.hosts = {"127.0.0.1:" + std::to_string(es.port())},
                            .secure_connection = true,
                            .ca_file = p.file("ca.pem"),
                            .hostname_verification = false});
  auto ok = run(io, lax->request(http_method::get, "/", {}));
  REQUIRE(ok);
  CHECK(ok->status == 200);
}

TEST_CASE("a missing CA file is a configuration error") {
  asio::io_context io;
  auto p = http_pool::create(
      io.get_executor(),
      {.hosts = {"es"}, .secure_connection = true, .ca_file = "/nonexistent/ca.pem"});
  REQUIRE_FALSE(p);
  CHECK(p.error().code == errc::invalid_argument);
  CHECK(p.error().message.find("elasticsearch.pathToCaCertificate") != std::string::npos);
}

TEST_CASE("requests reuse one kept-alive connection") {
  scripted_es es;
  asio::io_context io;
  auto pool = make_pool(io, {.hosts = {es.host()}});
  run(io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 20; ++i) {
      auto r = co_await pool->request(http_method::get, "/", {});
      REQUIRE(r);
    }
  }());
  CHECK(pool->connections_opened() == 1);
  CHECK(pool->idle_connections() == 1);
}

TEST_CASE("a stale kept-alive connection is replaced transparently") {
  auto es = std::make_unique<scripted_es>();
  asio::io_context io;
  auto pool = make_pool(io, {.hosts = {es->host()}});
  REQUIRE(run(io, pool->request(http_method::get, "/", {})));
  es->push_root_fault({.drop = true});  // the server closes the idle connection's next request
  auto r = run(io, pool->request(http_method::get, "/", {}));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(pool->connections_opened() == 2);
}

TEST_CASE("a dead host is skipped and the live one serves every request") {
  scripted_es es;
  asio::io_context io;
  auto pool =
      make_pool(io, {.hosts = {"127.0.0.1:" + std::to_string(cbes::test::dead_port()), es.host()},
                     .host_backoff_first = std::chrono::minutes(5)});
  run(io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 10; ++i) {
      auto r = co_await pool->request(http_method::get, "/", {});
      REQUIRE(r);
      CHECK(r->status == 200);
    }
  }());
  CHECK(es.root_requests() == 10);
  CHECK(pool->connections_opened() == 1);
}

TEST_CASE("gzip request bodies carry Content-Encoding and arrive intact") {
  scripted_es es;
  asio::io_context io;
  auto pool = make_pool(io, {.hosts = {es.host()}, .gzip_requests = true});
  const std::string body = "{\"index\":{\"_index\":\"g\",\"_id\":\"1\"}}\n{\"a\":1}\n";
  auto r = run(io, pool->request(http_method::post, "/_bulk", body, "application/x-ndjson"));
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(es.index_contents("g").at("1") == R"({"a":1})");
  auto headers = es.bulk_headers();
  REQUIRE(headers.size() == 1);
  CHECK(cbes::testkit::find_header(headers[0], "Content-Encoding") == "gzip");
  CHECK(cbes::testkit::find_header(headers[0], "Content-Type") == "application/x-ndjson");
}

TEST_CASE("a request that outlives its deadline fails with a timeout") {
  scripted_es es({.bulk_delay = 3s});
  asio::io_context io;
  auto pool = make_pool(io, {.hosts = {es.host()}});
  auto r = run(io, pool->request(http_method::post, "/_bulk", "{}\n", "application/x-ndjson",
                                 std::chrono::milliseconds(200)));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::timeout);
}

TEST_CASE("too old Elasticsearch and OpenSearch are refused by the sniff") {
  scripted_es es({.version = "7.13.4"});
  asio::io_context io;
  auto pool = make_pool(io, {.hosts = {es.host()}});
  auto r = run(io, sniff(*pool, quick_sniff));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::unsupported_server);
  CHECK(r.error().message.find("Elasticsearch 7.13.4 is not supported") != std::string::npos);

  es.set_version("1.3.2", true);
  r = run(io, sniff(*pool, quick_sniff));
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("OpenSearch 1.3.2 is not supported") != std::string::npos);

  es.set_version("1.3.3", true);
  r = run(io, sniff(*pool, quick_sniff));
  REQUIRE(r);
  CHECK(r->flavour == distribution::opensearch);

  es.set_version("7.14.0", false);
  r = run(io, sniff(*pool, quick_sniff));
  REQUIRE(r);
  CHECK(r->describe() == "Elasticsearch 7.14.0");
}

TEST_CASE("the sniff retries failures with back-off until the server answers") {
  scripted_es es;
  es.push_root_fault({.status = 503, .body = R"({"error":"starting","status":503})"});
  es.push_root_fault({.drop = true});
  es.push_root_fault({.status = 200, .body = "not json"});
  asio::io_context io;
  auto pool = make_pool(io, {.hosts = {es.host()}});
  auto r = run(io, sniff(*pool, quick_sniff));
  REQUIRE(r);
  CHECK(r->version == server_version{8, 11, 0});
  CHECK(es.root_requests() >= 4);
}

TEST_CASE("the sniff gives up at its deadline with the last error") {
  asio::io_context io;
  auto pool = make_pool(io, {.hosts = {"127.0.0.1:" + std::to_string(cbes::test::dead_port())},
                             .host_backoff_first = 1ms,
                             .host_backoff_max = 1ms});
  const auto start = std::chrono::steady_clock::now();
  auto r = run(io, sniff(*pool, {.deadline = 300ms, .first_delay = 20ms, .max_delay = 40ms}));
  const auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::timeout);
  CHECK(r.error().message.find("within 300 ms") != std::string::npos);
  CHECK(r.error().message.find("connecting to http://127.0.0.1:") != std::string::npos);
  CHECK(took >= 300ms);
}
