#pragma once
// One `_bulk` request being assembled (Elasticsearch's Bulk API, the Java connector's
// behaviour). Actions are kept one per (document ID, index): a newer action for the same pair
// replaces the older one in place, so per-document order holds even when ES rejects part of a
// batch. The NDJSON body is written once, into one buffer reserved up front.
//
//   cbes::sink::bulk_request_builder b(settings.limits);
//   b.add(cbes::sink::bulk_action::index_doc("airline_10", "airlines", body));
//   b.add(cbes::sink::bulk_action::delete_doc("airline_11", "airlines"));
//   if (b.full()) flush(b.body(), b.target());
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cbes/sink/settings.hpp"

namespace cbes::sink {

enum class action_type { index, remove };

// Size estimate per action used for the `bytes` limit: 50 bytes of overhead plus the raw content
// length for an index, 50 for a delete (the Java connector's behaviour).
inline constexpr std::size_t action_overhead_bytes = 50;

// Elasticsearch's `_id` limit in bytes (Elasticsearch's REST API docs): a longer id fails the whole
// request, so it is refused per action instead.
inline constexpr std::size_t max_document_id_bytes = 512;

struct bulk_action {
  action_type type = action_type::index;
  std::string id;
  std::string index;
  std::optional<std::string> routing;
  std::optional<std::string> pipeline;
  std::string source;  // index only: one line of JSON
  std::size_t estimated_bytes = action_overhead_bytes;
  std::uint64_t tag = 0;             // caller's handle for the event (checkpoint bookkeeping)
  bool rejection_log_entry = false;  // a write into the rejection log itself

  // `index` action; content_length = raw Couchbase content size (default: source size).
  static bulk_action index_doc(std::string id, std::string index, std::string source,
                               std::optional<std::string> routing = std::nullopt,
                               std::optional<std::string> pipeline = std::nullopt,
                               std::optional<std::size_t> content_length = std::nullopt);
  static bulk_action delete_doc(std::string id, std::string index);
};

enum class add_status {
  added,
  replaced,    // an older action for the same (id, index) was replaced in place
  invalid_id,  // empty, or longer than max_document_id_bytes once encoded; nothing added
};

struct add_result {
  add_status status = add_status::added;
  std::optional<std::uint64_t> replaced_tag;  // tag of the action that was replaced
};

class bulk_request_builder {
 public:
  explicit bulk_request_builder(bulk_limits limits = {});

  // Adds or replaces (same id and index) an action.
  add_result add(bulk_action action);

  // True once the batch holds `actions` actions or at least `bytes` estimated bytes: flush now.
  bool full() const;
  bool empty() const { return actions_.empty(); }
  std::size_t size() const { return actions_.size(); }
  std::uint64_t estimated_bytes() const { return estimated_bytes_; }

  // Actions in request order; response item i belongs to actions()[i].
  const std::vector<bulk_action>& actions() const { return actions_; }

  // The NDJSON body: every line, including the last, ends with '\n'.
  std::string body() const;

  // `/_bulk?timeout=<ms>ms&filter_path=...`: Elasticsearch answers only what the classification
  // reads (each item's status and error, ingest_took, a whole-request error), about a sixth of
  // the full response. Percent-encoded as AWS SigV4's canonical query wants it.
  std::string target() const;

  // Moves the actions out and leaves the builder empty for the next batch.
  std::vector<bulk_action> take();
  void clear();

 private:
  bulk_limits limits_;
  std::vector<bulk_action> actions_;
  // Hash table of positions in actions_ by (id, index), for replacing an older action.
  std::vector<std::uint32_t> slots_;
  std::optional<std::size_t> find_or_insert(const bulk_action& action);
  void rehash(std::size_t size);
  std::uint64_t estimated_bytes_ = 0;
};

// The NDJSON body for `actions` in order (what bulk_request_builder::body() writes); the sink
// uses it to resend a subset of a batch (retries, halves after a 413).
//
//   auto body = bulk_body(std::span(retry_actions));
std::string bulk_body(std::span<const bulk_action> actions);

// `<ms>ms`, the bulk `timeout` query parameter (the Java connector's behaviour).
//
//   bulk_timeout_parameter(std::chrono::minutes(1));  // "60000ms"
std::string bulk_timeout_parameter(std::chrono::milliseconds timeout);

// Appends `text` as a JSON string (with quotes). Invalid UTF-8 bytes become U+FFFD (what Java's
// UTF-8 decoding of a Couchbase key yields), control characters are \u-escaped.
//
//   std::string out; append_json_string(out, "a\"b");  // out == R"("a\"b")"
void append_json_string(std::string& out, std::string_view text);

// Bytes the JSON-encoded form of `text` takes without quotes and escapes, i.e. its UTF-8 length
// after invalid bytes become U+FFFD; what Elasticsearch's `_id` limit counts.
std::size_t utf8_length_after_repair(std::string_view text);

}  // namespace cbes::sink
