// The sink against the shared testkit Elasticsearch fake (the one cbes-sandbox embeds): the real
// NDJSON parser, per-item 429s, whole-request failures and answers lost after the write.
#include "integration/sink/scripted_es.hpp"  // first: warning pragmas

#include <catch2/catch.hpp>

#include <functional>
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
  std::shared_ptr<sink> s;

  std::vector<std::string> warnings;
  sink_settings settings;
  connection_settings conn;

  using tweak_fn = std::function<void(sink_settings&, connection_settings&)>;

  explicit fake_harness(cbes::testkit::elasticsearch_options o = {}, std::size_t actions_limit = 10,
                        const tweak_fn& tweak = {})
      : es(std::move(o)) {
    es.start();
    settings.types.push_back({.prefix = "", .index = "docs"});
    settings.doc_structure.metadata_field_name = "meta";
    settings.rejection_log.index = "cbes-rejects";
    settings.retry.first_delay = std::chrono::milliseconds(1);
    settings.retry.max_delay = std::chrono::milliseconds(20);
    settings.limits.actions = actions_limit;
    conn.hosts = {"127.0.0.1:" + std::to_string(es.port())};
    if (tweak)
      tweak(settings, conn);
  }

  // Connects the sink on first use, so a test of wrong credentials sees the connect fail.
  asio::awaitable<result<void>> connect() {
    if (s)
      co_return result<void>{};
    auto made = co_await sink::connect(
        io.get_executor(), settings, conn,
        {.on_done =
             [this](std::span<const event_done> d) { done.insert(done.end(), d.begin(), d.end()); },
         .on_warning = [this](std::string_view w) { warnings.emplace_back(w); }},
        {.deadline = std::chrono::seconds(20)});
    if (!made)
      co_return made.error();
    s = std::move(*made);
    co_return result<void>{};
  }

  result<void> write(std::size_t n, int version) {
    return run(io, [&]() -> asio::awaitable<result<void>> {
      auto connected = co_await connect();
      if (!connected)
        co_return connected;
      for (std::size_t i = 0; i < n; ++i) {
        document_event ev;
        ev.key = "k" + std::to_string(i);
        ev.content = R"({"v":)" + std::to_string(version) + "}";
        ev.vbucket = static_cast<std::uint16_t>(i % 16);
        ev.seqno = static_cast<std::uint64_t>(version) * 1000 + i;
        auto r = co_await s->write(std::move(ev));
        if (!r)
          co_return r;
      }
      co_return co_await s->flush();
    }());
  }

  // Connects, writes `events` in order and flushes.
  result<void> write_events(std::vector<document_event> events) {
    return run(io, [&]() -> asio::awaitable<result<void>> {
      auto connected = co_await connect();
      if (!connected)
        co_return connected;
      for (auto& ev : events) {
        auto r = co_await s->write(std::move(ev));
        if (!r)
          co_return r;
      }
      co_return co_await s->flush();
    }());
  }

  // Versions 1..`versions` of documents k0..k<n-1>, all written before one flush, so several
  // versions of one document are in flight (or queued) at once.
  result<void> write_versions(std::size_t n, int versions, std::size_t pad = 0) {
    return run(io, [&]() -> asio::awaitable<result<void>> {
      auto connected = co_await connect();
      if (!connected)
        co_return connected;
      for (int version = 1; version <= versions; ++version) {
        for (std::size_t i = 0; i < n; ++i) {
          document_event ev;
          ev.key = "k" + std::to_string(i);
          ev.content =
              R"({"v":)" + std::to_string(version) + R"(,"pad":")" + std::string(pad, 'p') + "\"}";
          ev.vbucket = static_cast<std::uint16_t>(i % 16);
          ev.seqno = static_cast<std::uint64_t>(version) * 1000 + i;
          auto r = co_await s->write(std::move(ev));
          if (!r)
            co_return r;
        }
      }
      co_return co_await s->flush();
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

document_event event(std::string key, std::string content, std::uint64_t seqno) {
  document_event ev;
  ev.key = std::move(key);
  ev.content = std::move(content);
  ev.is_deletion = ev.content.empty();
  ev.vbucket = 3;
  ev.seqno = seqno;
  return ev;
}

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
    auto w = co_await h.s->write(std::move(big));
    if (!w)
      co_return w;
    co_return co_await h.s->flush();
  }());
  REQUIRE(r);
  CHECK_FALSE(h.es.document("docs", "huge"));
  CHECK(h.es.document_count("docs") == 5);
  CHECK(h.s->counters().docs_rejected == 1);
  CHECK(h.es.document("cbes-rejects", "huge"));
}

