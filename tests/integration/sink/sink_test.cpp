// The sink's bulk loop against a scripted Elasticsearch with fault injection: every
// classification path (the Java connector's behaviour, Elasticsearch's REST API docs), per-vbucket
// lanes, and "done" reporting for checkpoints.
#include "integration/sink/scripted_es.hpp"  // first: warning pragmas

#include <catch2/catch.hpp>

#include <random>
#include <set>

#include "cbes/sink/sink.hpp"

using namespace cbes::sink;
using namespace sink_it;

namespace {

sink_settings test_settings() {
  sink_settings s;
  s.types.push_back({.prefix = "skip_", .ignore = true});
  s.types.push_back({.prefix = "", .index = "docs"});
  s.doc_structure.document_content_at_top_level = true;
  s.rejection_log.index = "cbes-rejects";
  s.retry.first_delay = std::chrono::milliseconds(1);
  s.retry.max_delay = std::chrono::milliseconds(20);
  return s;
}

document_event mutation(std::string key, std::string content, std::uint16_t vb,
                        std::uint64_t seqno) {
  document_event ev;
  ev.key = std::move(key);
  ev.content = std::move(content);
  ev.vbucket = vb;
  ev.vbuuid = 1000 + vb;
  ev.seqno = seqno;
  return ev;
}

document_event deletion(std::string key, std::uint16_t vb, std::uint64_t seqno) {
  auto ev = mutation(std::move(key), {}, vb, seqno);
  ev.is_deletion = true;
  return ev;
}

struct harness {
  asio::io_context io;
  std::vector<event_done> done;
  std::vector<std::string> warnings;
  std::optional<error> fatal;
  std::shared_ptr<sink> s;

  // `on_done` replaces the recording callback (e.g. one that throws).
  explicit harness(const scripted_es& es, sink_settings settings = test_settings(),
                   connection_settings conn = {},
                   std::function<void(std::span<const event_done>)> on_done = {}) {
    conn.hosts = {es.host()};
    if (!on_done)
      on_done = [this](std::span<const event_done> d) {
        done.insert(done.end(), d.begin(), d.end());
      };
    auto made = run(
        io, sink::connect(io.get_executor(), std::move(settings), std::move(conn),
                          {.on_done = std::move(on_done),
                           .on_warning = [this](std::string_view w) { warnings.emplace_back(w); },
                           .on_fatal = [this](const error& e) { fatal = e; }}));
    REQUIRE(made);
    s = std::move(*made);
  }

  result<void> write_all(std::vector<document_event> events) {
    return run(io, [&]() -> asio::awaitable<result<void>> {
      for (auto& ev : events) {
        auto r = co_await s->write(std::move(ev));
        if (!r)
          co_return r;
      }
      co_return co_await s->flush();
    }());
  }

  std::size_t done_count(event_outcome o) const {
    return static_cast<std::size_t>(std::count_if(
        done.begin(), done.end(), [&](const event_done& d) { return d.outcome == o; }));
  }
};

}  // namespace

TEST_CASE("index and delete actions are written and every event is reported done") {
  scripted_es es;
  harness h(es);
  REQUIRE(h.write_all({mutation("a", R"({"v":1})", 0, 1), mutation("b", R"({"v":2})", 1, 1),
                       mutation("skip_me", R"({"v":3})", 0, 2), deletion("b", 1, 2),
                       mutation("c", "\"not an object\"", 2, 1), deletion("never", 3, 1)}));
  CHECK(es.index_contents("docs") == std::map<std::string, std::string>{{"a", R"({"v":1})"}});
  REQUIRE(h.done.size() == 6);
  // "b" went out alone (its lane was idle), so its delete followed in the next batch.
  CHECK(h.done_count(event_outcome::indexed) == 2);
  CHECK(h.done_count(event_outcome::deleted) == 2);  // a missing document counts as deleted
  CHECK(h.done_count(event_outcome::skipped) == 2);  // ignored rule, not a JSON object
  CHECK(h.done_count(event_outcome::superseded) == 0);
  auto c = h.s->counters();
  CHECK(c.docs_deleted == 2);
  CHECK(c.docs_skipped == 2);
  CHECK(c.docs_rejected == 0);
  CHECK(c.retried_requests == 0);
  CHECK(c.bytes_sent > 0);
  // Per lane, events are reported in the order they were written.
  for (std::uint16_t vb = 0; vb < 4; ++vb) {
    std::uint64_t last = 0;
    for (const auto& d : h.done)
      if (d.vbucket == vb) {
        CHECK(d.seqno > last);
        CHECK(d.vbuuid == 1000u + vb);
        last = d.seqno;
      }
  }
}

