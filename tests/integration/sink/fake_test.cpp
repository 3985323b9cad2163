// The sink against the shared testkit Elasticsearch fake (the one cbes-sandbox embeds): the real
// NDJSON parser, per-item 429s, whole-request failures and answers lost after the write.
#include "integration/sink/scripted_es.hpp"  // first: warning pragmas

#include <catch2/catch.hpp>

#include <map>

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

  std::vector<std::string> warnings;

  explicit fake_harness(cbes::testkit::elasticsearch_options o = {}, std::size_t actions_limit = 10)
      : es(std::move(o)) {
    es.start();
    sink_settings settings;
    settings.types.push_back({.prefix = "", .index = "docs"});
    settings.doc_structure.metadata_field_name = "meta";
    settings.rejection_log.index = "cbes-rejects";
    settings.retry.first_delay = std::chrono::milliseconds(1);
    settings.retry.max_delay = std::chrono::milliseconds(20);
    settings.limits.actions = actions_limit;
    auto made = sink::create(
        io.get_executor(), settings, {.hosts = {"127.0.0.1:" + std::to_string(es.port())}},
        {.on_done =
             [this](std::span<const event_done> d) { done.insert(done.end(), d.begin(), d.end()); },
         .on_warning = [this](std::string_view w) { warnings.emplace_back(w); }});
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

  // Versions 1..`versions` of documents k0..k<n-1>, all written before one flush, so several
  // versions of one document are in flight (or queued) at once.
  result<void> write_versions(std::size_t n, int versions, std::size_t pad = 0) {
    return run(io, [&]() -> asio::awaitable<result<void>> {
      auto info = co_await s->async_connect({.deadline = std::chrono::seconds(20)});
      if (!info)
        co_return info.error();
      for (int version = 1; version <= versions; ++version) {
        for (std::size_t i = 0; i < n; ++i) {
          document_event ev;
          ev.key = "k" + std::to_string(i);
          ev.content =
              R"({"v":)" + std::to_string(version) + R"(,"pad":")" + std::string(pad, 'p') + "\"}";
          ev.vbucket = static_cast<std::uint16_t>(i % 16);
          ev.seqno = static_cast<std::uint64_t>(version) * 1000 + i;
          if (auto r = co_await s->async_write(std::move(ev)); !r)
            co_return r;
        }
      }
      co_return co_await s->async_flush();
    }());
  }

  // Every document holds `version`, and per document the done events came in seqno order.
  void check_newest(std::size_t n, int version) {
    CHECK(es.document_count("docs") == n);
    for (std::size_t i = 0; i < n; ++i) {
      auto doc = es.document("docs", "k" + std::to_string(i));
      INFO("k" << i);
      REQUIRE(doc);
      CHECK(json::parse(*doc).at("doc").at("v") == version);
    }
    std::map<std::uint16_t, std::uint64_t> last_seqno;
    for (const auto& d : done) {
      INFO("vbucket " << d.vbucket << " seqno " << d.seqno);
      CHECK(d.seqno > last_seqno[d.vbucket]);
      last_seqno[d.vbucket] = d.seqno;
    }
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

TEST_CASE("responses cut off mid-body lose nothing and write nothing out of order") {
  fake_harness h;
  // The fake executes each of these bulks, then sends the status line and half the body and
  // closes: the sink must treat it as a lost answer and resend the whole request.
  h.es.truncate_next_responses(4);
  REQUIRE(h.write_versions(30, 5));
  h.check_newest(30, 5);
  CHECK(h.s->counters().retried_requests >= 4);
  CHECK(h.s->counters().docs_rejected == 0);
  // Cut-offs between writes too, with fresh versions, and 429s mixed in.
  h.es.truncate_next_responses(3);
  h.es.fail_next_items(5, 429);
  REQUIRE(h.write(30, 6));
  h.check_newest(30, 6);
  CHECK(h.es.stats().failed_items >= 5);
}

TEST_CASE("413 from the fake above max_content_length splits batches until they fit") {
  cbes::testkit::elasticsearch_options o;
  o.max_content_length = 4096;
  // 40 actions of ~300 bytes per batch (~12 KB) must be split at least twice.
  fake_harness h(o, 40);
  REQUIRE(h.write_versions(40, 3, 200));
  h.check_newest(40, 3);
  CHECK(h.s->counters().docs_rejected == 0);
  bool saw_split = false;
  for (const auto& w : h.warnings)
    saw_split |= w.find("413") != std::string::npos;
  CHECK(saw_split);
}

TEST_CASE("a document larger than max_content_length on the fake is rejected, others written") {
  cbes::testkit::elasticsearch_options o;
  o.max_content_length = 2048;
  fake_harness h(o);
  REQUIRE(h.write(5, 1));
  auto r = run(h.io, [&]() -> asio::awaitable<result<void>> {
    document_event big;
    big.key = "huge";
    big.content = R"({"p":")" + std::string(4000, 'x') + "\"}";
    big.vbucket = 3;
    big.seqno = 99;
    if (auto w = co_await h.s->async_write(std::move(big)); !w)
      co_return w;
    co_return co_await h.s->async_flush();
  }());
  REQUIRE(r);
  CHECK_FALSE(h.es.document("docs", "huge"));
  CHECK(h.es.document_count("docs") == 5);
  CHECK(h.s->counters().docs_rejected == 1);
  CHECK(h.es.document("cbes-rejects", "huge"));
}
