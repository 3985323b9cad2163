#include <catch2/catch.hpp>

#include "integration/couchbase/harness.hpp"
#include "support/test_pki.hpp"

using namespace couchbase_it;
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
};

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
    for (int i = 0; i < 40; ++i) {
      const std::string key = "tls-" + std::to_string(i);
      auto awaited1 = co_await (*c)->upsert({}, key, R"({"tls":true})");
      REQUIRE(awaited1);
      auto g = co_await (*c)->get({}, key);
      REQUIRE(g);
      CHECK(g->value == R"({"tls":true})");
    }
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
