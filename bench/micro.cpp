// Micro benchmarks (Google Benchmark) of the per-document steps, each reported in bytes/s and
// items/s: mcbp frame parsing, DCP message decoding, document shaping, NDJSON bulk body building
// and bulk response parsing, on 1 KiB JSON documents.
//
//   build/bin/bench-micro                     every benchmark
//   build/bin/bench-micro --benchmark_filter=shape
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <string>
#include <vector>

#include "bench_util.hpp"
#include "cbes/mcbp/dcp.hpp"
#include "cbes/mcbp/parser.hpp"
#include "cbes/sink/bulk_request.hpp"
#include "cbes/sink/bulk_response.hpp"
#include "cbes/sink/document.hpp"

namespace {

constexpr std::size_t batch = 1000;  // frames / documents per iteration

// `batch` DCP_MUTATION frames of 1 KiB JSON documents, as a producer sends them.
std::string mutation_stream() {
  const std::string content = cbes::bench::one_kib_document();
  std::string out;
  for (std::size_t i = 0; i < batch; ++i) {
    cbes::mcbp::dcp_mutation m;
    m.by_seqno = i + 1;
    m.rev_seqno = 1;
    m.key = "airline_" + std::to_string(i);
    m.value = content;
    m.datatype = 0x01;  // JSON
    m.cas = 0x16c3f1a2b3c4d5e6 + i;
    out += m.encode().opaque(7).vbucket(static_cast<std::uint16_t>(i % 1024)).build();
  }
  return out;
}

void mcbp_frame_parsing(benchmark::State& state) {
  const std::string bytes = mutation_stream();
  cbes::mcbp::parser p;
  for (auto _ : state) {
    p.feed(bytes);
    std::size_t frames = 0;
    for (;;) {
      auto r = p.next();
      if (!r || !*r)
        break;
      benchmark::DoNotOptimize((*r)->header.opcode);
      ++frames;
    }
    if (frames != batch)
      state.SkipWithError("parser lost frames");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}
BENCHMARK(mcbp_frame_parsing);

void dcp_message_decoding(benchmark::State& state) {
  const std::string bytes = mutation_stream();
  cbes::mcbp::parser p;
  for (auto _ : state) {
    p.feed(bytes);
    for (;;) {
      auto r = p.next();
      if (!r || !*r)
        break;
      auto msg = cbes::mcbp::decode_dcp_message(**r);
      if (!msg)
        state.SkipWithError("decode failed");
      benchmark::DoNotOptimize(msg);
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}
BENCHMARK(dcp_message_decoding);

cbes::sink::document_event sample_event() {
  cbes::sink::document_event ev;
  ev.key = "airline_10";
  ev.content = cbes::bench::one_kib_document();
  ev.cas = 0x16c3f1a2b3c4d5e6;
  ev.rev_seqno = 1;
  ev.seqno = 42;
  return ev;
}

// The default document structure: the content under "doc", metadata under "meta".
void document_shaping(benchmark::State& state) {
  const auto ev = sample_event();
  const cbes::sink::doc_structure_settings shape{.metadata_field_name = "meta"};
  for (auto _ : state) {
    auto shaped = cbes::sink::shape_document(ev, shape);
    benchmark::DoNotOptimize(shaped.body.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * ev.content.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(document_shaping);

std::vector<cbes::sink::bulk_action> actions() {
  const auto ev = sample_event();
  const cbes::sink::doc_structure_settings shape{.metadata_field_name = "meta"};
  const auto body = cbes::sink::shape_document(ev, shape).body;
  std::vector<cbes::sink::bulk_action> out;
  for (std::size_t i = 0; i < batch; ++i)
    out.push_back(
        cbes::sink::bulk_action::index_doc("airline_" + std::to_string(i), "bench", body));
  return out;
}

void ndjson_building(benchmark::State& state) {
  const auto all = actions();
  std::size_t bytes = 0;
  for (auto _ : state) {
    cbes::sink::bulk_request_builder builder;
    for (const auto& a : all)
      builder.add(a);
    auto body = builder.body();
    bytes += body.size();
    benchmark::DoNotOptimize(body.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}
BENCHMARK(ndjson_building);

// What Elasticsearch 8 answers to `batch` successful index actions.
std::string bulk_response_body() {
  std::string out = R"({"took":30,"errors":false,"items":[)";
  for (std::size_t i = 0; i < batch; ++i) {
    if (i)
      out += ',';
    out += R"({"index":{"_index":"bench","_id":"airline_)" + std::to_string(i) +
           R"(","_version":1,"result":"created","_shards":{"total":2,"successful":1,"failed":0},)"
           R"("_seq_no":)" +
           std::to_string(i) + R"(,"_primary_term":1,"status":201}})";
  }
  return out + "]}";
}

template <auto classify>
void classify_bench(benchmark::State& state) {
  const auto sent = actions();
  const std::string body = bulk_response_body();
  for (auto _ : state) {
    auto c = classify(200, body, sent, "");
    if (c.verdict != cbes::sink::bulk_verdict::per_item || c.items.size() != batch)
      state.SkipWithError("response not classified per item");
    benchmark::DoNotOptimize(c.items.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
}

// What the sink does: the all-succeeded check without a DOM.
void bulk_response_parsing(benchmark::State& state) {
  classify_bench<&cbes::sink::classify_bulk_response>(state);
}
BENCHMARK(bulk_response_parsing);

// The full classification (a Boost.JSON DOM), which answers anything else.
void bulk_response_parsing_dom(benchmark::State& state) {
  classify_bench<&cbes::sink::classify_bulk_response_reference>(state);
}
BENCHMARK(bulk_response_parsing_dom);

}  // namespace

// A long-running process keeps its heap: without this, glibc hands the top of the heap back to
// the kernel whenever an iteration frees its megabyte-sized batch, and a loop that allocates it
// again measures page faults (5x the NDJSON figure), not the code.
const bool steady_heap = [] {
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  return true;
}();

BENCHMARK_MAIN();
