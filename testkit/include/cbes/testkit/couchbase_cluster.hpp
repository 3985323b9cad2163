#pragma once
// A Couchbase-Server-compatible fake cluster for tests and cbes-sandbox.
//
// N data nodes on loopback, each with its own KV (mcbp) port, an optional KV TLS port and a
// manager HTTP port. It speaks the bootstrap, KV, sub-document and topology parts of
// kv_engine's protocol docs (mcbp, SASL, DCP, bucket config) closely enough that
// the official SDKs work against it. Every vbucket keeps a seqno-ordered history with tombstones,
// a failover log, a uuid and a purge seqno, so a DCP producer can be layered on top.
// The cluster runs its own I/O thread; every method here is thread-safe.
//
//   cbes::testkit::couchbase_cluster cluster;           // 1 node, bucket "default", 1024 vbs
//   cluster.start();
//   auto cs = cluster.connection_string();              // "couchbase://127.0.0.1:41234"
//   cluster.upsert("default", "doc", R"({"a":1})");
//   cluster.move_vbucket("default", cluster.vbucket_of("default", "doc"), 1);
//   cluster.fail_next_ops(3);                           // next 3 KV data ops: ETMPFAIL
//   cluster.stop();
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cbes/mcbp/dcp.hpp"

namespace cbes::testkit {

struct couchbase_user {
  std::string name;
  std::string password;
  // Buckets this user may select; empty = every bucket (an "Administrator").
  std::vector<std::string> buckets;
  // The Data DCP Reader role: without it DCP_OPEN answers Eaccess (0x24), as Couchbase Server
  // does for a user that may read documents but not stream them.
  bool dcp_reader = true;
};

struct couchbase_bucket_options {
  std::string name = "default";
  // Couchbase buckets have 1024 (Linux default) or 64 (macOS) vbuckets; any power of two ≤ 1024
  // is accepted.
  std::uint16_t num_vbuckets = 1024;
  // 0–3; replicas that do not fit on the nodes are -1 in the vBucketMap like a real server.
  int num_replicas = 0;
};

// `alternateAddresses.external` of every node (kv_engine's protocol docs), as a cluster behind
// NAT or in Kubernetes advertises it. Clients with `network=external` (or `auto` when their seed
// is the external hostname) must then use these addresses instead of the nodes' own.
//
//   opts.external = couchbase_external_address{"localhost", true};
//   cluster.external_kv_port(0);   // where an external client's KV connection lands
struct couchbase_external_address {
  // Advertised external hostname; the default-network hostname is `bind_address`, so "localhost"
  // (which resolves to loopback) tells the two networks apart.
  std::string hostname = "localhost";
  // true: every node also listens on extra ephemeral KV (and KV TLS) and manager ports that serve
  // the same node, advertised as the external `ports`; false: no `ports` (same ports as default).
  bool separate_ports = true;
};

struct couchbase_cluster_options {
  std::string bind_address = "127.0.0.1";
  std::size_t nodes = 1;
  // Ports of node 0 (node i gets port + i when non-zero); 0 = ephemeral.
  std::uint16_t kv_port = 0;
  std::uint16_t mgmt_port = 0;
  std::vector<couchbase_bucket_options> buckets = {couchbase_bucket_options{}};
  std::vector<couchbase_user> users = {{"Administrator", "password", {}}};
  // When both are set every node also listens for KV over TLS (the "kvSSL" service).
  std::string tls_cert_file;
  std::string tls_key_file;
  // Client certificates on the TLS KV ports (Couchbase's client certificate mode "enable", with
  // the CN as the user mapping rule): a client may present a certificate signed by this PEM CA
  // and is then authenticated as the user its subject CN names, without SASL (SASL_AUTH answers
  // NotSupported, as kv_engine does). A CN that names no user in `users` gets the connection
  // closed right after the handshake, as Couchbase Server does. Clients without a certificate
  // authenticate with SASL as before.
  std::string tls_client_ca_file{};
  // SCRAM iteration count stored with every user (real servers use 15000; fewer keeps tests fast).
  std::uint32_t scram_iterations = 4096;
  // VERSION (0x0b) answer and the manager's implementationVersion.
  std::string version = "7.6.2-3721-enterprise";
  // Advertise (and with separate_ports serve) an external network; configs then always carry
  // concrete hostnames instead of `$HOST`.
  std::optional<couchbase_external_address> external;
};

struct couchbase_document {
  std::string value;  // body without xattrs
  std::uint32_t flags = 0;
  std::uint32_t expiry = 0;  // absolute unix seconds, 0 = none
  std::uint64_t cas = 0;
  std::uint64_t seqno = 0;
  bool json = false;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

// One entry of a vbucket's failover log (kv_engine's protocol docs), newest first.
struct couchbase_failover_entry {
  std::uint64_t uuid = 0;
  std::uint64_t seqno = 0;
  bool operator==(const couchbase_failover_entry&) const = default;
};

// One version in a vbucket's seqno-ordered history, as a DCP producer would send it.
struct couchbase_history_item {
  enum class kind { mutation, deletion, expiration };
  kind type = kind::mutation;
  std::uint64_t seqno = 0;
  std::uint64_t rev_seqno = 0;
  std::uint64_t cas = 0;
  std::uint32_t collection_id = 0;
  std::string key;
  std::string value;  // body without xattrs
};

// One DCP producer connection as dcp_stats() reports it (DCP flow control).
struct couchbase_dcp_connection_stats {
  std::string name;  // the DCP_OPEN connection name
  std::size_t node = 0;
  std::string bucket;
  std::uint64_t buffer_size = 0;    // connection_buffer_size, 0 = no flow control
  std::uint64_t unacked_bytes = 0;  // sent and not yet acknowledged by BUFFER_ACK
  std::uint64_t bytes_sent = 0;     // stream messages (NOOPs excluded)
  std::uint64_t messages_sent = 0;
  std::uint64_t noops_sent = 0;
  bool paused = false;  // unacked ≥ buffer: the producer sends nothing until an ack
  std::size_t streams = 0;
};

// A JSON object of exactly `bytes` bytes (at least 200) shaped like a travel-sample airline,
// padded with a "notes" string: what load_documents() stores and the benchmarks push.
std::string padded_document(std::size_t bytes);

class couchbase_cluster {
 public:
  explicit couchbase_cluster(couchbase_cluster_options options = {});
  ~couchbase_cluster();  // stops the cluster
  couchbase_cluster(const couchbase_cluster&) = delete;
  couchbase_cluster& operator=(const couchbase_cluster&) = delete;

