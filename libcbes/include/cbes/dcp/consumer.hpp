#pragma once
// The DCP consumer (kv_engine's protocol docs): one DCP connection per KV node holding active
// vbuckets of the requested set, streams opened from per-vbucket positions, events delivered
// in order per vbucket with their snapshot and position, flow control driven by the
// application's acknowledgements, and automatic recovery — rollback, stream ends,
// NOT_MY_VBUCKET / config changes / lost nodes and silent connections all reopen
// the affected vbuckets from their current position.
//
//   consumer_options o;
//   o.buffer_size = 1 << 20;
//   auto c = co_await consumer::create(cluster, o);
//   (*c)->on_event([&](event ev) { handle(ev); (*c)->acknowledge(ev); });
//   (*c)->on_fatal([&](const couchbase::error& e) { log(e.what()); shut_down(); });
//   auto from = co_await (*c)->states_from_beginning(vbs);
//   co_await (*c)->open(*from);
//   ...
//   auto final_states = co_await (*c)->close(vbs);   // for rebalancing
//
// Thread model: like couchbase::cluster — one executor (one thread or a strand); listener calls
// run on it, and acknowledge()/close()/open() must be called from it.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "cbes/couchbase/cluster.hpp"
#include "cbes/couchbase/error.hpp"
#include "cbes/dcp/stream_state.hpp"
#include "cbes/mcbp/xattr.hpp"
#include "cbes/version.hpp"

namespace cbes::dcp {

struct consumer_options {
  // Connection name prefix: DCP_OPEN's key is {"a": agent, "i": "<name>/<node>"} (≤ 200 bytes;
  // a reused name kicks the older connection).
  std::string name = "cbes";
  std::string agent{cbes::user_agent};
  // connection_buffer_size; 0 disables flow control.
  std::uint32_t buffer_size = 10 * 1024 * 1024;
  // Fraction of buffer_size acknowledged in one BUFFER_ACK (Java 80 %, ES connector 60 %).
  double ack_watermark = 0.5;
  // set_noop_interval; silence for 2× this marks a connection dead.
  std::chrono::milliseconds noop_interval = std::chrono::seconds{20};
  bool xattrs = false;        // DCP_OPEN IncludeXattrs; xattrs are split from the body
  bool compression = false;   // force_value_compression (values are inflated before delivery)
  bool expiry_opcode = true;  // enable_expiry_opcode (DCP_EXPIRATION instead of DELETION)
  std::string priority;       // set_priority (high/medium/low); empty: not sent
  // Collections filter: "scope.collection" names, or a scope name; both empty = all.
  std::vector<std::string> collections;
  std::string scope;
  // IgnorePurgedTombstones (0x80) on every request when the bucket advertises
  // `dcp.IgnorePurgedTombstones`: resuming below the purge seqno then does not roll back to 0
  // — tombstones purged meanwhile are missed, as the Java connector accepts too.
  bool ignore_purged_tombstones = true;
  // enable_out_of_order_snapshots=true_with_seqno_advanced (collections-aware
  // connections only): the producer may send a backfill in key order between OSO start/end.
  // Such items carry `event::out_of_order`, and their `position` stays at the seqno before the
  // OSO start until its end (kv_engine's OSO resume rule); the end is delivered as a
  // `seqno_advanced` event (not out of order) carrying the new position. Off by default, like the
  // Java client.
  bool out_of_order_snapshots = false;
  // Stream flags added to every request (ActiveVbOnly is always set).
  std::uint32_t stream_flags = 0;
  // First retry delay after a transient failure (a refused or lost connection, a timeout,
  // Etmpfail, NMVB; Java: 200 ms). Consecutive retries double it, with jitter, up to
  // max_retry_delay; a round that opens every stream resets it.
  std::chrono::milliseconds retry_delay = std::chrono::milliseconds{200};
  std::chrono::milliseconds max_retry_delay = std::chrono::seconds{10};
  std::chrono::milliseconds request_timeout = std::chrono::seconds{30};
  std::size_t max_value_size = 20 * 1024 * 1024 + 1024;  // inflate bound for Snappy values
  // Bytes of a vbucket's messages held while its STREAM_REQ answer is not processed yet. A
  // correct producer answers first, so only what one socket read carried along (≤ 64 KiB plus
  // a frame) waits here. With flow control the window bounds them too; without it
  // (buffer_size = 0) a producer that floods instead stops that vbucket's stream with an error
  // rather than growing our memory.
  std::size_t max_early_bytes = 16 * 1024 * 1024;
};

enum class event_type {
  mutation,
  deletion,
  expiration,
  system_event,    // collection/scope create/drop (collection_id / scope_id / name set)
  seqno_advanced,  // the position moved without an item
  snapshot,        // a snapshot marker (start/end in `snapshot_*`, flags in `flags`)
  rollback,        // the producer rolled this vbucket back to `seqno`: move checkpoints back
  stream_end,      // the stream stopped for good (reason in `end_reason`, message in `value`)
};
std::string_view to_string(event_type t) noexcept;

// One change, with the position to persist once it is processed (state.seqno == seqno for items).
// `ack_bytes` is what acknowledge() gives back to the flow-control window.
struct event {
  event_type type = event_type::mutation;
  std::uint16_t vbucket = 0;
  std::uint64_t seqno = 0;
  // The vbucket's resumable position after this event. Its failover_log is left empty (a copy
  // per event cost an allocation per document): positions() has the logs.
  stream_state position;
  std::uint64_t snapshot_start = 0;  // the snapshot this event belongs to
  std::uint64_t snapshot_end = 0;
  std::uint32_t snapshot_flags = 0;
  std::string key;  // without the collection prefix
  std::uint32_t collection_id = 0;
  std::string value;  // inflated, xattr section removed
  std::vector<mcbp::xattr> xattrs;
  std::uint8_t datatype = 0;  // of `value` (no Snappy / XATTR bits)
  std::uint64_t cas = 0;
  std::uint64_t rev_seqno = 0;
  std::uint32_t flags = 0;
  std::uint32_t expiry = 0;  // mutation: expiration; deletion v2 / expiration: delete time
  // System events.
  std::optional<mcbp::system_event_id> system_event;
  std::uint32_t scope_id = 0;
  std::uint64_t manifest_uid = 0;
  // Stream end.
  std::optional<mcbp::stream_end_reason> end_reason;
  // An item of an Out-of-Order backfill: key order, not seqno order; `position` is the
  // pre-OSO point, so persist it rather than `seqno` until the OSO snapshot ends.
  bool out_of_order = false;
  // Flow control bookkeeping.
  std::size_t ack_bytes = 0;
  std::uint64_t session = 0;  // which connection the bytes belong to
};

struct consumer_stats {
  std::uint64_t events = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t buffer_acks_sent = 0;
  std::uint64_t reconnects = 0;
  std::uint64_t rollbacks = 0;
  std::uint64_t stream_reopens = 0;
  std::size_t max_outstanding_bytes = 0;  // high-water mark of unacknowledged bytes
  std::size_t outstanding_bytes = 0;
  // Reconcile rounds scheduled after a back-off delay because some vbucket was still waiting.
  std::uint64_t open_retries = 0;
  // Failures that were retried: connections refused or lost while opening, timeouts, and
  // STREAM_REQ answers Etmpfail / Enomem / Ebusy / NMVB / stale manifest.
  std::uint64_t transient_errors = 0;
  // Bucket configs parsed for their capabilities: once per config revision, not per round.
  std::uint64_t config_parses = 0;
};

class consumer {
 public:
  // Prepares a consumer on the cluster's executor (resolves the collections filter from the
  // manifest). Errors: unknown_collection for a filter naming nothing, invalid_argument.
  //
  //   auto c = co_await consumer::create(cluster, opts);
  static boost::asio::awaitable<couchbase::result<std::shared_ptr<consumer>>> create(
      std::shared_ptr<couchbase::cluster> cluster, consumer_options options);

