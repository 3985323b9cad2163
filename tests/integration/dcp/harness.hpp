#pragma once
// Drives cbes::dcp::consumer against the in-process fake cluster's DCP producer.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cbes/dcp/consumer.hpp"
#include "integration/couchbase/harness.hpp"

namespace dcp_it {
using namespace couchbase_it;
namespace dcp = cbes::dcp;

// Everything the listener saw, checked against the reference's stream shape (§4.1).
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
  // Inside an OSO backfill (§3.13): items come in key order, above the pre-OSO position (which
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

}  // namespace dcp_it
