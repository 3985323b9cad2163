#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "integration/consul/harness.hpp"

using namespace consul_it;
using consul::errc;
namespace fs = std::filesystem;

namespace {
// A CA and a server certificate for 127.0.0.1/localhost, made with the openssl CLI.
struct pki {
  fs::path dir;
  explicit pki(const std::string& name) {
    dir = fs::temp_directory_path() / ("libconsul-tls-" + name + "-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    const std::string d = dir.string();
    std::ofstream(dir / "ext.cnf") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    const std::string script =
        "cd '" + d +
        "' && "
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
        "-subj /CN=test-ca >/dev/null 2>&1 && "
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem "
        "-days 2 -subj /CN=other-ca >/dev/null 2>&1 && "
        "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr "
        "-subj /CN=localhost >/dev/null 2>&1 && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out server.pem -days 2 -extfile ext.cnf >/dev/null 2>&1";
    REQUIRE(std::system(script.c_str()) == 0);
  }
  ~pki() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string file(const char* n) const { return (dir / n).string(); }
};
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
    CHECK(r.error().code == errc::connection_failed);
    CHECK(r.error().message.find("TLS handshake") != std::string::npos);
  }());
}
