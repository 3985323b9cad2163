#pragma once
// The pure parts of the fake's DCP producer (kv_engine's protocol docs):
// the rollback decision from a failover log and the snapshots a stream sends, computed from a
// vbucket_store history (de-duplicated per key, filtered by collection). No I/O, no locking:
// callers hold the cluster mutex.
//
//   auto r = rollback_seqno(store.failover_log(), store.high_seqno(), store.purge_seqno(), req);
//   if (r) reply Rollback(*r);
//   auto items = snapshot_items(store, after, upto, filter, live, false);
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include "vbucket_store.hpp"

namespace cbes::testkit::couchbase {

// What the consumer sent in STREAM_REQ that the rollback decision needs.
struct rollback_request {
  std::uint64_t start = 0;
  std::uint64_t uuid = 0;
  std::uint64_t snap_start = 0;
  std::uint64_t snap_end = 0;
  bool strict = false;                              // StrictVbUuid 0x20
  bool ignore_purged = false;                       // IgnorePurgedTombstones 0x80 (purge seqno = 0)
  std::optional<std::uint64_t> client_purge_seqno;  // "purge_seqno" of the filter JSON
};

// kv_engine's FailoverTable::needsRollback : the seqno to roll back to, or
// nullopt when the consumer can resume. `log` is newest first.
std::optional<std::uint64_t> rollback_seqno(const std::vector<failover_entry>& log,
                                            std::uint64_t high_seqno, std::uint64_t purge_seqno,
                                            const rollback_request& req);

// Which items and system events one stream carries.
struct item_filter {
  enum class kind { all, collections, scope };
  bool collections_aware = false;  // without HELLO Collections only the default collection
  kind type = kind::all;
  std::set<std::uint32_t> collections;
  std::uint32_t scope = 0;
};

// Existing collections: collection id → scope id (items of dropped collections are skipped).
using live_collections = std::map<std::uint32_t, std::uint32_t>;

// True when `it` (mutation, tombstone or system event) belongs on a stream with `f`.
bool passes(const item& it, const item_filter& f, const live_collections& live);

// The key items are de-duplicated by: the document key, or the collection / scope an event is
// about (a drop replaces its create, as kv_engine's system-event keys do).
using dedup_key = std::tuple<int, std::uint32_t, std::string>;
dedup_key dedup_key_of(const item& it);

// History items with seqno in (after, upto], newest version per key only (de-duplication),
// then filtered, in seqno order. `skip_deletes` drops tombstones (DCP_OPEN 0x200 backfills).
std::vector<item> snapshot_items(const vbucket_store& store, std::uint64_t after,
                                 std::uint64_t upto, const item_filter& f,
                                 const live_collections& live, bool skip_deletes);

// Highest seqno in the history that `f` passes (ToLatest on a filtered stream), 0 if none.
std::uint64_t filtered_high_seqno(const vbucket_store& store, const item_filter& f,
                                  const live_collections& live);

}  // namespace cbes::testkit::couchbase
