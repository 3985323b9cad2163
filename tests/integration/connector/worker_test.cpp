// connector::worker in process against the fakes: the pipeline's promises under faults —
// Elasticsearch answering 503 for a while, a Couchbase failover with rollback, a graceful
// stop that saves what Elasticsearch finished, release() handing vbuckets over, and the
// embedding callback destination.
#include <catch2/catch.hpp>

#include <atomic>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <boost/asio.hpp>

#include "cbes/checkpoint/store.hpp"
#include "cbes/connector/worker.hpp"
#include "cbes/testkit/couchbase_cluster.hpp"
#include "cbes/testkit/elasticsearch.hpp"
#include "integration/couchbase/harness.hpp"
#include "support/run_coroutine.hpp"

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using cbes::test::run;

// The bucket's final state: every key's latest value, nullopt for a deleted one.
std::map<std::string, std::optional<std::string>> final_state(
    const cbes::testkit::couchbase_cluster& fake, std::uint16_t vbuckets) {
  std::map<std::string, std::optional<std::string>> out;
  for (std::uint16_t vb = 0; vb < vbuckets; ++vb)
    for (const auto& item : fake.history("default", vb)) {
      if (item.key.starts_with("_connector:"))
        continue;
      if (item.type == cbes::testkit::couchbase_history_item::kind::mutation)
        out[item.key] = item.value;
      else
        out[item.key] = std::nullopt;
    }
  return out;
}

// Elasticsearch holds every live key of the bucket at its latest value, and no deleted key.
bool matches(const cbes::testkit::couchbase_cluster& fake, const cbes::testkit::elasticsearch& es,
             std::uint16_t vbuckets, std::string* why = nullptr) {
  for (const auto& [key, value] : final_state(fake, vbuckets)) {
    auto doc = es.document("docs", key);
    if (value && (!doc || doc->find(*value) == std::string::npos)) {
      if (why)
        *why = "missing or stale: " + key;
      return false;
    }
    if (!value && doc) {
      if (why)
        *why = "deleted but present: " + key;
      return false;
    }
  }
  return true;
}

struct fixture {
  asio::io_context io;
  cbes::testkit::couchbase_cluster couchbase;
  cbes::testkit::elasticsearch es;
  std::uint16_t vbuckets;

  explicit fixture(std::size_t nodes = 1, std::uint16_t vbs = 64, int replicas = 0)
      : couchbase([&] {
          auto o = couchbase_it::fake_options(nodes, vbs);
          o.buckets[0].num_replicas = replicas;
          return o;
        }()),
        vbuckets(vbs) {
    couchbase.start();
    es.start();
  }

  cbes::connector::worker_options options() {
    cbes::connector::worker_options o;
    o.group = "it-group";
    o.couchbase = couchbase_it::client_options(couchbase);
    o.dcp.buffer_size = 256 * 1024;
    o.elasticsearch.hosts = {es.url()};
    o.sink.types.push_back({.prefix = "", .index = "docs"});
    o.sink.limits.actions = 100;
    o.sink.retry.first_delay = 20ms;
    o.sink.retry.max_delay = 200ms;
    o.sniffing.deadline = 10s;
    o.checkpoint_interval = 200ms;
    return o;
  }

  std::shared_ptr<cbes::connector::worker> start(cbes::connector::worker_options o) {
    auto w = run(io, cbes::connector::worker::start(io.get_executor(), std::move(o)));
    INFO((w ? std::string() : w.error().what()));
    REQUIRE(w.has_value());
    return *w;
  }

  // Runs the io_context until `pred` holds (the fakes serve from their own threads).
  template <class Pred>
  bool until(Pred pred, std::chrono::milliseconds limit = 60s) {
    return run(io, couchbase_it::eventually(pred, limit));
  }

  // Waits for the worker to end on its own (a fatal error); its result.
  cbes::connector::result<void> run_until_stopped(cbes::connector::worker& w) {
    return run(io, w.wait());
  }

  cbes::connector::result<void> stop(cbes::connector::worker& w) {
    w.stop();
    return run(io, w.wait());
  }
};

}  // namespace

