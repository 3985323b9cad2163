#pragma once
// One vbucket's data as a DCP producer needs it (kv_engine's protocol docs): a seqno-ordered
// history holding every version (mutations, deletions, expirations as tombstones) until
// compaction, the current version per key, the high / purge / replicated seqnos and the
// failover log (newest first).
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cbes/mcbp/xattr.hpp"

namespace cbes::testkit::couchbase {

struct doc_key {
  std::uint32_t collection_id = 0;
  std::string key;
  auto operator<=>(const doc_key&) const = default;
};

enum class item_kind { mutation, deletion, expiration, system_event };

// A collection / scope change; like kv_engine the fake records it in every vbucket's history at
// its own seqno so DCP streams see it in order (kv_engine's protocol docs).
struct system_event_data {
  std::uint32_t event = 0;  // mcbp::system_event_id: 0 create/1 drop collection, 3/4 scope
  std::uint64_t manifest_uid = 0;
  std::uint32_t scope_id = 0;
  std::uint32_t collection_id = 0;
  std::optional<std::uint32_t> max_ttl;
  std::string name;  // create events only
};

struct item {
  doc_key id;
  item_kind kind = item_kind::mutation;
  std::uint64_t seqno = 0;
  std::uint64_t rev_seqno = 0;
  std::uint64_t cas = 0;
  std::uint32_t flags = 0;
  std::uint32_t expiry = 0;       // absolute unix seconds, 0 = none
  std::uint32_t delete_time = 0;  // unix seconds, tombstones only
  bool json = false;              // body is JSON (datatype bit 0x01)
  std::string body;
  std::vector<mcbp::xattr> xattrs;
  std::optional<system_event_data> event;  // item_kind::system_event only

  bool deleted() const noexcept {
    return kind == item_kind::deletion || kind == item_kind::expiration;
  }
  bool is_system_event() const noexcept { return kind == item_kind::system_event; }
};

struct failover_entry {
  std::uint64_t uuid = 0;
  std::uint64_t seqno = 0;
};

class vbucket_store {
 public:
  vbucket_store() = default;
  explicit vbucket_store(std::uint64_t initial_uuid) { failover_log_.push_back({initial_uuid, 0}); }

  // Current version of a key (tombstones included), or nullptr.
  const item* find(const doc_key& id) const;

  // Appends a new version: assigns the next seqno and rev_seqno (previous + 1) and makes it the
  // current version of its key; keeps the superseded one in the history until compact().
  const item& append(item it);

  // Appends a system event at the next seqno; it is never a key's current version.
  const item& append_event(item it);

  // Drops every version with seqno > `seqno` (unreplicated items lost on failover) and rebuilds
  // the per-key index from what is left.
  void truncate(std::uint64_t seqno);

  // Drops superseded versions and tombstones with seqno ≤ `purge_upto`; the purge seqno becomes
  // the highest tombstone seqno purged.
  void compact(std::uint64_t purge_upto);

  // A new branch point (vb became active elsewhere): {uuid, high seqno} in front.
  void add_failover_entry(std::uint64_t uuid) {
    failover_log_.insert(failover_log_.begin(), {uuid, high_seqno_});
  }

  std::uint64_t uuid() const { return failover_log_.empty() ? 0 : failover_log_.front().uuid; }
  std::uint64_t high_seqno() const noexcept { return high_seqno_; }
  std::uint64_t purge_seqno() const noexcept { return purge_seqno_; }
  std::uint64_t replicated_seqno() const noexcept { return replicated_seqno_; }
  void set_replicated_seqno(std::uint64_t s) noexcept { replicated_seqno_ = s; }
  const std::vector<failover_entry>& failover_log() const noexcept { return failover_log_; }
  const std::map<std::uint64_t, item>& history() const noexcept { return history_; }
  const std::map<doc_key, std::uint64_t>& index() const noexcept { return latest_; }

 private:
  std::map<std::uint64_t, item> history_;
  std::map<doc_key, std::uint64_t> latest_;
  std::uint64_t high_seqno_ = 0;
  std::uint64_t purge_seqno_ = 0;
  std::uint64_t replicated_seqno_ = 0;
  std::vector<failover_entry> failover_log_;
};

}  // namespace cbes::testkit::couchbase