  // Binds every node's ports and starts the I/O thread. Throws std::system_error when a port
  // cannot be bound or the TLS files cannot be loaded.
  void start();
  // Closes listeners and connections and joins the threads. Idempotent.
  void stop();

  // ---- addresses (node ids are stable; removed nodes keep their id) ----
  std::vector<std::size_t> nodes() const;  // ids of the nodes currently in the cluster
  std::uint16_t kv_port(std::size_t node = 0) const;
  std::uint16_t kv_tls_port(std::size_t node = 0) const;  // 0 without TLS
  std::uint16_t mgmt_port(std::size_t node = 0) const;
  // The external network's ports (options.external with separate_ports); 0 otherwise.
  std::uint16_t external_kv_port(std::size_t node = 0) const;
  std::uint16_t external_kv_tls_port(std::size_t node = 0) const;
  std::uint16_t external_mgmt_port(std::size_t node = 0) const;
  // Test hook: advertise `port` as the node's external KV port (`alternateAddresses.external
  // .ports.kv`) instead of the one it listens on, so a tcp_recorder in front of
  // external_kv_port(node) (or kv_port(node) without separate ports) carries every external
  // client connection to that node. 0 restores the real port. Needs options.external; bumps the
  // config rev and pushes it. Throws std::invalid_argument otherwise / for an unknown node.
  //
  //   tcp_recorder rec("127.0.0.1", cluster.external_kv_port(1), path);
  //   cluster.advertise_external_kv_port(1, rec.port());
  void advertise_external_kv_port(std::size_t node, std::uint16_t port);
  std::string connection_string() const;             // "couchbase://127.0.0.1:<kv port of node 0>"
  std::string mgmt_url(std::size_t node = 0) const;  // "http://127.0.0.1:<mgmt port>"

