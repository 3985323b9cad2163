// The sink against the shared testkit Elasticsearch fake (the one cbes-sandbox embeds): the real
// NDJSON parser, per-item 429s, whole-request failures and answers lost after the write.
#include "integration/sink/scripted_es.hpp"  // first: warning pragmas

#include <catch2/catch.hpp>

#include "cbes/sink/sink.hpp"
#include "cbes/testkit/elasticsearch.hpp"

using namespace cbes::sink;
using namespace sink_it;

namespace {

struct fake_harness {
  cbes::testkit::elasticsearch es;
  asio::io_context io;
  std::vector<event_done> done;
  std::unique_ptr<sink> s;

  explicit fake_harness(cbes::testkit::elasticsearch_options o = {}) : es(std::move(o)) {
    es.start();
    sink_settings settings;
    settings.types.push_back({.prefix = "", .index = "docs"});
    settings.doc_structure.metadata_field_name = "meta";
    settings.rejection_log.index = "cbes-rejects";
    settings.retry.first_delay = std::chrono::milliseconds(1);
    settings.retry.max_delay = std::chrono::milliseconds(20);
    settings.limits.actions = 10;
    auto made = sink::create(io.get_executor(), settings,
                             {.hosts = {"127.0.0.1:" + std::to_string(es.port())}},
                             {.on_done = [this](std::span<const event_done> d) {
                               done.insert(done.end(), d.begin(), d.end());
                             }});
    REQUIRE(made);
    s = std::move(*made);
  }

  result<void> write(std::size_t n, int version) {
    return run(io, [&]() -> asio::awaitable<result<void>> {
      auto info = co_await s->async_connect({.deadline = std::chrono::seconds(20)});
      if (!info)
        co_return info.error();
      for (std::size_t i = 0; i < n; ++i) {
        document_event ev;
        ev.key = "k" + std::to_string(i);
        ev.content = R"({"v":)" + std::to_string(version) + "}";
        ev.vbucket = static_cast<std::uint16_t>(i % 16);
        ev.seqno = static_cast<std::uint64_t>(version) * 1000 + i;
        if (auto r = co_await s->async_write(std::move(ev)); !r)
          co_return r;
      }
      co_return co_await s->async_flush();
    }());
  }
};

}  // namespace

TEST_CASE("documents reach the testkit fake with their metadata") {
  fake_harness h;
  REQUIRE(h.write(50, 1));
  CHECK(h.es.document_count("docs") == 50);
  auto doc = h.es.document("docs", "k7");
  REQUIRE(doc);
  auto v = json::parse(*doc).as_object();
  CHECK(v.at("doc").at("v") == 1);
  CHECK(v.at("meta").at("id") == "k7");
  CHECK(h.done.size() == 50);
}

TEST_CASE("per-item 429s, whole-request 503s and lost answers from the fake lose nothing") {
  fake_harness h;
  REQUIRE(h.write(30, 1));
  h.es.fail_next_items(7, 429);
  h.es.fail_next_requests(2, 503);
  h.es.drop_next_responses(2, /*apply=*/true);
  REQUIRE(h.write(30, 2));
  h.es.block_writes(true);
  h.es.fail_next_items(3, 503);
  h.es.block_writes(false);
  REQUIRE(h.write(30, 3));
  CHECK(h.es.document_count("docs") == 30);
  for (int i = 0; i < 30; ++i) {
    auto doc = h.es.document("docs", "k" + std::to_string(i));
    REQUIRE(doc);
    CHECK(json::parse(*doc).at("doc").at("v") == 3);
  }
  CHECK(h.done.size() == 90);
  CHECK(h.s->counters().retried_items >= 7);
  CHECK(h.s->counters().retried_requests >= 2);
  CHECK(h.s->counters().docs_rejected == 0);
}
