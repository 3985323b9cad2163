// Autonomous Operations end to end: `cbes-consul run` workers against one cbes-sandbox
// (Consul, Couchbase, Elasticsearch), the group observed the way any Java-protocol client would
// (worker.status and worker.streamHistory over RPC), documents checked in Elasticsearch.
#include "system/ao/harness.hpp"

using namespace ao_st;

namespace {

// Every vbucket `id` streamed in `before` and still streams now was never restarted: started
// once, never stopped.
void require_not_restarted(const std::string& id, const std::vector<std::uint16_t>& kept,
                           const history& h) {
  for (auto vb : kept) {
    INFO(id << " vbucket " << vb);
    CHECK(h.starts.at(vb) == 1);
    CHECK(h.stops.count(vb) == 0);
  }
}

std::vector<std::uint16_t> common(std::vector<std::uint16_t> a, std::vector<std::uint16_t> b) {
  std::vector<std::uint16_t> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

// Closes the intervals a worker left open when it exited at `at` (its own record ends there).
history closed_at(history h, std::int64_t at) {
  for (auto& [vb, from, to] : h.intervals)
    if (to == std::numeric_limits<std::int64_t>::max())
      to = at;
  return h;
}

}  // namespace

TEST_CASE("AO: paused group, three workers, resume, leader SIGTERM, latecomer joins and leaves") {
  group_fixture g;
  REQUIRE(g.configure(g.config_text()).code == 0);
  // Paused before any worker exists (the Java AutonomousOpsTest).
  REQUIRE(g.cli({"pause", "--group=" + std::string(group_fixture::group)}).code == 0);
  g.start_worker("");
  g.start_worker("second");
  g.start_worker("third");
  AO_REQUIRE(g, eventually([&] { return !g.leader().empty(); }));
  AO_REQUIRE(g, eventually([&] { return g.statuses().size() == 3; }));
  for (const auto& [id, s] : g.statuses()) {
    INFO(id);
    CHECK(s.vbuckets.empty());
    CHECK_FALSE(s.member);
  }

  REQUIRE(g.cli({"resume", "--group=" + std::string(group_fixture::group)}).code == 0);
  AO_REQUIRE(g, eventually([&] { return g.balanced_over(3); }));
  g.write_every_vbucket("a");
  AO_REQUIRE(g, eventually([&] { return g.count() == 1024; }));
  auto three = g.statuses();

  // The leader stops gracefully: it exits within 10 s and the two others own everything.
  std::map<std::string, history> records;
  const auto leader = g.leader();
  REQUIRE(three.count(leader));
  const auto leader_history = g.stream_history(leader);
  g.worker(leader).signal(SIGTERM);
  REQUIRE(g.worker(leader).wait_exit(10s) == 0);
  records[leader] = closed_at(leader_history, unix_ms());
  g.forget_worker(leader);
  AO_REQUIRE(g, eventually([&] { return g.balanced_over(2); }));
  g.write_every_vbucket("b");
  AO_REQUIRE(g, eventually([&] { return g.count() == 2048; }));
  auto two = g.statuses();
  // Only the leaver's vbuckets moved: the survivors restarted nothing they kept.
  for (const auto& [id, s] : two)
    require_not_restarted(id, common(three.at(id).vbuckets, s.vbuckets), g.stream_history(id));

  // A latecomer joins: a three-way balance again, taking only what balance needs.
  const auto late = g.start_worker("latecomer");
  AO_REQUIRE(g, eventually([&] { return g.balanced_over(3); }));
  g.write_every_vbucket("c");
  AO_REQUIRE(g, eventually([&] { return g.count() == 3072; }));
  auto with_late = g.statuses();
  std::size_t moved = 0;
  for (const auto& [id, s] : two) {
    const auto kept = common(s.vbuckets, with_late.at(id).vbuckets);
    moved += s.vbuckets.size() - kept.size();
    const auto h = g.stream_history(id);
    require_not_restarted(id, common(three.at(id).vbuckets, kept), h);
    for (auto vb : s.vbuckets)
      if (!std::binary_search(kept.begin(), kept.end(), vb))
        CHECK(h.stops.at(vb) == 1);  // moved away once, to the latecomer
  }
  CHECK(moved == with_late.at(late).vbuckets.size());
  CHECK(moved == 341);

  // The latecomer leaves: two-way again.
  const auto late_history = g.stream_history(late);
  g.worker(late).signal(SIGTERM);
  REQUIRE(g.worker(late).wait_exit(10s) == 0);
  records[late] = closed_at(late_history, unix_ms());
  g.forget_worker(late);
  AO_REQUIRE(g, eventually([&] { return g.balanced_over(2); }));
  g.write_every_vbucket("d");
  AO_REQUIRE(g, eventually([&] { return g.count() == 4096; }));

  for (const auto& id : g.worker_ids())
    records[id] = g.stream_history(id);
  CHECK(overlap(records) == std::nullopt);
}

TEST_CASE("AO: a SIGKILLed worker's vbuckets move once its session is gone, nothing lost") {
  group_fixture g(3000);
  REQUIRE(g.configure(g.config_text()).code == 0);
  g.start_worker("");
  g.start_worker("second");
  g.start_worker("third");
  AO_REQUIRE(g, eventually([&] { return g.balanced_over(3); }));
  AO_REQUIRE(g, eventually([&] { return g.count() == 3000; }));

  std::string victim;
  for (const auto& id : g.worker_ids())
    if (id != g.leader())
      victim = id;
  const auto victim_history = g.stream_history(victim);
  g.worker(victim).signal(SIGKILL);
  REQUIRE(g.worker(victim).wait_exit(10s));
  const auto killed_at = unix_ms();
  g.forget_worker(victim);
  // Written while its vbuckets have no streamer: they arrive once the survivors take over.
  g.write_every_vbucket("after-kill");
  AO_REQUIRE(g, eventually([&] { return g.balanced_over(2); }));
  AO_REQUIRE(g, eventually([&] { return g.count() == 3000 + 1024; }));

  std::map<std::string, history> records{{victim, closed_at(victim_history, killed_at)}};
  for (const auto& id : g.worker_ids())
    records[id] = g.stream_history(id);
  CHECK(overlap(records) == std::nullopt);
}

TEST_CASE("AO: a leader stopped past its TTL acts on nothing stale when it resumes") {
  group_fixture g;
  REQUIRE(g.configure(g.config_text()).code == 0);
  g.start_worker("");
  g.start_worker("second");
  g.start_worker("third");
  AO_REQUIRE(g, eventually([&] { return g.balanced_over(3); }));
  g.write_every_vbucket("a");
  AO_REQUIRE(g, eventually([&] { return g.count() == 1024; }));

  const auto leader = g.leader();
  g.worker(leader).signal(SIGSTOP);
  // Its TTL (4 s) passes: Consul drops its session, the others take over and lead.
  AO_REQUIRE(g, eventually([&] { return g.balanced_over(2); }));
  AO_REQUIRE(g, eventually([&] { return !g.leader().empty() && g.leader() != leader; }));
  g.write_every_vbucket("b");
  AO_REQUIRE(g, eventually([&] { return g.count() == 2048; }));

  g.worker(leader).signal(SIGCONT);
  // It finds its session gone, stops what it streamed, joins again and is given a share.
  AO_REQUIRE(g, eventually([&] { return g.balanced_over(3); }));
  g.write_every_vbucket("c");
  AO_REQUIRE(g, eventually([&] { return g.count() == 3072; }));
  CHECK(g.worker(leader).errors().find("leadership lost") != std::string::npos);

  std::map<std::string, history> records;
  for (const auto& id : g.worker_ids())
    records[id] = g.stream_history(id);
  CHECK(overlap(records) == std::nullopt);
}

TEST_CASE(
    "AO: Consul 500s do not stop workers, an outage past the kill switch does until it ends") {
  group_fixture g;
  REQUIRE(g.configure(g.config_text()).code == 0);
  g.start_worker("");
  g.start_worker("second");
  AO_REQUIRE(g, eventually([&] { return g.balanced_over(2); }));
  std::map<std::string, std::uint64_t> stops_before;
  for (const auto& id : g.worker_ids()) {
    const auto h = g.stream_history(id);
    for (const auto& [vb, n] : h.stops)
      stops_before[id] += n;
  }

  // A burst of 500s ("No cluster leader"): retried, nobody stops.
  g.control("POST", "/consul/fail-requests?count=5&status=500");
  g.write_every_vbucket("a");
  AO_REQUIRE(g, eventually([&] { return g.count() == 1024; }));
  AO_REQUIRE(g, eventually([&] { return g.balanced_over(2); }));
  for (const auto& id : g.worker_ids()) {
    const auto h = g.stream_history(id);
    std::uint64_t stops = 0;
    for (const auto& [vb, n] : h.stops)
      stops += n;
    if (stops != stops_before[id])
      FAIL_CHECK(id << " stopped streaming " << stops - stops_before[id] << " times\n" << g.logs());
  }

  // Consul stops answering: each worker's kill switch stops its streaming.
  g.control("POST", "/consul/freeze?on=true");
  for (const auto& id : g.worker_ids())
    AO_REQUIRE(g, eventually([&] {
                 return g.worker(id).errors().find(
                            "streaming stops before the session can expire") != std::string::npos;
               }));
  g.write_every_vbucket("b");  // Couchbase still takes writes
  g.control("POST", "/consul/freeze?on=false");
  // Back by themselves: rejoined, rebalanced, and what was written meanwhile arrives.
  AO_REQUIRE(g, eventually([&] { return g.balanced_over(2); }));
  AO_REQUIRE(g, eventually([&] { return g.count() == 2048; }));

  std::map<std::string, history> records;
  for (const auto& id : g.worker_ids())
    records[id] = g.stream_history(id);
  CHECK(overlap(records) == std::nullopt);
}

TEST_CASE("AO: a worker started while Consul has no leader waits for it, then joins") {
  group_fixture g;
  REQUIRE(g.configure(g.config_text()).code == 0);
  g.control("POST", "/consul/lose-leader?lost=true");
  auto patient = g.spawn_worker("");
  auto stopped = g.spawn_worker("stopped");
  // Each says why it waits, and keeps waiting (the Java connector exits here).
  REQUIRE(eventually([&] {
    return patient->errors().find("cannot join yet (group: ") != std::string::npos &&
           stopped->errors().find("No cluster leader); trying again in ") != std::string::npos;
  }));
  // A stop while waiting is clean: nothing was joined, nothing is left to leave.
  stopped->signal(SIGTERM);
  CHECK(stopped->wait_exit(30s) == 0);
  CHECK(stopped->errors().find("stopped before joining the group") != std::string::npos);
  // Consul has a leader again: the other one joins, streams, and replicates.
  g.control("POST", "/consul/lose-leader?lost=false");
  g.adopt_worker(std::move(patient));
  AO_REQUIRE(g, eventually([&] { return g.balanced_over(1); }));
  g.write_every_vbucket("a");
  AO_REQUIRE(g, eventually([&] { return g.count() == 1024; }));
}

TEST_CASE("AO: a new config and the checkpoint commands take effect on the running group") {
  group_fixture g(2000);
  const std::string grp = "--group=" + std::string(group_fixture::group);
  REQUIRE(g.configure(g.config_text("500")).code == 0);
  g.start_worker("");
  g.start_worker("second");
  AO_REQUIRE(g, eventually([&] { return g.balanced_over(2); }));
  AO_REQUIRE(g, eventually([&] { return g.count() == 2000; }));

  // [elasticsearch.bulkRequestLimits] actions = 1: every worker restarts with the new text and
  // from then on sends one document per bulk request.
  const auto one_per_request = g.config_text("1");
  REQUIRE(g.configure(one_per_request).code == 0);
  const auto digest = cbes::group::config_digest(one_per_request);
  AO_REQUIRE(g, eventually([&] {
               auto s = g.statuses();
               return s.size() == 2 && std::all_of(s.begin(), s.end(), [&](const auto& e) {
                        return e.second.config_digest == digest && !e.second.vbuckets.empty();
                      });
             }));
  const auto requests0 = g.es_stat("bulk_requests");
  const auto items0 = g.es_stat("bulk_items");
  g.write_every_vbucket("a");
  AO_REQUIRE(g, eventually([&] { return g.count() == 3024; }));
  const auto items = g.es_stat("bulk_items") - items0;
  CHECK(items >= 1024);
  CHECK(g.es_stat("bulk_requests") - requests0 >= items);

  // A backup while running (no pause).
  const auto backup = g.dir() / "checkpoints.json";
  auto b = g.cli({"checkpoint-backup", grp, "--output=" + backup.string()});
  INFO(b.out << b.err);
  REQUIRE(b.code == 0);
  REQUIRE(fs::file_size(backup) > 0);

  // Catch-up while paused: what was written before it is never sent, what comes after is.
  REQUIRE(g.cli({"pause", grp}).code == 0);
  const auto skipped = g.write_every_vbucket("b");
  auto c = g.cli({"checkpoint-catch-up", grp});
  INFO(c.out << c.err);
  REQUIRE(c.code == 0);
  CHECK(c.out.find("leaving it paused") != std::string::npos);
  REQUIRE(g.cli({"resume", grp}).code == 0);
  const auto after = g.write_every_vbucket("c");
  AO_REQUIRE(g, eventually([&] { return g.count() >= 3024 + 1024 && g.all_present(after); }));
  // Each vbucket is streamed in order: had "b" been sent, it would be there before "c".
  CHECK(g.count() == 3024 + 1024);
  CHECK_FALSE(g.all_present({skipped.front()}));

  // Restore of the backup (taken before "b"): "b" and "c" are sent again; "b" arrives at last.
  auto r = g.cli({"checkpoint-restore", grp, "--input=" + backup.string()});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.find("Checkpoint restored.") != std::string::npos);
  AO_REQUIRE(g, eventually([&] { return g.all_present(skipped); }));
  CHECK(g.count() == 3024 + 2048);

  // Clear: every document of the bucket is sent again from the start.
  const auto items1 = g.es_stat("bulk_items");
  auto k = g.cli({"checkpoint-clear", grp});
  INFO(k.out << k.err);
  REQUIRE(k.code == 0);
  CHECK(k.out.find("Checkpoint cleared.") != std::string::npos);
  AO_REQUIRE(g, eventually([&] { return g.es_stat("bulk_items") - items1 >= 2000 + 3 * 1024; }));
  AO_REQUIRE(g, eventually([&] { return g.balanced_over(2); }));

  // What an operator sees: each worker's backlog in `status`, its meters over worker.metrics.
  auto st = g.cli({"status", grp, "--json"});
  INFO(st.out << st.err);
  CHECK(st.code == 0);
  CHECK(std::regex_search(st.out, std::regex(R"("backlog":[0-9]+)")));
  const auto metrics = g.call(g.worker_ids().front(), "worker.metrics", "[]");
  CHECK(metrics.find("\"cbes.latency\"") != std::string::npos);
  CHECK(metrics.find("\"cbes.writeQueue\"") != std::string::npos);
}