  // ---- buckets, scopes, collections (bump the config/manifest like ns_server) ----
  void create_bucket(const couchbase_bucket_options& bucket);
  void add_user(const couchbase_user& user);
  // Returns the new scope / collection id (user ids start at 8).
  std::uint32_t create_scope(std::string_view bucket, std::string_view scope);
  std::uint32_t create_collection(std::string_view bucket, std::string_view scope,
                                  std::string_view collection,
                                  std::optional<std::uint32_t> max_ttl = std::nullopt);
  void drop_collection(std::string_view bucket, std::string_view scope,
                       std::string_view collection);
  // Drops the scope and its collections (DCP: EndCollection events, then DropScope).
  void drop_scope(std::string_view bucket, std::string_view scope);
  std::uint64_t manifest_uid(std::string_view bucket) const;

  // ---- documents (collection = "scope.collection") ----
  // Upsert; JSON is detected. Returns the new CAS.
  std::uint64_t upsert(std::string_view bucket, std::string_view key, std::string_view value,
                       std::string_view collection = "_default._default", std::uint32_t expiry = 0);
  // nullopt when missing, deleted or expired.
  std::optional<couchbase_document> get(std::string_view bucket, std::string_view key,
                                        std::string_view collection = "_default._default");
  bool remove(std::string_view bucket, std::string_view key,
              std::string_view collection = "_default._default");
  // n travel-sample-like JSON docs (airline_, airport_, route_ with airlineid, hotel_,
  // landmark_) in the default collection. Returns the number written.
  std::size_t load_sample(std::size_t n, std::string_view bucket = "default");
  // n JSON objects of `bytes` bytes each (a travel-sample-like airline padded with a "notes"
  // string; at least 200 bytes), keys "doc_0" … "doc_<n-1>", in the default collection: the
  // benchmarks' load. Returns the number written.
  //   cluster.load_documents(1'000'000, 1024);
  std::size_t load_documents(std::size_t n, std::size_t bytes, std::string_view bucket = "default");

  // ---- vbuckets ----
  std::uint16_t vbucket_of(std::string_view bucket, std::string_view key) const;
  std::uint64_t high_seqno(std::string_view bucket, std::uint16_t vb) const;
  std::uint64_t purge_seqno(std::string_view bucket, std::uint16_t vb) const;
  std::vector<couchbase_failover_entry> failover_log(std::string_view bucket,
                                                     std::uint16_t vb) const;
  // Every version still kept, by seqno (superseded versions until compact()).
  std::vector<couchbase_history_item> history(std::string_view bucket, std::uint16_t vb) const;
  // Drops superseded versions and tombstones with seqno ≤ `purge_upto` (purge seqno moves).
  void compact(std::string_view bucket, std::uint16_t vb, std::uint64_t purge_upto);
  std::size_t active_node(std::string_view bucket, std::uint16_t vb) const;
  std::int64_t config_rev() const;