TEST_CASE("worker: everything arrives, and a graceful stop saves checkpoints at the end") {
  fixture f;
  f.couchbase.load_sample(1000);
  auto w = f.start(f.options());
  CHECK(w->vbuckets().size() == 64);
  REQUIRE(f.until([&] { return f.es.document_count("docs") == 1000; }));
  f.couchbase.upsert("default", "airline_1", R"({"changed":true})");
  f.couchbase.remove("default", "airline_2");
  std::string why;
  CHECK(f.until([&] { return matches(f.couchbase, f.es, f.vbuckets, &why); }));
  INFO(why);
  // The stop waits for what Elasticsearch still has in hand, then saves: the checkpoints it
  // leaves are at the end of every vbucket's data.
  REQUIRE(f.stop(*w).has_value());
  const auto cps = w->checkpoints();
  // Every vbucket's checkpoint is at its high seqno: nothing is replayed on restart.
  for (std::uint16_t vb = 0; vb < f.vbuckets; ++vb) {
    const auto high = f.couchbase.high_seqno("default", vb);
    const auto& hist = f.couchbase.history("default", vb);
    // The checkpoint documents the worker wrote itself may be newer than its last position.
    std::uint64_t last_data = 0;
    for (const auto& item : hist)
      if (!item.key.starts_with("_connector:"))
        last_data = std::max(last_data, item.seqno);
    INFO("vbucket " << vb << " high " << high);
    CHECK(cps.at(vb).seqno >= last_data);
  }
  CHECK(w->stats().checkpoint_save_failures == 0);
}

TEST_CASE("worker: once may_write is false, no bulk request and no checkpoint save leaves it") {
  fixture f;
  f.couchbase.load_sample(500);
  auto allowed = std::make_shared<std::atomic<bool>>(true);
  auto o = f.options();
  o.may_write = [allowed] { return allowed->load(); };
  auto w = f.start(o);
  REQUIRE(f.until([&] { return f.es.document_count("docs") == 500; }));
  REQUIRE(f.until([&] { return w->stats().checkpoint_saves > 0; }));
  // The fence closes (a group worker's kill switch deadline passed): what comes next stays out.
  allowed->store(false);
  const auto saves = w->stats().checkpoint_saves;
  for (int i = 0; i < 100; ++i)
    f.couchbase.upsert("default", "fenced-" + std::to_string(i), R"({"n":1})");
  auto end = f.run_until_stopped(*w);
  REQUIRE_FALSE(end.has_value());
  CHECK(end.error().what().find("writes fenced") != std::string::npos);
  CHECK(f.es.document_count("docs") == 500);
  CHECK(w->stats().checkpoint_saves == saves);
}

TEST_CASE("worker: Elasticsearch answering 503 for a while loses nothing") {
  fixture f;
  f.couchbase.load_sample(500);
  f.es.fail_next_requests(8, 503);
  auto w = f.start(f.options());
  std::string why;
  CHECK(f.until([&] { return matches(f.couchbase, f.es, f.vbuckets, &why); }));
  INFO(why);
  CHECK(w->sink_counters().retried_requests >= 1);
  REQUIRE(f.stop(*w).has_value());
}

TEST_CASE("worker: a failover with rollback loses nothing that the bucket still has") {
  fixture f(2, 64, 1);
  f.couchbase.load_sample(300);
  auto w = f.start(f.options());
  REQUIRE(f.until([&] { return f.es.document_count("docs") == 300; }));
  // Writes that node 0 never replicates, then node 0 fails over: its vbuckets roll back.
  f.couchbase.pause_replication("default");
  for (int i = 0; i < 50; ++i)
    f.couchbase.upsert("default", "lost_" + std::to_string(i), R"({"lost":true})");
  REQUIRE(f.until([&] { return f.es.document_count("docs") == 350; }));
  f.couchbase.failover(0, true);
  f.couchbase.pause_replication("default", false);
  for (int i = 0; i < 50; ++i)
    f.couchbase.upsert("default", "after_" + std::to_string(i), R"({"after":true})");
  std::string why;
  CHECK(f.until([&] { return matches(f.couchbase, f.es, f.vbuckets, &why); }));
  INFO(why);
  CHECK(f.until([&] { return w->stats().rollbacks > 0; }));
  REQUIRE(f.stop(*w).has_value());
}

TEST_CASE("worker: release() drains vbuckets and returns checkpoints another worker resumes from") {
  fixture f;
  f.couchbase.load_sample(400);
  auto o = f.options();
  o.vbuckets = {0, 1, 2, 3};
  auto w = f.start(o);
  std::size_t in_first_four = 0;
  for (const auto& [key, v] : final_state(f.couchbase, f.vbuckets))
    if (f.couchbase.vbucket_of("default", key) < 4)
      ++in_first_four;
  REQUIRE(f.until([&] { return f.es.document_count("docs") == in_first_four; }));
  auto released = run(f.io, w->release({2, 3}));
  REQUIRE(released.has_value());
  CHECK(released->size() == 2);
  CHECK(w->vbuckets() == std::vector<std::uint16_t>{0, 1});
  // A write to a released vbucket while it is away...
  std::string key;
  for (int i = 0; key.empty(); ++i)
    if (f.couchbase.vbucket_of("default", "moved_" + std::to_string(i)) == 2)
      key = "moved_" + std::to_string(i);
  f.couchbase.upsert("default", key, R"({"moved":true})");
  // ...until it is added back, from the checkpoint release() saved.
  REQUIRE(run(f.io, w->add({2, 3})).has_value());
  CHECK(f.until([&] { return f.es.document("docs", key).has_value(); }));
  REQUIRE(f.stop(*w).has_value());
}

