#include <catch2/catch.hpp>

#include "cbes/sink/bulk_response.hpp"

using namespace cbes::sink;

namespace {

std::vector<bulk_action> sample_batch() {
  std::vector<bulk_action> v;
  v.push_back(bulk_action::index_doc("a", "airlines", R"({"doc":{}})"));
  v.push_back(bulk_action::delete_doc("b", "airlines"));
  v.push_back(bulk_action::index_doc("c", "airports", R"({"doc":{}})"));
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i].tag = 100 + i;
  return v;
}

const std::string mapper_error =
    R"({"type":"mapper_parsing_exception","reason":"failed to parse field [x]",)"
    R"("caused_by":{"type":"json_parse_exception","reason":"bad"}})";

std::string item(std::string_view action, int status, std::string_view extra = "") {
  std::string s = "{\"" + std::string(action) +
                  "\":{\"_index\":\"i\",\"_id\":\"x\",\"status\":" + std::to_string(status);
  if (!extra.empty())
    s += "," + std::string(extra);
  return s + "}}";
}

std::string response(std::initializer_list<std::string> items, bool errors = true) {
  std::string s =
      R"({"took":3,"errors":)" + std::string(errors ? "true" : "false") + R"(,"items":[)";
  bool first = true;
  for (const auto& i : items) {
    if (!first)
      s += ',';
    first = false;
    s += i;
  }
  return s + "]}";
}

}  // namespace

TEST_CASE("bulk response: 2xx items and a delete answered 404 not_found are done") {
  const auto sent = sample_batch();
  const auto c = classify_bulk_response(200,
                                        response({item("index", 201, R"("result":"created")"),
                                                  item("delete", 404, R"("result":"not_found")"),
                                                  item("index", 200, R"("result":"updated")")},
                                                 false),
                                        sent, "cbes-rejects");
  REQUIRE(c.verdict == bulk_verdict::per_item);
  REQUIRE(c.items.size() == 3);
  for (const auto& r : c.items)
    CHECK(r.outcome == item_outcome::done);
  CHECK(c.items[1].status == 404);
  CHECK(c.retry.empty());
  CHECK(c.rejections.empty());
}

TEST_CASE("bulk response: a 400 item is rejected into the rejection log") {
  const auto sent = sample_batch();
  const auto c = classify_bulk_response(200,
                                        response({item("index", 400, R"("error":)" + mapper_error),
                                                  item("delete", 200), item("index", 201)}),
                                        sent, "cbes-rejects");
  REQUIRE(c.verdict == bulk_verdict::per_item);
  CHECK(c.items[0].outcome == item_outcome::rejected);
  CHECK(c.items[0].error == mapper_error);
  CHECK(c.rejected_count == 1);
  REQUIRE(c.rejections.size() == 1);
  const bulk_action& r = c.rejections[0];
  CHECK(r.type == action_type::index);
  CHECK(r.index == "cbes-rejects");
  CHECK(r.id == "a");
  CHECK(r.tag == 100);
  CHECK(r.rejection_log_entry);
  CHECK_FALSE(r.routing);
  CHECK_FALSE(r.pipeline);
  CHECK(
      r.source ==
      R"({"index":"airlines","action":"INDEX","error":"{\"type\":\"mapper_parsing_exception\",)"
      R"(\"reason\":\"failed to parse field [x]\",\"caused_by\":{\"type\":\"json_parse_exception\",)"
      R"(\"reason\":\"bad\"}}"})");
}

TEST_CASE("bulk response: a 404 item with an error is permanent, the log says DELETE for deletes") {
  const auto sent = sample_batch();
  const auto c = classify_bulk_response(
      200,
      response(
          {item("index", 201),
           item(
               "delete", 404,
               R"("error":{"type":"index_not_found_exception","reason":"no such index [airlines]"})"),
           item("index", 404, R"("error":{"type":"index_not_found_exception","reason":"x"})")}),
      sent, "cbes-rejects");
  REQUIRE(c.verdict == bulk_verdict::per_item);
  CHECK(c.items[1].outcome == item_outcome::rejected);
  CHECK(c.items[2].outcome == item_outcome::rejected);
  REQUIRE(c.rejections.size() == 2);
  CHECK(c.rejections[0].source.starts_with(R"({"index":"airlines","action":"DELETE","error":)"));
  CHECK(c.rejections[1].source.starts_with(R"({"index":"airports","action":"INDEX","error":)"));
}

