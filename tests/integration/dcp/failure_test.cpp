// How the DCP consumer fails: failures no retry can fix stop it and reach the owner once (from
// open() or through on_fatal), transient ones are retried with a growing delay and counted,
// exceptions never vanish, a flooding producer cannot grow memory, and the bucket config is
// parsed for its capabilities once per revision.
#include <catch2/catch.hpp>

#include <stdexcept>

#include "integration/dcp/harness.hpp"

using namespace dcp_it;

namespace {

cbes::testkit::couchbase_user streamer(bool dcp_reader = true) {
  return {"streamer", "secret", {}, dcp_reader};
}

}  // namespace

TEST_CASE("dcp: a user without the Data DCP Reader role makes open() fail once, naming the role") {
  fixture f(1, 8, 0, streamer(false));
  f.fake.load_sample(50);
  f.make_consumer(small_options());
  auto r = f.try_open_from_beginning();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == cb::errc::access_denied);
  CHECK(r.error().what().find("Data DCP Reader role") != std::string::npos);
  CHECK(r.error().what().find("'streamer'") != std::string::npos);
  drain(f.io);
  CHECK(f.fatal.empty());  // open() told the owner; on_fatal does not repeat it
  CHECK(f.consumer->stats().open_retries == 0);
  CHECK(f.fake.dcp_stats().empty());  // stopped: no DCP connection is retried or kept
}

TEST_CASE("dcp: a bucket that became inaccessible stops the consumer and reaches on_fatal once") {
  fixture f(1, 8, 0, streamer());
  f.fake.load_sample(50);
  f.make_consumer(small_options());
  f.open_from_beginning();
  f.catch_up();
  // The user loses the bucket (as when it is deleted or access is revoked); the consumer's
  // reconnection then meets SELECT_BUCKET Eaccess.
  f.fake.add_user({"streamer", "secret", {"another-bucket"}});
  f.fake.drop_connections();
  REQUIRE(f.wait_until([&] { return !f.fatal.empty(); }));
  drain(f.io);
  REQUIRE(f.fatal.size() == 1);
  CHECK(f.fatal.front().find("bucket 'default'") != std::string::npos);
  CHECK(f.fatal.front().find("check couchbase.bucket") != std::string::npos);
  CHECK(f.fake.dcp_stats().empty());
}

TEST_CASE("dcp: a filter naming a collection dropped before open makes open() fail") {
  fixture f(1, 8);
  f.fake.create_scope("default", "inventory");
  f.fake.create_collection("default", "inventory", "airline");
  auto o = small_options();
  o.collections = {"inventory.airline"};
  f.make_consumer(o);
  f.fake.drop_collection("default", "inventory", "airline");
  auto r = f.try_open_from_beginning();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == cb::errc::unknown_collection);
  CHECK(r.error().what().find("no longer has") != std::string::npos);
  drain(f.io);
  CHECK(f.fatal.empty());
  CHECK(f.rec.violations.empty());  // no per-vbucket stream ends: one error, once
}

TEST_CASE("dcp: a node refusing DCP for a while is retried with growing delays and counted") {
  fixture f(1, 8);
  f.fake.load_sample(100);
  auto o = small_options();
  o.retry_delay = 40ms;
  f.make_consumer(o);
  f.fake.fail_next_dcp_opens(4);  // Etmpfail: transient
  const auto start = std::chrono::steady_clock::now();
  f.open_from_beginning();
  f.catch_up();
  const auto took = std::chrono::steady_clock::now() - start;
  const auto st = f.consumer->stats();
  CHECK(st.transient_errors == 4);
  CHECK(st.open_retries >= 4);
  // Delays of at least 20, 40, 80 and 160 ms (half of 40 · 2^n): a fixed 40 ms delay would
  // have needed only 160 ms.
  CHECK(took >= 300ms);
  CHECK(f.fatal.empty());
  CHECK(f.rec.violations.empty());
  CHECK(f.rec.count(dcp::event_type::mutation) == 100);
}

TEST_CASE("dcp: a listener that throws stops the consumer and reaches on_fatal once") {
  fixture f(1, 8);
  f.make_consumer(small_options());
  f.consumer->on_event([](const dcp::event& ev) {
    if (ev.type == dcp::event_type::mutation)
      throw std::runtime_error("listener exploded");
  });
  f.open_from_beginning();
  f.fake.upsert("default", "k", R"({"a":1})");
  REQUIRE(f.wait_until([&] { return !f.fatal.empty(); }));
  drain(f.io);
  REQUIRE(f.fatal.size() == 1);
  CHECK(f.fatal.front().find("listener exploded") != std::string::npos);
  CHECK(f.fake.dcp_stats().empty());
}

