// Throughput of the sink's pure path: shape a 1 KiB JSON document (validate, add metadata),
// add it to a bulk batch, and write the NDJSON body once per batch of 1000 actions.
//
//   build/bin/bench-bulk_builder [docs]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "bench_util.hpp"
#include "cbes/sink/bulk_request.hpp"
#include "cbes/sink/document.hpp"

namespace {

using cbes::bench::one_kib_document;

template <class F>
double seconds(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t docs = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 500000;
  cbes::sink::bulk_limits limits;  // 1000 actions / 10 MiB: Java defaults
  const cbes::sink::doc_structure_settings shape{.metadata_field_name = "meta"};
  cbes::sink::document_event ev;
  ev.content = one_kib_document();
  ev.cas = 0x16c3f1a2b3c4d5e6;
  ev.rev_seqno = 1;

  std::size_t body_bytes = 0;
  std::size_t batches = 0;
  const double shaped_secs = seconds([&] {
    cbes::sink::bulk_request_builder builder(limits);
    for (std::size_t i = 0; i < docs; ++i) {
      ev.key = "airline_" + std::to_string(i);
      ev.seqno = i;
      auto shaped = cbes::sink::shape_document(ev, shape);
      builder.add(cbes::sink::bulk_action::index_doc(ev.key, "airlines", std::move(shaped.body),
                                                     std::nullopt, std::nullopt,
                                                     ev.content.size()));
      if (builder.full() || i + 1 == docs) {
        body_bytes += builder.body().size();
        ++batches;
        builder.clear();
      }
    }
  });

  const double passthrough_secs = seconds([&] {
    cbes::sink::bulk_request_builder builder(limits);
    const cbes::sink::doc_structure_settings top{.document_content_at_top_level = true};
    for (std::size_t i = 0; i < docs; ++i) {
      ev.key = "airline_" + std::to_string(i);
      auto shaped = cbes::sink::shape_document(ev, top);
      builder.add(cbes::sink::bulk_action::index_doc(ev.key, "airlines", std::move(shaped.body)));
      if (builder.full() || i + 1 == docs) {
        builder.body();
        builder.clear();
      }
    }
  });

  const auto report = [&](const char* what, double secs) {
    std::printf("%-44s %10.0f docs/s %8.1f ns/doc\n", what, static_cast<double>(docs) / secs,
                secs * 1e9 / static_cast<double>(docs));
  };
  std::printf("%zu docs of %zu bytes, %zu batches, %.1f MiB of NDJSON (doc + meta)\n", docs,
              ev.content.size(), batches, static_cast<double>(body_bytes) / (1 << 20));
  report("doc + meta, shaped, batched, body written", shaped_secs);
  report("top level raw pass-through, batched, body", passthrough_secs);
  return 0;
}
