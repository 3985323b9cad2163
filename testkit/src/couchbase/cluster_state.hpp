#pragma once
// The fake cluster's shared state: nodes, buckets (vbucket stores, vBucketMap, collections
// manifest), users with their SCRAM credentials, the config revision, the clock and injected
// faults. Guarded by `mutex`; KV sessions, the manager HTTP handlers and the facade all lock it.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "cbes/mcbp/collections_manifest.hpp"
#include "cbes/mcbp/sasl.hpp"
#include "cbes/mcbp/scram.hpp"
#include "cbes/testkit/couchbase_cluster.hpp"
#include "vbucket_store.hpp"

namespace cbes::testkit::couchbase {

struct node_info {
  std::size_t id = 0;
  bool in_cluster = true;
  std::uint16_t kv_port = 0;
  std::uint16_t kv_tls_port = 0;
  std::uint16_t mgmt_port = 0;
  // options.external with separate_ports: the external network's listeners.
  std::uint16_t ext_kv_port = 0;
  std::uint16_t ext_kv_tls_port = 0;
  std::uint16_t ext_mgmt_port = 0;
  // advertise_external_kv_port(): what the config names as the external KV port (0 = the real).
  std::uint16_t advertised_ext_kv_port = 0;
};

struct bucket_state {
  std::string name;
  std::string uuid;
  int num_replicas = 0;
  std::vector<vbucket_store> vbuckets;
  // Per vbucket: [active, replica...] node ids, -1 = none.
  std::vector<std::vector<int>> vbucket_map;
  mcbp::collections_manifest manifest;
  std::uint32_t next_id = 8;  // user scope/collection ids start at 8
  bool replication_paused = false;

  std::size_t num_vbuckets() const noexcept { return vbuckets.size(); }
  // The collection, or nullptr.
  const mcbp::collection_info* collection(std::uint32_t cid) const;
};

struct user_state {
  std::string password;
  std::vector<std::string> buckets;
  std::map<mcbp::sasl_mechanism, mcbp::scram_credentials> scram;
  bool dcp_reader = true;

  bool may_access(std::string_view bucket) const;
};

class cluster_state {
 public:
  explicit cluster_state(couchbase_cluster_options options);

  mutable std::mutex mutex;

  const couchbase_cluster_options& options() const noexcept { return options_; }

  // ---- everything below requires `mutex` held ----
  std::vector<node_info> nodes;
  std::map<std::string, bucket_state, std::less<>> buckets;
  std::map<std::string, user_state, std::less<>> users;
  std::int64_t rev = 1;
  std::int64_t rev_epoch = 1;
  int fail_ops_remaining = 0;
  std::uint16_t fail_ops_status = 0x86;
  int drop_after_apply_remaining = 0;  // apply_then_drop_next_ops()
  int fail_dcp_opens_remaining = 0;
  std::uint16_t fail_dcp_opens_status = 0x86;

  void add_user(const couchbase_user& u);
  void create_bucket(const couchbase_bucket_options& b);
  bucket_state* find_bucket(std::string_view name);
  bucket_state& bucket(std::string_view name);  // throws std::invalid_argument when unknown

  // Nodes currently in the cluster, in config order (serverList / nodesExt index order).
  std::vector<std::size_t> active_nodes() const;
  // Recomputes every bucket's vBucketMap over the current nodes (ns_server's balanced layout:
  // active vb % n, replicas on the following nodes); vbuckets whose active changes take over.
  void rebalance();
  // vb becomes active on `node`: a new failover entry with a fresh uuid.
  void take_over(bucket_state& b, std::uint16_t vb, int node);

  // The bucket config JSON. `host` replaces nothing: it is written where a real server
  // writes a host, e.g. "$HOST" for CCCP answers or "127.0.0.1" for the manager HTTP API.
  std::string bucket_config_json(const bucket_state& b, std::string_view host,
                                 std::optional<std::size_t> this_node) const;
  // The bucket-less ("global") config a 7.x node answers GET_CLUSTER_CONFIG with before
  // SELECT_BUCKET: nodesExt and cluster capabilities, no nodeLocator.
  std::string global_config_json(std::optional<std::size_t> this_node) const;

  // Cluster clock in unix seconds (wall clock + advance_clock offsets).
  std::uint32_t now() const;
  void advance(std::chrono::seconds d) { clock_offset_ += d.count(); }
  // A protocol expiry (0 none, ≤ 30 days relative, else absolute) as absolute unix seconds.
  std::uint32_t absolute_expiry(std::uint32_t expiry) const;
  // Hybrid-logical-clock style CAS: nanoseconds, strictly increasing.
  std::uint64_t next_cas();
  std::uint64_t random_u64();

  // Current version of a live document; an expired one is first turned into an expiration
  // (its tombstone enters the history) and nullptr is returned.
  const item* live_document(bucket_state& b, std::uint16_t vb, const doc_key& id);
  // Appends a version, and marks it replicated unless replication is paused.
  const item& write(bucket_state& b, std::uint16_t vb, item it);
  // A deletion or expiration tombstone of `current` (system xattrs survive).
  const item& tombstone(bucket_state& b, std::uint16_t vb, const item& current, item_kind kind);
  std::size_t expiry_pager();
  // Records a collection / scope change in every vbucket of `b`.
  void record_event(bucket_state& b, const system_event_data& e);

  // Called (with `mutex` held) after anything DCP streams may need to see: a new history item,
  // a takeover, a rebalance. Set once by the cluster before start(); must not block.
  std::function<void()> on_change;
  void changed() const {
    if (on_change)
      on_change();
  }

 private:
  couchbase_cluster_options options_;
  std::atomic<std::int64_t> clock_offset_{0};
  std::uint64_t last_cas_ = 0;
  std::mt19937_64 rng_;
};

// Splits "scope.collection"; nullopt when there is no dot.
std::optional<std::pair<std::string, std::string>> split_collection_path(std::string_view path);

}  // namespace cbes::testkit::couchbase
