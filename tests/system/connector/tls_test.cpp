// `cbes` over TLS to both sides of `cbes-sandbox`, with certificates made by the test: the CA in
// pathToCaCertificate is verified, with the hostname, and a server signed by another CA is
// refused before anything is written.
#include "system/connector/harness.hpp"

#include <csignal>

#include "support/test_pki.hpp"

using namespace connector_st;

namespace {

std::vector<std::string> tls_flags(const cbes::test::pki& certs) {
  return {"--kv-tls-cert=" + certs.file("server.pem"), "--kv-tls-key=" + certs.file("server.key"),
          "--es-tls-cert=" + certs.file("server.pem"), "--es-tls-key=" + certs.file("server.key")};
}

}  // namespace

TEST_CASE("cbes replicates over TLS to Couchbase and Elasticsearch, verifying their CA") {
  cbes::test::pki certs("cbes-st-tls");
  sandbox sb(1000, tls_flags(certs));
  REQUIRE_FALSE(sb.kv_tls.empty());
  REQUIRE(sb.es.rfind("https://", 0) == 0);
  const auto dir = fresh_dir("tls");
  config_options o;
  o.ca_file = certs.file("ca.pem");
  auto cbes = start_cbes(write_config(dir, sb, o));
  INFO(cbes->errors());
  REQUIRE(cbes->wait_for(std::regex("ready: streaming 1024 of 1024")));
  CHECK(eventually([&] { return sb.count("airlines") + sb.count("etc") == 1000; }));
  cbes->signal(SIGTERM);
  CHECK(cbes->wait_exit(30s) == 0);
}

TEST_CASE("cbes refuses servers whose certificate another CA signed, in one line") {
  cbes::test::pki certs("cbes-st-tls-other");
  sandbox sb(10, tls_flags(certs));
  const auto dir = fresh_dir("tls-other-ca");
  config_options o;
  o.ca_file = certs.file("other-ca.pem");
  auto r = run_tool({bin("cbes"), "--config", write_config(dir, sb, o).string()});
  INFO(r.err);
  CHECK(r.code == 1);
  CHECK(r.err.find("certificate verify failed") != std::string::npos);
  CHECK(r.err.find("elasticsearch.pathToCaCertificate") != std::string::npos);
  CHECK(sb.count("etc") == 0);
}

TEST_CASE("cbes refuses a Couchbase server whose certificate another CA signed, at once") {
  cbes::test::pki certs("cbes-st-tls-cb-other");
  sandbox sb(10, tls_flags(certs));
  const auto dir = fresh_dir("tls-couchbase-other-ca");
  config_options o;
  o.ca_file = certs.file("other-ca.pem");
  o.es_ca_file = certs.file("ca.pem");  // Elasticsearch is fine: the refusal is Couchbase's
  auto r = run_tool({bin("cbes"), "--config", write_config(dir, sb, o).string()});
  INFO(r.err);
  CHECK(r.code == 1);
  CHECK(r.err.find("certificate verify failed") != std::string::npos);
  CHECK(r.err.find("couchbase.pathToCaCertificate") != std::string::npos);
}
