#include <catch2/catch.hpp>

#include "fixture.hpp"

using namespace es_fake_test;
using cbes::testkit::elasticsearch_flavor;

namespace {

boost::json::value index_one(es_fixture& f, std::string_view id, std::string_view source) {
  return f.json("POST", "/_bulk",
                "{\"index\":{\"_index\":\"m\",\"_id\":\"" + std::string(id) + "\"}}\n" +
                    std::string(source) + "\n");
}

}  // namespace

TEST_CASE("dynamic mapping maps strings to text+keyword, numbers, booleans, dates, objects") {
  es_fixture f;
  index_one(
      f, "1",
      R"({"s":"hello","n":1,"d":1.5,"b":true,"t":"2024-01-02T03:04:05Z","o":{"k":"v"},"a.b":2,"z":null})");
  auto m = f.json("GET", "/m/_mapping");
  const auto& p = m.at_pointer("/m/mappings/properties");
  CHECK(str(p, "/s/type") == "text");
  CHECK(str(p, "/s/fields/keyword/type") == "keyword");
  CHECK(num(p, "/s/fields/keyword/ignore_above") == 256);
  CHECK(str(p, "/n/type") == "long");
  CHECK(str(p, "/d/type") == "float");
  CHECK(str(p, "/b/type") == "boolean");
  CHECK(str(p, "/t/type") == "date");
  CHECK(str(p, "/o/properties/k/type") == "text");
  CHECK(str(p, "/a/properties/b/type") == "long");
  CHECK_FALSE(p.as_object().contains("z"));
}

TEST_CASE("ES 8 mapping conflicts are document_parsing_exception with a position prefix") {
  es_fixture f;
  index_one(f, "1", R"({"hex":"ff","n":1,"o":{"k":1},"flag":true,"when":"2024-01-01"})");
  auto v = index_one(f, "color:red", R"({"hex":{"red":"ff","green":"00"}})");
  CHECK(num(v, "/items/0/index/status") == 400);
  CHECK(str(v, "/items/0/index/error/type") == "document_parsing_exception");
  CHECK(str(v, "/items/0/index/error/reason") ==
        "[1:8] failed to parse field [hex] of type [text] in document with id 'color:red'. "
        "Preview of field's value: '{red=ff, green=00}'");
  CHECK(str(v, "/items/0/index/error/caused_by/type") == "illegal_state_exception");
  CHECK(str(v, "/items/0/index/error/caused_by/reason") ==
        "Can't get text on a START_OBJECT at 1:8");

  auto n = index_one(f, "2", R"({"n":"abc"})");
  CHECK(str(n, "/items/0/index/error/reason") ==
        "[1:6] failed to parse field [n] of type [long] in document with id '2'. Preview of "
        "field's value: 'abc'");
  CHECK(str(n, "/items/0/index/error/caused_by/type") == "number_format_exception");
  CHECK(str(n, "/items/0/index/error/caused_by/reason") == "For input string: \"abc\"");

  auto o = index_one(f, "3", R"({"o":"flat"})");
  CHECK(str(o, "/items/0/index/error/reason") ==
        "[1:6] object mapping for [o] tried to parse field [o] as object, but found a concrete "
        "value");
  auto b = index_one(f, "4", R"({"flag":"yes"})");
  CHECK(str(b, "/items/0/index/error/caused_by/reason") ==
        "Failed to parse value [yes] as only [true] or [false] are allowed.");
  auto d = index_one(f, "5", R"({"when":"hello"})");
  CHECK(str(d, "/items/0/index/error/caused_by/reason") ==
        "failed to parse date field [hello] with format [strict_date_optional_time||epoch_millis]");
  // Coercions that are not errors.
  auto ok = index_one(f, "6", R"({"n":"12","hex":5,"flag":"false","when":1700000000000})");
  CHECK(num(ok, "/items/0/index/status") == 201);
  // A failed document leaves the mapping unchanged.
  index_one(f, "7", R"({"newfield":1,"n":"bad"})");
  CHECK_FALSE(f.json("GET", "/m/_mapping")
                  .at_pointer("/m/mappings/properties")
                  .as_object()
                  .contains("newfield"));
}

TEST_CASE("ES 7 and OpenSearch report mapper_parsing_exception without a position") {
  for (auto fl : {elasticsearch_flavor::elasticsearch_7, elasticsearch_flavor::opensearch_2}) {
    es_fixture f(flavor(fl));
    index_one(f, "1", R"({"n":1})");
    auto v = index_one(f, "2", R"({"n":"abc"})");
    CHECK(str(v, "/items/0/index/error/type") == "mapper_parsing_exception");
    CHECK(str(v, "/items/0/index/error/reason") ==
          "failed to parse field [n] of type [long] in document with id '2'. Preview of field's "
          "value: 'abc'");
  }
}

TEST_CASE("explicit mappings with dynamic strict reject unknown fields") {
  es_fixture f;
  auto c = f.call(
      "PUT", "/m",
      R"({"settings":{"number_of_replicas":0},"mappings":{"dynamic":"strict","properties":{"k":{"type":"keyword"}}}})");
  REQUIRE(c.status == 200);
  auto v = index_one(f, "1", R"({"k":"x","other":1})");
  CHECK(str(v, "/items/0/index/error/type") == "strict_dynamic_mapping_exception");
  CHECK(str(v, "/items/0/index/error/reason")
            .ends_with("mapping set to strict, dynamic introduction of [other] within [_doc] is "
                       "not allowed"));
}

TEST_CASE("invalid index names are rejected with the real reasons") {
  es_fixture f;
  auto reason = [&f](std::string_view name) {
    auto r = f.call("PUT", "/" + std::string(name));
    CHECK(r.status == 400);
    return str(boost::json::parse(r.body), "/error/reason");
  };
  CHECK(reason("Upper") == "Invalid index name [Upper], must be lowercase");
  CHECK(reason("-x") == "Invalid index name [-x], must not start with '_', '-', or '+'");
  CHECK(reason("a%23b") == "Invalid index name [a#b], must not contain '#'");
  CHECK(reason("a:b") == "Invalid index name [a:b], must not contain ':'");
  CHECK(reason("a%2Cb") ==
        "Invalid index name [a,b], must not contain the following characters [ , \", *, \\, <, |, "
        ",, >, /, ?]");
}