TEST_CASE("dcp: an exception escaping a stream request's task makes open() fail") {
  fixture f(1, 8);
  f.fake.load_sample(50);
  f.make_consumer(small_options());
  // A rollback event is emitted by the task that opens the stream; the listener throws there.
  f.consumer->on_event([](const dcp::event& ev) {
    if (ev.type == dcp::event_type::rollback)
      throw std::runtime_error("rollback handler exploded");
  });
  auto bogus = dcp::stream_state::from_beginning();
  bogus.vbucket_uuid = 0xdead;  // a history the vbucket never had: the producer rolls back to 0
  bogus.seqno = bogus.snapshot_start = bogus.snapshot_end = 1;
  auto r = f.try_open({{0, bogus}});
  REQUIRE_FALSE(r);
  CHECK(r.error().what().find("rollback handler exploded") != std::string::npos);
  drain(f.io);
  CHECK(f.fatal.empty());
}

TEST_CASE("dcp: a producer flooding before it answers the stream request stops that stream") {
  fixture f(1, 8);
  f.fake.load_sample(400);
  // 320 KiB in vbucket 3: far more than one socket read carries along with an answer.
  const std::string big = R"({"pad":")" + std::string(8 * 1024, 'x') + R"("})";
  for (int i = 0, n = 0; n < 40; ++i)
    if (f.fake.vbucket_of("default", "big" + std::to_string(i)) == 3 && ++n)
      f.fake.upsert("default", "big" + std::to_string(i), big);
  auto o = small_options();
  o.buffer_size = 0;  // no flow control: nothing else bounds what the producer sends
  o.max_early_bytes = 128 * 1024;
  f.make_consumer(o);
  f.fake.answer_stream_request_late("default", 3);
  f.open_from_beginning();
  REQUIRE(f.wait_until([&] { return !f.rec.violations.empty(); }));
  INFO(f.rec.violations.front());
  CHECK(f.rec.violations.size() == 1);
  CHECK(f.rec.violations.front().find("vb 3") != std::string::npos);
  CHECK(f.rec.violations.front().find("before answering the stream request") != std::string::npos);
  CHECK(f.rec.items[3].empty());
  CHECK(f.consumer->stats().outstanding_bytes == 0);  // what was held went back to the window
  CHECK(f.fatal.empty());
}

TEST_CASE("dcp: a producer answering the stream request late within the bound loses nothing") {
  fixture f(1, 8);
  f.fake.load_sample(400);
  auto o = small_options();
  o.buffer_size = 0;
  f.make_consumer(o);
  f.fake.answer_stream_request_late("default", 3);
  f.open_from_beginning();
  f.catch_up();
  CHECK(f.rec.violations.empty());
  CHECK(f.rec.count(dcp::event_type::mutation) == 400);
  CHECK(!f.rec.items[3].empty());
}

TEST_CASE("dcp: the bucket config is parsed for its capabilities once per revision") {
  fixture f(2, 8);
  f.fake.load_sample(100);
  f.make_consumer(small_options());
  f.open_from_beginning();
  f.catch_up();
  CHECK(f.consumer->stats().config_parses == 1);
  // Reconcile rounds on the same revision reuse the parsed capability.
  for (std::uint16_t vb = 0; vb < 4; ++vb)
    f.fake.end_stream("default", vb, cbes::mcbp::stream_end_reason::too_slow);
  REQUIRE(f.wait_until([&] { return f.consumer->stats().stream_reopens >= 4; }));
  f.fake.upsert("default", "after-reopen", R"({"a":1})");
  f.catch_up();
  CHECK(f.consumer->stats().config_parses == 1);
  // A new revision (a vbucket moved) is parsed once more.
  const auto vb = f.fake.vbucket_of("default", "after-reopen");
  f.fake.move_vbucket("default", vb, 1 - f.fake.active_node("default", vb));
  REQUIRE(f.wait_until([&] { return f.consumer->stats().config_parses == 2; }));
  f.catch_up();
  CHECK(f.consumer->stats().config_parses == 2);
  CHECK(f.rec.violations.empty());
}

TEST_CASE("dcp: resuming below the purge seqno does not roll back when the bucket allows it") {
  fixture f(1, 8);
  for (int i = 0; i < 40; ++i)
    f.fake.upsert("default", "p" + std::to_string(i), R"({"a":1})");
  f.make_consumer(small_options());
  f.open_from_beginning();
  f.catch_up();
  auto finals = run(f.io, f.consumer->close(all_vbuckets(f.vbuckets)));
  REQUIRE(finals);
  // Deletions after our positions, then their tombstones purged: our positions are below the
  // purge seqno. The fake advertises dcp.IgnorePurgedTombstones, so the consumer sets the
  // stream flag and the producer resumes instead of rolling back to 0.
  for (int i = 0; i < 40; ++i)
    f.fake.remove("default", "p" + std::to_string(i));
  for (std::uint16_t vb = 0; vb < f.vbuckets; ++vb)
    f.fake.compact("default", vb, f.fake.high_seqno("default", vb));
  REQUIRE(f.try_open(*finals));
  f.catch_up();
  CHECK(f.consumer->stats().rollbacks == 0);
  CHECK(f.rec.rollbacks == 0);
}