  ~consumer();
  consumer(const consumer&) = delete;
  consumer& operator=(const consumer&) = delete;

  // The listener for every event, called in order per vbucket. Set it before open().
  //
  //   c->on_event([&](event ev) { queue.push(std::move(ev)); });
  void on_event(std::function<void(event)> listener);

  // The handler for a failure that retrying cannot fix (see retry_policy.hpp): wrong
  // credentials, a user without the Data DCP Reader role, a missing bucket, a filter naming a
  // collection or scope that no longer exists, a server without DCP — or an exception escaping
  // the listener or a background task. The consumer has stopped when it runs; it runs at most
  // once, never for a failure that open() returns, and never after stop().
  //
  //   c->on_fatal([&](const couchbase::error& e) { std::cerr << e.what() << '\n'; quit(); });
  void on_fatal(std::function<void(const couchbase::error&)> handler);

  // Returns an event's bytes to the flow-control window; call once per event, after the
  // application has processed it. Without it the producer stalls once the buffer is full.
  //
  //   c->acknowledge(ev);
  void acknowledge(const event& ev);
  void acknowledge(std::uint64_t session, std::size_t bytes);

  // Positions for "from beginning" and for "now" (GET_ALL_VB_SEQNOS + failover logs).
  //
  //   auto s = co_await c->states_now({0, 1, 2});
  boost::asio::awaitable<couchbase::result<std::map<std::uint16_t, stream_state>>>
  states_from_beginning(std::vector<std::uint16_t> vbuckets);
  boost::asio::awaitable<couchbase::result<std::map<std::uint16_t, stream_state>>> states_now(
      std::vector<std::uint16_t> vbuckets);

  // Starts streaming the vbuckets from their positions; returns once every stream request was
  // answered (opened, or queued for a retry on another node). Reopening an open vbucket is
  // refused (invalid_argument). A failure no retry can fix that happens meanwhile is returned
  // here (the consumer is then stopped); transient ones are retried in the background.
  //
  //   co_await c->open({{0, stream_state::from_beginning()}});
  boost::asio::awaitable<couchbase::result<void>> open(std::map<std::uint16_t, stream_state> from);

  // Stops the vbuckets' streams (CLOSE_STREAM, then waits for their STREAM_END) and returns
  // their final positions; events of those vbuckets are no longer delivered.
  //
  //   auto finals = co_await c->close({4, 5});
  boost::asio::awaitable<couchbase::result<std::map<std::uint16_t, stream_state>>> close(
      std::vector<std::uint16_t> vbuckets);

  // Current positions of every vbucket the consumer handles (open or waiting to reopen).
  std::map<std::uint16_t, stream_state> positions() const;
  // True when every open vbucket has reached `targets` (high seqnos), e.g. "caught up".
  bool reached(const std::map<std::uint16_t, std::uint64_t>& targets) const;
  consumer_stats stats() const;

  // Closes every connection; no more events. Idempotent.
  void stop();

 private:
  struct impl;
  explicit consumer(std::shared_ptr<impl> p);
  std::shared_ptr<impl> impl_;
};

}  // namespace cbes::dcp
