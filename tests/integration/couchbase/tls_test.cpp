#include <catch2/catch.hpp>

#include <fstream>

#include "integration/couchbase/harness.hpp"
#include "support/test_pki.hpp"

using namespace couchbase_it;
using Catch::Matchers::Contains;
using cb::errc;

namespace {

using cbes::test::pki;

struct fixture {
  pki certs;
  cbes::testkit::couchbase_cluster fake;
  asio::io_context io;
  fixture(const std::string& name, std::size_t nodes)
      : certs(name), fake([&] {
          auto o = fake_options(nodes);
          o.tls_cert_file = certs.file("server.pem");
          o.tls_key_file = certs.file("server.key");
          // Client certificates are optional on the fake: the tests without one use SASL.
          o.tls_client_ca_file = certs.file("ca.pem");
          return o;
        }()) {
    fake.start();
  }
  ~fixture() { drain(io); }

  cb::cluster_options tls_options(const char* ca) const {
    auto o = client_options(fake);
    o.seeds = "127.0.0.1:" + std::to_string(fake.kv_tls_port()) + "=kv";
    o.tls.enabled = true;
    o.tls.ca_file = certs.file(ca);
    return o;
  }

  // TLS with the client certificate of `keystore` and no username or password.
  cb::cluster_options certificate_options(const char* keystore,
                                          const std::string& password = "secret") const {
    auto o = tls_options("ca.pem");
    o.tls.client_keystore = certs.file(keystore);
    o.tls.client_keystore_password = password;
    o.username.clear();
    o.password.clear();
    o.http_bootstrap = false;
    return o;
  }

  cb::error connect_error(const cb::cluster_options& o) {
    return run(io, [&]() -> asio::awaitable<cb::error> {
      auto c = co_await cb::cluster::connect(io.get_executor(), o);
      REQUIRE_FALSE(c);
      co_return c.error();
    }());
  }
};

// Upserts and reads back 40 keys, which land on every node of the fake.
asio::awaitable<void> round_trip(cb::cluster& c) {
  for (int i = 0; i < 40; ++i) {
    const std::string key = "tls-" + std::to_string(i);
    auto stored = co_await c.upsert({}, key, R"({"tls":true})");
    REQUIRE(stored);
    auto g = co_await c.get({}, key);
    REQUIRE(g);
    CHECK(g->value == R"({"tls":true})");
  }
}

}  // namespace

TEST_CASE("TLS with a CA made by the test bootstraps and round-trips KV on every node") {
  fixture f("ok", 2);
  run(f.io, [&]() -> asio::awaitable<void> {
    auto c = co_await cb::cluster::connect(f.io.get_executor(), f.tls_options("ca.pem"));
    REQUIRE(c);
    auto topo = (*c)->current_topology();
    REQUIRE(topo->nodes.size() == 2);
    CHECK(topo->nodes[0].kv.port == f.fake.kv_tls_port(0));
    CHECK(topo->nodes[1].kv.port == f.fake.kv_tls_port(1));
    co_await round_trip(**c);
    (*c)->close();
  }());
}

TEST_CASE("TLS allows PLAIN but the strongest mechanism still wins") {
  fixture f("plain", 1);
  run(f.io, [&]() -> asio::awaitable<void> {
    cb::connection_options o = connection_options_for(f.fake);
    o.address.port = f.fake.kv_tls_port();
    o.tls.enabled = true;
    o.tls.ca_file = f.certs.file("ca.pem");
    auto strongest = co_await cb::connection::open(f.io.get_executor(), o);
    REQUIRE(strongest);
    CHECK((*strongest)->mechanism() == cbes::mcbp::sasl_mechanism::scram_sha512);
    // The port also takes client certificates; without one SASL runs as before.
    CHECK_FALSE((*strongest)->certificate_authenticated());
    o.sasl_mechanisms = {cbes::mcbp::sasl_mechanism::plain};
    auto plain = co_await cb::connection::open(f.io.get_executor(), o);
    REQUIRE(plain);
    CHECK((*plain)->mechanism() == cbes::mcbp::sasl_mechanism::plain);
  }());
}

TEST_CASE("TLS with the wrong CA fails the handshake with a clear error") {
  fixture f("badca", 1);
  run(f.io, [&]() -> asio::awaitable<void> {
    auto o = f.tls_options("other-ca.pem");
    o.http_bootstrap = false;
    auto c = co_await cb::cluster::connect(f.io.get_executor(), o);
    REQUIRE_FALSE(c);
    // A settings problem, definitive: bootstrap gives up at once instead of retrying the seed.
    CHECK(c.error().code == errc::invalid_argument);
    CHECK(c.error().message.find("TLS handshake") != std::string::npos);
    CHECK(c.error().message.find("couchbase.pathToCaCertificate") != std::string::npos);
  }());
}

TEST_CASE("TLS hostname verification refuses a name the certificate does not carry") {
  fixture f("name", 1);
  run(f.io, [&]() -> asio::awaitable<void> {
    cb::connection_options o = connection_options_for(f.fake);
    o.address.port = f.fake.kv_tls_port();
    o.tls.enabled = true;
    o.tls.ca_file = f.certs.file("ca.pem");
    o.tls.server_name = "elsewhere.example.com";
    auto refused = co_await cb::connection::open(f.io.get_executor(), o);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == errc::invalid_argument);
    o.tls.verify_hostname = false;  // the chain is still checked
    auto allowed = co_await cb::connection::open(f.io.get_executor(), o);
    CHECK(allowed);
  }());
}