TEST_CASE("a newer event for a queued document supersedes it in the batch") {
  scripted_es es({.bulk_delay = 100ms});
  harness h(es);
  // The first write leaves at once; the next three queue behind it in one batch.
  REQUIRE(h.write_all({mutation("x", R"({"v":1})", 0, 1), mutation("x", R"({"v":2})", 0, 2),
                       mutation("y", R"({"v":1})", 0, 3), deletion("x", 0, 4)}));
  CHECK(es.index_contents("docs") == std::map<std::string, std::string>{{"y", R"({"v":1})"}});
  auto requests = es.bulk_requests();
  REQUIRE(requests.size() == 2);
  REQUIRE(requests[1].size() == 2);
  CHECK(requests[1][0].action == "delete");  // x's slot keeps its position, newest action wins
  CHECK(requests[1][0].id == "x");
  REQUIRE(h.done.size() == 4);
  CHECK(h.done[0].outcome == event_outcome::indexed);
  CHECK(h.done[1].outcome == event_outcome::superseded);
  CHECK(h.done[2].outcome == event_outcome::indexed);
  CHECK(h.done[3].outcome == event_outcome::deleted);
  CHECK(h.s->counters().docs_superseded == 1);
}

TEST_CASE("the bulk request carries the timeout parameter and NDJSON content type") {
  scripted_es es;
  harness h(es);
  REQUIRE(h.write_all({mutation("a", R"({"v":1})", 0, 1)}));
  auto headers = es.bulk_headers();
  REQUIRE(headers.size() == 1);
  CHECK(cbes::testkit::find_header(headers[0], "Content-Type") == "application/x-ndjson");
}

TEST_CASE("per-item 429 retries only the failed items until they succeed") {
  scripted_es es;
  std::map<std::string, int> failures_left{{"k3", 2}, {"k7", 1}};
  es.set_item_hook([&](const bulk_item& it) -> std::optional<item_fault> {
    if (auto f = failures_left.find(it.id); f != failures_left.end() && f->second > 0) {
      --f->second;
      return item_fault{};
    }
    return std::nullopt;
  });
  harness h(es);
  std::vector<document_event> events;
  for (int i = 0; i < 10; ++i)
    events.push_back(mutation("k" + std::to_string(i), R"({"i":)" + std::to_string(i) + "}", 0,
                              static_cast<std::uint64_t>(i + 1)));
  REQUIRE(h.write_all(std::move(events)));
  CHECK(es.index_contents("docs").size() == 10);
  CHECK(h.done_count(event_outcome::indexed) == 10);
  // An item is sent again only when it failed: k3 three times, k7 twice, the rest once.
  std::map<std::string, int> sends;
  for (const auto& request : es.bulk_requests())
    for (const auto& it : request)
      ++sends[it.id];
  for (const auto& [id, n] : sends) {
    INFO(id);
    CHECK(n == (id == "k3" ? 3 : id == "k7" ? 2 : 1));
  }
  CHECK(h.s->counters().retried_items == 3);
  CHECK(h.s->counters().docs_indexed == 10);
}

