#include <catch2/catch.hpp>

#include "fixture.hpp"

using namespace es_fake_test;
using cbes::testkit::elasticsearch_flavor;

TEST_CASE("single documents: put, get, head, post with auto id, delete") {
  es_fixture f;
  auto put = f.call("PUT", "/docs/_doc/1?refresh=true", R"({"name":"John Smith","age":30})");
  REQUIRE(put.status == 201);
  auto pv = boost::json::parse(put.body);
  CHECK(str(pv, "/result") == "created");
  CHECK_FALSE(pv.as_object().contains("status"));
  auto get = f.json("GET", "/docs/_doc/1");
  CHECK(get.at("found") == true);
  CHECK(num(get, "/_version") == 1);
  CHECK(num(get, "/_seq_no") == 0);
  CHECK(num(get, "/_source/age") == 30);
  CHECK(f.call("HEAD", "/docs/_doc/1").status == 200);
  CHECK(f.call("HEAD", "/docs/_doc/2").status == 404);
  auto missing = f.call("GET", "/docs/_doc/2");
  CHECK(missing.status == 404);
  CHECK(missing.body == R"({"_index":"docs","_id":"2","found":false})");
  auto post = f.call("POST", "/docs/_doc", R"({"x":1})");
  CHECK(post.status == 201);
  CHECK(str(boost::json::parse(post.body), "/_id").size() == 20);
  auto del = f.call("DELETE", "/docs/_doc/1");
  CHECK(del.status == 200);
  CHECK(str(boost::json::parse(del.body), "/result") == "deleted");
  auto del2 = f.call("DELETE", "/docs/_doc/1");
  CHECK(del2.status == 404);
  CHECK(str(boost::json::parse(del2.body), "/result") == "not_found");
  auto create = f.call("PUT", "/docs/_create/post1", R"({})");
  CHECK(create.status == 201);
  auto again = f.call("PUT", "/docs/_create/post1", R"({})");
  CHECK(again.status == 409);
  CHECK(str(boost::json::parse(again.body), "/error/type") == "version_conflict_engine_exception");
}

TEST_CASE("a document in a missing index is index_not_found_exception") {
  es_fixture f;
  auto r = f.call("GET", "/nope/_doc/1");
  CHECK(r.status == 404);
  auto v = boost::json::parse(r.body);
  CHECK(str(v, "/error/type") == "index_not_found_exception");
  CHECK(str(v, "/error/reason") == "no such index [nope]");
  CHECK(str(v, "/error/index_uuid") == "_na_");
  CHECK(str(v, "/error/root_cause/0/resource.id") == "nope");
}

TEST_CASE("ES 7 documents carry _type _doc") {
  es_fixture f(flavor(elasticsearch_flavor::elasticsearch_7));
  f.call("PUT", "/d/_doc/1", "{}");
  CHECK(str(f.json("GET", "/d/_doc/1"), "/_type") == "_doc");
}

TEST_CASE("index admin: create, exists, get, duplicate, delete") {
  es_fixture f;
  auto c = f.json("PUT", "/adm",
                  R"({"settings":{"index":{"number_of_shards":"2","number_of_replicas":"0"}}})");
  CHECK(c.at("acknowledged") == true);
  CHECK(c.at("shards_acknowledged") == true);
  CHECK(str(c, "/index") == "adm");
  CHECK(f.call("HEAD", "/adm").status == 200);
  CHECK(f.call("HEAD", "/other").status == 404);
  auto g = f.json("GET", "/adm");
  CHECK(str(g, "/adm/settings/index/number_of_shards") == "2");
  auto dup = f.call("PUT", "/adm");
  CHECK(dup.status == 400);
  auto dv = boost::json::parse(dup.body);
  CHECK(str(dv, "/error/type") == "resource_already_exists_exception");
  CHECK(str(dv, "/error/reason").starts_with("index [adm/"));
  CHECK(str(dv, "/error/reason").ends_with("] already exists"));
  CHECK(f.json("DELETE", "/adm").at("acknowledged") == true);
  auto gone = f.call("DELETE", "/adm");
  CHECK(gone.status == 404);
  CHECK(str(boost::json::parse(gone.body), "/error/type") == "index_not_found_exception");
}

