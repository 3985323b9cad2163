// STREAM_REQ checks, backfill and memory snapshots, de-duplication, rollback, close / end
// reasons and topology of the fake's producer (kv_engine's protocol docs).
#include <set>

#include "cbes/mcbp/datatype.hpp"
#include "dcp_client.hpp"

using namespace dcp_test;
namespace of = cbes::mcbp::dcp_open_flags;
namespace sf = cbes::mcbp::dcp_stream_flags;

namespace {

// One vbucket: every key lands in vb 0.
couchbase_cluster_options one_vb(std::size_t nodes = 1, int replicas = 0) {
  return fake_options(nodes, 1, replicas);
}

std::uint64_t uuid0(const couchbase_cluster& c) {
  return c.failover_log("default", 0).at(0).uuid;
}

}  // namespace

TEST_CASE("Stream from 0: one disk snapshot, newest version per key, then STREAM_END OK") {
  couchbase_cluster cluster{one_vb()};
  cluster.start();
  cluster.upsert("default", "a", R"({"v":1})");
  cluster.upsert("default", "b", "raw");
  cluster.upsert("default", "a", R"({"v":2})");  // supersedes seqno 1
  cluster.remove("default", "b");                // tombstone supersedes seqno 2
  cluster.upsert("default", "c", R"({"v":3})");
  dcp_client c{cluster.kv_port()};
  c.start("from-zero", of::producer | of::include_delete_times, dcp_features(false));
  auto r = c.stream(0, from(0, 0, 5));
  REQUIRE(r.status == status::success);
  REQUIRE(r.failover_log.size() == 1);
  CHECK(r.failover_log[0].vbucket_uuid == uuid0(cluster));
  auto ms = c.until_end(0);
  auto markers = only<dcp_snapshot_marker>(ms);
  REQUIRE(markers.size() == 1);
  CHECK(markers[0].start == 0);
  CHECK(markers[0].end == 5);
  CHECK(markers[0].flags == (snapshot_flags::disk | snapshot_flags::checkpoint));
  CHECK(markers[0].version == snapshot_marker_version::v1);
  auto muts = only<dcp_mutation>(ms);
  REQUIRE(muts.size() == 2);
  CHECK(muts[0].key == "a");
  CHECK(muts[0].by_seqno == 3);
  CHECK(muts[0].rev_seqno == 2);
  CHECK(muts[0].value == R"({"v":2})");
  CHECK(muts[0].datatype == datatype::json);
  CHECK(muts[1].key == "c");
  auto dels = only<dcp_deletion>(ms);
  REQUIRE(dels.size() == 1);
  CHECK(dels[0].key == "b");
  CHECK(dels[0].by_seqno == 4);
  REQUIRE(dels[0].delete_time);  // V2: IncludeDeleteTimes
  CHECK(*dels[0].delete_time != 0);
  auto end = only<dcp_stream_end>(ms);
  REQUIRE(end.size() == 1);
  CHECK(end[0].reason == stream_end_reason::ok);
  // Order: marker first, seqnos increasing.
  REQUIRE(std::holds_alternative<dcp_snapshot_marker>(ms.front()));
  std::uint64_t last = 0;
  for (const auto& m : ms)
    if (auto s = seqno_of(m)) {
      CHECK(*s > last);
      last = *s;
    }
}