TEST_CASE("a 400 item goes to the rejection log with the exact document") {
  scripted_es es;
  const std::string mapping_error =
      R"({"type":"mapper_parsing_exception","reason":"failed to parse field [n] of type [long]"})";
  es.set_item_hook([&](const bulk_item& it) -> std::optional<item_fault> {
    if (it.index == "docs" && it.id == "bad")
      return item_fault{400, mapping_error};
    return std::nullopt;
  });
  harness h(es);
  REQUIRE(
      h.write_all({mutation("good", R"({"n":1})", 0, 1), mutation("bad", R"({"n":"x"})", 0, 2)}));
  CHECK(es.index_contents("docs") == std::map<std::string, std::string>{{"good", R"({"n":1})"}});
  auto rejects = es.index_contents("cbes-rejects");
  REQUIRE(rejects.size() == 1);
  auto doc = json::parse(rejects.at("bad")).as_object();
  CHECK(doc.size() == 3);
  CHECK(doc.at("index") == "docs");
  CHECK(doc.at("action") == "INDEX");
  CHECK(json::parse(doc.at("error").as_string()) == json::parse(mapping_error));
  // The rejected event is done once its rejection-log entry is written.
  REQUIRE(h.done.size() == 2);
  CHECK(h.done[1].outcome == event_outcome::rejected);
  CHECK(h.s->counters().docs_rejected == 1);
  CHECK(h.s->counters().rejection_log_writes == 1);
}

TEST_CASE("a rejected delete is logged as action DELETE, a failing rejection log is dropped") {
  scripted_es es;
  es.set_item_hook([&](const bulk_item& it) -> std::optional<item_fault> {
    if (it.index == "docs" && it.id == "gone")
      return item_fault{404,
                        R"({"type":"index_not_found_exception","reason":"no such index [docs]"})"};
    if (it.index == "cbes-rejects" && it.id == "x")
      return item_fault{400, R"({"type":"mapper_parsing_exception","reason":"nope"})"};
    if (it.index == "docs" && it.id == "x")
      return item_fault{400, R"({"type":"mapper_parsing_exception","reason":"bad"})"};
    return std::nullopt;
  });
  harness h(es);
  REQUIRE(h.write_all({deletion("gone", 0, 1), mutation("x", R"({"a":1})", 1, 1)}));
  auto rejects = es.index_contents("cbes-rejects");
  REQUIRE(rejects.size() == 1);
  auto doc = json::parse(rejects.at("gone")).as_object();
  CHECK(doc.at("action") == "DELETE");
  CHECK(doc.at("index") == "docs");
  auto c = h.s->counters();
  CHECK(c.docs_rejected == 2);
  CHECK(c.rejection_log_failures == 1);
  CHECK(c.rejection_log_writes == 1);
  CHECK(h.done_count(event_outcome::rejected) == 2);
}

TEST_CASE("without a rejection log, rejected items are only counted") {
  scripted_es es;
  es.set_item_hook([&](const bulk_item& it) -> std::optional<item_fault> {
    if (it.id == "bad")
      return item_fault{400, R"({"type":"mapper_parsing_exception","reason":"bad"})"};
    return std::nullopt;
  });
  auto settings = test_settings();
  settings.rejection_log.index.clear();
  harness h(es, settings);
  REQUIRE(h.write_all({mutation("bad", R"({"a":1})", 0, 1)}));
  CHECK(es.index_contents("cbes-rejects").empty());
  CHECK(h.s->counters().docs_rejected == 1);
  CHECK(es.bulk_requests().size() == 1);
}

TEST_CASE("413 splits the batch until every part fits") {
  scripted_es es({.body_limit = 700});
  harness h(es);
  std::vector<document_event> events;
  const std::string pad(80, 'p');
  for (int i = 0; i < 16; ++i)
    events.push_back(mutation("d" + std::to_string(i), R"({"p":")" + pad + "\"}", 0,
                              static_cast<std::uint64_t>(i + 1)));
  // Batch them up: the first write goes alone, the other 15 queue behind it.
  REQUIRE(h.write_all(std::move(events)));
  CHECK(es.index_contents("docs").size() == 16);
  CHECK(h.done_count(event_outcome::indexed) == 16);
  bool saw_split = false;
  for (const auto& w : h.warnings)
    saw_split |= w.find("HTTP 413") != std::string::npos;
  CHECK(saw_split);
}

