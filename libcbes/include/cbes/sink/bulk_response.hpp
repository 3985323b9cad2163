#pragma once
// What to do with a `_bulk` response (the Java connector's behaviour, Elasticsearch's Bulk
// API). Per item: 2xx, or a delete answered 404 `not_found`, is done; 400, or 404 with
// an error, is permanent and becomes a rejection-log document; everything else (409, 429, 5xx,
// ...) is retried. The whole request: 413 splits the batch, 429/5xx retry it, 401/403 and other
// 4xx are fatal. Response bodies are untrusted: anything malformed is an error value.
//
//   auto v = cbes::sink::classify_bulk_response(200, body, sent, settings.rejection_log.index);
//   switch (v.verdict) { case cbes::sink::bulk_verdict::per_item: ...retry v.retry... }
#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cbes/sink/bulk_request.hpp"

namespace cbes::sink {

enum class item_outcome {
  done,
  rejected,  // permanent failure; a rejection-log document was produced (if the log is enabled)
  retry,     // transient failure; resend this action after a back-off
  dropped,   // a rejection-log write that was itself rejected: counted and dropped
};

struct item_result {
  item_outcome outcome = item_outcome::done;
  int status = 0;     // the item's HTTP status
  std::string error;  // the item's `error` object as compact JSON text ("" when none)
};

enum class bulk_verdict {
  per_item,   // items[] is valid: act on retry / rejections
  retry_all,  // 429 / 5xx for the whole request: resend every action after a back-off
  split,      // 413: the body was too large; resend the actions in two halves
  fatal,      // 401 / 403 / other 4xx / unexpected status: stop the worker, message says why
  malformed,  // the body is not a bulk response for this request: treat like a transport
              // failure (resend everything after a back-off; index/delete are idempotent)
};

struct bulk_classification {
  bulk_verdict verdict = bulk_verdict::per_item;
  std::string message;                  // for every verdict but per_item
  std::vector<item_result> items;       // per_item: one per sent action, in request order
  std::vector<std::size_t> retry;       // per_item: positions of the actions to resend
  std::vector<bulk_action> rejections;  // per_item: rejection-log documents to send next
  std::size_t rejected_count = 0;       // per_item: permanently failed documents
  std::size_t dropped_count = 0;        // per_item: failed rejection-log writes
  // per_item: the response's `ingest_took` (ingest pipeline time, milliseconds), present only
  // when a pipeline ran.
  std::optional<std::chrono::milliseconds> ingest_took{};
};

// Classifies a response to the request that carried `sent`. `rejection_log_index` empty = the
// rejection log is disabled (rejected items are only counted).
bulk_classification classify_bulk_response(unsigned http_status, std::string_view body,
                                           std::span<const bulk_action> sent,
                                           std::string_view rejection_log_index);

// The same classification without the fast path for all-successful responses (a SAX pass that
// builds no DOM): the DOM pass alone. For tests and benchmarks that compare the two.
bulk_classification classify_bulk_response_reference(unsigned http_status, std::string_view body,
                                                     std::span<const bulk_action> sent,
                                                     std::string_view rejection_log_index);

// The rejection-log document for a permanently failed action: `index` action into
// `rejection_log_index`, `_id` = document ID, source
// `{"index":"<target>","action":"INDEX"|"DELETE","error":"<error JSON text>"}`.
bulk_action rejection_document(const bulk_action& failed, std::string_view error_text,
                               std::string_view rejection_log_index);

}  // namespace cbes::sink
