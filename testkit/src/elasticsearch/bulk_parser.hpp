#pragma once
// The coordinating node's `_bulk` body parser (Elasticsearch's REST API docs): splits the
// NDJSON body into items, parses only the action/metadata lines (sources stay raw, they are
// parsed "on the shard"), and reports the whole-request errors with Elasticsearch's texts.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cbes::testkit::es {

enum class op_kind { index, create, update, delete_ };

struct bulk_item {
  op_kind op = op_kind::index;
  std::string index;  // "" when neither the line nor the path names one
  std::optional<std::string> id;
  std::optional<std::string> routing;
  std::optional<std::string> pipeline;
  std::optional<std::int64_t> version;
  std::string version_type = "internal";
  std::optional<std::int64_t> if_seq_no;
  std::optional<std::int64_t> if_primary_term;
  bool require_alias = false;
  std::string_view source;  // raw source line without "\r"; empty for delete
  // The key of this item in the response: index with op_type=create answers as "create".
  const char* response_key() const;
};

// Flavour-dependent parser rules.
struct bulk_parse_rules {
  bool accept_type = false;  // `_type` in metadata: ES 7 accepts it, ES 8 / OpenSearch 2 refuse
  // Broken JSON: ES 8 reports x_content_parse_exception, ES 7 / OpenSearch json_parse_exception.
  const char* parse_exception_type = "x_content_parse_exception";
};

// Request-level defaults from the URL.
struct bulk_defaults {
  std::string index;
  std::optional<std::string> routing;
  std::optional<std::string> pipeline;
  bool require_alias = false;
};

// A whole-request failure: HTTP 400 with this error type and reason.
struct bulk_parse_error {
  std::string type;
  std::string reason;
};

struct bulk_parse_result {
  std::vector<bulk_item> items;
  std::optional<bulk_parse_error> error;
};

// Parses and validates the body. `body` must outlive the result (items view into it).
//   auto r = parse_bulk("{\"index\":{\"_index\":\"a\"}}\n{}\n", {}, {});
//   // r.items.size() == 1, !r.error
bulk_parse_result parse_bulk(std::string_view body, const bulk_defaults& defaults,
                             const bulk_parse_rules& rules);

// "Validation Failed: 1: id is missing;" style checks of one parsed item, appended
// to `errors`; used by the single-document endpoints too.
void validate_item(const bulk_item& item, std::vector<std::string>& errors);
std::string validation_message(const std::vector<std::string>& errors);

}  // namespace cbes::testkit::es
