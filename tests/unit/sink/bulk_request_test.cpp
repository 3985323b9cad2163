#include <catch2/catch.hpp>

#include "cbes/sink/bulk_request.hpp"

using namespace cbes::sink;

namespace {

bulk_action tagged(bulk_action a, std::uint64_t tag) {
  a.tag = tag;
  return a;
}

std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

}  // namespace

TEST_CASE("bulk body: index and delete actions are byte-exact NDJSON ending in a newline") {
  bulk_request_builder b;
  b.add(bulk_action::index_doc("airline_10", "airlines", R"({"doc":{"a":1}})"));
  b.add(bulk_action::delete_doc("airline_11", "airlines"));
  b.add(bulk_action::index_doc("route_1", "airlines", R"({"x":null})", "airline_137", "pipe"));
  CHECK(b.body() ==
        "{\"index\":{\"_index\":\"airlines\",\"_id\":\"airline_10\"}}\n"
        "{\"doc\":{\"a\":1}}\n"
        "{\"delete\":{\"_index\":\"airlines\",\"_id\":\"airline_11\"}}\n"
        "{\"index\":{\"_index\":\"airlines\",\"_id\":\"route_1\",\"routing\":\"airline_137\","
        "\"pipeline\":\"pipe\"}}\n"
        "{\"x\":null}\n");
}

TEST_CASE("bulk body: an empty batch has an empty body") {
  CHECK(bulk_request_builder().body().empty());
}

TEST_CASE("bulk body: the timeout query parameter is the bulk timeout in milliseconds") {
  CHECK(bulk_timeout_parameter(std::chrono::minutes(1)) == "60000ms");
  CHECK(bulk_timeout_parameter(std::chrono::milliseconds(0)) == "0ms");
  CHECK(bulk_request_builder({.timeout = std::chrono::seconds(30)}).target() ==
        "/_bulk?timeout=30000ms&filter_path=items.%2A.status%2Citems.%2A.error%2Cingest_took%2C"
        "error%2Cstatus");
}

