#include <catch2/catch.hpp>

#include "fixture.hpp"

using namespace es_fake_test;
using cbes::testkit::elasticsearch_flavor;

TEST_CASE("GET / of the elasticsearch-8 flavour has the ES 8 shape and the product header") {
  es_fixture f;
  auto r = f.call("GET", "/");
  REQUIRE(r.status == 200);
  CHECK(r.header("X-elastic-product") == "Elasticsearch");
  CHECK(r.header("content-type") == "application/json; charset=UTF-8");
  auto v = boost::json::parse(r.body);
  CHECK(str(v, "/version/number").starts_with("8."));
  CHECK(str(v, "/version/build_flavor") == "default");
  CHECK(str(v, "/version/minimum_wire_compatibility_version") == "7.17.0");
  CHECK(str(v, "/tagline") == "You Know, for Search");
  CHECK_FALSE(v.as_object().at("version").as_object().contains("distribution"));
}

TEST_CASE("GET / of the elasticsearch-7 flavour reports 7.17 with 6.x compatibility versions") {
  es_fixture f(flavor(elasticsearch_flavor::elasticsearch_7));
  auto r = f.call("GET", "/");
  CHECK(r.header("X-elastic-product") == "Elasticsearch");
  auto v = boost::json::parse(r.body);
  CHECK(str(v, "/version/number").starts_with("7.17."));
  CHECK(str(v, "/version/minimum_wire_compatibility_version") == "6.8.0");
  CHECK(str(v, "/version/minimum_index_compatibility_version") == "6.0.0-beta1");
}

TEST_CASE("GET / of the opensearch-2 flavour has distribution first and no product header") {
  es_fixture f(flavor(elasticsearch_flavor::opensearch_2));
  auto r = f.call("GET", "/");
  CHECK_FALSE(r.has_header("X-elastic-product"));
  auto v = boost::json::parse(r.body);
  const auto& version = v.as_object().at("version").as_object();
  CHECK(version.begin()->key() == "distribution");
  CHECK(str(v, "/version/distribution") == "opensearch");
  CHECK_FALSE(version.contains("build_flavor"));
  CHECK(str(v, "/tagline") == "The OpenSearch Project: https://opensearch.org/");
  CHECK(str(v, "/version/minimum_wire_compatibility_version") == "7.10.0");
}

TEST_CASE("HEAD / answers 200 without a body") {
  es_fixture f;
  auto r = f.call("HEAD", "/");
  CHECK(r.status == 200);
  CHECK(r.body.empty());
  CHECK(r.header("X-elastic-product") == "Elasticsearch");
}

TEST_CASE("a body without Content-Type is refused with 406 as ES does") {
  es_fixture f;
  auto r = f.call("PUT", "/idx", "{}", {{"Content-Type", "text/plain"}});
  CHECK(r.status == 406);
  CHECK(r.body == R"({"error":"Content-Type header [text/plain] is not supported","status":406})");
  auto raw = cbes::testkit::http_request(f.es.url(), "PUT", "/idx", "{}", {}, 30s);
  REQUIRE(raw);
  // The sync client adds no Content-Type of its own.
  CHECK(raw->status == 406);
  CHECK(raw->body == R"({"error":"Content-Type header is missing","status":406})");
}

TEST_CASE("vendor media types are accepted by ES 8 and refused by OpenSearch") {
  cbes::testkit::http_headers vendor{
      {"Content-Type", "application/vnd.elasticsearch+json; compatible-with=8"},
      {"Accept", "application/vnd.elasticsearch+json; compatible-with=8,text/plain"}};
  {
    es_fixture f;
    auto r = f.call("PUT", "/idx", "{}", vendor);
    CHECK(r.status == 200);
    CHECK(r.header("content-type") == "application/vnd.elasticsearch+json;compatible-with=8");
  }
  {
    auto o = flavor(elasticsearch_flavor::elasticsearch_8);
    o.lenient_compatible_with = false;
    es_fixture f(o);
    auto r = f.call("PUT", "/idx", "{}",
                    {{"Content-Type", "application/json"},
                     {"Accept", "application/vnd.elasticsearch+json; compatible-with=9"}});
    CHECK(r.status == 400);
    auto v = boost::json::parse(r.body);
    CHECK(str(v, "/error/type") == "media_type_header_exception");
    CHECK(str(v, "/error/caused_by/reason")
              .starts_with("Accept version must be either version 8 or 7, but found 9."));
  }
  {
    es_fixture f(flavor(elasticsearch_flavor::opensearch_2));
    auto r = f.call("PUT", "/idx", "{}", vendor);
    CHECK(r.status == 406);
    CHECK(r.body.find("is not supported") != std::string::npos);
  }
}

TEST_CASE("an unknown endpoint gets the plain-string 400 and a wrong method 405") {
  es_fixture f;
  auto r = f.call("GET", "/idx/_nothing_here");
  CHECK(r.status == 400);
  CHECK(r.body.find("no handler found for uri [/idx/_nothing_here] and method [GET]") !=
        std::string::npos);
  auto m = f.call("GET", "/_bulk");
  CHECK(m.status == 405);
  CHECK(m.body.find("Incorrect HTTP method for uri [/_bulk] and method [GET]") !=
        std::string::npos);
}