TEST_CASE("Live mutations arrive as memory snapshots, repeated keys are de-duplicated") {
  couchbase_cluster cluster{one_vb()};
  cluster.start();
  cluster.upsert("default", "a", "1");
  dcp_client c{cluster.kv_port()};
  c.start("live", of::producer, dcp_features(false));
  REQUIRE(c.control("connection_buffer_size", "100000") == status::success);
  REQUIRE(c.stream(0, from(0, 0)).status == status::success);
  auto first = c.drain();
  REQUIRE(only<dcp_snapshot_marker>(first).size() == 1);
  REQUIRE(only<dcp_mutation>(first).size() == 1);
  CHECK((only<dcp_snapshot_marker>(first)[0].flags & snapshot_flags::disk) != 0);
  c.ack(static_cast<std::uint32_t>(c.received_bytes));
  c.received_bytes = 0;

  cluster.upsert("default", "b", "2");
  auto second = c.drain();
  auto m2 = only<dcp_snapshot_marker>(second);
  REQUIRE(m2.size() == 1);
  CHECK(m2[0].flags == (snapshot_flags::memory | snapshot_flags::checkpoint));
  CHECK(m2[0].start == 2);
  CHECK(m2[0].end == 2);
  REQUIRE(only<dcp_mutation>(second).size() == 1);

  // Stall the producer with the window, write the same key 3 times, release: one item.
  c.ack(static_cast<std::uint32_t>(c.received_bytes));
  REQUIRE(c.control("connection_buffer_size", "1") == status::success);
  cluster.upsert("default", "x", "warmup");  // fills the window
  auto stalled = c.drain();
  CHECK(only<dcp_snapshot_marker>(stalled).size() == 1);
  CHECK(only<dcp_mutation>(stalled).empty());
  CHECK(cluster.dcp_stats().at(0).paused);
  for (int i = 0; i < 3; ++i)
    cluster.upsert("default", "k", std::to_string(i));
  REQUIRE(c.control("connection_buffer_size", "100000") == status::success);
  c.ack(1000000);
  auto rest = c.drain();
  auto muts = only<dcp_mutation>(rest);
  REQUIRE(muts.size() == 2);  // "x" from the stalled snapshot, then one "k"
  CHECK(muts[0].key == "x");
  CHECK(muts[1].key == "k");
  CHECK(muts[1].value == "2");
  auto m3 = only<dcp_snapshot_marker>(rest);
  REQUIRE(m3.size() == 1);
  CHECK(m3[0].flags == snapshot_flags::memory);
  CHECK(m3[0].end == cluster.high_seqno("default", 0));
}

TEST_CASE("STREAM_REQ checks: Erange, KeyEexists, NotMyVbucket, bad flags, noop mandatory") {
  couchbase_cluster cluster{fake_options(2, 4)};
  cluster.start();
  cluster.upsert("default", "a", "1");
  auto vb = cluster.vbucket_of("default", "a");
  auto node = cluster.active_node("default", vb);
  dcp_client c{cluster.kv_port(node)};
  c.bootstrap();
  REQUIRE(c.open("checks", of::producer | of::include_xattrs) == status::success);
  auto uuid = cluster.failover_log("default", vb).at(0).uuid;
  // xattrs without enable_noop
  CHECK(c.stream(vb, from(0, 0)).status == status::not_supported);
  REQUIRE(c.control("enable_noop", "true") == status::success);
  auto bad = from(0, 0);
  bad.flags = sf::no_value;
  CHECK(c.stream(vb, bad).status == status::einval);
  auto backwards = from(5, uuid, 3);
  CHECK(c.stream(vb, backwards).status == status::erange);
  auto outside = from(1, uuid);
  outside.snapshot_start = 2;
  outside.snapshot_end = 3;
  CHECK(c.stream(vb, outside).status == status::erange);
  // Another node does not hold the vbucket (no replicas).
  dcp_client other{cluster.kv_port(node == 0 ? 1 : 0)};
  other.start("elsewhere");
  CHECK(other.stream(vb, from(0, 0)).status == status::not_my_vbucket);
  // A live stream exists.
  REQUIRE(c.stream(vb, from(0, 0)).status == status::success);
  CHECK(c.stream(vb, from(0, 0)).status == status::key_eexists);
  // start == end: STREAM_END OK at once.
  auto vb2 = static_cast<std::uint16_t>(vb == 0 ? 2 : 0);
  if (cluster.active_node("default", vb2) == node) {
    REQUIRE(c.stream(vb2, from(0, 0, 0)).status == status::success);
    auto ms = c.until_end(vb2);
    CHECK(only<dcp_snapshot_marker>(ms).empty());
  }
}