TEST_CASE("a document too large for any request is rejected after splitting") {
  scripted_es es({.body_limit = 300});
  harness h(es);
  REQUIRE(h.write_all({mutation("huge", R"({"p":")" + std::string(400, 'x') + "\"}", 0, 1)}));
  CHECK(es.index_contents("docs").empty());
  REQUIRE(es.index_contents("cbes-rejects").count("huge") == 1);
  CHECK(h.done_count(event_outcome::rejected) == 1);
}

TEST_CASE("whole-request 429, 503, a malformed body and a dropped connection are retried") {
  scripted_es es;
  // The first drop hits the connection kept alive since the version sniff, which the pool
  // replaces without a word; the second hits that fresh connection and must be retried.
  es.push_bulk_fault({.drop = true});
  es.push_bulk_fault({.drop = true});
  es.push_bulk_fault(
      {.status = 429,
       .body =
           R"({"error":{"type":"es_rejected_execution_exception","reason":"busy"},"status":429})"});
  es.push_bulk_fault({.status = 503, .body = R"({"error":"unavailable","status":503})"});
  es.push_bulk_fault({.status = 200, .body = R"({"took":1,"errors":false,"items":[]})"});
  harness h(es);
  REQUIRE(h.write_all({mutation("a", R"({"v":1})", 0, 1)}));
  CHECK(es.index_contents("docs").at("a") == R"({"v":1})");
  CHECK(h.s->counters().retried_requests == 4);
  CHECK(h.done.size() == 1);
}

TEST_CASE("a request timeout is retried") {
  scripted_es es;
  es.push_bulk_fault({.status = 200, .body = "{}", .delay = 3s});
  connection_settings conn;
  conn.request_timeout = std::chrono::milliseconds(300);
  harness h(es, test_settings(), conn);
  REQUIRE(h.write_all({mutation("a", R"({"v":1})", 0, 1)}));
  CHECK(es.index_contents("docs").at("a") == R"({"v":1})");
  CHECK(h.s->counters().retried_requests == 1);
  bool saw_timeout = false;
  for (const auto& w : h.warnings)
    saw_timeout |= w.find("timed out") != std::string::npos;
  CHECK(saw_timeout);
}

TEST_CASE("retries are bounded by maxAttempts, then the sink fails and reports nothing done") {
  scripted_es es;
  std::atomic<int> tries{0};
  es.set_item_hook([&](const bulk_item&) -> std::optional<item_fault> {
    ++tries;
    return item_fault{503, R"({"type":"unavailable_shards_exception","reason":"primary down"})"};
  });
  auto settings = test_settings();
  settings.retry.max_attempts = 3;
  harness h(es, settings);
  auto r = h.write_all({mutation("a", R"({"v":1})", 0, 1)});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::bulk_failed);
  CHECK(r.error().message.find("gave up after 3 attempts") != std::string::npos);
  CHECK(r.error().message.find("unavailable_shards_exception") != std::string::npos);
  CHECK(tries == 3);
  CHECK(h.done.empty());
  REQUIRE(h.fatal);
  CHECK(h.s->failure());
  // Later writes fail at once with the same error.
  auto again = h.write_all({mutation("b", R"({"v":1})", 0, 2)});
  REQUIRE_FALSE(again);
  CHECK(again.error().code == errc::bulk_failed);
}

TEST_CASE("whole-request retries are bounded by maxAttempts too") {
  scripted_es es;
  for (int i = 0; i < 5; ++i)
    es.push_bulk_fault({.status = 503, .body = "{}"});
  auto settings = test_settings();
  settings.retry.max_attempts = 2;
  harness h(es, settings);
  auto r = h.write_all({mutation("a", R"({"v":1})", 0, 1)});
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("gave up after 2 attempts") != std::string::npos);
  CHECK(es.bulk_headers().size() == 2);
}

TEST_CASE("401 on _bulk is fatal and names the credential settings") {
  scripted_es es;
  es.push_bulk_fault(
      {.status = 401,
       .body =
           R"({"error":{"type":"security_exception","reason":"missing authentication credentials"},"status":401})"});
  harness h(es);
  auto r = h.write_all({mutation("a", R"({"v":1})", 0, 1)});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::authentication_failed);
  CHECK(r.error().message.find("elasticsearch.username") != std::string::npos);
  CHECK(h.done.empty());
  CHECK(es.bulk_headers().size() == 1);  // never retried
}