TEST_CASE("a mapping conflict on the fake goes to the rejection log with the exact entry") {
  for (auto flavor : {cbes::testkit::elasticsearch_flavor::elasticsearch_7,
                      cbes::testkit::elasticsearch_flavor::elasticsearch_8}) {
    cbes::testkit::elasticsearch_options o;
    o.flavor = flavor;
    fake_harness h(o);
    REQUIRE(h.write_events({event("good", R"({"n":1})", 1), event("bad", R"({"n":"text"})", 2)}));
    CHECK(h.es.document_count("docs") == 1);
    auto entry = h.es.document("cbes-rejects", "bad");
    REQUIRE(entry);
    auto doc = json::parse(*entry).as_object();
    CHECK(doc.size() == 3);
    CHECK(doc.at("index") == "docs");
    CHECK(doc.at("action") == "INDEX");
    const auto error = json::parse(doc.at("error").as_string()).as_object();
    CHECK(error.at("type") == (flavor == cbes::testkit::elasticsearch_flavor::elasticsearch_7
                                   ? "mapper_parsing_exception"
                                   : "document_parsing_exception"));
    REQUIRE(h.done.size() == 2);
    CHECK(h.done[0].outcome == event_outcome::indexed);
    CHECK(h.done[1].outcome == event_outcome::rejected);
    CHECK(h.s->counters().rejection_log_writes == 1);
  }
}

TEST_CASE("deleting a document the fake never had is done, in a missing index it is rejected") {
  fake_harness h;
  // Existing index: the item answers 404 `not_found` without an error: done.
  REQUIRE(h.write_events({event("kept", R"({"a":1})", 1), event("gone", "", 2)}));
  REQUIRE(h.done.size() == 2);
  CHECK(h.done[1].outcome == event_outcome::deleted);
  CHECK(h.s->counters().docs_rejected == 0);
  CHECK(h.es.document_count("docs") == 1);
  // No index yet: a plain delete does not auto-create it and answers 404
  // index_not_found_exception, a permanent failure as in the Java connector.
  fake_harness fresh;
  REQUIRE(fresh.write_events({event("gone", "", 1)}));
  REQUIRE(fresh.done.size() == 1);
  CHECK(fresh.done[0].outcome == event_outcome::rejected);
  auto entry = fresh.es.document("cbes-rejects", "gone");
  REQUIRE(entry);
  CHECK(json::parse(*entry).at("action") == "DELETE");
}

TEST_CASE("per-item 409 and 500 from the fake are retried until written") {
  fake_harness h;
  h.es.fail_next_items(4, 409);
  REQUIRE(h.write(10, 1));
  h.es.fail_next_items(4, 500);
  REQUIRE(h.write(10, 2));
  h.check_newest(10, 2);
  CHECK(h.s->counters().retried_items >= 8);
}

TEST_CASE("per-item retries against the fake stop at maxAttempts and nothing is reported done") {
  fake_harness h({}, 10, [](sink_settings& s, connection_settings&) { s.retry.max_attempts = 3; });
  h.es.fail_next_items(1000, 503);
  auto r = h.write(5, 1);
  REQUIRE_FALSE(r);
  CHECK(r.error().what().find("3") != std::string::npos);
  CHECK(h.done.empty());
  CHECK(h.es.document_count("docs") == 0);
}

TEST_CASE("wrong credentials for the fake stop the sink with the credential settings named") {
  cbes::testkit::elasticsearch_options o;
  o.username = "elastic";
  o.password = "secret";
  fake_harness h(o, 10, [](sink_settings&, connection_settings& c) {
    c.username = "elastic";
    c.password = "wrong";
  });
  auto r = h.write(1, 1);
  REQUIRE_FALSE(r);
  INFO(r.error().what());
  CHECK(r.error().what().find("elasticsearch.username") != std::string::npos);
  CHECK(h.done.empty());
}