TEST_CASE("Rollback is decided from the failover log") {
  couchbase_cluster cluster{one_vb(2, 1)};
  cluster.start();
  for (int i = 0; i < 5; ++i)
    cluster.upsert("default", "k" + std::to_string(i), "v");
  auto old_uuid = uuid0(cluster);
  auto active = cluster.active_node("default", 0);
  cluster.pause_replication("default");
  for (int i = 5; i < 8; ++i)
    cluster.upsert("default", "k" + std::to_string(i), "v");  // seqnos 6..8, unreplicated
  cluster.failover(active, true);                             // history back to 5
  auto now = cluster.active_node("default", 0);
  REQUIRE(cluster.high_seqno("default", 0) == 5);
  dcp_client c{cluster.kv_port(now)};
  c.start("rb", of::producer, dcp_features(false));
  // Consumer saw up to 8 on the old branch: roll back to where the branch ended (5).
  auto r = c.stream(0, from(8, old_uuid));
  CHECK(r.status == status::rollback);
  CHECK(r.rollback_seqno == 5);
  // Unknown uuid → 0.
  r = c.stream(0, from(3, 0xdeadbeef));
  CHECK(r.status == status::rollback);
  CHECK(r.rollback_seqno == 0);
  // Within the surviving branch: no rollback; a partial snapshot past the branch point rolls
  // back to its start.
  auto partial = from(4, old_uuid);
  partial.snapshot_start = 3;
  partial.snapshot_end = 7;
  r = c.stream(0, partial);
  CHECK(r.status == status::rollback);
  CHECK(r.rollback_seqno == 3);
  r = c.stream(0, from(5, old_uuid));
  REQUIRE(r.status == status::success);
  CHECK(r.failover_log.size() == 2);
}

TEST_CASE("Purged tombstones force a rollback to 0 unless IgnorePurgedTombstones") {
  couchbase_cluster cluster{one_vb()};
  cluster.start();
  cluster.upsert("default", "a", "1");
  cluster.upsert("default", "b", "1");
  cluster.remove("default", "a");  // 3
  cluster.upsert("default", "c", "1");
  cluster.compact("default", 0, 3);
  REQUIRE(cluster.purge_seqno("default", 0) == 3);
  dcp_client c{cluster.kv_port()};
  c.start("purge", of::producer, dcp_features(false));
  auto r = c.stream(0, from(1, uuid0(cluster)));
  CHECK(r.status == status::rollback);
  CHECK(r.rollback_seqno == 0);
  auto ignore = from(1, uuid0(cluster));
  ignore.flags = sf::ignore_purged_tombstones;
  CHECK(c.stream(0, ignore).status == status::success);
}

TEST_CASE("CLOSE_STREAM answers, STREAM_END Closed follows once that control is set") {
  couchbase_cluster cluster{one_vb()};
  cluster.start();
  dcp_client c{cluster.kv_port()};
  c.start("close", of::producer, dcp_features(false));
  CHECK(c.call(dcp_close_stream_request{}.encode().vbucket(0)).view().status() ==
        status::key_enoent);
  REQUIRE(c.stream(0, from(0, 0)).status == status::success);
  CHECK(c.call(dcp_close_stream_request{}.encode().vbucket(0)).view().status() == status::success);
  REQUIRE(c.control("send_stream_end_on_client_close_stream", "true") == status::success);
  REQUIRE(c.stream(0, from(0, 0)).status == status::success);
  CHECK(c.call(dcp_close_stream_request{}.encode().vbucket(0)).view().status() == status::success);
  auto ms = c.until_end(0);
  CHECK(only<dcp_stream_end>(ms).at(0).reason == stream_end_reason::closed);
  REQUIRE(c.control("v7_dcp_status_codes", "true") == status::success);
  CHECK(c.call(dcp_close_stream_request{}.encode().vbucket(0)).view().status() ==
        status::dcp_stream_not_found);
}

