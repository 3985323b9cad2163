#include <catch2/catch.hpp>

#include <deque>

#include "cbes/mcbp/datatype.hpp"
#include "integration/dcp/harness.hpp"

using namespace dcp_it;

TEST_CASE("dcp: 100 000 documents over 1024 vbuckets arrive once and in order with deletions") {
  fixture f(1, 1024);
  for (int i = 0; i < 100000; ++i)
    f.fake.upsert("default", "doc-" + std::to_string(i), R"({"n":)" + std::to_string(i) + "}");
  for (int i = 0; i < 1000; ++i)  // repeated versions: the latest must win
    f.fake.upsert("default", "doc-" + std::to_string(i), R"({"v":2})");
  for (int i = 1000; i < 1500; ++i)
    f.fake.remove("default", "doc-" + std::to_string(i));
  // The fake builds a thousand backfills on one thread: under ThreadSanitizer it goes quiet for
  // seconds, which a 2 s NOOP interval would take for a dead connection (reconnecting restarts
  // the same burst). Dead connections have their own tests.
  auto o = small_options();
  o.noop_interval = 60s;
  f.make_consumer(o);
  f.open_from_beginning();
  f.catch_up(300000ms);
  INFO((f.rec.violations.empty() ? "" : f.rec.violations.front()));
  CHECK(f.rec.violations.empty());
  const auto latest = f.rec.latest();
  CHECK(latest.size() == 99500);
  CHECK(latest == f.expected());
  CHECK(latest.at("0:doc-5") == R"({"v":2})");
  CHECK(f.consumer->stats().rollbacks == 0);
}

TEST_CASE("dcp: expirations arrive as expirations") {
  fixture f;
  f.fake.upsert("default", "short", R"({"a":1})", "_default._default",
                static_cast<std::uint32_t>(std::time(nullptr) + 5));
  f.fake.upsert("default", "long", R"({"a":2})");
  f.fake.advance_clock(60s);
  CHECK(f.fake.run_expiry_pager() == 1);
  f.make_consumer(small_options());
  f.open_from_beginning();
  f.catch_up();
  CHECK(f.rec.count(dcp::event_type::expiration) == 1);
  CHECK(f.rec.latest().size() == 1);
}

TEST_CASE("dcp: a 64 KiB buffer and a slow listener stall the producer and bound memory") {
  fixture f(1, 16);
  const std::string body = R"({"pad":")" + std::string(900, 'x') + "\"}";
  for (int i = 0; i < 3000; ++i)
    f.fake.upsert("default", "k" + std::to_string(i), body);
  auto o = small_options();
  o.buffer_size = 64 * 1024;
  f.make_consumer(o, true);
  std::deque<dcp::event> held;  // the "slow" application: acks later, in batches
  f.consumer->on_event([&](dcp::event ev) { held.push_back(std::move(ev)); });
  f.open_from_beginning();
  std::size_t max_held_bytes = 0;
  bool producer_paused = false;
  auto targets = high_seqnos(f.fake, 16);
  const bool done = run(f.io, [&]() -> asio::awaitable<bool> {
    asio::steady_timer t(f.io);
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    while (!f.consumer->reached(targets) || !held.empty()) {
      if (std::chrono::steady_clock::now() > deadline)
        co_return false;
      std::size_t bytes = 0;
      for (const auto& e : held)
        bytes += e.ack_bytes;
      max_held_bytes = std::max(max_held_bytes, bytes);
      for (const auto& s : f.fake.dcp_stats())
        producer_paused = producer_paused || s.paused;
      t.expires_after(20ms);  // slow: the producer fills the window meanwhile
      co_await t.async_wait(asio::use_awaitable);
      for (int n = 0; n < 20 && !held.empty(); ++n) {
        f.rec.on(held.front());
        f.consumer->acknowledge(held.front());
        held.pop_front();
      }
    }
    co_return true;
  }());
  REQUIRE(done);
  CHECK(f.rec.violations.empty());
  CHECK(f.rec.latest().size() == 3000);
  // The window bounds what the consumer holds: 64 KiB plus at most one message over it.
  CHECK(max_held_bytes <= 64 * 1024 + 2048);
  CHECK(f.consumer->stats().max_outstanding_bytes <= 64 * 1024 + 2048);
  CHECK(f.consumer->stats().buffer_acks_sent > 10);
  CHECK(producer_paused);  // the producer stalled until the slow listener acknowledged
}