TEST_CASE("worker: an embedder's callback receives every document instead of Elasticsearch") {
  fixture f;
  f.couchbase.load_sample(200);
  auto o = f.options();
  std::set<std::string> seen;
  o.callback = [&](const cbes::sink::document_event& ev) { seen.insert(ev.key); };
  auto w = f.start(o);
  CHECK(f.until([&] { return seen.size() == 200; }));
  CHECK(f.es.document_count("docs") == 0);
  REQUIRE(f.stop(*w).has_value());
}

TEST_CASE("worker: a wrong password and a missing bucket fail start() with one line") {
  fixture f;
  auto o = f.options();
  o.couchbase.password = "wrong";
  auto w = run(f.io, cbes::connector::worker::start(f.io.get_executor(), o));
  REQUIRE_FALSE(w.has_value());
  CHECK(w.error().what().find('\n') == std::string::npos);
  CHECK(w.error().what().find("auth") != std::string::npos);
  auto o2 = f.options();
  o2.couchbase.bucket = "nosuch";
  auto w2 = run(f.io, cbes::connector::worker::start(f.io.get_executor(), o2));
  REQUIRE_FALSE(w2.has_value());
  CHECK(w2.error().what().find("nosuch") != std::string::npos);
}

TEST_CASE("worker: memory stays within the flow-control buffer while Elasticsearch is slow") {
  fixture f;
  f.couchbase.load_sample(2000);
  f.es.delay_responses(20ms);
  auto o = f.options();
  o.dcp.buffer_size = 64 * 1024;
  auto w = f.start(o);
  std::size_t most_queued = 0;
  CHECK(f.until([&] {
    const auto s = w->stats();
    most_queued = std::max(most_queued, s.queued + s.in_flight);
    return f.es.document_count("docs") == 2000;
  }));
  // Unacknowledged DCP bytes never pass the buffer (plus the one message that crosses it), so
  // the events held — queued or in Elasticsearch's hands — are bounded by it too: a sample
  // document is ~200 bytes, so 64 KiB hold a few hundred, never the 2000 of the bucket.
  const auto dcp = w->dcp_stats();
  CHECK(dcp.max_outstanding_bytes <= o.dcp.buffer_size + 4096);
  CHECK(most_queued < 1000);
  REQUIRE(f.stop(*w).has_value());
}

TEST_CASE("worker: logDocumentLifecycle logs each document's milestones as JSON") {
  fixture f;
  f.couchbase.upsert("default", "airline_7", R"({"name":"Seven"})");
  auto o = f.options();
  o.log_document_lifecycle = true;
  std::vector<std::string> lines;
  o.log = [&](std::string_view, std::string_view line) { lines.emplace_back(line); };
  auto w = f.start(o);
  auto has = [&](const std::string& milestone) {
    for (const auto& l : lines)
      if (l.find(R"("milestone":")" + milestone + "\"") != std::string::npos &&
          l.find(R"("documentId":"_default._default.airline_7")") != std::string::npos)
        return true;
    return false;
  };
  CHECK(f.until([&] { return has("ELASTICSEARCH_WRITE_SUCCEEDED"); }));
  CHECK(has("RECEIVED_FROM_COUCHBASE"));
  REQUIRE(f.stop(*w).has_value());
}

TEST_CASE("worker: documents that arrive while a graceful stop closes the streams are drained") {
  fixture f;
  f.couchbase.load_sample(200);
  std::vector<std::string> warnings;
  auto o = f.options();
  o.drain_timeout = 5s;
  o.log = [&](std::string_view level, std::string_view line) {
    if (level == "warn")
      warnings.emplace_back(line);
  };
  auto w = f.start(o);
  REQUIRE(f.until([&] { return f.es.document_count("docs") == 200; }));
  // Each DCP_CLOSE_STREAM is answered 20 ms late, one after another: while the 64 streams
  // close, the writes below keep arriving on the streams still open, after the worker's event
  // loop last saw an empty queue.
  f.couchbase.delay_responses(20ms);
  w->stop();
  std::thread writer([&] {
    for (int i = 0; i < 2000; ++i)
      f.couchbase.upsert("default", "late_" + std::to_string(i), R"({"late":true})");
  });
  auto end = run(f.io, w->wait());
  writer.join();
  f.couchbase.delay_responses(0ms);
  REQUIRE(end.has_value());
  for (const auto& line : warnings)
    CHECK(line.find("not finished by Elasticsearch") == std::string::npos);
  CHECK(w->stats().checkpoint_save_failures == 0);
}
