#include "dcp_stream.hpp"

namespace cbes::testkit::couchbase {

namespace {

constexpr std::uint32_t begin_collection = 0;
constexpr std::uint32_t end_collection = 1;

bool is_collection_event(const system_event_data& e) {
  return e.event == begin_collection || e.event == end_collection;
}

}  // namespace

std::optional<std::uint64_t> rollback_seqno(const std::vector<failover_entry>& log,
                                            std::uint64_t high_seqno, std::uint64_t purge_seqno,
                                            const rollback_request& req) {
  const std::uint64_t start = req.start;
  std::uint64_t snap_start = req.snap_start;
  std::uint64_t snap_end = req.snap_end;
  // 1. From zero with no history claimed: nothing to check.
  if (start == 0 && (!req.strict || req.uuid == 0))
    return std::nullopt;
  // 2. Tombstones the consumer never saw may have been purged.
  const std::uint64_t ps = req.ignore_purged ? 0 : purge_seqno;
  if (start < ps && start != 0 && req.client_purge_seqno != ps)
    return 0;
  // 3. The consumer's branch, scanning oldest → newest; `upper` = where that branch ended.
  std::optional<std::uint64_t> upper;
  for (std::size_t i = log.size(); i-- > 0;) {
    if (log[i].uuid != req.uuid)
      continue;
    upper = i == 0 ? high_seqno : log[i - 1].seqno;
    break;
  }
  if (!upper)
    return 0;
  // 4. Nothing received of that snapshot yet: only the start matters.
  if (start == snap_start)
    snap_end = start;
  // 5. Everything the consumer has lies on the surviving branch.
  if (snap_end <= *upper)
    return std::nullopt;
  // 6. A complete snapshot is as good as its end.
  if (start == snap_end)
    snap_start = start;
  // 7.
  return *upper < snap_start ? *upper : snap_start;
}

bool passes(const item& it, const item_filter& f, const live_collections& live) {
  if (it.is_system_event()) {
    if (!f.collections_aware || !it.event)
      return false;
    const auto& e = *it.event;
    switch (f.type) {
      case item_filter::kind::all:
        return true;
      case item_filter::kind::collections:
        return is_collection_event(e) && f.collections.count(e.collection_id) != 0;
      case item_filter::kind::scope:
        return e.scope_id == f.scope;
    }
    return false;
  }
  auto pos = live.find(it.id.collection_id);
  if (pos == live.end())
    return false;  // the collection was dropped: its items are logically deleted
  if (!f.collections_aware)
    return it.id.collection_id == 0;
  switch (f.type) {
    case item_filter::kind::all:
      return true;
    case item_filter::kind::collections:
      return f.collections.count(it.id.collection_id) != 0;
    case item_filter::kind::scope:
      return pos->second == f.scope;
  }
  return false;
}

dedup_key dedup_key_of(const item& it) {
  if (it.is_system_event() && it.event) {
    if (is_collection_event(*it.event))
      return {1, it.event->collection_id, {}};
    return {2, it.event->scope_id, {}};
  }
  return {0, it.id.collection_id, it.id.key};
}

std::vector<item> snapshot_items(const vbucket_store& store, std::uint64_t after,
                                 std::uint64_t upto, const item_filter& f,
                                 const live_collections& live, bool skip_deletes) {
  const auto& history = store.history();
  auto first = history.upper_bound(after);
  auto last = history.upper_bound(upto);
  // Newest seqno per key within the range.
  std::map<dedup_key, std::uint64_t> newest;
  for (auto it = first; it != last; ++it)
    newest[dedup_key_of(it->second)] = it->first;
  std::vector<item> out;
  for (auto it = first; it != last; ++it) {
    const item& x = it->second;
    if (newest.at(dedup_key_of(x)) != it->first)
      continue;
    if (skip_deletes && x.deleted())
      continue;
    if (passes(x, f, live))
      out.push_back(x);
  }
  return out;
}

std::uint64_t filtered_high_seqno(const vbucket_store& store, const item_filter& f,
                                  const live_collections& live) {
  const auto& history = store.history();
  for (auto it = history.rbegin(); it != history.rend(); ++it)
    if (passes(it->second, f, live))
      return it->first;
  return 0;
}

}  // namespace cbes::testkit::couchbase
