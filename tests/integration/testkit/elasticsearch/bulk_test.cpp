#include <catch2/catch.hpp>

#include "fixture.hpp"

using namespace es_fake_test;
using cbes::testkit::elasticsearch_flavor;

namespace {

// The whole-request error of a bulk body: {type, reason} with status 400.
std::pair<std::string, std::string> bulk_error(es_fixture& f, std::string_view body,
                                               std::string_view target = "/_bulk") {
  auto r = f.call("POST", target, body);
  REQUIRE(r.status == 400);
  auto v = boost::json::parse(r.body);
  CHECK(num(v, "/status") == 400);
  CHECK(str(v, "/error/root_cause/0/type") == str(v, "/error/type"));
  return {str(v, "/error/type"), str(v, "/error/reason")};
}

}  // namespace

TEST_CASE("bulk index, create, update and delete report per-item results in request order") {
  es_fixture f;
  auto v = f.json("POST", "/_bulk?refresh=false",
                  "{\"index\":{\"_index\":\"test\",\"_id\":\"1\"}}\n{\"a\":1}\n"
                  "{\"create\":{\"_index\":\"test\",\"_id\":\"2\"}}\n{\"a\":2}\n"
                  "{\"index\":{\"_index\":\"test\",\"_id\":\"1\"}}\n{\"a\":3}\n"
                  "{\"update\":{\"_index\":\"test\",\"_id\":\"2\"}}\n{\"doc\":{\"b\":true}}\n"
                  "{\"delete\":{\"_index\":\"test\",\"_id\":\"2\"}}\n"
                  "{\"delete\":{\"_index\":\"test\",\"_id\":\"nope\"}}\n");
  CHECK(v.at("errors") == false);
  CHECK(v.at("took").is_int64());
  const auto& items = v.at("items").as_array();
  REQUIRE(items.size() == 6);
  CHECK(str(v, "/items/0/index/result") == "created");
  CHECK(num(v, "/items/0/index/status") == 201);
  CHECK(num(v, "/items/0/index/_version") == 1);
  CHECK(num(v, "/items/0/index/_seq_no") == 0);
  CHECK(num(v, "/items/0/index/_primary_term") == 1);
  CHECK(num(v, "/items/0/index/_shards/total") == 2);
  CHECK(num(v, "/items/0/index/_shards/successful") == 1);
  CHECK_FALSE(items[0].at("index").as_object().contains("_type"));
  CHECK(str(v, "/items/1/create/result") == "created");
  CHECK(str(v, "/items/2/index/result") == "updated");
  CHECK(num(v, "/items/2/index/status") == 200);
  CHECK(num(v, "/items/2/index/_version") == 2);
  CHECK(str(v, "/items/3/update/result") == "updated");
  CHECK(str(v, "/items/4/delete/result") == "deleted");
  // A delete of a missing document is a 404 without error and does not set `errors`.
  CHECK(str(v, "/items/5/delete/result") == "not_found");
  CHECK(num(v, "/items/5/delete/status") == 404);
  CHECK_FALSE(items[5].at("delete").as_object().contains("error"));
  CHECK(f.es.document("test", "1") == R"({"a":3})");
  CHECK_FALSE(f.es.document("test", "2"));
}

TEST_CASE("ES 7 bulk items carry _type _doc, ES 8 and OpenSearch 2 do not") {
  for (auto fl : {elasticsearch_flavor::elasticsearch_7, elasticsearch_flavor::elasticsearch_8,
                  elasticsearch_flavor::opensearch_2}) {
    es_fixture f(flavor(fl));
    auto v = f.json("POST", "/idx/_bulk", "{\"index\":{\"_id\":\"1\"}}\n{\"a\":1}\n");
    bool has_type = v.at_pointer("/items/0/index").as_object().contains("_type");
    CHECK(has_type == (fl == elasticsearch_flavor::elasticsearch_7));
    CHECK(str(v, "/items/0/index/_index") == "idx");
  }
}

TEST_CASE("a bulk body without the final newline fails as a whole") {
  es_fixture f;
  auto [type, reason] = bulk_error(f, "{\"index\":{\"_index\":\"a\"}}\n{\"x\":1}");
  CHECK(type == "illegal_argument_exception");
  CHECK(reason == "The bulk request must be terminated by a newline [\\n]");
  CHECK(f.es.indices().empty());
}