TEST_CASE("end_stream sends any reason, a moved vbucket ends with StateChanged") {
  couchbase_cluster cluster{one_vb(2)};
  cluster.start();
  auto node = cluster.active_node("default", 0);
  dcp_client c{cluster.kv_port(node)};
  c.start("ends", of::producer, dcp_features(false));
  for (auto reason : {stream_end_reason::too_slow, stream_end_reason::backfill_fail,
                      stream_end_reason::rollback, stream_end_reason::lost_privileges}) {
    REQUIRE(c.stream(0, from(0, 0)).status == status::success);
    cluster.end_stream("default", 0, reason);
    auto ms = c.until_end(0);
    CHECK(only<dcp_stream_end>(ms).at(0).reason == reason);
  }
  REQUIRE(c.stream(0, from(0, 0)).status == status::success);
  cluster.move_vbucket("default", 0, node == 0 ? 1 : 0);
  auto ms = c.until_end(0);
  CHECK(only<dcp_stream_end>(ms).at(0).reason == stream_end_reason::state_changed);
  CHECK(c.stream(0, from(0, 0)).status == status::not_my_vbucket);
}

TEST_CASE("Failover of a node closes its DCP connections") {
  couchbase_cluster cluster{one_vb(2, 1)};
  cluster.start();
  auto node = cluster.active_node("default", 0);
  dcp_client c{cluster.kv_port(node)};
  c.start("dies", of::producer, dcp_features(false));
  REQUIRE(c.stream(0, from(0, 0)).status == status::success);
  cluster.failover(node);
  CHECK_FALSE(c.next(20s));
  CHECK(c.closed);
}

TEST_CASE("drop_after_next_marker closes the connection between a marker and its first item") {
  couchbase_cluster cluster{one_vb()};
  cluster.start();
  cluster.upsert("default", "a", "1");
  cluster.upsert("default", "b", "1");
  cluster.drop_after_next_marker("default", 0);
  dcp_client c{cluster.kv_port()};
  c.start("drop", of::producer, dcp_features(false));
  REQUIRE(c.stream(0, from(0, 0)).status == status::success);
  auto m = c.next();
  REQUIRE(m);
  CHECK(std::holds_alternative<dcp_snapshot_marker>(*m));
  CHECK_FALSE(c.next(20s));
  CHECK(c.closed);
  // The resume from the marker's start works on a new connection.
  dcp_client again{cluster.kv_port()};
  again.start("drop", of::producer, dcp_features(false));
  REQUIRE(again.stream(0, from(0, 0, 2)).status == status::success);
  CHECK(only<dcp_mutation>(again.until_end(0)).size() == 2);
}

TEST_CASE("move_after_next_marker ends the stream StateChanged between a marker and its items") {
  couchbase_cluster cluster{one_vb(2)};
  cluster.start();
  cluster.upsert("default", "a", "1");
  cluster.upsert("default", "b", "1");
  const auto node = cluster.active_node("default", 0);
  const std::size_t to = node == 0 ? 1 : 0;
  cluster.move_after_next_marker("default", 0, to);
  dcp_client c{cluster.kv_port(node)};
  c.start("move", of::producer, dcp_features(false));
  REQUIRE(c.stream(0, from(0, 0)).status == status::success);
  auto ms = c.until_end(0);
  REQUIRE(ms.size() == 2);
  CHECK(std::holds_alternative<dcp_snapshot_marker>(ms.at(0)));
  CHECK(only<dcp_stream_end>(ms).at(0).reason == stream_end_reason::state_changed);
  CHECK(cluster.active_node("default", 0) == to);
  // The new active node serves the snapshot again from the last position before the marker.
  dcp_client again{cluster.kv_port(to)};
  again.start("move", of::producer, dcp_features(false));
  REQUIRE(again.stream(0, from(0, 0, 2)).status == status::success);
  CHECK(only<dcp_mutation>(again.until_end(0)).size() == 2);
}

