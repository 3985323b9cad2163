#include <catch2/catch.hpp>

#include <zlib.h>

#include "fixture.hpp"

using namespace es_fake_test;
using cbes::testkit::elasticsearch_flavor;

namespace {

cbes::testkit::elasticsearch_options secured(
    elasticsearch_flavor fl = elasticsearch_flavor::elasticsearch_8) {
  auto o = flavor(fl);
  o.username = "elastic";
  o.password = "changeme";
  o.api_keys = {"key-id:key-secret"};
  return o;
}

std::string gzip(std::string_view in) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) ==
          Z_OK);
  std::string out(deflateBound(&zs, static_cast<uLong>(in.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace

TEST_CASE("without credentials every request is 401 security_exception with WWW-Authenticate") {
  es_fixture f(secured());
  auto r = f.call("GET", "/");
  CHECK(r.status == 401);
  auto v = boost::json::parse(r.body);
  CHECK(str(v, "/error/type") == "security_exception");
  CHECK(str(v, "/error/reason") == "missing authentication credentials for REST request [/]");
  CHECK(str(v, "/error/header/WWW-Authenticate/2") == "ApiKey");
  CHECK(num(v, "/status") == 401);
  CHECK(r.header("WWW-Authenticate") == "Basic realm=\"security\", charset=\"UTF-8\"");
  int challenges = 0;
  for (const auto& [k, val] : r.headers)
    challenges += k == "WWW-Authenticate" ? 1 : 0;
  CHECK(challenges == 3);
}

TEST_CASE("basic auth and API keys are accepted, a wrong password names the user") {
  es_fixture f(secured());
  CHECK(f.call("GET", "/", {}, {{"Authorization", "Basic ZWxhc3RpYzpjaGFuZ2VtZQ=="}}).status ==
        200);
  // base64("key-id:key-secret")
  CHECK(f.call("GET", "/", {}, {{"Authorization", "ApiKey a2V5LWlkOmtleS1zZWNyZXQ="}}).status ==
        200);
  auto bad = f.call("GET", "/idx/_doc/1", {}, {{"Authorization", "Basic ZWxhc3RpYzp3cm9uZw=="}});
  CHECK(bad.status == 401);
  CHECK(str(boost::json::parse(bad.body), "/error/reason") ==
        "unable to authenticate user [elastic] for REST request [/idx/_doc/1]");
  CHECK(f.call("GET", "/", {}, {{"Authorization", "ApiKey bm9wZTpub3Bl"}}).status == 401);
}

TEST_CASE("OpenSearch's security plugin answers 401 in plain text") {
  es_fixture f(secured(elasticsearch_flavor::opensearch_2));
  auto r = f.call("GET", "/");
  CHECK(r.status == 401);
  CHECK(r.body == "Unauthorized");
  CHECK(r.header("WWW-Authenticate") == "Basic realm=\"OpenSearch Security\"");
}

TEST_CASE("gzip request bodies are inflated and corrupt ones are refused") {
  es_fixture f;
  std::string body = "{\"index\":{\"_index\":\"z\",\"_id\":\"1\"}}\n{\"x\":1}\n";
  auto r = f.call("POST", "/_bulk", gzip(body),
                  {{"Content-Type", "application/x-ndjson"}, {"Content-Encoding", "gzip"}});
  REQUIRE(r.status == 200);
  CHECK(f.es.document("z", "1") == R"({"x":1})");
  CHECK(f.es.stats().bytes_received < body.size() + 64);
  auto bad = f.call("POST", "/_bulk", "not gzip at all",
                    {{"Content-Type", "application/x-ndjson"}, {"Content-Encoding", "gzip"}});
  CHECK(bad.status == 400);
}

TEST_CASE("bodies above max_content_length get 413 with an empty body, decoded size counts") {
  auto o = flavor(elasticsearch_flavor::elasticsearch_8);
  o.max_content_length = 1000;
  es_fixture f(o);
  std::string big =
      "{\"index\":{\"_index\":\"z\"}}\n{\"pad\":\"" + std::string(2000, 'p') + "\"}\n";
  auto r = f.call("POST", "/_bulk", big);
  CHECK(r.status == 413);
  CHECK(r.body.empty());
  auto zipped = gzip(big);
  REQUIRE(zipped.size() < 1000);
  auto z = f.call("POST", "/_bulk", zipped,
                  {{"Content-Type", "application/x-ndjson"}, {"Content-Encoding", "gzip"}});
  CHECK(z.status == 413);
  CHECK(f.es.indices().empty());
}
