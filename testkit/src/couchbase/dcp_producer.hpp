#pragma once
// The DCP producer side of one fake KV connection (kv_engine's DCP docs):
// DCP_OPEN / DCP_CONTROL / STREAM_REQ / GET_FAILOVER_LOG / CLOSE_STREAM / BUFFER_ACK handling,
// per-vbucket streams (disk backfill snapshot, then memory snapshots of new items), NOOPs and
// the idle disconnect, connection-level flow control. Owned by its kv_session and used only on
// the cluster's I/O thread; request handlers run with the cluster mutex held, pump() takes it.
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cbes/mcbp/dcp.hpp"
#include "cbes/mcbp/frame.hpp"
#include "dcp_stream.hpp"

namespace cbes::testkit::couchbase {

class kv_session;
struct bucket_state;

// Cluster-wide DCP knobs and one-shot faults set through the facade (I/O thread only).
struct dcp_settings {
  // P disconnects a consumer it heard nothing from for this long (kv_engine default 360 s).
  std::chrono::milliseconds idle_timeout{360'000};
  // set_noop_interval: values below the connection manager interval are Einval.
  std::chrono::milliseconds min_noop_interval{100};
  // (bucket, vb) pairs: the next marker for the vb is the last thing the connection sends.
  std::set<std::pair<std::string, std::uint16_t>> drop_after_marker;
  // (bucket, vb) → node: right after the next marker for the vb, the vb becomes active on that
  // node; the stream ends StateChanged before the snapshot's first item.
  std::map<std::pair<std::string, std::uint16_t>, std::size_t> move_after_marker;
  // (bucket, vb) pairs: the next STREAM_REQ answer for the vb follows the first snapshot.
  std::set<std::pair<std::string, std::uint16_t>> late_stream_response;
  // Pushes the current config to duplex clients (set by the cluster; posts to the I/O thread).
  std::function<void()> push_configs;
};

class dcp_producer {
 public:
  dcp_producer(kv_session& session, std::string name, std::uint32_t open_flags);
  dcp_producer(const dcp_producer&) = delete;
  dcp_producer& operator=(const dcp_producer&) = delete;

  const std::string& name() const noexcept { return name_; }

  // DCP_OPEN on `session`: validates, kicks an older connection with the same name and
  // turns the session into a producer connection. Returns the response bytes.
  static std::string open(kv_session& session, const mcbp::frame& f);

  // Request handlers (mutex held): the response bytes, empty for none.
  std::string handle(const mcbp::frame& f, bucket_state& b);
  // A consumer response (NOOP reply, marker ack): consumed silently.
  void on_response(const mcbp::frame& f);
  // Anything arrived from the consumer (resets the idle clock).
  void on_receive() { last_receive_ = clock::now(); }

  // Sends what streams, flow control and the socket allow. Locks the cluster mutex.
  void pump();
  // Periodic: NOOP, idle disconnect, pump.
  void tick();

  // Ends every stream of `vb` with `reason` (test hook; locks nothing, I/O thread).
  void end_stream(std::uint16_t vb, mcbp::stream_end_reason reason);

  struct stats {
    std::uint64_t buffer_size = 0;
    std::uint64_t unacked_bytes = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t messages_sent = 0;
    std::uint64_t noops_sent = 0;
    bool paused = false;
    std::size_t streams = 0;
  };
  stats get_stats() const;

 private:
  using clock = std::chrono::steady_clock;

  struct message {
    std::string bytes;
    bool marker = false;
    bool stream_end = false;
    bool response = false;  // a STREAM_REQ answer sent late (not a stream message)
  };

  struct stream {
    std::uint16_t vb = 0;
    std::uint32_t opaque = 0;
    std::uint32_t flags = 0;
    std::uint64_t end_seqno = 0;
    std::uint64_t position = 0;  // every history item ≤ this was put in a snapshot
    std::uint64_t first_marker_start = 0;
    bool first_marker = true;
    bool backfill_done = false;
    bool memory_started = false;
    bool active = true;     // streamed from the active copy (else a replica)
    bool finished = false;  // STREAM_END queued: no more snapshots
    item_filter filter;
    std::deque<message> pending;
  };

  std::string handle_control(const mcbp::frame& f);
  std::string handle_stream_req(const mcbp::frame& f, bucket_state& b);
  std::string handle_close_stream(const mcbp::frame& f);
  std::string handle_failover_log(const mcbp::frame& f, bucket_state& b);
  std::string handle_buffer_ack(const mcbp::frame& f);

  // The vbucket's role on this node: 1 active, 2 replica, 0 none.
  int role(const bucket_state& b, std::uint16_t vb) const;
  // Queues the next snapshot of `s` (and a STREAM_END when the end seqno is reached).
  void fill(stream& s, bucket_state& b, const live_collections& live);
  void queue_end(stream& s, mcbp::stream_end_reason reason);
  // Queues a disk backfill as an OSO snapshot when the connection enabled OSO and the
  // stream is filtered to one collection (as kv_engine does); false when not applicable.
  bool fill_oso(stream& s, std::vector<item>& items, std::uint64_t upto);
  void encode_item(stream& s, const item& it, bool from_disk);
  std::string value_of(const item& it, std::uint8_t& datatype) const;
  std::string wire_key(const item& it) const;
  bool flow_blocked() const { return buffer_size_ > 0 && unacked_ >= buffer_size_; }
  void schedule_tick();
  void post_pump();

  kv_session& session_;
  std::string name_;
  std::uint32_t open_flags_;
  std::map<std::uint16_t, stream> streams_;

  // DCP_CONTROL state.
  bool noop_enabled_ = false;
  std::chrono::milliseconds noop_interval_{20'000};
  std::uint64_t buffer_size_ = 0;
  bool stream_end_on_close_ = false;
  bool expiry_opcode_ = false;
  bool force_compression_ = false;
  bool v7_status_codes_ = false;
  bool marker_v2_2_ = false;
  // enable_out_of_order_snapshots: 0 off, 1 true, 2 true_with_seqno_advanced.
  int oso_ = 0;

  // Flow control and counters.
  std::uint64_t unacked_ = 0;
  std::uint64_t bytes_sent_ = 0;
  std::uint64_t messages_sent_ = 0;
  std::uint64_t noops_sent_ = 0;
  bool stopped_ = false;  // dropped after a marker: sends nothing more

  // NOOPs.
  std::uint32_t next_noop_opaque_ = 10'000'001;
  std::optional<std::uint32_t> noop_outstanding_;
  clock::time_point last_noop_ = clock::now();
  clock::time_point last_receive_ = clock::now();
  boost::asio::steady_timer timer_;
  bool tick_scheduled_ = false;
};

}  // namespace cbes::testkit::couchbase