TEST_CASE("Expirations: DCP_EXPIRATION only with enable_expiry_opcode and IncludeDeleteTimes") {
  couchbase_cluster cluster{one_vb()};
  cluster.start();
  cluster.upsert("default", "ttl", "v", "_default._default", 10);
  cluster.advance_clock(std::chrono::seconds(60));
  REQUIRE(cluster.run_expiry_pager() == 1);
  {
    dcp_client c{cluster.kv_port()};
    c.start("exp1", of::producer | of::include_delete_times, dcp_features(false));
    REQUIRE(c.control("enable_expiry_opcode", "true") == status::success);
    REQUIRE(c.stream(0, from(0, 0, 2)).status == status::success);
    auto ms = c.until_end(0);
    REQUIRE(only<dcp_expiration>(ms).size() == 1);
    CHECK(only<dcp_expiration>(ms)[0].key == "ttl");
  }
  dcp_client d{cluster.kv_port()};
  d.start("exp2", of::producer, dcp_features(false));
  REQUIRE(d.control("enable_expiry_opcode", "true") == status::success);
  REQUIRE(d.stream(0, from(0, 0, 2)).status == status::success);
  auto ms = d.until_end(0);
  CHECK(only<dcp_expiration>(ms).empty());
  REQUIRE(only<dcp_deletion>(ms).size() == 1);
  CHECK_FALSE(only<dcp_deletion>(ms)[0].delete_time);  // V1
}

TEST_CASE("Flow control: the producer stalls at the window and resumes on BUFFER_ACK only") {
  couchbase_cluster cluster{one_vb()};
  cluster.start();
  for (int i = 0; i < 200; ++i)
    cluster.upsert("default", "doc" + std::to_string(i), std::string(200, 'x'));
  dcp_client c{cluster.kv_port()};
  c.start("flow", of::producer, dcp_features(false));
  REQUIRE(c.control("connection_buffer_size", "4096") == status::success);
  REQUIRE(c.stream(0, from(0, 0)).status == status::success);
  auto first = c.drain(500ms);
  CHECK_FALSE(first.empty());
  // A message may overflow the window, never more than one.
  CHECK(c.received_bytes >= 4096);
  CHECK(c.received_bytes < 4096 + 24 + 31 + 10 + 200 + 1);
  auto stats = cluster.dcp_stats();
  REQUIRE(stats.size() == 1);
  CHECK(stats[0].paused);
  CHECK(stats[0].unacked_bytes == c.received_bytes);
  // Ack everything: more flows, and the ack is never answered.
  std::size_t total = only<dcp_mutation>(first).size();
  while (total < 200) {
    c.ack(static_cast<std::uint32_t>(c.received_bytes));
    c.received_bytes = 0;
    auto more = c.drain(500ms);
    REQUIRE_FALSE(more.empty());
    total += only<dcp_mutation>(more).size();
  }
  CHECK(total == 200);
  CHECK(c.responses.empty());
}

TEST_CASE("NOOPs at the interval, a consumer that never answers is disconnected") {
  couchbase_cluster cluster{one_vb()};
  cluster.set_dcp_timing(std::chrono::milliseconds(1500));
  cluster.start();
  dcp_client c{cluster.kv_port()};
  c.start("noop", of::producer, dcp_features(false));
  REQUIRE(c.control("set_noop_interval", "0.2") == status::success);
  c.auto_noop = false;
  auto f = c.next_frame(10s);
  REQUIRE(f);
  CHECK(f->view().opcode() == opcode::dcp_noop);
  CHECK(f->view().opaque() == 10000001);
  // Not answered, nothing else sent: disconnected after the idle timeout.
  while (auto g = c.next_frame(10s))
    CHECK(g->view().opcode() == opcode::dcp_noop);
  CHECK(c.closed);

  dcp_client d{cluster.kv_port()};
  d.start("noop-ok", of::producer, dcp_features(false));
  REQUIRE(d.control("set_noop_interval", "0.2") == status::success);
  CHECK_FALSE(d.next(3s));  // answered NOOPs keep it open
  CHECK_FALSE(d.closed);
  CHECK(d.noops >= 3);
}