TEST_CASE("403 on _bulk is fatal and names the credential settings") {
  scripted_es es;
  es.push_bulk_fault(
      {.status = 403,
       .body =
           R"({"error":{"type":"security_exception","reason":"action [indices:data/write/bulk] is unauthorized"},"status":403})"});
  harness h(es);
  auto r = h.write_all({mutation("a", R"({"v":1})", 0, 1)});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::authentication_failed);
  CHECK(r.error().message.find("elasticsearch.username") != std::string::npos);
}

TEST_CASE("an ID longer than 512 bytes is rejected without poisoning the batch") {
  scripted_es es;
  harness h(es);
  REQUIRE(h.write_all(
      {mutation(std::string(600, 'k'), R"({"v":1})", 0, 1), mutation("ok", R"({"v":2})", 0, 2)}));
  CHECK(es.index_contents("docs").size() == 1);
  CHECK(h.done_count(event_outcome::rejected) == 1);
  CHECK(h.done_count(event_outcome::indexed) == 1);
  // The warning names the ID by its first 64 bytes.
  REQUIRE(h.warnings.size() == 1);
  CHECK(h.warnings[0].find("rejected document '" + std::string(64, 'k') + "...'") !=
        std::string::npos);
}

TEST_CASE("each lane has at most one request in flight and lanes run concurrently") {
  scripted_es es({.bulk_delay = 100ms});
  auto settings = test_settings();
  settings.limits.concurrent_requests = 3;
  settings.limits.actions = 5;
  harness h(es, settings);
  CHECK(h.s->lanes() == 3);
  CHECK(h.s->lane_of(7) == 1);
  std::vector<document_event> events;
  std::uint64_t seq = 0;
  for (int round = 0; round < 10; ++round)
    for (std::uint16_t vb = 0; vb < 6; ++vb)
      events.push_back(
          mutation("k" + std::to_string(vb) + "_" + std::to_string(round), "{}", vb, ++seq));
  REQUIRE(h.write_all(std::move(events)));
  CHECK(es.index_contents("docs").size() == 60);
  CHECK(es.max_concurrent_bulks() <= 3);
  CHECK(es.max_concurrent_bulks() >= 2);
  for (const auto& r : es.bulk_requests())
    CHECK(r.size() <= 5);
}

TEST_CASE("under random faults nothing is lost and no document is written out of order") {
  scripted_es es;
  std::mt19937 rng(12345);
  std::mutex rng_mu;
  es.set_item_hook([&](const bulk_item& it) -> std::optional<item_fault> {
    if (it.index != "docs")
      return std::nullopt;
    std::lock_guard l(rng_mu);
    if (rng() % 5 == 0)
      return item_fault{};  // 429
    if (rng() % 11 == 0)
      return item_fault{503, R"({"type":"unavailable_shards_exception","reason":"x"})"};
    if (rng() % 13 == 0)
      return item_fault{409, R"({"type":"version_conflict_engine_exception","reason":"x"})"};
    return std::nullopt;
  });
  for (int i = 0; i < 6; ++i) {
    es.push_bulk_fault({});
    es.push_bulk_fault({.status = i % 2 ? 503 : 429, .body = "{}"});
    es.push_bulk_fault({.drop = true});
  }
  auto settings = test_settings();
  settings.limits.concurrent_requests = 4;
  settings.limits.actions = 7;
  harness h(es, settings);

  // 20 documents in 8 vbuckets, each updated 15 times with a growing version; some deletes.
  std::vector<document_event> events;
  std::map<std::string, std::optional<int>> expected;
  std::map<std::uint16_t, std::uint64_t> seqnos;
  std::size_t written = 0;
  for (int version = 1; version <= 15; ++version)
    for (int d = 0; d < 20; ++d) {
      const std::string key = "doc" + std::to_string(d);
      const auto vb = static_cast<std::uint16_t>(d % 8);
      const auto seqno = ++seqnos[vb];
      if ((d + version) % 7 == 0) {
        events.push_back(deletion(key, vb, seqno));
        expected[key] = std::nullopt;
      } else {
        events.push_back(mutation(key, R"({"v":)" + std::to_string(version) + "}", vb, seqno));
        expected[key] = version;
      }
      ++written;
    }
  REQUIRE(h.write_all(std::move(events)));
  CHECK(h.done.size() == written);  // every event reported exactly once
  std::set<std::pair<std::uint16_t, std::uint64_t>> seen;
  for (const auto& d : h.done)
    CHECK(seen.emplace(d.vbucket, d.seqno).second);

  auto contents = es.index_contents("docs");
  for (const auto& [key, version] : expected) {
    INFO(key);
    if (version)
      CHECK(contents[key] == R"({"v":)" + std::to_string(*version) + "}");
    else
      CHECK(contents.count(key) == 0);
  }
  // Per document, applied versions never go backwards.
  std::map<std::string, int> last_applied;
  for (const auto& it : es.applied()) {
    if (it.index != "docs" || it.action != "index")
      continue;
    const int v = json::value_to<int>(json::parse(it.source).at("v"));
    INFO(it.id << " v" << v);
    CHECK(v >= last_applied[it.id]);
    last_applied[it.id] = v;
  }
  CHECK(h.s->counters().retried_requests >= 6);
  CHECK(h.s->counters().retried_items > 0);
  CHECK(h.s->counters().docs_rejected == 0);
}