TEST_CASE("dcp: a dropped connection resumes every stream without loss") {
  fixture f(1, 64);
  for (int i = 0; i < 2000; ++i)
    f.fake.upsert("default", "a" + std::to_string(i), R"({"x":1})");
  f.make_consumer(small_options());
  f.open_from_beginning();
  f.catch_up();
  f.fake.drop_connections();
  for (int i = 0; i < 2000; ++i)
    f.fake.upsert("default", "b" + std::to_string(i), R"({"x":2})");
  f.catch_up();
  CHECK(f.rec.violations.empty());
  CHECK(f.rec.latest() == f.expected());
  CHECK(f.consumer->stats().reconnects >= 1);
}

TEST_CASE("dcp: a vbucket move reopens the stream on the new node from its position") {
  fixture f(2, 64);
  for (int i = 0; i < 1000; ++i)
    f.fake.upsert("default", "m" + std::to_string(i), R"({"x":1})");
  f.make_consumer(small_options());
  f.open_from_beginning();
  f.catch_up();
  for (std::uint16_t vb = 0; vb < 8; ++vb)
    f.fake.move_vbucket("default", vb, 1 - f.fake.active_node("default", vb));
  for (int i = 0; i < 1000; ++i)
    f.fake.upsert("default", "n" + std::to_string(i), R"({"x":2})");
  f.catch_up();
  CHECK(f.rec.violations.empty());
  CHECK(f.rec.latest() == f.expected());
}

TEST_CASE("dcp: failover losing unreplicated items rolls the consumer back") {
  fixture f(2, 16, 1);
  for (int i = 0; i < 200; ++i)
    f.fake.upsert("default", "r" + std::to_string(i), R"({"x":1})");
  f.make_consumer(small_options());
  f.open_from_beginning();
  f.catch_up();
  f.fake.pause_replication("default");
  for (int i = 0; i < 200; ++i)
    f.fake.upsert("default", "lost" + std::to_string(i), R"({"x":2})");
  f.catch_up();
  f.fake.failover(0, true);
  for (int i = 0; i < 50; ++i)
    f.fake.upsert("default", "after" + std::to_string(i), R"({"x":3})");
  // The old positions may already be at or past the new high seqnos, so "caught up" alone
  // does not prove anything here: wait for the rollback and the converged contents.
  const auto want = f.expected();
  const bool converged = run(
      f.io, eventually([&] { return f.rec.rollbacks >= 1 && f.rec.latest() == want; }, 60000ms));
  CHECK(converged);
  CHECK(f.rec.rollbacks >= 1);
  CHECK(f.consumer->stats().rollbacks >= 1);
  CHECK(f.rec.latest() == f.expected());
  CHECK_FALSE(f.rec.latest().contains("0:lost0"));
}

TEST_CASE("dcp: close returns final positions that resume without loss") {
  fixture f(1, 8);
  for (int i = 0; i < 500; ++i)
    f.fake.upsert("default", "c" + std::to_string(i), R"({"x":1})");
  f.make_consumer(small_options());
  f.open_from_beginning();
  f.catch_up();
  auto finals = run(f.io, [&]() -> asio::awaitable<std::map<std::uint16_t, dcp::stream_state>> {
    auto r = co_await f.consumer->close(all_vbuckets(8));
    REQUIRE(r);
    co_return *r;
  }());
  REQUIRE(finals.size() == 8);
  for (auto& [vb, s] : finals)
    CHECK(s.seqno == f.fake.high_seqno("default", vb));
  for (int i = 0; i < 100; ++i)
    f.fake.upsert("default", "d" + std::to_string(i), R"({"x":2})");
  run(f.io, [&]() -> asio::awaitable<void> {
    auto r = co_await f.consumer->open(finals);
    REQUIRE(r);
  }());
  f.catch_up();
  CHECK(f.rec.violations.empty());
  CHECK(f.rec.latest() == f.expected());
}

TEST_CASE("dcp: collections filter with qualified keys and snappy values") {
  fixture f(1, 8);
  const auto sid = f.fake.create_scope("default", "inventory");
  const auto cid = f.fake.create_collection("default", "inventory", "airline");
  f.fake.create_collection("default", "inventory", "hotel");
  (void)sid;
  const std::string big = R"({"text":")" + std::string(4000, 'a') + "\"}";
  for (int i = 0; i < 100; ++i) {
    f.fake.upsert("default", "air" + std::to_string(i), big, "inventory.airline");
    f.fake.upsert("default", "hot" + std::to_string(i), big, "inventory.hotel");
    f.fake.upsert("default", "def" + std::to_string(i), big);
  }
  auto o = small_options();
  o.collections = {"inventory.airline"};
  o.compression = true;
  o.xattrs = true;
  f.make_consumer(o);
  f.open_from_beginning();
  f.catch_up();
  const auto latest = f.rec.latest();
  CHECK(latest.size() == 100);
  for (auto& [k, v] : latest) {
    CHECK(k.rfind(std::to_string(cid) + ":air", 0) == 0);
    CHECK(v == big);  // inflated
  }
  // force_value_compression: far fewer bytes on the wire than the values' size.
  CHECK(f.consumer->stats().bytes_received < 100 * big.size() / 2);
}

