// The sink's authentication other than basic auth, against servers that require it:
// - a client certificate (mutual TLS, `[elasticsearch.clientCertificate]`): it replaces basic
//   auth, a client without one is refused in the handshake, and keystore problems fail
//   http_pool::create with one line;
// - AWS SigV4 for Amazon OpenSearch Service (`[elasticsearch.aws] region`): every request signed
//   with the credentials of the environment, none sent without them. (The signature itself is
//   checked against botocore in tests/unit/sink/aws_sigv4_test.cpp.)
#include "integration/sink/scripted_es.hpp"  // first: warning pragmas

#include <catch2/catch.hpp>

#include <cstdlib>
#include <regex>

#include "cbes/sink/http_pool.hpp"
#include "cbes/sink/sink.hpp"
#include "cbes/testkit/elasticsearch.hpp"
#include "support/test_pki.hpp"

using namespace cbes::sink;
using namespace sink_it;
using Catch::Matchers::Contains;

namespace {

using cbes::test::pki;

// HTTPS to 127.0.0.1:port trusting ca.pem, with `keystore` (password "secret") when given.
connection_settings tls_settings(const pki& p, std::uint16_t port, const char* keystore) {
  connection_settings cs;
  cs.hosts = {"https://127.0.0.1:" + std::to_string(port)};
  cs.secure_connection = true;
  cs.ca_file = p.file("ca.pem");
  if (keystore != nullptr) {
    cs.client_keystore = p.file(keystore);
    cs.client_keystore_password = "secret";
  }
  return cs;
}

// HTTPS that requires a client certificate signed by ca.pem.
es_options mutual_tls(const pki& p) {
  return {.tls_cert_file = p.file("server.pem"),
          .tls_key_file = p.file("server.key"),
          .tls_client_ca_file = p.file("ca.pem")};
}

// Connects a sink, writes k0..k<n-1> to index "docs" and flushes.
result<void> write_docs(asio::io_context& io, connection_settings conn, std::size_t n) {
  sink_settings settings;
  settings.types.push_back({.prefix = "", .index = "docs"});
  settings.retry.first_delay = std::chrono::milliseconds(1);
  settings.retry.max_delay = std::chrono::milliseconds(20);
  return run(io, [&]() -> asio::awaitable<result<void>> {
    sniff_settings sniffing{.deadline = std::chrono::seconds(20)};
    sink_callbacks callbacks;
    auto s = co_await sink::connect(io.get_executor(), settings, conn, callbacks, sniffing);
    if (!s)
      co_return s.error();
    for (std::size_t i = 0; i < n; ++i) {
      document_event ev;
      ev.key = "k" + std::to_string(i);
      ev.content = R"({"n":)" + std::to_string(i) + "}";
      ev.vbucket = static_cast<std::uint16_t>(i % 4);
      ev.seqno = i + 1;
      auto w = co_await (*s)->write(std::move(ev));
      if (!w)
        co_return w;
    }
    co_return co_await (*s)->flush();
  }());
}

}  // namespace

TEST_CASE("a client certificate replaces basic auth: the sink writes where one is required") {
  pki p("es-mtls");
  scripted_es es(mutual_tls(p));
  asio::io_context io;
  auto conn = tls_settings(p, es.port(), "client.p12");
  conn.username = "elastic";  // ignored with a client certificate
  conn.password = "changeme";
  REQUIRE(write_docs(io, conn, 20));
  CHECK(es.index_contents("docs").size() == 20);
  const auto headers = es.bulk_headers();
  REQUIRE_FALSE(headers.empty());
  for (const auto& h : headers)
    CHECK_FALSE(cbes::testkit::find_header(h, "Authorization"));
  for (const auto& cn : es.bulk_client_cns())
    CHECK(cn == "Administrator");
}

TEST_CASE("the Elasticsearch fake with security on takes the certificate instead of a password") {
  pki p("es-mtls-fake");
  cbes::testkit::elasticsearch_options o;
  o.tls_cert_file = p.file("server.pem");
  o.tls_key_file = p.file("server.key");
  o.tls_client_ca_file = p.file("ca.pem");
  o.username = "elastic";
  o.password = "changeme";
  cbes::testkit::elasticsearch es(o);
  es.start();
  asio::io_context io;
  REQUIRE(write_docs(io, tls_settings(p, es.port(), "client.p12"), 25));
  CHECK(es.document_count("docs") == 25);
}

