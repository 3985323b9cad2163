#include <catch2/catch.hpp>

#include "cbes/config/conversions.hpp"
#include "cbes/couchbase/seed.hpp"
#include "fixture.hpp"

using namespace cbes::config;
using namespace cbes::config::test;
using Catch::Matchers::Contains;
using namespace std::chrono_literals;

TEST_CASE(
    "conversions: a host:port without =kind is a manager port, as the Java connector reads it") {
  CHECK(seed_list({"cb1", "cb2:8091", "cb3:11210=kv", "[::1]:9000", "::1"}) ==
        "cb1,cb2:8091=manager,cb3:11210=kv,[::1]:9000=manager,::1");
  auto seeds = cbes::couchbase::parse_seeds(seed_list({"cb2:9000"}), false);
  REQUIRE(seeds.has_value());
  CHECK(seeds->at(0).kind == cbes::couchbase::seed_kind::manager);
  CHECK(seeds->at(0).port == 9000);
}

TEST_CASE("conversions: cluster options for the streamed bucket and for the metadata bucket") {
  config_env env;
  env.dir.write("ca.pem", "x");
  auto r = env.parse(in_couchbase("bucket = 'travel'\nmetadataBucket = 'meta'\n"
                                  "metadataCollection = 'cbes.cp'\nusername = 'u'\n"
                                  "secureConnection = true\npathToCaCertificate = 'ca.pem'\n"
                                  "hostnameVerification = false\nnetwork = 'external'\n") +
                     "[couchbase.dcp]\nconnectTimeout = '4s'\n[couchbase.env]\n"
                     "timeout.kvTimeout = '3s'\ntimeout.connectTimeout = '6s'\n"
                     "io.configPollInterval = '1s'\n");
  REQUIRE(r);
  const auto o = cluster_options(*r);
  CHECK(o.seeds == "127.0.0.1");
  CHECK(o.bucket == "travel");
  CHECK(o.username == "u");
  CHECK(o.password == "cb-secret");
  CHECK(o.tls.enabled);
  CHECK(o.tls.ca_file == (env.dir.path() / "ca.pem").string());
  CHECK_FALSE(o.tls.verify_hostname);
  CHECK(o.network == "external");
  CHECK(o.connect_timeout == 4s);
  CHECK(o.operation_timeout == 3s);
  CHECK(o.config_poll_interval == 1s);

  const auto m = metadata_cluster_options(*r);
  CHECK(m.bucket == "meta");
  CHECK(m.connect_timeout == 6s);
  const auto coll = metadata_collection(*r);
  CHECK(coll.scope == "cbes");
  CHECK(coll.name == "cp");

  auto plain = env.parse(minimal_config);
  REQUIRE(plain);
  CHECK(metadata_cluster_options(*plain).bucket == "default");
  CHECK(metadata_cluster_options(*plain).connect_timeout == 10s);
  CHECK(metadata_collection(*plain).is_default());
}

TEST_CASE("conversions: DCP consumer options carry buffer, compression, filter and a unique name") {
  config_env env;
  auto r = env.parse(
      replacing("memberNumber = 1\ntotalMembers = 1", "memberNumber = 2\ntotalMembers = 3") +
      "[couchbase.dcp]\nflowControlBuffer = '1mb'\ncompression = false\n");
  REQUIRE(r);
  auto o = consumer_options(*r);
  CHECK(o.name == "cbes/g/2");
  CHECK(o.buffer_size == 1024u * 1024);
  CHECK_FALSE(o.compression);
  CHECK(o.scope.empty());
  CHECK(o.collections.empty());
  auto filtered = env.parse(in_couchbase("collections = ['a.b']\n"));
  REQUIRE(filtered);
  CHECK(consumer_options(*filtered).collections == std::vector<std::string>{"a.b"});
}