TEST_CASE("bulk response: 409, 429, 5xx, 403 and other item failures are retried") {
  std::vector<bulk_action> sent;
  for (int i = 0; i < 6; ++i)
    sent.push_back(bulk_action::index_doc("k" + std::to_string(i), "i", "{}"));
  const auto c = classify_bulk_response(
      200,
      response({item("index", 409, R"("error":{"type":"version_conflict_engine_exception"})"),
                item("index", 429, R"("error":{"type":"es_rejected_execution_exception"})"),
                item("index", 503, R"("error":{"type":"unavailable_shards_exception"})"),
                item("index", 403, R"("error":{"type":"cluster_block_exception"})"),
                item("index", 201), item("index", 404)}),
      sent, "cbes-rejects");
  REQUIRE(c.verdict == bulk_verdict::per_item);
  CHECK(c.retry == std::vector<std::size_t>{0, 1, 2, 3, 5});
  CHECK(c.items[4].outcome == item_outcome::done);
  CHECK(c.items[1].outcome == item_outcome::retry);
  CHECK(c.rejections.empty());
}

TEST_CASE("bulk response: without a rejection log index rejected items are only counted") {
  const auto sent = sample_batch();
  const auto c = classify_bulk_response(
      200, response({item("index", 400, R"("error":{})"), item("delete", 200), item("index", 200)}),
      sent, "");
  CHECK(c.items[0].outcome == item_outcome::rejected);
  CHECK(c.rejected_count == 1);
  CHECK(c.rejections.empty());
}

TEST_CASE("bulk response: a rejected rejection-log write is dropped, not logged again") {
  auto sent = sample_batch();
  sent[0] = rejection_document(sent[0], "{}", "cbes-rejects");
  const auto c = classify_bulk_response(200,
                                        response({item("index", 400, R"("error":{"type":"x"})"),
                                                  item("delete", 200), item("index", 200)}),
                                        sent, "cbes-rejects");
  CHECK(c.items[0].outcome == item_outcome::dropped);
  CHECK(c.dropped_count == 1);
  CHECK(c.rejected_count == 0);
  CHECK(c.rejections.empty());
}

TEST_CASE("bulk response: whole-request 413 splits the batch, or rejects a lone action") {
  const auto sent = sample_batch();
  CHECK(classify_bulk_response(413, "", sent, "r").verdict == bulk_verdict::split);
  const std::span<const bulk_action> one(sent.data(), 1);
  const auto c = classify_bulk_response(413, "", one, "r");
  REQUIRE(c.verdict == bulk_verdict::per_item);
  CHECK(c.items[0].outcome == item_outcome::rejected);
  CHECK(c.rejections.size() == 1);
}

TEST_CASE("bulk response: whole-request 429 and 5xx retry everything") {
  const auto sent = sample_batch();
  for (unsigned status : {429u, 500u, 502u, 503u, 504u}) {
    const auto c = classify_bulk_response(
        status,
        R"({"error":{"type":"es_rejected_execution_exception","reason":"rejected execution"},"status":429})",
        sent, "r");
    CHECK(c.verdict == bulk_verdict::retry_all);
    CHECK(c.message.find("rejected execution") != std::string::npos);
  }
}

TEST_CASE("bulk response: 401 and 403 are fatal and name the credential settings") {
  const auto sent = sample_batch();
  auto c = classify_bulk_response(
      401,
      R"({"error":{"type":"security_exception","reason":"unable to authenticate user [elastic]"},"status":401})",
      sent, "r");
  CHECK(c.verdict == bulk_verdict::fatal);
  CHECK(c.message.find("elasticsearch.username") != std::string::npos);
  CHECK(c.message.find("elasticsearch.pathToPassword") != std::string::npos);
  CHECK(c.message.find("API key") != std::string::npos);
  CHECK(c.message.find("unable to authenticate user [elastic]") != std::string::npos);
  c = classify_bulk_response(
      403,
      R"({"error":{"type":"security_exception","reason":"action [indices:data/write/bulk[s]] is unauthorized"},"status":403})",
      sent, "r");
  CHECK(c.verdict == bulk_verdict::fatal);
  CHECK(c.message.find("elasticsearch.username") != std::string::npos);
  CHECK(c.message.find("is unauthorized") != std::string::npos);
}

