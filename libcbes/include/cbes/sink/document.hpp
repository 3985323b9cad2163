#pragma once
// The Elasticsearch source document built from a Couchbase document (the Java connector's
// behaviour): content under "doc" or at the top level, an optional metadata object, counters
// wrapped as {"value": n}. Content bytes are passed through as written (never re-serialised), so
// numbers and nulls survive exactly; only line breaks between tokens become spaces, as NDJSON needs
// one line per source.
//
//   cbes::sink::doc_structure_settings ds{.metadata_field_name = "meta"};
//   auto shaped = cbes::sink::shape_document(event, ds);
//   if (shaped.kind == cbes::sink::shape_kind::ok) use(shaped.body);
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cbes/sink/event.hpp"
#include "cbes/sink/settings.hpp"

namespace cbes::sink {

enum class shape_kind {
  ok,        // body holds the source document
  skipped,   // not a JSON object (binary, string, number, ...): not replicated
  rejected,  // meant to be an object but cannot be sent: goes to the rejection log
};

struct shaped_document {
  shape_kind kind = shape_kind::skipped;
  std::string body;     // one line of JSON when ok
  std::string reason;   // why skipped or rejected (rejection-log "error" text)
  std::string warning;  // e.g. metadata field name collides with a content field
};

// Builds the source for an `index` action. `buffer`: a string whose capacity the body may reuse
// (the sink hands back the bodies of written documents, so steady state allocates none).
//
//   auto shaped = shape_document(event, ds, std::move(spare));
shaped_document shape_document(const document_event& event, const doc_structure_settings& ds,
                               std::string buffer = {});

// XDCR "CAPI" revision string: `<revSeqno>-<cas 16 hex><expiry 8 hex><flags 8 hex>`, lower-case.
//
//   format_rev(1, 0x16c3f1a2b3c4d5e6, 0, 0x02000006);  // "1-16c3f1a2b3c4d5e60000000002000006"
std::string format_rev(std::uint64_t rev_seqno, std::uint64_t cas, std::uint32_t expiry,
                       std::uint32_t flags);

// The metadata object, fields in the Java connector's order and with its Java types (int / long:
// values at or above 2^31 / 2^63 print negative).
//
//   metadata_json(ev);  // {"rev":"1-...","flags":0,"expiration":0,"id":"k",...,"lockTime":0}
std::string metadata_json(const document_event& event);

// The counter value when content is a single JSON integer in 0..2^64-1 (a Couchbase counter),
// as Java stores it: a signed 64-bit long (values >= 2^63 wrap negative). `1.0`, `-1`, `"1"` and
// `1 2` are not counters.
//
//   counter_value("18446744073709551615");  // -1
std::optional<std::int64_t> counter_value(std::string_view content);

}  // namespace cbes::sink
