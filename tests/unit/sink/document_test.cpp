#include <catch2/catch.hpp>

#include "cbes/sink/document.hpp"

using namespace cbes::sink;

namespace {

document_event sample(std::string content = R"({"name":"x"})") {
  document_event ev;
  ev.key = "airline_10";
  ev.content = std::move(content);
  ev.cas = 0x16c3f1a2b3c4d5e6;
  ev.rev_seqno = 1;
  ev.expiry = 0;
  ev.flags = 0x02000006;
  ev.lock_time = 0;
  ev.vbucket = 512;
  ev.vbuuid = 0xfedcba9876543210;
  ev.seqno = 42;
  return ev;
}

constexpr std::string_view sample_meta =
    R"({"rev":"1-16c3f1a2b3c4d5e60000000002000006","flags":33554438,"expiration":0,)"
    R"("id":"airline_10","vbucket":512,"vbuuid":-81985529216486896,"seqno":42,"revSeqno":1,)"
    R"("cas":1640420370396009958,"lockTime":0})";

}  // namespace

TEST_CASE("document: rev is revSeqno dash cas, expiry and flags in zero-padded lower-case hex") {
  CHECK(format_rev(1, 0x16c3f1a2b3c4d5e6, 0, 0x02000006) == "1-16c3f1a2b3c4d5e60000000002000006");
  CHECK(format_rev(0, 0, 0, 0) == "0-00000000000000000000000000000000");
  CHECK(format_rev(18446744073709551615u, 0xFFFFFFFFFFFFFFFF, 0xFFFFFFFF, 0xABCDEF01) ==
        "18446744073709551615-ffffffffffffffffffffffffabcdef01");
}

TEST_CASE("document: the metadata object has the Java field order and types") {
  CHECK(metadata_json(sample()) == sample_meta);
}

TEST_CASE("document: metadata ints and longs wrap negative like Java's") {
  auto ev = sample();
  ev.flags = 0xFFFFFFF0;
  ev.expiry = 0x80000000;
  ev.lock_time = 15;
  ev.cas = 0xFFFFFFFFFFFFFFFF;
  ev.seqno = 7;
  ev.rev_seqno = 3;
  ev.vbuuid = 5;
  ev.key = "a\"b";
  CHECK(metadata_json(ev) ==
        R"({"rev":"3-ffffffffffffffff80000000fffffff0","flags":-16,"expiration":-2147483648,)"
        R"("id":"a\"b","vbucket":512,"vbuuid":5,"seqno":7,"revSeqno":3,"cas":-1,"lockTime":15})");
}

TEST_CASE("document: by default content goes under doc with the metadata object after it") {
  const auto d = shape_document(sample(), {.metadata_field_name = "meta"});
  REQUIRE(d.kind == shape_kind::ok);
  CHECK(d.body == std::string(R"({"doc":{"name":"x"},"meta":)") + std::string(sample_meta) + "}");
}

TEST_CASE("document: without a metadata field name only doc is written") {
  const auto d = shape_document(sample(), {});
  REQUIRE(d.kind == shape_kind::ok);
  CHECK(d.body == R"({"doc":{"name":"x"}})");
}

TEST_CASE("document: content at top level gets the metadata field appended") {
  const auto d =
      shape_document(sample(R"({"name":"x","n":null})"),
                     {.metadata_field_name = "meta", .document_content_at_top_level = true});
  REQUIRE(d.kind == shape_kind::ok);
  CHECK(d.body == std::string(R"({"name":"x","n":null,"meta":)") + std::string(sample_meta) + "}");
  CHECK(d.warning.empty());
}

TEST_CASE("document: top level with an empty object or trailing whitespace stays valid") {
  const doc_structure_settings ds{.metadata_field_name = "m",
                                  .document_content_at_top_level = true};
  auto d = shape_document(sample("{ } \n"), ds);
  REQUIRE(d.kind == shape_kind::ok);
  CHECK(d.body == std::string(R"({ "m":)") + std::string(sample_meta) + "}");
  d = shape_document(sample(R"({"a":{}} )"), ds);
  CHECK(d.body == std::string(R"({"a":{},"m":)") + std::string(sample_meta) + "}");
}

TEST_CASE("document: on a metadata name collision the document's own field wins") {
  const auto d =
      shape_document(sample(R"({"meta":"mine","x":1})"),
                     {.metadata_field_name = "meta", .document_content_at_top_level = true});
  REQUIRE(d.kind == shape_kind::ok);
  CHECK(d.body == R"({"meta":"mine","x":1})");
  CHECK_FALSE(d.warning.empty());
  // Only a top-level member collides.
  const auto nested =
      shape_document(sample(R"({"x":{"meta":1}})"),
                     {.metadata_field_name = "meta", .document_content_at_top_level = true});
  CHECK(nested.body.find(R"("meta":{"rev")") != std::string::npos);
}

TEST_CASE("document: fast path passes the raw bytes through unchanged") {
  const std::string raw =
      R"({"b": 1.50, "a" : [1e3, null, "\u00e9"], "big": -9223372036854775808})";
  const auto d = shape_document(sample(raw), {.document_content_at_top_level = true});
  REQUIRE(d.kind == shape_kind::ok);
  CHECK(d.body == raw);
}

TEST_CASE("document: line breaks between tokens become spaces so the source is one line") {
  const auto d = shape_document(sample("{\r\n  \"a\": 1,\n  \"b\": \"x\\ny\"\n}\n"),
                                {.document_content_at_top_level = true});
  REQUIRE(d.kind == shape_kind::ok);
  CHECK(d.body == "{    \"a\": 1,   \"b\": \"x\\ny\" } ");
}