TEST_CASE("bulk response: other 4xx are fatal with Elasticsearch's reason") {
  const auto sent = sample_batch();
  auto c = classify_bulk_response(
      400,
      R"({"error":{"root_cause":[],"type":"illegal_argument_exception","reason":"The bulk request must be terminated by a newline [\\n]"},"status":400})",
      sent, "r");
  CHECK(c.verdict == bulk_verdict::fatal);
  CHECK(c.message ==
        "Elasticsearch rejected the bulk request (HTTP 400): illegal_argument_exception: The bulk "
        "request must be terminated by a newline [\\n]");
  c = classify_bulk_response(
      405, R"({"error":"Incorrect HTTP method for uri [/_bulk] and method [GET]","status":405})",
      sent, "r");
  CHECK(c.message.ends_with("Incorrect HTTP method for uri [/_bulk] and method [GET]"));
  c = classify_bulk_response(404, "<html>\x01</html>", sent, "r");
  CHECK(c.verdict == bulk_verdict::fatal);
  CHECK(c.message.ends_with("<html>?</html>"));
  CHECK(classify_bulk_response(302, "", sent, "r").verdict == bulk_verdict::fatal);
}

TEST_CASE("bulk response: malformed, truncated or mismatched bodies are errors, never crashes") {
  const auto sent = sample_batch();
  const std::string good = response({item("index", 201), item("delete", 200), item("index", 201)});
  const std::vector<std::string> bad = {
      "",
      "not json",
      "[]",
      R"({"took":1,"errors":false})",
      R"({"items":{}})",
      response({item("index", 201), item("delete", 200)}),  // too few
      response({item("index", 201), item("delete", 200), item("index", 201), item("index", 1)}),
      response({item("index", 201), item("index", 200), item("index", 201)}),  // wrong action
      response({R"({"index":{}})", item("delete", 200), item("index", 201)}),  // no status
      response({R"({"index":{"status":"201"}})", item("delete", 200), item("index", 201)}),
      response({R"({"index":{"status":99999}})", item("delete", 200), item("index", 201)}),
      response(
          {R"({"index":{"status":201},"delete":{}})", item("delete", 200), item("index", 201)}),
      response({R"("index")", item("delete", 200), item("index", 201)}),
  };
  for (const auto& body : bad) {
    const auto c = classify_bulk_response(200, body, sent, "r");
    CHECK(c.verdict == bulk_verdict::malformed);
    CHECK_FALSE(c.message.empty());
  }
  // Every truncation of a good response is malformed too.
  for (std::size_t n = 0; n < good.size(); ++n)
    REQUIRE(classify_bulk_response(200, std::string_view(good).substr(0, n), sent, "r").verdict ==
            bulk_verdict::malformed);
  CHECK(classify_bulk_response(200, good, sent, "r").verdict == bulk_verdict::per_item);
}

TEST_CASE("bulk response: rejection documents escape the error text and the target index") {
  auto failed = bulk_action::delete_doc("id\"1", "idx");
  failed.tag = 9;
  const auto r = rejection_document(failed, "line1\nline2 \"q\"", "rejects");
  CHECK(r.id == "id\"1");
  CHECK(r.index == "rejects");
  CHECK(r.tag == 9);
  CHECK(r.source == R"({"index":"idx","action":"DELETE","error":"line1\nline2 \"q\""})");
}

TEST_CASE("bulk response: ingest_took is read when a pipeline ran, absent otherwise") {
  auto batch = sample_batch();
  std::string items = std::string(R"("items":[)") + item("index", 201) + "," + item("delete", 200) +
                      "," + item("index", 201) + "]}";
  auto with = classify_bulk_response(200, R"({"took":3,"ingest_took":12,"errors":false,)" + items,
                                     batch, "");
  REQUIRE(with.verdict == bulk_verdict::per_item);
  CHECK(with.ingest_took == std::chrono::milliseconds(12));
  auto without = classify_bulk_response(200, R"({"took":3,"errors":false,)" + items, batch, "");
  CHECK_FALSE(without.ingest_took.has_value());
}