TEST_CASE("gzip bodies are accepted by the fake and counted uncompressed") {
  scripted_es es;
  connection_settings conn;
  conn.gzip_requests = true;
  harness h(es, test_settings(), conn);
  REQUIRE(h.write_all({mutation("a", R"({"v":1})", 0, 1), mutation("b", R"({"v":2})", 1, 1)}));
  CHECK(es.index_contents("docs").size() == 2);
}

TEST_CASE("write suspends while the lane's batch is full and a request is in flight") {
  scripted_es es({.bulk_delay = 200ms});
  auto settings = test_settings();
  settings.limits.concurrent_requests = 1;
  settings.limits.actions = 3;
  harness h(es, settings);
  std::size_t max_pending = 0;
  run(h.io, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 20; ++i) {
      // (never co_await inside a Catch2 macro: GCC evaluates the operand more than once)
      auto written = co_await h.s->write(
          mutation("k" + std::to_string(i), "{}", 0, static_cast<std::uint64_t>(i + 1)));
      REQUIRE(written);
      // Written but not done: at most one batch in flight plus one full batch waiting.
      max_pending =
          std::max<std::size_t>(max_pending, static_cast<std::size_t>(i + 1) - h.done.size());
    }
    auto flushed = co_await h.s->flush();
    REQUIRE(flushed);
  }());
  CHECK(max_pending <= 3 + 3 + 1);
  CHECK(h.done.size() == 20);
}

TEST_CASE("stop ends a stalled sink without reporting the pending events") {
  scripted_es es;
  es.set_item_hook([](const bulk_item&) -> std::optional<item_fault> { return item_fault{}; });
  harness h(es);
  run(h.io, [&]() -> asio::awaitable<void> {
    auto written = co_await h.s->write(mutation("a", "{}", 0, 1));
    REQUIRE(written);
    asio::steady_timer t(h.io, 100ms);
    co_await t.async_wait(asio::use_awaitable);
    h.s->stop();
    auto r = co_await h.s->flush();
    CHECK_FALSE(r);
    CHECK(r.error().code == errc::closed);
  }());
  CHECK(h.done.empty());
}

TEST_CASE("an exception in a lane's bulk loop reaches on_fatal and ends flush with the error") {
  scripted_es es;
  harness h(es, test_settings(), {}, [](std::span<const event_done>) {
    throw std::runtime_error("the checkpoint store went away");
  });
  auto r = h.write_all({mutation("a", R"({"v":1})", 0, 1)});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::bulk_failed);
  REQUIRE(h.fatal);
  CHECK(h.fatal->what().find("the checkpoint store went away") != std::string::npos);
  CHECK(h.s->failure());
}