TEST_CASE("without a client certificate the handshake with a server that requires one fails") {
  pki p("es-mtls-none");
  scripted_es es(mutual_tls(p));
  asio::io_context io;
  for (const char* keystore : {static_cast<const char*>(nullptr), "other-client.p12"}) {
    INFO((keystore ? keystore : "no keystore"));
    auto pool = http_pool::create(io.get_executor(), tls_settings(p, es.port(), keystore));
    REQUIRE(pool);
    auto r = run(io, (*pool)->request(http_method::get, "/", {}));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::connection_failed);
    CHECK_THAT(r.error().message, Contains("alert"));
    CHECK_THAT(r.error().message, Contains("the server refused the TLS session"));
    CHECK_THAT(r.error().message, Contains("elasticsearch.clientCertificate"));
  }
  CHECK(es.root_requests() == 0);
}

TEST_CASE("keystore problems fail http_pool::create with one line naming the setting") {
  pki p("es-mtls-bad");
  asio::io_context io;
  auto wrong = tls_settings(p, 9200, "client.p12");
  wrong.client_keystore_password = "not-the-password";
  auto r = http_pool::create(io.get_executor(), wrong);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::invalid_argument);
  CHECK(r.error().message ==
        "cannot open keystore '" + p.file("client.p12") +
            "': wrong password? check elasticsearch.clientCertificate.pathToPassword");

  auto missing = http_pool::create(io.get_executor(), tls_settings(p, 9200, "missing.p12"));
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().message,
             Contains("cannot read keystore '" + p.file("missing.p12") + "'"));
  CHECK_THAT(missing.error().message, Contains("check elasticsearch.clientCertificate.path"));

  auto plain = tls_settings(p, 9200, "client.p12");
  plain.secure_connection = false;
  plain.hosts = {"127.0.0.1:9200"};
  auto refused = http_pool::create(io.get_executor(), plain);
  REQUIRE_FALSE(refused);
  CHECK_THAT(refused.error().message,
             Contains("a client certificate needs elasticsearch.secureConnection = true"));
}

TEST_CASE("Amazon OpenSearch Service: every request is SigV4-signed, and no basic auth is sent") {
  pki p("es-sigv4");
  scripted_es es({.tls_cert_file = p.file("server.pem"), .tls_key_file = p.file("server.key")});
  ::setenv("AWS_ACCESS_KEY_ID", "AKIDCBESTEST", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "secret/for+tests", 1);
  ::unsetenv("AWS_SESSION_TOKEN");
  asio::io_context io;
  auto conn = tls_settings(p, es.port(), nullptr);
  conn.aws_region = "eu-west-1";
  conn.username = "elastic";  // ignored with SigV4
  conn.password = "changeme";
  REQUIRE(write_docs(io, conn, 20));
  CHECK(es.index_contents("docs").size() == 20);
  const auto headers = es.bulk_headers();
  REQUIRE_FALSE(headers.empty());
  const std::regex signed_by(
      "AWS4-HMAC-SHA256 Credential=AKIDCBESTEST/[0-9]{8}/eu-west-1/es/aws4_request, "
      "SignedHeaders=host;x-amz-date, Signature=[0-9a-f]{64}");
  for (const auto& h : headers) {
    auto auth = cbes::testkit::find_header(h, "Authorization");
    REQUIRE(auth);
    CHECK(std::regex_match(std::string(*auth), signed_by));
    auto date = cbes::testkit::find_header(h, "X-Amz-Date");
    REQUIRE(date);
    CHECK(std::regex_match(std::string(*date), std::regex("[0-9]{8}T[0-9]{6}Z")));
  }
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
}

TEST_CASE("Amazon OpenSearch Service without credentials or TLS fails with one line") {
  pki p("es-sigv4-none");
  asio::io_context io;
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  ::setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/cbes-credentials", 1);
  auto conn = tls_settings(p, 9, nullptr);
  conn.aws_region = "eu-west-1";
  auto none = http_pool::create(io.get_executor(), conn);
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error().code == errc::invalid_argument);
  CHECK_THAT(none.error().message, Contains("no AWS credentials for [elasticsearch.aws]"));
  ::unsetenv("AWS_SHARED_CREDENTIALS_FILE");

  ::setenv("AWS_ACCESS_KEY_ID", "AKIDCBESTEST", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
  conn.hosts = {"127.0.0.1:9"};
  conn.secure_connection = false;
  auto plain = http_pool::create(io.get_executor(), conn);
  REQUIRE_FALSE(plain.has_value());
  CHECK_THAT(plain.error().message, Contains("needs elasticsearch.secureConnection = true"));
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
}