TEST_CASE("a missing CA file is reported by name") {
  fixture f("noca", 1);
  run(f.io, [&]() -> asio::awaitable<void> {
    auto o = f.tls_options("does-not-exist.pem");
    auto c = co_await cb::cluster::connect(f.io.get_executor(), o);
    REQUIRE_FALSE(c);
    CHECK(c.error().code == errc::invalid_argument);
    CHECK(c.error().message.find("does-not-exist.pem") != std::string::npos);
  }());
}

// ---- client certificates (mutual TLS): the fake maps the CN to a user, no SASL runs ----

TEST_CASE("a client certificate authenticates a cluster connection without SASL or a password") {
  fixture f("mtls-ok", 2);
  // client-legacy.p12 is written the OpenSSL 1.x way (RC2-40, SHA-1 MAC), as older JDKs do too.
  for (const char* keystore : {"client.p12", "client-legacy.p12"}) {
    INFO(keystore);
    run(f.io, [&]() -> asio::awaitable<void> {
      auto o = f.certificate_options(keystore);
      auto c = co_await cb::cluster::connect(f.io.get_executor(), o);
      REQUIRE(c);
      // Both nodes: every KV connection presents the certificate (the fake answers SASL with
      // NotSupported on a certificate-authenticated connection, so none was attempted).
      co_await round_trip(**c);
      (*c)->close();

      cb::connection_options one = connection_options_for(f.fake);
      one.address.port = f.fake.kv_tls_port();
      one.username.clear();
      one.password.clear();
      one.tls = o.tls;
      auto conn = co_await cb::connection::open(f.io.get_executor(), one);
      REQUIRE(conn);
      CHECK((*conn)->certificate_authenticated());
      CHECK_FALSE((*conn)->bootstrap_config().empty());
      (*conn)->close();
    }());
  }
}

TEST_CASE("a wrong keystore password is one line naming the keystore and the setting") {
  fixture f("mtls-pw", 1);
  auto o = f.certificate_options("client.p12", "not-the-password");
  auto e = f.connect_error(o);
  CHECK(e.code == errc::invalid_argument);
  CHECK(e.message == "cannot open keystore '" + f.certs.file("client.p12") +
                         "': wrong password? check couchbase.clientCertificate.pathToPassword");
}

TEST_CASE("a keystore that is missing, not PKCS12, JKS or without a key is named with the fix") {
  fixture f("mtls-bad", 1);
  {
    auto e = f.connect_error(f.certificate_options("missing.p12"));
    CHECK(e.code == errc::invalid_argument);
    CHECK(e.message == "cannot read keystore '" + f.certs.file("missing.p12") +
                           "': No such file or directory; check couchbase.clientCertificate.path");
  }
  {
    auto e = f.connect_error(f.certificate_options("client.pem"));
    CHECK(e.code == errc::invalid_argument);
    CHECK_THAT(e.message, Contains("keystore '" + f.certs.file("client.pem") +
                                   "' is not a PKCS12 file; make one with openssl pkcs12 -export"));
  }
  {
    std::ofstream(f.certs.dir / "client.jks", std::ios::binary)
        << std::string("\xFE\xED\xFE\xED\x00\x00\x00\x02", 8);
    auto e = f.connect_error(f.certificate_options("client.jks"));
    CHECK_THAT(e.message, Contains("is a Java KeyStore (JKS), not PKCS12; convert it with keytool "
                                   "-importkeystore"));
  }
  {
    auto e = f.connect_error(f.certificate_options("client-nokey.p12"));
    CHECK(e.code == errc::invalid_argument);
    CHECK_THAT(e.message, Contains("keystore '" + f.certs.file("client-nokey.p12") +
                                   "' holds no private key"));
  }
}

TEST_CASE("a certificate whose CN names no Couchbase user is refused as an authentication error") {
  fixture f("mtls-cn", 1);
  auto e = f.connect_error(f.certificate_options("stranger.p12"));
  CHECK(e.code == errc::authentication_failed);
  CHECK_THAT(e.message, Contains("refused the client certificate"));
  CHECK_THAT(e.message, Contains("couchbase.clientCertificate"));
  CHECK(e.message.find('\n') == std::string::npos);
}

TEST_CASE("a certificate from a CA the cluster does not trust is refused") {
  fixture f("mtls-ca", 1);
  auto e = f.connect_error(f.certificate_options("other-client.p12"));
  // TLS 1.3 reports the server's alert on the first read (HELLO), TLS 1.2 in the handshake.
  CHECK((e.code == errc::authentication_failed || e.code == errc::connection_failed));
  CHECK_THAT(e.message, Contains("certificate"));
}

TEST_CASE("a client certificate without TLS is refused before connecting") {
  fixture f("mtls-plain", 1);
  auto o = f.certificate_options("client.p12");
  o.tls.enabled = false;
  o.seeds = f.fake.connection_string();
  auto e = f.connect_error(o);
  CHECK(e.code == errc::invalid_argument);
  CHECK(e.message == "a client certificate needs TLS (couchbase.secureConnection = true)");
}