TEST_CASE("conversions: sink connection settings use basic auth, or the API key in Elastic Cloud") {
  config_env env;
  auto basic = env.parse(in_elasticsearch("username = 'elastic'\n") +
                         "[elasticsearch.bulkRequestLimits]\ntimeout = '2m'\n");
  REQUIRE(basic);
  auto s = sink_connection_settings(*basic);
  CHECK(s.hosts == std::vector<std::string>{"127.0.0.1"});
  CHECK(s.username == "elastic");
  CHECK(s.password == "es-secret");
  CHECK(s.api_key.empty());
  CHECK(s.request_timeout == std::optional<std::chrono::milliseconds>(123s));  // timeout + 3 s

  auto cloud = env.parse(replacing("hosts = ['127.0.0.1']\npathToPassword = 'es.toml'",
                                   "hosts = ['my.es.cloud', 'https://other:9243/']\n"
                                   "pathToPassword = 'es.toml'\nsecureConnection = true\n"
                                   "username = 'ignored'") +
                         "[elasticsearch.elasticCloud]\nenabled = true\n");
  REQUIRE(cloud);
  auto c = sink_connection_settings(*cloud);
  CHECK(c.hosts == std::vector<std::string>{"my.es.cloud:443", "https://other:9243/"});
  CHECK(c.api_key == "es-secret");
  CHECK(c.username.empty());
  CHECK(c.password.empty());
  CHECK(c.secure_connection);
}

TEST_CASE("conversions: a client certificate replaces username and password on both sides") {
  config_env env;
  env.dir.write("ks.p12", "x");
  env.dir.write("ks.toml", "password = 'keystore-secret'\n");
  std::string text(minimal_config);
  for (const std::string file : {"cb.toml", "es.toml"}) {
    const std::string line = "pathToPassword = '" + file + "'\n";
    text.replace(text.find(line), line.size(),
                 line + "secureConnection = true\nusername = 'someone'\n");
  }
  const std::string cert = "use = true\npath = 'ks.p12'\npathToPassword = 'ks.toml'\n";
  auto r = env.parse(text + "[couchbase.clientCertificate]\n" + cert +
                     "[elasticsearch.clientCertificate]\n" + cert);
  REQUIRE(r);
  const auto keystore = (env.dir.path() / "ks.p12").string();
  for (const auto& o : {cluster_options(*r), metadata_cluster_options(*r)}) {
    CHECK(o.tls.enabled);
    CHECK(o.tls.client_keystore == keystore);
    CHECK(o.tls.client_keystore_password == "keystore-secret");
    CHECK(o.username.empty());
    CHECK(o.password.empty());
  }
  const auto s = sink_connection_settings(*r);
  CHECK(s.client_keystore == keystore);
  CHECK(s.client_keystore_password == "keystore-secret");
  CHECK(s.username.empty());  // no basic auth
  CHECK(s.password.empty());

  const auto summary = redacted_summary(*r);
  CHECK_THAT(summary, Contains("clientCertificate=" + keystore + " keystorePassword=<redacted>"));
  CHECK_THAT(summary, !Contains("keystore-secret"));
}

TEST_CASE("conversions: the startup summary shows the settings but no password") {
  config_env env;
  auto r = env.parse(in_couchbase("username = 'Administrator'\n"));
  REQUIRE(r);
  const auto text = redacted_summary(*r);
  CHECK_THAT(text, Contains("group: name='g' member 1 of 1"));
  CHECK_THAT(text, Contains("username='Administrator' password=<redacted>"));
  CHECK_THAT(text, Contains("flowControlBuffer=16mb"));
  CHECK_THAT(text, Contains("elasticsearch.type #1: prefix='' index='etc'"));
  CHECK_THAT(text, !Contains("cb-secret"));
  CHECK_THAT(text, !Contains("es-secret"));
}

TEST_CASE("conversions: Amazon OpenSearch Service signs with SigV4 on port 443, no basic auth") {
  config_env env;
  auto aws = env.parse(replacing("hosts = ['127.0.0.1']\npathToPassword = 'es.toml'",
                                 "hosts = ['https://search-x.eu-west-1.es.amazonaws.com:9200/']\n"
                                 "pathToPassword = 'es.toml'\nsecureConnection = true\n"
                                 "username = 'ignored'") +
                       "[elasticsearch.aws]\nregion = 'eu-west-1'\n");
  REQUIRE(aws);
  auto s = sink_connection_settings(*aws);
  // The Java connector ignores another port: the domain endpoint listens on 443.
  CHECK(s.hosts == std::vector<std::string>{"https://search-x.eu-west-1.es.amazonaws.com:443"});
  CHECK(s.aws_region == "eu-west-1");
  CHECK(s.username.empty());
  CHECK(s.password.empty());
}
