#include <catch2/catch.hpp>

#include "cbes/dcp/stream_state.hpp"

using namespace cbes;
using namespace cbes::dcp;

namespace {
mcbp::dcp_message marker(std::uint64_t start, std::uint64_t end, std::uint32_t flags = 1) {
  return mcbp::dcp_snapshot_marker{start, end, flags};
}
mcbp::dcp_message mutation(std::uint64_t seqno) {
  mcbp::dcp_mutation m;
  m.by_seqno = seqno;
  m.key = "k" + std::to_string(seqno);
  return m;
}
}  // namespace

TEST_CASE("stream request from a fresh state asks for everything") {
  auto r =
      make_stream_request(stream_state::from_beginning(), mcbp::dcp_stream_flags::active_vb_only);
  CHECK(r.start_seqno == 0);
  CHECK(r.vbucket_uuid == 0);
  CHECK(r.snapshot_start == 0);
  CHECK(r.snapshot_end == 0);
  CHECK(r.end_seqno == mcbp::dcp_seqno_infinity);
  CHECK(r.flags == mcbp::dcp_stream_flags::active_vb_only);
}

TEST_CASE("'now' takes the newest failover uuid and the high seqno") {
  auto s = stream_state::at({{0xbb, 50}, {0xaa, 0}}, 120);
  CHECK(s.vbucket_uuid == 0xbb);
  auto r = make_stream_request(s);
  CHECK(r.start_seqno == 120);
  CHECK(r.snapshot_start == 120);
  CHECK(r.snapshot_end == 120);
  CHECK(r.vbucket_uuid == 0xbb);
}

TEST_CASE("a marker becomes the position's snapshot only with its first item") {
  stream_tracker t;
  t.on_stream_opened({{0x77, 0}});
  CHECK(t.state().vbucket_uuid == 0x77);
  REQUIRE(t.on_message(marker(0, 10, mcbp::snapshot_flags::disk)));
  // Between a marker and its first item the state still resumes from the previous point.
  CHECK(t.state().seqno == 0);
  CHECK(t.state().snapshot_end == 0);
  CHECK(t.current_snapshot_end() == 10);
  REQUIRE(t.on_message(mutation(3)));
  CHECK(t.state().seqno == 3);
  CHECK(t.state().snapshot_start == 0);
  CHECK(t.state().snapshot_end == 10);
  // Partial snapshot: resuming sends the snapshot bounds so the producer can decide.
  auto r = t.request();
  CHECK(r.start_seqno == 3);
  CHECK(r.snapshot_start == 0);
  CHECK(r.snapshot_end == 10);
  REQUIRE(t.on_message(mutation(10)));
  REQUIRE(t.on_message(marker(11, 20)));
  CHECK(t.request().snapshot_start == 0);  // still the completed snapshot
  CHECK(t.request().snapshot_end == 10);
  CHECK(t.request().start_seqno == 10);
}

TEST_CASE("items that go backwards are refused and leave the state alone") {
  stream_tracker t;
  REQUIRE(t.on_message(marker(1, 5)));
  REQUIRE(t.on_message(mutation(4)));
  auto before = t.state();
  CHECK_FALSE(t.on_message(mutation(4)));
  CHECK_FALSE(t.on_message(mutation(2)));
  CHECK(t.state() == before);
}

TEST_CASE("seqno advanced makes the position consistent at that seqno") {
  stream_tracker t;
  REQUIRE(t.on_message(marker(1, 9)));
  REQUIRE(t.on_message(mutation(2)));
  REQUIRE(t.on_message(mcbp::dcp_message{mcbp::dcp_seqno_advanced{9}}));
  CHECK(t.state().seqno == 9);
  CHECK(t.state().snapshot_start == 9);
  CHECK(t.state().snapshot_end == 9);
}

