// Out-of-Order snapshots (kv_engine's protocol docs): between OSO start and end a backfill
// arrives in key order; before `end` a resume starts from the last seqno before the start (Y),
// after it from the largest seqno seen inside (X) or the following SEQNO_ADVANCED.
#include <catch2/catch.hpp>

#include "cbes/dcp/stream_state.hpp"

using namespace cbes;
using namespace cbes::dcp;

namespace {
mcbp::dcp_message oso(std::uint32_t flags) {
  return mcbp::dcp_oso_snapshot{flags};
}
mcbp::dcp_message mutation(std::uint64_t seqno) {
  mcbp::dcp_mutation m;
  m.by_seqno = seqno;
  m.key = "k" + std::to_string(seqno);
  return m;
}
mcbp::dcp_message deletion(std::uint64_t seqno) {
  mcbp::dcp_deletion d;
  d.by_seqno = seqno;
  d.key = "d" + std::to_string(seqno);
  return d;
}
mcbp::dcp_message advanced(std::uint64_t seqno) {
  return mcbp::dcp_seqno_advanced{seqno};
}
}  // namespace

TEST_CASE("oso: key-ordered items are accepted and the position stays at Y until the end") {
  stream_tracker t;
  t.on_stream_opened({{0x77, 0}});
  CHECK_FALSE(t.in_oso_snapshot());
  REQUIRE(t.on_message(oso(mcbp::oso_flags::start)));
  CHECK(t.in_oso_snapshot());
  // Key order: seqnos go up and down.
  for (std::uint64_t s : {7, 3, 9, 1, 5})
    REQUIRE(t.on_message(mutation(s)));
  REQUIRE(t.on_message(deletion(4)));
  // Before `end`: resume from Y = 0, i.e. repeat the backfill.
  CHECK(t.state().seqno == 0);
  CHECK(t.request().start_seqno == 0);
  REQUIRE(t.on_message(oso(mcbp::oso_flags::end)));
  CHECK_FALSE(t.in_oso_snapshot());
  // After `end`: X = 9, a consistent point.
  CHECK(t.state().seqno == 9);
  CHECK(t.state().snapshot_start == 9);
  CHECK(t.state().snapshot_end == 9);
  auto r = t.request();
  CHECK(r.start_seqno == 9);
  CHECK(r.snapshot_start == 9);
  CHECK(r.snapshot_end == 9);
  CHECK(r.vbucket_uuid == 0x77);
}

TEST_CASE("oso: items not above a resume point Y greater than zero are refused") {
  stream_tracker t(stream_state{0x55, 20, 20, 20, {{0x55, 0}}, 0});
  REQUIRE(t.on_message(oso(mcbp::oso_flags::start)));
  CHECK_FALSE(t.on_message(mutation(20)));  // not above Y: a correct producer never sends it
  CHECK_FALSE(t.on_message(mutation(12)));
  REQUIRE(t.on_message(mutation(31)));
  REQUIRE(t.on_message(mutation(25)));
  CHECK(t.state().seqno == 20);
  REQUIRE(t.on_message(oso(mcbp::oso_flags::end)));
  CHECK(t.state().seqno == 31);
  // After OSO, ordinary seqno order applies again.
  CHECK_FALSE(t.on_message(mutation(30)));
  REQUIRE(t.on_message(mutation(32)));
  CHECK(t.state().seqno == 32);
}

TEST_CASE("oso: the SEQNO_ADVANCED after the end moves the position past X") {
  stream_tracker t;
  REQUIRE(t.on_message(oso(mcbp::oso_flags::start)));
  REQUIRE(t.on_message(mutation(8)));
  REQUIRE(t.on_message(mutation(2)));
  REQUIRE(t.on_message(oso(mcbp::oso_flags::end)));
  CHECK(t.state().seqno == 8);
  // true_with_seqno_advanced: the backfill's end seqno (items after 8 were filtered out).
  REQUIRE(t.on_message(advanced(15)));
  CHECK(t.state().seqno == 15);
  CHECK(t.request().start_seqno == 15);
}

TEST_CASE("oso: an empty OSO snapshot leaves the position at Y") {
  stream_tracker t(stream_state{0x55, 10, 10, 10, {{0x55, 0}}, 0});
  REQUIRE(t.on_message(oso(mcbp::oso_flags::start)));
  REQUIRE(t.on_message(oso(mcbp::oso_flags::end)));
  CHECK(t.state().seqno == 10);
  CHECK_FALSE(t.in_oso_snapshot());
}

TEST_CASE("oso: a reconnect or rollback inside OSO resumes from Y and forgets the OSO") {
  stream_tracker t(stream_state{0x55, 10, 10, 10, {{0x55, 0}}, 0});
  REQUIRE(t.on_message(oso(mcbp::oso_flags::start)));
  REQUIRE(t.on_message(mutation(40)));
  // The connection dropped before `end`: the saved position is still Y.
  const auto saved = t.state();
  CHECK(saved.seqno == 10);
  stream_tracker resumed(saved);
  resumed.on_stream_opened({{0x55, 0}});
  CHECK_FALSE(resumed.in_oso_snapshot());
  CHECK(resumed.request().start_seqno == 10);
  // A reopen on the same tracker (new STREAM_REQ) also leaves OSO.
  t.on_stream_opened({{0x55, 0}});
  CHECK_FALSE(t.in_oso_snapshot());
  CHECK(t.state().seqno == 10);
  REQUIRE(t.on_message(oso(mcbp::oso_flags::start)));
  t.on_rollback(5);
  CHECK_FALSE(t.in_oso_snapshot());
  CHECK(t.state().seqno == 5);
}

TEST_CASE("oso: an end without a start changes nothing") {
  stream_tracker t(stream_state{0x55, 10, 10, 10, {{0x55, 0}}, 0});
  REQUIRE(t.on_message(oso(mcbp::oso_flags::end)));
  CHECK(t.state().seqno == 10);
  REQUIRE(t.on_message(mutation(11)));
  CHECK(t.state().seqno == 11);
}
