#include <catch2/catch.hpp>

#include <vector>

#include "cbes/connector/progress.hpp"

using cbes::connector::checkpoint;
using cbes::connector::flow_ack;
using cbes::connector::progress;

namespace {

checkpoint at(std::uint64_t seqno, std::uint64_t vbuuid = 7) {
  checkpoint c{};
  c.vbuuid = vbuuid;
  c.seqno = seqno;
  c.snapshot.start = seqno;
  c.snapshot.end = seqno;
  return c;
}

std::size_t total_bytes(const std::vector<flow_ack>& acks) {
  std::size_t n = 0;
  for (auto& a : acks)
    n += a.bytes;
  return n;
}

}  // namespace

TEST_CASE("the checkpoint moves only when the documents before it are done") {
  progress p;
  p.start(3, at(10));
  std::vector<flow_ack> acks;
  const auto t1 = p.add_document(3, at(11), {1, 100});
  const auto t2 = p.add_document(3, at(12), {1, 100});
  p.add_done(3, at(13), {1, 50}, acks);  // e.g. a filtered document behind them
  CHECK(total_bytes(acks) == 50);        // its bytes go back at once
  CHECK(p.checkpoint_of(3) == at(10));
  CHECK_FALSE(p.dirty(3));
  CHECK(p.pending(3) == 2);

  REQUIRE(p.document_done(3, t1, acks));
  CHECK(p.checkpoint_of(3) == at(11));
  CHECK(p.dirty(3));
  REQUIRE(p.document_done(3, t2, acks));
  CHECK(p.checkpoint_of(3) == at(13));  // the passed-through event followed at once
  CHECK(total_bytes(acks) == 250);
  CHECK(p.pending() == 0);
}

TEST_CASE("a done report out of order is refused and changes nothing") {
  progress p;
  p.start(0, at(0));
  const auto t1 = p.add_document(0, at(1), {});
  const auto t2 = p.add_document(0, at(2), {});
  std::vector<flow_ack> acks;
  CHECK_FALSE(p.document_done(0, t2, acks));
  CHECK_FALSE(p.document_done(5, t1, acks));  // untracked vbucket
  CHECK(p.checkpoint_of(0) == at(0));
  CHECK(p.pending(0) == 2);
}

TEST_CASE("vbuckets progress independently") {
  progress p;
  p.start(1, at(0));
  p.start(2, at(0));
  const auto a = p.add_document(1, at(5), {});
  p.add_document(2, at(9), {});
  std::vector<flow_ack> acks;
  REQUIRE(p.document_done(1, a, acks));
  CHECK(p.checkpoint_of(1) == at(5));
  CHECK(p.checkpoint_of(2) == at(0));
  CHECK(p.dirty_checkpoints().size() == 1);
}

TEST_CASE("a rollback keeps the checkpoint from moving past the rollback point") {
  progress p;
  p.start(4, at(100, 1));
  const auto stale = p.add_document(4, at(120, 1), {2, 10});
  const auto gen = p.generation(4);
  std::vector<flow_ack> acks;
  p.rollback(4, at(90, 2), acks);
  CHECK(p.generation(4) == gen + 1);
  CHECK(p.checkpoint_of(4) == at(100, 1));  // the rollback waits behind the in-flight write
  const auto fresh = p.add_document(4, at(91, 2), {3, 10});

  REQUIRE(p.document_done(4, stale, acks));
  CHECK(p.checkpoint_of(4) == at(90, 2));  // the stale write did not move it to 120
  CHECK(total_bytes(acks) == 10);          // but its bytes went back
  REQUIRE(p.document_done(4, fresh, acks));
  CHECK(p.checkpoint_of(4) == at(91, 2));
}

TEST_CASE("a rollback with nothing in flight applies at once") {
  progress p;
  p.start(4, at(100));
  std::vector<flow_ack> acks;
  p.rollback(4, at(0, 0), acks);
  CHECK(p.checkpoint_of(4) == at(0, 0));
  CHECK(p.dirty(4));
}

TEST_CASE("the connector's own checkpoint documents move the checkpoint without dirtying it") {
  progress p;
  p.start(8, at(1));
  std::vector<flow_ack> acks;
  const auto t = p.add_document(8, at(2), {}, false);
  REQUIRE(p.document_done(8, t, acks));
  p.add_done(8, at(3), {}, acks, false);
  CHECK(p.checkpoint_of(8) == at(3));
  CHECK_FALSE(p.dirty(8));
}

TEST_CASE("mark_saved clears dirty only for the checkpoint that was saved") {
  progress p;
  p.start(0, at(0));
  std::vector<flow_ack> acks;
  p.add_done(0, at(1), {}, acks);
  const auto saved = p.checkpoint_of(0);
  p.add_done(0, at(2), {}, acks);
  p.mark_saved(0, saved);
  CHECK(p.dirty(0));
  p.mark_saved(0, p.checkpoint_of(0));
  CHECK_FALSE(p.dirty(0));
}

TEST_CASE("stop returns the checkpoint and forgets the vbucket") {
  progress p;
  p.start(9, at(4));
  p.add_document(9, at(5), {});
  CHECK(p.pending() == 1);
  CHECK(p.stop(9) == at(4));
  CHECK(p.pending() == 0);
  CHECK_FALSE(p.tracked(9));
  CHECK_FALSE(p.stop(9).has_value());
  CHECK_THROWS_AS(p.add_document(9, at(6), {}), std::logic_error);
}