TEST_CASE("an inconsistent hand-written state is collapsed to seqno/seqno") {
  stream_state s;
  s.seqno = 15;
  s.snapshot_start = 16;  // Java's "snap_start == start + 1" case
  s.snapshot_end = 20;
  auto r = make_stream_request(s);
  CHECK(r.snapshot_start == 15);
  CHECK(r.snapshot_end == 15);
}

TEST_CASE("rollback trims the failover log and reopens from the rollback seqno") {
  stream_state s;
  s.failover_log = {{0xc, 200}, {0xb, 100}, {0xa, 0}};
  s.vbucket_uuid = 0xc;
  s.seqno = 250;
  s.snapshot_start = 240;
  s.snapshot_end = 260;
  auto r = rollback_state(s, 150);
  CHECK(r.failover_log == failover_log{{0xb, 100}, {0xa, 0}});
  CHECK(r.vbucket_uuid == 0xb);
  CHECK(r.seqno == 150);
  CHECK(r.snapshot_start == 150);
  CHECK(r.snapshot_end == 150);
  auto zero = rollback_state(s, 0);
  CHECK(zero.failover_log == failover_log{{0xa, 0}});
  CHECK(zero.vbucket_uuid == 0xa);
  stream_state fresh;
  fresh.failover_log = {{0xd, 5}};
  CHECK(rollback_state(fresh, 0).vbucket_uuid == 0);

  stream_tracker t{s};
  REQUIRE(t.on_message(marker(251, 300)));
  t.on_rollback(100);
  CHECK(t.state().seqno == 100);
  REQUIRE(t.on_message(mutation(101)));
  CHECK(t.state().snapshot_start == 101);  // the pre-rollback marker was forgotten
}

TEST_CASE("stream end reasons map to the reference's reactions") {
  using r = mcbp::stream_end_reason;
  CHECK(reaction(r::ok) == end_action::done);
  CHECK(reaction(r::closed) == end_action::closed);
  CHECK(reaction(r::state_changed) == end_action::reopen);
  CHECK(reaction(r::disconnected) == end_action::reopen);
  CHECK(reaction(r::too_slow) == end_action::reopen);
  CHECK(reaction(r::backfill_fail) == end_action::reopen);
  CHECK(reaction(r::rollback) == end_action::reopen);
  CHECK(reaction(r::filter_empty) == end_action::stop);
  CHECK(reaction(r::lost_privileges) == end_action::stop);
  CHECK(reaction(static_cast<r>(42)) == end_action::reopen);
}

TEST_CASE("system events move the position and the manifest uid") {
  stream_tracker t;
  REQUIRE(t.on_message(marker(1, 1)));
  mcbp::collection_created c{0x20, 8, 9, std::nullopt, "c"};
  REQUIRE(t.on_message(mcbp::dcp_message{c.to_event(1)}));
  CHECK(t.state().seqno == 1);
  CHECK(t.state().manifest_uid == 0x20);
}

TEST_CASE("flow control acks only acknowledged bytes, at the watermark") {
  flow_control fc{1000, 0.5};
  fc.received(300);
  fc.received(300);
  fc.received(300);
  CHECK(fc.outstanding() == 900);
  CHECK_FALSE(fc.acknowledge(300));
  CHECK(fc.outstanding() == 600);
  auto ack = fc.acknowledge(300);
  REQUIRE(ack);
  CHECK(*ack == 600);
  CHECK(fc.pending_ack() == 0);
  CHECK_FALSE(fc.acknowledge(300));
  CHECK(fc.outstanding() == 0);
  CHECK(flow_control::counted(mcbp::opcode::dcp_mutation));
  CHECK(flow_control::counted(mcbp::opcode::dcp_stream_end));
  CHECK_FALSE(flow_control::counted(mcbp::opcode::dcp_noop));
  CHECK_FALSE(flow_control::counted(mcbp::opcode::get));

  flow_control off{0, 0.5};
  off.received(10);
  CHECK_FALSE(off.acknowledge(10));
}