TEST_CASE("malformed action lines fail the whole request with the parser's texts") {
  es_fixture f;
  CHECK(bulk_error(f, "[1]\n").second ==
        "Malformed action/metadata line [1], expected START_OBJECT but found [START_ARRAY]");
  CHECK(bulk_error(f, "{}\n").second ==
        "Malformed action/metadata line [1], expected FIELD_NAME but found [END_OBJECT]");
  CHECK(bulk_error(f, "{\"index\":\"x\"}\n{}\n").second ==
        "Malformed action/metadata line [1], expected START_OBJECT or END_OBJECT but found "
        "[VALUE_STRING]");
  CHECK(bulk_error(f, "{\"index\":{\"_id\":[1]}}\n{}\n").second ==
        "Malformed action/metadata line [1], expected a simple value for field [_id] but found "
        "[START_ARRAY]");
  CHECK(bulk_error(f, "{\"index\":{\"_index\":\"a\"}}\n{}\n{\"index\":{\"foo\":1}}\n{}\n").second ==
        "Action/metadata line [3] contains an unknown parameter [foo]");
  CHECK(bulk_error(f, "{\"index\":{\"_index\":\"a\",\"_type\":\"_doc\"}}\n{}\n").second ==
        "Action/metadata line [1] contains an unknown parameter [_type]");
  CHECK(bulk_error(f, "{\"foo\":{\"_index\":\"a\"}}\n{}\n").second ==
        "Malformed action/metadata line [1], expected one of [create, delete, index, update] but "
        "found [foo]");
  CHECK(bulk_error(f, "{\"update\":{\"_index\":\"a\",\"_id\":\"1\",\"version\":2}}\n{\"doc\":{}}\n")
            .second ==
        "Update requests do not support versioning. Please use `if_seq_no` and `if_primary_term` "
        "instead");
  CHECK(
      bulk_error(f, "{\"index\":{\"_index\":\"a\",\"_id\":\"1\",\"version_type\":\"bogus\"}}\n{}\n")
          .second == "No version type match [bogus]");
  auto broken = bulk_error(f, "{\"index\":{\"_index\":}}\n{}\n");
  CHECK(broken.first == "x_content_parse_exception");
  CHECK(broken.second.find("Unexpected character ('}' (code 125))") != std::string::npos);
  // Nothing of a failed request is applied.
  CHECK(f.es.indices().empty());
}

TEST_CASE("ES 7 accepts _type in bulk metadata") {
  es_fixture f(flavor(elasticsearch_flavor::elasticsearch_7));
  auto v = f.json("POST", "/_bulk",
                  "{\"index\":{\"_index\":\"a\",\"_type\":\"_doc\",\"_id\":\"1\"}}\n{}\n");
  CHECK(v.at("errors") == false);
}

TEST_CASE("bulk validation collects every item's error before executing any") {
  es_fixture f;
  std::string long_id(513, 'x');
  auto [type, reason] =
      bulk_error(f,
                 "{\"index\":{\"_index\":\"a\",\"_id\":\"ok\"}}\n{}\n"
                 "{\"delete\":{\"_index\":\"a\"}}\n"
                 "{\"index\":{\"_index\":\"a\",\"_id\":\"" +
                     long_id +
                     "\"}}\n{}\n"
                     "{\"index\":{\"_index\":\"a\",\"_id\":\"1\",\"pipeline\":\"\"}}\n{}\n");
  CHECK(type == "action_request_validation_exception");
  CHECK(reason == "Validation Failed: 1: id is missing;2: id [" + long_id +
                      "] is too long, must be no longer than 512 bytes but was: 513;3: pipeline "
                      "cannot be an empty string;");
  CHECK_FALSE(f.es.document("a", "ok"));
  CHECK(bulk_error(f, "{\"index\":{\"_index\":\"a\"}}\n").second ==
        "Validation Failed: 1: no requests added;");
  CHECK(bulk_error(f, "{\"index\":{\"_id\":\"1\"}}\n{}\n").second ==
        "Validation Failed: 1: index is missing;");
}

TEST_CASE("an empty bulk body is 'request body is required'") {
  es_fixture f;
  auto r = f.call("POST", "/_bulk", {}, {{"Content-Type", "application/x-ndjson"}});
  REQUIRE(r.status == 400);
  auto v = boost::json::parse(r.body);
  CHECK(str(v, "/error/type") == "parse_exception");
  CHECK(str(v, "/error/reason") == "request body is required");
}

TEST_CASE("blank lines and CRLF line ends are tolerated, missing closing braces too") {
  es_fixture f;
  auto v = f.json("POST", "/_bulk",
                  "\n{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\r\n{\"x\":1}\r\n"
                  "{\"index\":{\"_index\":\"a\",\"_id\":\"2\"}\n{\"x\":2}\n");
  CHECK(v.at("errors") == false);
  CHECK(f.es.document("a", "1") == R"({"x":1})");
  CHECK(f.es.document_count("a") == 2);
}

