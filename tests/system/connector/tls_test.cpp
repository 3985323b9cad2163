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

namespace {

// `cbes` against a TLS sandbox with these CA files for Couchbase and Elasticsearch: it must exit
// 1 with one line naming the rejected certificate and the setting to fix, and write nothing.
void check_refused(const std::string& name, const std::string& couchbase_ca,
                   const std::string& es_ca, const std::string& setting) {
  cbes::test::pki certs(name);
  sandbox sb(10, tls_flags(certs));
  config_options o;
  o.ca_file = certs.file(couchbase_ca.c_str());
  o.es_ca_file = certs.file(es_ca.c_str());
  auto r = run_tool({bin("cbes"), "--config", write_config(fresh_dir(name), sb, o).string()});
  INFO(r.err);
  CHECK(r.code == 1);
  CHECK(r.err.find("certificate verify failed") != std::string::npos);
  CHECK(r.err.find(setting) != std::string::npos);
  CHECK(sb.count("etc") == 0);
}

}  // namespace

TEST_CASE("cbes refuses an Elasticsearch whose certificate another CA signed, at once") {
  // Elasticsearch is connected first, as the Java connector does.
  check_refused("tls-es-other-ca", "other-ca.pem", "other-ca.pem",
                "elasticsearch.pathToCaCertificate");
}

TEST_CASE("cbes refuses a Couchbase server whose certificate another CA signed, at once") {
  check_refused("tls-couchbase-other-ca", "other-ca.pem", "ca.pem",
                "couchbase.pathToCaCertificate");
}