TEST_CASE("dcp: xattrs are split from the body when asked for") {
  fixture f(1, 8);
  f.fake.upsert("default", "plain", R"({"a":1})");
  run(f.io, [&]() -> asio::awaitable<void> {
    auto r = co_await f.client->upsert_xattr({}, "with-xattr", "meta", R"({"m":2})");
    REQUIRE(r);
  }());
  auto o = small_options();
  o.xattrs = true;
  f.make_consumer(o, true);
  std::map<std::string, dcp::event> seen;
  f.consumer->on_event([&](dcp::event ev) {
    if (ev.type == dcp::event_type::mutation)
      seen[ev.key] = ev;
    f.consumer->acknowledge(ev);
  });
  f.open_from_beginning();
  f.catch_up();
  REQUIRE(seen.contains("with-xattr"));
  const auto& ev = seen.at("with-xattr");
  REQUIRE(ev.xattrs.size() >= 1);
  bool found = false;
  for (const auto& x : ev.xattrs)
    found = found || (x.key == "meta" && x.value == R"({"m":2})");
  CHECK(found);
  CHECK(ev.value == "{}");
  REQUIRE(seen.contains("plain"));
  CHECK(seen.at("plain").xattrs.empty());
  CHECK(seen.at("plain").value == R"({"a":1})");
}

TEST_CASE("dcp: a connection drop between a snapshot marker and its first item loses nothing") {
  fixture f(1, 8);
  for (int i = 0; i < 200; ++i)
    f.fake.upsert("default", "p" + std::to_string(i), R"({"x":1})");
  f.make_consumer(small_options());
  f.open_from_beginning();
  f.catch_up();
  const auto vb = f.fake.vbucket_of("default", "p0");
  f.fake.drop_after_next_marker("default", vb);
  for (int i = 0; i < 200; ++i)
    f.fake.upsert("default", "q" + std::to_string(i), R"({"x":2})");
  f.catch_up();
  INFO((f.rec.violations.empty() ? "" : f.rec.violations.front()));
  CHECK(f.rec.violations.empty());
  CHECK(f.rec.latest() == f.expected());
  CHECK(f.consumer->stats().reconnects >= 1);
}

TEST_CASE("dcp: a vbucket move between a snapshot marker and its first item loses nothing") {
  fixture f(2, 8);
  for (int i = 0; i < 200; ++i)
    f.fake.upsert("default", "p" + std::to_string(i), R"({"x":1})");
  f.make_consumer(small_options());
  f.open_from_beginning();
  f.catch_up();
  const auto vb = f.fake.vbucket_of("default", "p0");
  const auto to = 1 - f.fake.active_node("default", vb);
  f.fake.move_after_next_marker("default", vb, to);
  for (int i = 0; i < 200; ++i)
    f.fake.upsert("default", "q" + std::to_string(i), R"({"x":2})");
  f.catch_up();
  CHECK(f.fake.active_node("default", vb) == to);
  INFO((f.rec.violations.empty() ? "" : f.rec.violations.front()));
  CHECK(f.rec.violations.empty());
  CHECK(f.rec.latest() == f.expected());
  CHECK(f.consumer->stats().stream_reopens >= 1);
}

TEST_CASE("dcp: stream ends that the reference reopens are reopened from the position") {
  fixture f(1, 8);
  for (int i = 0; i < 100; ++i)
    f.fake.upsert("default", "e" + std::to_string(i), R"({"x":1})");
  f.make_consumer(small_options());
  f.open_from_beginning();
  f.catch_up();
  using reason = cbes::mcbp::stream_end_reason;
  const reason reopened[] = {reason::state_changed, reason::disconnected, reason::too_slow,
                             reason::backfill_fail};
  for (auto r : reopened)
    f.fake.end_stream("default", 1, r);
  for (int i = 0; i < 100; ++i)
    f.fake.upsert("default", "g" + std::to_string(i), R"({"x":2})");
  f.catch_up();
  CHECK(f.rec.violations.empty());
  CHECK(f.rec.latest() == f.expected());
  CHECK(f.consumer->stats().stream_reopens >= 1);
}