TEST_CASE("bulk body: ids are escaped as JSON strings") {
  CHECK(json_string("plain") == R"("plain")");
  CHECK(json_string("a\"b\\c/d") == R"("a\"b\\c/d")");
  CHECK(json_string("\n\r\t\b\f") == R"("\n\r\t\b\f")");
  CHECK(json_string(std::string_view("\x00\x01\x1f\x7f", 4)) == "\"\\u0000\\u0001\\u001f\x7f\"");
  CHECK(json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") ==
        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

TEST_CASE("bulk body: invalid UTF-8 in ids becomes U+FFFD, never broken JSON") {
  const std::string fffd = "\xef\xbf\xbd";
  CHECK(json_string("a\xff"
                    "b") == "\"a" + fffd + "b\"");
  CHECK(json_string("\xc3") == "\"" + fffd + "\"");                        // truncated sequence
  CHECK(json_string("\xc0\xaf") == "\"" + fffd + fffd + "\"");             // overlong
  CHECK(json_string("\xed\xa0\x80") == "\"" + fffd + fffd + fffd + "\"");  // surrogate
  CHECK(json_string("\xe2\x82"
                    "x") == "\"" + fffd + "x\"");  // maximal subpart -> one U+FFFD
  CHECK(json_string("\xf4\x90\x80\x80") == "\"" + fffd + fffd + fffd + fffd + "\"");  // > U+10FFFF
  CHECK(utf8_length_after_repair("a\xff") == 4);
}

TEST_CASE("bulk batch: a newer action for the same id and index replaces the older in place") {
  bulk_request_builder b;
  CHECK(b.add(tagged(bulk_action::index_doc("k1", "i", R"({"v":1})"), 1)).status ==
        add_status::added);
  b.add(tagged(bulk_action::index_doc("k2", "i", R"({"v":2})"), 2));
  const auto r = b.add(tagged(bulk_action::delete_doc("k1", "i"), 3));
  CHECK(r.status == add_status::replaced);
  CHECK(r.replaced_tag == std::optional<std::uint64_t>(1));
  REQUIRE(b.size() == 2);
  CHECK(b.actions()[0].tag == 3);
  CHECK(b.actions()[1].tag == 2);
  CHECK(b.body() ==
        "{\"delete\":{\"_index\":\"i\",\"_id\":\"k1\"}}\n"
        "{\"index\":{\"_index\":\"i\",\"_id\":\"k2\"}}\n{\"v\":2}\n");
}

TEST_CASE("bulk batch: the same id in different indexes is two actions") {
  bulk_request_builder b;
  b.add(bulk_action::index_doc("k", "a", "{}"));
  CHECK(b.add(bulk_action::index_doc("k", "b", "{}")).status == add_status::added);
  // ("k", "ab") and ("ka", "b") would collide if id and index were simply concatenated.
  CHECK(b.add(bulk_action::index_doc("k", "ab", "{}")).status == add_status::added);
  CHECK(b.add(bulk_action::index_doc("ka", "b", "{}")).status == add_status::added);
  CHECK(b.size() == 4);
}

TEST_CASE(
    "bulk batch: replacement finds every earlier action past table growth, after take() "
    "and in a moved builder") {
  bulk_request_builder b({.actions = 10000, .bytes = 1u << 30});
  for (std::uint64_t i = 0; i < 5000; ++i)
    REQUIRE(
        b.add(tagged(bulk_action::index_doc("doc_" + std::to_string(i), "i", "{}"), i)).status ==
        add_status::added);
  for (std::uint64_t i = 0; i < 5000; i += 7) {
    const auto r = b.add(tagged(bulk_action::delete_doc("doc_" + std::to_string(i), "i"), 9000));
    REQUIRE(r.status == add_status::replaced);
    CHECK(r.replaced_tag == std::optional<std::uint64_t>(i));
  }
  CHECK(b.size() == 5000);
  CHECK(b.actions()[7].type == action_type::remove);
  bulk_request_builder moved = std::move(b);
  CHECK(moved.add(bulk_action::delete_doc("doc_4999", "i")).status == add_status::replaced);
  CHECK(moved.add(bulk_action::delete_doc("doc_5000", "i")).status == add_status::added);
  CHECK(moved.take().size() == 5001);
  CHECK(moved.add(bulk_action::delete_doc("doc_1", "i")).status == add_status::added);
  CHECK(moved.add(bulk_action::delete_doc("doc_1", "i")).status == add_status::replaced);
  CHECK(moved.size() == 1);
}

TEST_CASE("bulk batch: full once the action limit is reached") {
  bulk_request_builder b({.actions = 2});
  b.add(bulk_action::index_doc("1", "i", "{}"));
  CHECK_FALSE(b.full());
  b.add(bulk_action::index_doc("1", "i", "{}"));  // replacement: still one action
  CHECK_FALSE(b.full());
  b.add(bulk_action::delete_doc("2", "i"));
  CHECK(b.full());
}

TEST_CASE("bulk batch: full once the estimated bytes reach the byte limit") {
  // 50 bytes per action plus the raw content length (the Java connector's behaviour).
  bulk_request_builder b({.bytes = 200});
  b.add(bulk_action::index_doc("1", "i", std::string(99, ' ')));
  CHECK(b.estimated_bytes() == 149);
  CHECK_FALSE(b.full());
  b.add(bulk_action::delete_doc("2", "i"));
  CHECK(b.estimated_bytes() == 199);
  CHECK_FALSE(b.full());
  b.add(bulk_action::index_doc("3", "i", "{}", std::nullopt, std::nullopt, 0));
  CHECK(b.estimated_bytes() == 249);
  CHECK(b.full());
}

TEST_CASE("bulk batch: replacing an action adjusts the estimated bytes") {
  bulk_request_builder b;
  b.add(bulk_action::index_doc("1", "i", std::string(100, ' ')));
  b.add(bulk_action::delete_doc("1", "i"));
  CHECK(b.estimated_bytes() == 50);
}

TEST_CASE("bulk batch: empty and over-long ids are refused before they poison the request") {
  bulk_request_builder b;
  CHECK(b.add(bulk_action::index_doc("", "i", "{}")).status == add_status::invalid_id);
  CHECK(b.add(bulk_action::index_doc(std::string(513, 'x'), "i", "{}")).status ==
        add_status::invalid_id);
  CHECK(b.add(bulk_action::index_doc(std::string(512, 'x'), "i", "{}")).status ==
        add_status::added);
  // 200 invalid bytes become 600 bytes of U+FFFD: over Elasticsearch's 512-byte limit.
  CHECK(b.add(bulk_action::index_doc(std::string(200, '\xff'), "i", "{}")).status ==
        add_status::invalid_id);
  CHECK(b.size() == 1);
}

TEST_CASE("bulk batch: take moves the actions out and starts a new batch") {
  bulk_request_builder b({.actions = 1});
  b.add(bulk_action::index_doc("1", "i", "{}"));
  const auto taken = b.take();
  CHECK(taken.size() == 1);
  CHECK(b.empty());
  CHECK(b.estimated_bytes() == 0);
  CHECK_FALSE(b.full());
  CHECK(b.add(bulk_action::index_doc("1", "i", "{}")).status == add_status::added);
}
