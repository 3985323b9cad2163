// Pure parts of the sink's I/O side: host strings, the socket timeout rule, the root document
// sniff and version refusal, gzip.
#include "integration/sink/scripted_es.hpp"  // first: warning pragmas

#include <catch2/catch.hpp>

#include "cbes/sink/http_pool.hpp"
#include "cbes/sink/server_info.hpp"

using namespace cbes::sink;

TEST_CASE("host strings accept host, host:port, http:// and https:// with default port 9200") {
  auto a = parse_host("es1", false);
  REQUIRE(a);
  CHECK(a->host == "es1");
  CHECK(a->port == 9200);
  CHECK_FALSE(a->tls);
  CHECK(a->url() == "http://es1:9200");

  a = parse_host("10.0.0.1:9201", false);
  REQUIRE(a);
  CHECK(a->host == "10.0.0.1");
  CHECK(a->port == 9201);

  a = parse_host("https://es.example.com/", true);
  REQUIRE(a);
  CHECK(a->tls);
  CHECK(a->port == 9200);
  CHECK(a->url() == "https://es.example.com:9200");

  a = parse_host("HTTP://es:80", false);
  REQUIRE(a);
  CHECK(a->port == 80);

  a = parse_host("[::1]:9300", false);
  REQUIRE(a);
  CHECK(a->host == "::1");
  CHECK(a->url() == "http://[::1]:9300");

  a = parse_host("es", true);  // bare host follows secureConnection
  REQUIRE(a);
  CHECK(a->tls);
}

TEST_CASE("bad host strings give one line naming the setting") {
  for (const char* bad : {"", "es:", "es:0", "es:65536", "es:9x", "ftp://es", "es/path", "::1",
                          "[::1", "[nope]:1", "e s", "http://"}) {
    auto a = parse_host(bad, false);
    INFO(bad);
    REQUIRE_FALSE(a);
    CHECK(a.error().code == errc::invalid_argument);
    CHECK(a.error().message.starts_with("elasticsearch.hosts: '"));
    CHECK(a.error().message.find('\n') == std::string::npos);
  }
  auto https_plain = parse_host("https://es", false);
  REQUIRE_FALSE(https_plain);
  CHECK(https_plain.error().message.find("secureConnection") != std::string::npos);
  auto http_secure = parse_host("http://es", true);
  REQUIRE_FALSE(http_secure);
  CHECK(http_secure.error().message.find("secureConnection") != std::string::npos);
}

TEST_CASE("socket timeout is max(60 s, bulk timeout + 3 s)") {
  CHECK(socket_timeout(std::chrono::seconds(1)) == std::chrono::seconds(60));
  CHECK(socket_timeout(std::chrono::minutes(1)) == std::chrono::seconds(63));
  CHECK(socket_timeout(std::chrono::minutes(5)) == std::chrono::seconds(303));
}

TEST_CASE("root document sniff tells Elasticsearch from OpenSearch") {
  auto es = parse_server_info(
      R"({"name":"n","version":{"number":"8.1.0","build_flavor":"default"},"tagline":"You Know, for Search"})");
  REQUIRE(es);
  CHECK(es->flavour == distribution::elasticsearch);
  CHECK(es->version == server_version{8, 1, 0});
  CHECK(es->describe() == "Elasticsearch 8.1.0");

  auto os = parse_server_info(
      R"({"version":{"distribution":"opensearch","number":"2.11.0"},"tagline":"The OpenSearch Project: https://opensearch.org/"})");
  REQUIRE(os);
  CHECK(os->flavour == distribution::opensearch);
  CHECK_FALSE(os->compatibility_mode);

  auto compat = parse_server_info(
      R"({"version":{"number":"7.10.2"},"tagline":"The OpenSearch Project: https://opensearch.org/"})");
  REQUIRE(compat);
  CHECK(compat->flavour == distribution::opensearch);
  CHECK(compat->compatibility_mode);
  CHECK_FALSE(check_supported(*compat));

  auto snapshot = parse_server_info(R"({"version":{"number":"8.12.0-SNAPSHOT"}})");
  REQUIRE(snapshot);
  CHECK(snapshot->version == server_version{8, 12, 0});

  for (const char* bad : {"", "[]", "{}", R"({"version":{}})", R"({"version":{"number":"8"}})",
                          R"({"version":{"number":"x.y.z"}})", "<html>"}) {
    INFO(bad);
    auto r = parse_server_info(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::bad_response);
  }
}

TEST_CASE("Elasticsearch below 7.14 and OpenSearch below 1.3.3 are refused") {
  auto info = [](int a, int b, int c, distribution d) {
    server_info i;
    i.flavour = d;
    i.version = {a, b, c};
    return i;
  };
  CHECK(check_supported(info(7, 14, 0, distribution::elasticsearch)) == std::nullopt);
  CHECK(check_supported(info(8, 0, 0, distribution::elasticsearch)) == std::nullopt);
  auto old = check_supported(info(7, 13, 4, distribution::elasticsearch));
  REQUIRE(old);
  CHECK(old->find("Elasticsearch 7.13.4 is not supported: the minimum is 7.14.0") !=
        std::string::npos);
  CHECK(check_supported(info(1, 3, 3, distribution::opensearch)) == std::nullopt);
  auto old_os = check_supported(info(1, 3, 2, distribution::opensearch));
  REQUIRE(old_os);
  CHECK(old_os->find("OpenSearch 1.3.2 is not supported: the minimum is 1.3.3") !=
        std::string::npos);
}

TEST_CASE("gzip bodies inflate back to the original") {
  std::string text;
  for (int i = 0; i < 1000; ++i)
    text += R"({"index":{"_index":"i","_id":")" + std::to_string(i) + "\"}}\n{\"a\":1}\n";
  const auto z = gzip_compress(text);
  CHECK(z.size() < text.size() / 4);
  CHECK(sink_it::gunzip(z) == text);
  CHECK(sink_it::gunzip(gzip_compress("")).empty());
}