TEST_CASE("count and search see writes only after a refresh") {
  cbes::testkit::elasticsearch_options o;
  o.refresh_interval = std::chrono::milliseconds(-1);  // only explicit refreshes
  es_fixture f(o);
  f.call("POST", "/_bulk",
         "{\"index\":{\"_index\":\"s\",\"_id\":\"1\"}}\n{\"name\":\"Alpha Beta\",\"n\":1}\n"
         "{\"index\":{\"_index\":\"s\",\"_id\":\"2\"}}\n{\"name\":\"Gamma\",\"n\":2}\n");
  CHECK(num(f.json("GET", "/s/_count"), "/count") == 0);
  CHECK(f.json("GET", "/s/_doc/1").at("found") == true);  // GET is realtime
  auto r = f.json("POST", "/s/_refresh");
  CHECK(num(r, "/_shards/total") == 2);
  CHECK(num(r, "/_shards/successful") == 1);
  auto c = f.json("GET", "/s/_count");
  CHECK(num(c, "/count") == 2);
  CHECK(num(c, "/_shards/total") == 1);
  CHECK(num(f.json("POST", "/s/_count", R"({"query":{"term":{"n":2}}})"), "/count") == 1);
  CHECK(num(f.json("POST", "/s/_count", R"({"query":{"match":{"name":"alpha"}}})"), "/count") == 1);
  CHECK(num(f.json("POST", "/s/_count", R"({"query":{"term":{"name.keyword":"Gamma"}}})"),
            "/count") == 1);
  CHECK(num(f.json("POST", "/s/_count", R"({"query":{"term":{"name":"Gamma"}}})"), "/count") == 0);
  auto bad = f.call("POST", "/s/_count", R"({"size":1})");
  CHECK(bad.status == 400);
  CHECK(str(boost::json::parse(bad.body), "/error/reason") == "request does not support [size]");

  auto s = f.json("POST", "/s/_search", R"({"query":{"ids":{"values":["2"]}}})");
  CHECK(num(s, "/hits/total/value") == 1);
  CHECK(str(s, "/hits/total/relation") == "eq");
  CHECK(str(s, "/hits/hits/0/_id") == "2");
  CHECK(num(s, "/hits/hits/0/_source/n") == 2);
  auto page = f.json("GET", "/s/_search?size=1&from=1");
  CHECK(page.at_pointer("/hits/hits").as_array().size() == 1);
  CHECK(str(page, "/hits/hits/0/_id") == "2");
  CHECK(num(f.json("GET", "/s/_search?rest_total_hits_as_int=true"), "/hits/total") == 2);
  auto unknown = f.call("POST", "/s/_search", R"({"query":{"fuzzy_magic":{}}})");
  CHECK(unknown.status == 400);
  CHECK(num(f.json("GET", "/_count"), "/count") == 2);
  CHECK(f.call("GET", "/nope/_count").status == 404);
}

TEST_CASE("cluster health is yellow with replicas on a single node and honours wait_for_status") {
  es_fixture f;
  CHECK(str(f.json("GET", "/_cluster/health"), "/status") == "green");
  f.call("PUT", "/h");
  auto h = f.json("GET", "/_cluster/health");
  CHECK(str(h, "/status") == "yellow");
  CHECK(num(h, "/unassigned_shards") == 1);
  CHECK(num(h, "/number_of_nodes") == 1);
  CHECK(f.call("GET", "/_cluster/health?wait_for_status=yellow&timeout=1s").status == 200);
  auto g = f.call("GET", "/_cluster/health?wait_for_status=green&timeout=1s");
  CHECK(g.status == 408);
  CHECK(boost::json::parse(g.body).at("timed_out") == true);
}