TEST_CASE("per-item failures: create conflict, missing update, malformed source, bad index") {
  es_fixture f;
  f.call("POST", "/_bulk", "{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{}\n");
  auto v = f.json("POST", "/_bulk",
                  "{\"create\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{}\n"
                  "{\"update\":{\"_index\":\"a\",\"_id\":\"5\"}}\n{\"doc\":{\"x\":1}}\n"
                  "{\"index\":{\"_index\":\"a\",\"_id\":\"6\"}}\n{\"x\":\n"
                  "{\"index\":{\"_index\":\"Bad\",\"_id\":\"7\"}}\n{}\n"
                  "{\"delete\":{\"_index\":\"missing\",\"_id\":\"8\"}}\n"
                  "{\"index\":{\"_index\":\"a\",\"_id\":\"9\"}}\n{}\n");
  CHECK(v.at("errors") == true);
  CHECK(num(v, "/items/0/create/status") == 409);
  CHECK(str(v, "/items/0/create/error/type") == "version_conflict_engine_exception");
  CHECK(str(v, "/items/0/create/error/reason") ==
        "[1]: version conflict, document already exists (current version [1])");
  CHECK(str(v, "/items/0/create/error/shard") == "0");
  CHECK(str(v, "/items/0/create/error/index") == "a");
  CHECK_FALSE(v.at_pointer("/items/0/create").as_object().contains("_version"));
  CHECK(num(v, "/items/1/update/status") == 404);
  CHECK(str(v, "/items/1/update/error/type") == "document_missing_exception");
  CHECK(str(v, "/items/1/update/error/reason") == "[5]: document missing");
  CHECK(num(v, "/items/2/index/status") == 400);
  CHECK(str(v, "/items/2/index/error/type") == "document_parsing_exception");
  CHECK(num(v, "/items/3/index/status") == 400);
  CHECK(str(v, "/items/3/index/error/type") == "invalid_index_name_exception");
  CHECK(str(v, "/items/3/index/error/reason") == "Invalid index name [Bad], must be lowercase");
  CHECK(num(v, "/items/4/delete/status") == 404);
  CHECK(str(v, "/items/4/delete/error/type") == "index_not_found_exception");
  CHECK(str(v, "/items/4/delete/error/reason") == "no such index [missing]");
  CHECK(num(v, "/items/5/index/status") == 201);
  CHECK(f.es.indices() == std::vector<std::string>{"a"});
}

TEST_CASE("ES 7 names a missing update document with its type") {
  es_fixture f(flavor(elasticsearch_flavor::elasticsearch_7));
  auto v =
      f.json("POST", "/_bulk", "{\"update\":{\"_index\":\"a\",\"_id\":\"5\"}}\n{\"doc\":{}}\n");
  CHECK(str(v, "/items/0/update/error/reason") == "[_doc][5]: document missing");
  auto broken = f.json("POST", "/_bulk", "{\"index\":{\"_index\":\"a\",\"_id\":\"6\"}}\n{\"x\":\n");
  CHECK(str(broken, "/items/0/index/error/type") == "mapper_parsing_exception");
  CHECK(str(broken, "/items/0/index/error/reason") == "failed to parse");
  CHECK(str(broken, "/items/0/index/error/caused_by/type") == "json_parse_exception");
}

TEST_CASE("update merges partial documents, upserts, and reports noop for no change") {
  es_fixture f;
  auto v = f.json("POST", "/_bulk",
                  "{\"update\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"doc\":{\"x\":{\"y\":1}},\"doc_"
                  "as_upsert\":true}\n"
                  "{\"update\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"doc\":{\"x\":{\"z\":2}}}\n"
                  "{\"update\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"doc\":{\"x\":{\"z\":2}}}\n"
                  "{\"update\":{\"_index\":\"a\",\"_id\":\"2\"}}\n{\"doc\":{\"q\":1},\"upsert\":{"
                  "\"u\":true}}\n");
  CHECK(str(v, "/items/0/update/result") == "created");
  CHECK(num(v, "/items/0/update/status") == 201);
  CHECK(str(v, "/items/1/update/result") == "updated");
  CHECK(str(v, "/items/2/update/result") == "noop");
  CHECK(num(v, "/items/2/update/_version") == 2);
  CHECK(f.es.document("a", "1") == R"({"x":{"y":1,"z":2}})");
  CHECK(f.es.document("a", "2") == R"({"u":true})");
  auto bad =
      f.call("POST", "/_bulk", "{\"update\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"dok\":{}}\n");
  CHECK(bad.status == 400);
  CHECK(bad.body.find("[UpdateRequest] unknown field [dok]") != std::string::npos);
}