TEST_CASE("dcp: lost privileges stops the stream with a clear error") {
  fixture f(1, 8);
  f.fake.upsert("default", "z", R"({"x":1})");
  f.make_consumer(small_options());
  f.open_from_beginning();
  f.catch_up();
  f.fake.end_stream("default", 2, cbes::mcbp::stream_end_reason::lost_privileges);
  const bool ended = run(f.io, eventually([&] { return !f.rec.violations.empty(); }));
  REQUIRE(ended);
  CHECK(f.rec.violations.front().find("lost_privileges") != std::string::npos);
  CHECK(f.rec.violations.front().find("vb 2") != std::string::npos);
}

TEST_CASE("dcp: 'now' positions stream only later changes") {
  fixture f(1, 8);
  for (int i = 0; i < 100; ++i)
    f.fake.upsert("default", "old" + std::to_string(i), R"({"x":1})");
  f.make_consumer(small_options());
  run(f.io, [&]() -> asio::awaitable<void> {
    auto from = co_await f.consumer->states_now(all_vbuckets(8));
    REQUIRE(from);
    for (auto& [vb, s] : *from) {
      CHECK(s.seqno == f.fake.high_seqno("default", vb));
      CHECK(s.vbucket_uuid == f.fake.failover_log("default", vb).front().uuid);
    }
    auto r = co_await f.consumer->open(*from);
    REQUIRE(r);
  }());
  for (int i = 0; i < 50; ++i)
    f.fake.upsert("default", "new" + std::to_string(i), R"({"x":2})");
  f.catch_up();
  const auto latest = f.rec.latest();
  CHECK(latest.size() == 50);
  for (const auto& [k, v] : latest)
    CHECK(k.find(":new") != std::string::npos);
}

TEST_CASE("dcp: a scope filter streams that scope's collections only") {
  fixture f(1, 8);
  f.fake.create_scope("default", "s1");
  f.fake.create_collection("default", "s1", "a");
  f.fake.create_collection("default", "s1", "b");
  f.fake.create_scope("default", "s2");
  f.fake.create_collection("default", "s2", "c");
  for (int i = 0; i < 20; ++i) {
    f.fake.upsert("default", "a" + std::to_string(i), "{}", "s1.a");
    f.fake.upsert("default", "b" + std::to_string(i), "{}", "s1.b");
    f.fake.upsert("default", "c" + std::to_string(i), "{}", "s2.c");
  }
  auto o = small_options();
  o.scope = "s1";
  f.make_consumer(o);
  f.open_from_beginning();
  f.catch_up();
  CHECK(f.rec.latest().size() == 40);
  CHECK(f.rec.violations.empty());
}