namespace {

// Every field of two classifications, for the fast path against the reference pass.
void check_same_classification(unsigned status, const std::string& body) {
  INFO("body: " << body);
  const auto sent = sample_batch();
  const auto fast = classify_bulk_response(status, body, sent, "cbes-rejects");
  const auto ref = classify_bulk_response_reference(status, body, sent, "cbes-rejects");
  CHECK(fast.verdict == ref.verdict);
  CHECK(fast.message == ref.message);
  REQUIRE(fast.items.size() == ref.items.size());
  for (std::size_t i = 0; i < fast.items.size(); ++i) {
    CHECK(fast.items[i].outcome == ref.items[i].outcome);
    CHECK(fast.items[i].status == ref.items[i].status);
    CHECK(fast.items[i].error == ref.items[i].error);
  }
  CHECK(fast.retry == ref.retry);
  CHECK(fast.rejections.size() == ref.rejections.size());
  CHECK(fast.rejected_count == ref.rejected_count);
  CHECK(fast.dropped_count == ref.dropped_count);
  CHECK(fast.ingest_took == ref.ingest_took);
}

}  // namespace

TEST_CASE("bulk response: the all-succeeded fast path classifies like the reference pass") {
  const std::string ok_index = item("index", 201, R"("result":"created")");
  const std::string ok_delete = item("delete", 404, R"("result":"not_found")");
  const std::vector<std::string> bodies = {
      response({ok_index, ok_delete, ok_index}, false),
      response({ok_index, item("delete", 200), item("index", 299)}, false),
      R"({"took":1,"ingest_took":7,"errors":false,"items":[)" + ok_index + "," + ok_delete + "," +
          ok_index + "]}",
      R"({"took":1,"ingest_took":-1,"errors":false,"items":[)" + ok_index + "," + ok_delete + "," +
          ok_index + "]}",
      R"({"ingest_took":1.5,"items":[)" + ok_index + "," + ok_delete + "," + ok_index + "]}",
      response({ok_index, ok_delete, item("index", 400, "\"error\":" + mapper_error)}),
      response({ok_index, ok_delete, item("index", 201, R"("error":{"type":"x"})")}),
      response({ok_index, item("delete", 404, R"("error":{"type":"x"})"), ok_index}),
      response({ok_index, item("delete", 429), item("index", 503)}),
      response({ok_index, item("index", 200), ok_index}),
      response({ok_index, ok_delete}),
      response({ok_index, ok_delete, ok_index, ok_index}),
      response({ok_index, ok_delete, R"({"index":{"status":200},"delete":{"status":200}})"}),
      response({ok_index, ok_delete, R"({"index":{"status":"200"}})"}),
      response({ok_index, ok_delete, R"({"index":{"status":200.0}})"}),
      response({ok_index, ok_delete, R"({"index":{"status":99}})"}),
      response({ok_index, ok_delete, R"({"index":{"status":200,"status":400}})"}),
      response({ok_index, ok_delete, R"({"index":{}})"}),
      response({ok_index, ok_delete, R"({"index":[]})"}),
      response({ok_index, ok_delete, "7"}),
      R"({"items":[)" + ok_index + "," + ok_delete + "," + ok_index + R"(],"items":[]})",
      R"({"items":{}})",
      R"({"took":1})",
      R"([1,2,3])",
      response({ok_index, ok_delete, ok_index}, false) + "x",
      response({ok_index, ok_delete, ok_index}, false).substr(0, 40),
      "",
      "{\"items\":[" + ok_index + "," + ok_delete + ",{\"index\":{\"status\":201,\"x\":" +
          std::string(70, '[') + std::string(70, ']') + "}}]}",
  };
  for (const auto& b : bodies)
    check_same_classification(200, b);
  check_same_classification(201, response({ok_index, ok_delete, ok_index}, false));
  check_same_classification(429, response({ok_index, ok_delete, ok_index}, false));
  check_same_classification(413, "");
}