TEST_CASE(
    "document: line breaks and invalid UTF-8 are found wherever they sit in a long "
    "document") {
  // The byte scan works on 16-byte blocks plus a tail: put the byte in each position of both.
  const std::string padding(40, 'x');
  for (std::size_t at = 0; at < 40; ++at) {
    std::string text = "{\"a\":\"" + padding.substr(0, at) + "\"," + "\n" + "\"b\":\"" +
                       padding.substr(at) + "\"}";
    auto d = shape_document(sample(text), {.document_content_at_top_level = true});
    REQUIRE(d.kind == shape_kind::ok);
    CHECK(d.body.find('\n') == std::string::npos);
    std::string bad = "{\"a\":\"" + padding.substr(0, at) + "\xff" + padding.substr(at) + "\"}";
    CHECK(shape_document(sample(bad), {}).kind == shape_kind::rejected);
    std::string accented =
        "{\"a\":\"" + padding.substr(0, at) + "\xc3\xa9" + padding.substr(at) + "\"}";
    CHECK(shape_document(sample(accented), {}).kind == shape_kind::ok);
  }
}

TEST_CASE("document: a reused buffer's old contents never reach the body") {
  const auto ev = sample(R"({"a":1})");
  for (const auto& ds : {doc_structure_settings{.metadata_field_name = "meta"},
                         doc_structure_settings{.metadata_field_name = "meta",
                         .document_content_at_top_level = true},
                         doc_structure_settings{}}) {
    std::string used(4000, 'z');
    const auto capacity = used.capacity();
    const auto fresh = shape_document(ev, ds);
    const auto reused = shape_document(ev, ds, std::move(used));
    CHECK(reused.body == fresh.body);
    CHECK(reused.body.capacity() >= capacity);  // the buffer itself was taken, not a new one
  }
}

TEST_CASE("document: content that is not a JSON object is skipped") {
  for (const char* content : {"", "   ", "[1,2]", "\"text\"", "42", "null", "\x89PNG\r\n"}) {
    const auto d = shape_document(sample(content), {.metadata_field_name = "meta"});
    CHECK(d.kind == shape_kind::skipped);
  }
}

TEST_CASE("document: a broken JSON object is rejected with the position") {
  auto d = shape_document(sample(R"({"a":1)"), {});
  CHECK(d.kind == shape_kind::rejected);
  CHECK(d.reason.starts_with("invalid JSON at byte"));
  d = shape_document(sample(R"({"a":1} {"b":2})"), {});
  CHECK(d.kind == shape_kind::rejected);
  CHECK(d.reason == "invalid JSON at byte 8: data after the JSON object");
  d = shape_document(sample("{\"a\":\"\xff\"}"), {});
  CHECK(d.kind == shape_kind::rejected);
}

TEST_CASE("document: an integer too large for a Java long is rejected (17626319910530664276)") {
  auto d = shape_document(sample(R"({"n":17626319910530664276})"), {.metadata_field_name = "meta"});
  CHECK(d.kind == shape_kind::rejected);
  CHECK(d.reason == "number 17626319910530664276 does not fit a signed 64-bit integer");
  d = shape_document(sample(R"({"n":[1,123456789012345678901234567890]})"), {});
  CHECK(d.kind == shape_kind::rejected);
  d = shape_document(sample(R"({"n":-9223372036854775809})"), {});
  CHECK(d.kind == shape_kind::rejected);
  d = shape_document(sample(R"({"n":9223372036854775807,"f":1.7e308})"), {});
  CHECK(d.kind == shape_kind::ok);
}

TEST_CASE("document: counters are integers 0..2^64-1 kept as signed 64-bit") {
  CHECK(counter_value("0") == 0);
  CHECK(counter_value("42") == 42);
  CHECK(counter_value("9223372036854775807") == INT64_MAX);
  CHECK(counter_value("9223372036854775808") == INT64_MIN);
  CHECK(counter_value("18446744073709551615") == -1);
  CHECK(counter_value("17626319910530664276") == -820424163178887340);
}

TEST_CASE("document: 1.0, -1, \"1\", 1 2 and out-of-range numbers are not counters") {
  for (const char* content :
       {"1.0", "-1", "\"1\"", "1 2", "18446744073709551616", "", "01", "1e3", "{}", "0x10"})
    CHECK_FALSE(counter_value(content));
}

TEST_CASE("document: wrapCounters turns a counter into {\"value\": n}") {
  const doc_structure_settings ds{.wrap_counters = true};
  auto d = shape_document(sample("18446744073709551615"), ds);
  REQUIRE(d.kind == shape_kind::ok);
  CHECK(d.body == R"({"doc":{"value":-1}})");
  d = shape_document(sample("17626319910530664276"),
                     {.document_content_at_top_level = true, .wrap_counters = true});
  CHECK(d.body == R"({"value":-820424163178887340})");
  d = shape_document(sample("7"), {.metadata_field_name = "meta",
                                   .document_content_at_top_level = true,
                                   .wrap_counters = true});
  CHECK(d.body == std::string(R"({"value":7,"meta":)") + std::string(sample_meta) + "}");
}

TEST_CASE("document: without wrapCounters a counter is skipped like any non-object") {
  CHECK(shape_document(sample("42"), {}).kind == shape_kind::skipped);
  CHECK(shape_document(sample("1.0"), {.wrap_counters = true}).kind == shape_kind::skipped);
}
