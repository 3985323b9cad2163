#pragma once
// Drives cbes::dcp::consumer against the in-process fake cluster's DCP producer.
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cbes/dcp/consumer.hpp"
#include "integration/couchbase/harness.hpp"

namespace dcp_it {
using namespace couchbase_it;
namespace dcp = cbes::dcp;

// Everything the listener saw, checked against the reference's stream shape.
struct recorder {
  struct item {
    dcp::event_type type;
    std::uint64_t seqno;
    std::string key;
    std::uint32_t collection_id;
    std::string value;
  };
  std::map<std::uint16_t, std::vector<item>> items;  // per vbucket, delivery order
  std::map<std::uint16_t, std::uint64_t> last_seqno;
  std::map<std::uint16_t, std::set<std::string>> keys_in_snapshot;
  std::map<std::uint16_t, bool> snapshot_may_repeat;
  // Inside an OSO backfill: items come in key order, above the pre-OSO position (which
  // `position` keeps), and a resumed connection may repeat the backfill.
  std::map<std::uint16_t, std::uint64_t> oso_floor;
  std::size_t out_of_order = 0;  // OSO events seen
  std::vector<std::string> violations;
  std::size_t rollbacks = 0;
  std::size_t events = 0;

  void on(const dcp::event& ev) {
    ++events;
    switch (ev.type) {
      case dcp::event_type::snapshot:
        keys_in_snapshot[ev.vbucket].clear();
        snapshot_may_repeat[ev.vbucket] =
            (ev.snapshot_flags & cbes::mcbp::snapshot_flags::may_contain_duplicates) != 0;
        return;
      case dcp::event_type::rollback: {
        ++rollbacks;
        // The application drops what it had above the rollback point.
        auto& v = items[ev.vbucket];
        std::erase_if(v, [&](const item& i) { return i.seqno > ev.seqno; });
        last_seqno[ev.vbucket] = ev.seqno;
        keys_in_snapshot[ev.vbucket].clear();
        oso_floor.erase(ev.vbucket);
        return;
      }
      case dcp::event_type::stream_end:
        violations.push_back("stream end vb " + std::to_string(ev.vbucket) + ": " + ev.value);
        return;
      default:
        break;
    }
    if (ev.out_of_order) {
      ++out_of_order;
      auto floor = oso_floor.try_emplace(ev.vbucket, last_seqno[ev.vbucket]).first->second;
      if (ev.seqno <= floor || ev.position.seqno != floor)
        violations.push_back("vb " + std::to_string(ev.vbucket) + " OSO seqno " +
                             std::to_string(ev.seqno) + " / position " +
                             std::to_string(ev.position.seqno) + " vs " + std::to_string(floor));
      last_seqno[ev.vbucket] = floor;
      items[ev.vbucket].push_back({ev.type, ev.seqno, ev.key, ev.collection_id, ev.value});
      return;
    }
    oso_floor.erase(ev.vbucket);
    if (ev.seqno <= last_seqno[ev.vbucket])
      violations.push_back("vb " + std::to_string(ev.vbucket) + " seqno " +
                           std::to_string(ev.seqno) + " after " +
                           std::to_string(last_seqno[ev.vbucket]));
    last_seqno[ev.vbucket] = ev.seqno;
    if (ev.position.seqno != ev.seqno)
      violations.push_back("position does not match the event seqno");
    if (ev.type == dcp::event_type::seqno_advanced || ev.type == dcp::event_type::system_event) {
      items[ev.vbucket].push_back({ev.type, ev.seqno, ev.key, ev.collection_id, ev.value});
      return;
    }
    const auto qualified = std::to_string(ev.collection_id) + ":" + ev.key;
    if (!keys_in_snapshot[ev.vbucket].insert(qualified).second && !snapshot_may_repeat[ev.vbucket])
      violations.push_back("key " + ev.key + " twice in one snapshot of vb " +
                           std::to_string(ev.vbucket));
    items[ev.vbucket].push_back({ev.type, ev.seqno, ev.key, ev.collection_id, ev.value});
  }

  // Latest version of every key (after replaying all deliveries in order); deletions remove.
  std::map<std::string, std::string> latest() const {
    std::map<std::string, std::string> out;
    for (const auto& [vb, v] : items)
      for (const auto& i : v) {
        const auto k = std::to_string(i.collection_id) + ":" + i.key;
        if (i.type == dcp::event_type::mutation)
          out[k] = i.value;
        else if (i.type == dcp::event_type::deletion || i.type == dcp::event_type::expiration)
          out.erase(k);
      }
    return out;
  }
  std::size_t count(dcp::event_type t) const {
    std::size_t n = 0;
    for (const auto& [vb, v] : items)
      for (const auto& i : v)
        n += i.type == t;
    return n;
  }
};

inline std::vector<std::uint16_t> all_vbuckets(std::uint16_t n) {
  std::vector<std::uint16_t> v(n);
  for (std::uint16_t i = 0; i < n; ++i)
    v[i] = i;
  return v;
}

inline std::map<std::uint16_t, std::uint64_t> high_seqnos(cbes::testkit::couchbase_cluster& fake,
                                                          std::uint16_t n) {
  std::map<std::uint16_t, std::uint64_t> out;
  for (std::uint16_t vb = 0; vb < n; ++vb)
    out[vb] = fake.high_seqno("default", vb);
  return out;
}

// A fake cluster, a client connected to it and a consumer recording what it delivers. With
// `user`, the fake also knows that user and the client (so the consumer) connects as it.
struct fixture {
  cbes::testkit::couchbase_cluster fake;
  asio::io_context io;
  std::shared_ptr<cb::cluster> client;
  std::shared_ptr<dcp::consumer> consumer;
  recorder rec;
  std::vector<std::string> fatal;  // every error on_fatal reported
  std::uint16_t vbuckets;

