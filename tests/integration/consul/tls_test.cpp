#include <catch2/catch.hpp>

#include "integration/consul/harness.hpp"
#include "support/test_pki.hpp"

using namespace consul_it;
using consul::errc;

namespace {
using cbes::test::pki;
}  // namespace

TEST_CASE("https with a trusted CA and hostname verification works") {
  pki p("ok");
  cbes::testkit::consul_agent_options ao;
  ao.tls_cert_file = p.file("server.pem");
  ao.tls_key_file = p.file("server.key");
  agent_fixture f(ao);
  auto o = options_for(f.agent);
  o.scheme = consul::scheme::https;
  o.ca_file = p.file("ca.pem");
  consul::client c(f.io.get_executor(), o);
  run(f.io, [&]() -> asio::awaitable<void> {
    REQUIRE(co_await c.kv().put("tls", "yes"));
    auto r = co_await c.kv().get("tls");
    REQUIRE(r);
    CHECK(r->value->value == "yes");
  }());
}

TEST_CASE("https with the wrong CA fails with a clear connection error") {
  pki p("bad");
  cbes::testkit::consul_agent_options ao;
  ao.tls_cert_file = p.file("server.pem");
  ao.tls_key_file = p.file("server.key");
  agent_fixture f(ao);
  auto o = options_for(f.agent);
  o.scheme = consul::scheme::https;
  o.ca_file = p.file("other-ca.pem");
  o.retry_deadline = 200ms;
  consul::client c(f.io.get_executor(), o);
  run(f.io, [&]() -> asio::awaitable<void> {
    auto r = co_await c.kv().get("tls");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::tls_failed);
    CHECK_FALSE(r.error().transient());  // waiting will not make the certificate trusted
    CHECK(r.error().message.find("TLS handshake") != std::string::npos);
  }());
}