  // ---- topology (each bumps the config rev and pushes it to duplex clients) ----
  // Makes `to_node` the active of `vb` (takeover: new failover entry, new uuid).
  void move_vbucket(std::string_view bucket, std::uint16_t vb, std::size_t to_node);
  // Stops replicating: later mutations stay "unreplicated" until resumed.
  void pause_replication(std::string_view bucket, bool paused = true);
  // Hard failover: the node leaves the cluster, its active vbuckets go to their first replica
  // (or another node when there is none) with a new failover entry; with `lose_unreplicated`
  // the items the replica never got are lost (history truncated back to the replicated seqno).
  void failover(std::size_t node, bool lose_unreplicated = false);
  // Starts a new node and rebalances vbuckets onto it. Returns its id.
  std::size_t add_node();
  // Rebalances the node's vbuckets away, then closes its ports.
  void remove_node(std::size_t node);

  // ---- time ----
  // Moves the cluster clock (expiry) forward; expired documents turn into expirations in the
  // history when next touched or when run_expiry_pager() runs.
  void advance_clock(std::chrono::seconds d);
  std::size_t run_expiry_pager();

  // ---- fault injection ----
  void drop_connections();
  void delay_responses(std::chrono::milliseconds d);
  // The next n KV data operations (GET, mutations, sub-document) answer `status`
  // (default 0x86 Etmpfail).
  void fail_next_ops(int n, std::uint16_t status = 0x86);
  // The next n KV data operations are applied (a mutation lands) but never answered: the
  // connection closes instead, as when a node or the network fails at the worst moment.
  //   cluster.apply_then_drop_next_ops(1);   // the next remove happens; the client hears nothing
  void apply_then_drop_next_ops(int n);
  // The next n DCP_OPEN requests answer `status` (default 0x86 Etmpfail): a node that cannot
  // take DCP connections for a while.
  void fail_next_dcp_opens(int n, std::uint16_t status = 0x86);

  // ---- DCP producer (kv_engine's protocol docs; every KV port serves DCP) ----
  // Every collection / scope change above is also a DCP system event in every vbucket.
  //   cluster.end_stream("default", 12, cbes::mcbp::stream_end_reason::too_slow);
  //   cluster.drop_after_next_marker("default", 12);  // next marker for vb 12 closes the link
  //   auto s = cluster.dcp_stats();                   // s[0].paused, s[0].unacked_bytes
  //
  // Sends STREAM_END(reason) on every open stream of the vbucket (any connection, any node).
  void end_stream(std::string_view bucket, std::uint16_t vb, mcbp::stream_end_reason reason);
  // One shot: the next snapshot marker sent for `vb` is the last thing its connection sends; the
  // connection is closed right after it, before the snapshot's first item.
  void drop_after_next_marker(std::string_view bucket, std::uint16_t vb);
  // One shot: right after the next snapshot marker sent for `vb`, the vbucket becomes active on
  // `to_node` (new failover entry, config pushed); the old stream ends StateChanged before the
  // snapshot's first item.
  //   cluster.move_after_next_marker("default", 12, 1);
  void move_after_next_marker(std::string_view bucket, std::uint16_t vb, std::size_t to_node);
  // One shot: the next successful STREAM_REQ for `vb` is answered only after the stream's first
  // snapshot was sent — a broken producer that floods a consumer still waiting for the answer.
  //   cluster.answer_stream_request_late("default", 3);
  void answer_stream_request_late(std::string_view bucket, std::uint16_t vb);
  // Per DCP connection: flow-control window, unacked bytes, paused flag, counters.
  std::vector<couchbase_dcp_connection_stats> dcp_stats() const;
  // timing: the idle timeout after which a producer with NOOPs enabled disconnects a silent
  // consumer (default 360 s), and the smallest set_noop_interval accepted (default 100 ms).
  void set_dcp_timing(std::chrono::milliseconds idle_timeout,
                      std::chrono::milliseconds min_noop_interval = std::chrono::milliseconds(100));

  // ---- inspection ----
  std::size_t connection_count() const;
  // KV connections ever accepted on a listening port (a kv, kvSSL or external KV port): shows
  // which network a client routed through.
  std::size_t kv_connections_accepted(std::uint16_t port) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace cbes::testkit