TEST_CASE("an unknown pipeline fails its item, a defined one is accepted") {
  es_fixture f;
  f.es.add_pipeline("known");
  auto v = f.json("POST", "/_bulk",
                  "{\"index\":{\"_index\":\"a\",\"_id\":\"1\",\"pipeline\":\"nope\"}}\n{}\n"
                  "{\"index\":{\"_index\":\"a\",\"_id\":\"2\",\"pipeline\":\"known\"}}\n{}\n");
  CHECK(num(v, "/items/0/index/status") == 400);
  CHECK(str(v, "/items/0/index/error/type") == "illegal_argument_exception");
  CHECK(str(v, "/items/0/index/error/reason") == "pipeline with id [nope] does not exist");
  CHECK(num(v, "/items/1/index/status") == 201);
  CHECK(v.as_object().contains("ingest_took"));
  auto q = f.json("POST", "/_bulk?pipeline=other&routing=r1&timeout=1m",
                  "{\"index\":{\"_index\":\"a\",\"_id\":\"3\"}}\n{}\n");
  CHECK(str(q, "/items/0/index/error/reason") == "pipeline with id [other] does not exist");
  f.call("PUT", "/_ingest/pipeline/other", "{\"processors\":[]}");
  auto ok = f.json("POST", "/_bulk?pipeline=other&routing=r1",
                   "{\"index\":{\"_index\":\"a\",\"_id\":\"3\"}}\n{}\n");
  CHECK(num(ok, "/items/0/index/status") == 201);
  auto doc = f.json("GET", "/a/_doc/3");
  CHECK(str(doc, "/_routing") == "r1");
}

TEST_CASE("refresh=true forces a refresh and says so per item") {
  es_fixture f;
  auto v =
      f.json("POST", "/_bulk?refresh=true", "{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{}\n");
  CHECK(v.at_pointer("/items/0/index/forced_refresh") == true);
  CHECK(num(f.json("GET", "/a/_count"), "/count") == 1);
}

TEST_CASE("auto ids are 20 characters and auto-create can be switched off") {
  es_fixture f;
  auto v = f.json("POST", "/a/_bulk", "{\"index\":{}}\n{\"x\":1}\n");
  CHECK(str(v, "/items/0/index/_id").size() == 20);
  f.es.set_auto_create_index(false);
  auto n = f.json("POST", "/b/_bulk", "{\"index\":{\"_id\":\"1\"}}\n{\"x\":1}\n");
  CHECK(num(n, "/items/0/index/status") == 404);
  CHECK(str(n, "/items/0/index/error/reason") ==
        "no such index [b] and [action.auto_create_index] is [false]");
}

TEST_CASE("filter_path keeps only the requested parts of the bulk response") {
  es_fixture f;
  auto v = f.json("POST", "/_bulk?filter_path=took,errors,items.*.status,items.*.error",
                  "{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{}\n"
                  "{\"index\":{\"_index\":\"A\",\"_id\":\"1\"}}\n{}\n");
  CHECK(v.at("errors") == true);
  CHECK(v.at_pointer("/items/0/index").as_object().size() == 1);
  CHECK(num(v, "/items/1/index/status") == 400);
  CHECK(v.at_pointer("/items/1/index").as_object().contains("error"));
}

TEST_CASE("on_item_acknowledged sees every successful index item, stored or count-only") {
  for (bool count_only : {false, true}) {
    std::vector<std::string> seen;
    cbes::testkit::elasticsearch_options o;
    o.count_only = count_only;
    o.on_item_acknowledged = [&](std::string_view index, std::string_view id) {
      seen.push_back(std::string(index) + "/" + std::string(id));
    };
    es_fixture f(o);
    f.es.fail_next_items(1, 400);  // the first item fails: not acknowledged
    auto r = f.call("POST", "/_bulk",
                    "{\"index\":{\"_index\":\"a\",\"_id\":\"1\"}}\n{\"x\":1}\n"
                    "{\"index\":{\"_index\":\"a\",\"_id\":\"2\"}}\n{\"x\":2}\n"
                    "{\"delete\":{\"_index\":\"a\",\"_id\":\"2\"}}\n"
                    "{\"create\":{\"_index\":\"b\",\"_id\":\"3\"}}\n{\"x\":3}\n");
    REQUIRE(r.status == 200);
    CHECK(seen == std::vector<std::string>{"a/2", "b/3"});
  }
}