  explicit fixture(std::size_t nodes = 1, std::uint16_t vbs = 64, int replicas = 0,
                   std::optional<cbes::testkit::couchbase_user> user = std::nullopt)
      : fake([&] {
          auto o = fake_options(nodes, vbs);
          o.buckets.front().num_replicas = replicas;
          if (user)
            o.users.push_back(*user);
          return o;
        }()),
        vbuckets(vbs) {
    fake.start();
    auto o = client_options(fake);
    o.config_poll_interval = 200ms;
    if (user) {
      o.username = user->name;
      o.password = user->password;
    }
    client = connect_client(io, o);
  }
  ~fixture() {
    if (consumer)
      consumer->stop();
    consumer.reset();
    client->close();
    client.reset();
    drain(io);
  }

  // Creates the consumer; the listener records and acknowledges at once unless `manual_ack`.
  void make_consumer(dcp::consumer_options o, bool manual_ack = false) {
    consumer = run(io, [&]() -> asio::awaitable<std::shared_ptr<dcp::consumer>> {
      auto c = co_await dcp::consumer::create(client, o);
      REQUIRE(c);
      co_return *c;
    }());
    if (!manual_ack)
      consumer->on_event([this](dcp::event ev) {
        rec.on(ev);
        consumer->acknowledge(ev);
      });
    consumer->on_fatal([this](const cb::error& e) { fatal.push_back(e.what()); });
  }

  // open() from the given positions, its result returned.
  cb::result<void> try_open(std::map<std::uint16_t, dcp::stream_state> from) {
    return run(io, [&]() -> asio::awaitable<cb::result<void>> {
      auto r = co_await consumer->open(from);
      co_return r;
    }());
  }
  cb::result<void> try_open_from_beginning() {
    std::map<std::uint16_t, dcp::stream_state> from;
    for (auto vb : all_vbuckets(vbuckets))
      from[vb] = dcp::stream_state::from_beginning();
    return try_open(std::move(from));
  }
  void open_from_beginning() {
    auto r = try_open_from_beginning();
    INFO((r ? std::string() : r.error().what()));
    REQUIRE(r);
  }

  // Runs the io_context until `pred` holds; false when `limit` passed first.
  bool wait_until(std::function<bool()> pred, std::chrono::milliseconds limit = 30000ms) {
    return run(io, eventually(std::move(pred), limit),
               std::chrono::seconds{limit.count() / 1000 + 30});
  }

  // What a catch-up that did not finish looks like from both ends: reconnects, flow control,
  // the first vbuckets behind.
  std::string stall_report(const std::map<std::uint16_t, std::uint64_t>& targets) {
    const auto st = consumer->stats();
    std::string out = "consumer: events " + std::to_string(st.events) + ", bytes " +
                      std::to_string(st.bytes_received) + ", buffer acks " +
                      std::to_string(st.buffer_acks_sent) + ", reconnects " +
                      std::to_string(st.reconnects) + ", transient errors " +
                      std::to_string(st.transient_errors) + "\n";
    for (const auto& d : fake.dcp_stats())
      out += "producer " + d.name + ": unacked " + std::to_string(d.unacked_bytes) + ", sent " +
             std::to_string(d.bytes_sent) + (d.paused ? ", paused" : "") + ", streams " +
             std::to_string(d.streams) + "\n";
    auto positions = consumer->positions();
    int shown = 0;
    for (const auto& [vb, target] : targets)
      if (positions[vb].seqno < target && shown++ < 5)
        out += "vb " + std::to_string(vb) + " at " + std::to_string(positions[vb].seqno) + " of " +
               std::to_string(target) + "\n";
    return out;
  }

  // Waits until every vbucket reached the fake's current high seqno.
  void catch_up(std::chrono::milliseconds limit = 120000ms) {
    auto targets = high_seqnos(fake, vbuckets);
    const bool ok = wait_until([&] { return consumer->reached(targets); }, limit);
    INFO((ok ? std::string() : stall_report(targets)));
    REQUIRE(ok);
  }

  // The fake's live documents, keyed like recorder::latest().
  std::map<std::string, std::string> expected() {
    std::map<std::string, std::string> out;
    for (std::uint16_t vb = 0; vb < vbuckets; ++vb) {
      std::map<std::string, const cbes::testkit::couchbase_history_item*> last;
      auto h = fake.history("default", vb);
      for (const auto& i : h)
        last[std::to_string(i.collection_id) + ":" + i.key] = &i;
      for (auto& [k, i] : last)
        if (i->type == cbes::testkit::couchbase_history_item::kind::mutation)
          out[k] = i->value;
    }
    return out;
  }
};

inline dcp::consumer_options small_options() {
  dcp::consumer_options o;
  o.name = "cbes-test";
  o.buffer_size = 1 << 20;
  o.noop_interval = 2s;
  return o;
}

}  // namespace dcp_it