TEST_CASE("dcp: out-of-order backfills converge, hold positions and resume after a drop") {
  fixture f(1, 4);
  f.fake.create_scope("default", "s");
  const auto cid = f.fake.create_collection("default", "s", "c");
  f.fake.create_collection("default", "s", "other");
  const std::string pad(2000, 'p');
  // Reverse key order, some keys updated and some deleted: key order ≠ seqno order.
  for (int i = 299; i >= 0; --i) {
    const auto k = "k" + std::to_string(1000 + i);
    f.fake.upsert("default", k, R"({"v":1,"pad":")" + pad + "\"}", "s.c");
    f.fake.upsert("default", "o" + std::to_string(i), R"({"v":1})", "s.other");
  }
  for (int i = 0; i < 300; i += 7)
    f.fake.upsert("default", "k" + std::to_string(1000 + i), R"({"v":2})", "s.c");
  for (int i = 3; i < 300; i += 11)
    REQUIRE(f.fake.remove("default", "k" + std::to_string(1000 + i), "s.c"));

  auto o = small_options();
  o.collections = {"s.c"};
  o.out_of_order_snapshots = true;
  o.buffer_size = 16 * 1024;  // the producer pauses inside each OSO backfill
  f.make_consumer(o, true);
  struct seen {
    bool in_oso = false;
    std::uint64_t pre_oso = 0;  // position before the OSO items
    std::string last_key;
    bool restarted = false;  // the backfill began again after the drop
  };
  std::map<std::uint16_t, seen> vbs;
  std::map<std::uint16_t, std::uint64_t> persisted;  // what an application checkpoints
  std::map<std::string, std::string> latest;
  std::vector<std::string> problems;
  std::size_t oso_items = 0, dropped_at = 0;
  f.consumer->on_event([&](dcp::event ev) {
    auto& v = vbs[ev.vbucket];
    const bool item = ev.type == dcp::event_type::mutation ||
                      ev.type == dcp::event_type::deletion ||
                      ev.type == dcp::event_type::expiration;
    if (ev.out_of_order) {
      if (!v.in_oso) {  // first OSO event of this (possibly repeated) backfill
        v.in_oso = true;
        v.pre_oso = ev.position.seqno;
        v.last_key.clear();
      }
      // the position stays at the pre-OSO point until the end.
      if (ev.position.seqno != v.pre_oso)
        problems.push_back("position moved inside OSO on vb " + std::to_string(ev.vbucket));
      if (item) {
        ++oso_items;
        if (dropped_at != 0 && !v.restarted && !v.last_key.empty() && ev.key <= v.last_key) {
          v.restarted = true;  // the resumed stream repeats the backfill from its first key
          v.last_key.clear();
        }
        if (!v.last_key.empty() && ev.key <= v.last_key)
          problems.push_back("OSO key order " + v.last_key + " then " + ev.key);
        v.last_key = ev.key;
      }
    } else if (v.in_oso) {
      v.in_oso = false;  // past the OSO end: the position moved on
      if (ev.position.seqno <= v.pre_oso && ev.type != dcp::event_type::rollback)
        problems.push_back("position did not move after OSO on vb " + std::to_string(ev.vbucket));
    }
    if (item && ev.collection_id != cid)
      problems.push_back("foreign collection item " + ev.key);
    if (ev.type == dcp::event_type::mutation)
      latest[ev.key] = ev.value;
    else if (item)
      latest.erase(ev.key);
    if (ev.type == dcp::event_type::stream_end)
      problems.push_back("stream end: " + ev.value);
    persisted[ev.vbucket] = ev.position.seqno;
    f.consumer->acknowledge(ev);
    // A connection drop in the middle of the OSO backfills: they restart from the pre-OSO
    // position (nothing persisted inside them), so nothing is lost.
    if (dropped_at == 0 && oso_items == 40) {
      dropped_at = oso_items;
      f.fake.drop_connections();
    }
  });
  f.open_from_beginning();
  f.catch_up();
  INFO((problems.empty() ? std::string() : problems.front()));
  CHECK(problems.empty());
  CHECK(dropped_at == 40);
  CHECK(f.consumer->stats().reconnects >= 1);
  CHECK(oso_items > 300 - 300 / 11);  // some backfills were repeated after the drop

  std::map<std::string, std::string> expected;
  for (auto& [k, v] : f.expected())
    if (k.rfind(std::to_string(cid) + ":", 0) == 0)
      expected[k.substr(k.find(':') + 1)] = v;
  CHECK(latest.size() == expected.size());
  CHECK(latest == expected);
  // Final positions: every vbucket at its high seqno (the OSO end / SEQNO_ADVANCED moved it).
  auto targets = high_seqnos(f.fake, 4);
  for (auto& [vb, st] : f.consumer->positions()) {
    CHECK(st.seqno == targets[vb]);
    CHECK(persisted[vb] == targets[vb]);  // the OSO end was announced to the application
  }
  std::size_t restarted = 0;
  for (auto& [vb, v] : vbs)
    restarted += v.restarted;
  CHECK(restarted >= 1);

  // Live writes after the backfill come in order, not out of order.
  const std::size_t before = oso_items;
  f.fake.upsert("default", "k0", R"({"v":3})", "s.c");
  f.catch_up();
  CHECK(oso_items == before);
  CHECK(latest["k0"] == R"({"v":3})");
}

TEST_CASE("dcp: a connection drop right after an OSO start loses nothing") {
  fixture f(1, 4);
  f.fake.create_scope("default", "s");
  const auto cid = f.fake.create_collection("default", "s", "c");
  for (int i = 99; i >= 0; --i)
    f.fake.upsert("default", "d" + std::to_string(i), R"({"v":1})", "s.c");
  const auto vb = f.fake.vbucket_of("default", "d0");
  f.fake.drop_after_next_marker("default", vb);  // the OSO start is that vbucket's first marker
  auto o = small_options();
  o.collections = {"s.c"};
  o.out_of_order_snapshots = true;
  f.make_consumer(o);
  f.open_from_beginning();
  f.catch_up();
  INFO((f.rec.violations.empty() ? "" : f.rec.violations.front()));
  CHECK(f.rec.violations.empty());
  std::map<std::string, std::string> expected;
  for (auto& [k, v] : f.expected())
    if (k.rfind(std::to_string(cid) + ":", 0) == 0)
      expected[k] = v;
  CHECK(f.rec.latest() == expected);
  CHECK(f.rec.out_of_order >= 100);  // the backfills came as OSO
  CHECK(f.consumer->stats().reconnects >= 1);
}
