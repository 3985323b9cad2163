// libFuzzer target: what the Elasticsearch sink reads from outside. The first byte picks:
// - a _bulk response body, classified by the sink's fast pass and by the full DOM pass, which
//   must agree on every field (a differential check, not only "no crash");
// - document content from Couchbase, shaped in each document structure (a shaped source must be
//   one line, and ok only for an object).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "../libcbes/src/sink/json_scan.hpp"
#include "cbes/sink/bulk_request.hpp"
#include "cbes/sink/bulk_response.hpp"
#include "cbes/sink/document.hpp"

namespace sink = cbes::sink;

namespace {

void require(bool ok) {
  if (!ok)
    std::abort();
}

void bulk_response(std::uint8_t selector, std::string_view body) {
  std::vector<sink::bulk_action> sent;
  const std::size_t n = 1 + selector % 4;
  for (std::size_t i = 0; i < n; ++i)
    sent.push_back(i % 2 ? sink::bulk_action::delete_doc("k" + std::to_string(i), "idx")
                         : sink::bulk_action::index_doc("k" + std::to_string(i), "idx", "{}"));
  const unsigned status = selector & 0x80 ? 200 : 200 + (selector % 7) * 50;
  const auto fast = sink::classify_bulk_response(status, body, sent, "rejects");
  const auto full = sink::classify_bulk_response_reference(status, body, sent, "rejects");
  require(fast.verdict == full.verdict && fast.message == full.message);
  require(fast.items.size() == full.items.size());
  for (std::size_t i = 0; i < fast.items.size(); ++i)
    require(fast.items[i].outcome == full.items[i].outcome &&
            fast.items[i].status == full.items[i].status &&
            fast.items[i].error == full.items[i].error);
  require(fast.retry == full.retry && fast.rejected_count == full.rejected_count &&
          fast.dropped_count == full.dropped_count && fast.ingest_took == full.ingest_took &&
          fast.rejections.size() == full.rejections.size());
  // What the sink sends next from a classification: rejection-log documents.
  for (const auto& r : full.rejections)
    static_cast<void>(sink::bulk_body(std::span(&r, 1)));
}

void shape(std::uint8_t selector, std::string_view content) {
  sink::document_event ev;
  ev.key = "doc";
  ev.content = std::string(content);
  sink::doc_structure_settings ds;
  ds.metadata_field_name = selector & 1 ? "meta" : "";
  ds.document_content_at_top_level = (selector & 2) != 0;
  ds.wrap_counters = (selector & 4) != 0;
  const auto shaped = sink::shape_document(ev, ds);
  if (shaped.kind == sink::shape_kind::ok) {
    require(shaped.body.find('\n') == std::string::npos);
    require(sink::detail::scan_json_object(shaped.body, "").kind ==
            sink::detail::scan_kind::object);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1)
    return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1)
    bulk_response(data[0] >> 1, rest);
  else
    shape(data[0] >> 1, rest);
  return 0;
}
