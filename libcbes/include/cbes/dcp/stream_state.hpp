#pragma once
// The pure, socket-free pieces of the DCP consumer (kv_engine's protocol docs): the position of
// one vbucket's stream, the stream request made from it, how a position moves with each
// message, the rollback reaction, the stream-end reaction and flow-control accounting.
//
//   stream_tracker t{stream_state::from_beginning()};
//   auto req = t.request();                          // DCP_STREAM_REQ parameters
//   t.on_stream_opened(response.failover_log);       // newest uuid becomes the position's uuid
//   t.on_message(marker); t.on_message(mutation);    // t.state() is safe to persist
//   t.on_rollback(42);                               // reopen from 42 with the right uuid
#include <cstdint>
#include <optional>
#include <string>

#include "cbes/mcbp/dcp.hpp"

namespace cbes::dcp {

using mcbp::failover_entry;
using mcbp::failover_log;

// Everything needed to resume one vbucket: the uuid of the history branch, the last
// seqno processed, the snapshot that seqno belongs to, the failover log (newest first) and the
// last collections manifest uid seen (0 when unknown).
struct stream_state {
  std::uint64_t vbucket_uuid = 0;
  std::uint64_t seqno = 0;
  std::uint64_t snapshot_start = 0;
  std::uint64_t snapshot_end = 0;
  mcbp::failover_log failover_log;
  std::uint64_t manifest_uid = 0;
  bool operator==(const stream_state&) const = default;

  // start 0, uuid 0, snapshot 0/0: everything the vbucket has (a fresh start).
  //
  //   auto s = stream_state::from_beginning();
  static stream_state from_beginning() { return {}; }
  // "Now": the current high seqno and the newest failover uuid.
  //
  //   auto s = stream_state::at(log, high_seqno);
  static stream_state at(const mcbp::failover_log& log, std::uint64_t high_seqno);

  // "uuid:seqno[snap_start,snap_end]" for logs and tests.
  std::string to_string() const;
};

// The DCP_STREAM_REQ body for a state, to infinity. When the state's snapshot does
// not contain its seqno (a state written by hand, or a marker recorded before any of its items)
// the snapshot is collapsed to seqno/seqno, which the producer always accepts (Java's rule).
//
//   auto req = make_stream_request(state, mcbp::dcp_stream_flags::active_vb_only);
mcbp::dcp_stream_request make_stream_request(const stream_state& state, std::uint32_t flags = 0);

// The state to reopen from after a ROLLBACK response with seqno `to`: entries newer than
// `to` are trimmed from the failover log, seqno = snapshot = to, uuid = newest remaining entry
// (0 when none remains).
//
//   state = rollback_state(state, response.rollback_seqno);
stream_state rollback_state(const stream_state& state, std::uint64_t to);

// What a consumer does with a STREAM_END.
enum class end_action {
  done,    // ok: the end seqno was reached
  closed,  // closed: the consumer asked for it
  reopen,  // state_changed, disconnected, too_slow, backfill_fail, rollback, unknown reasons:
           // re-read the topology and reopen from the saved position
  stop,    // filter_empty, lost_privileges: stop the stream with an error
};
end_action reaction(mcbp::stream_end_reason reason) noexcept;

// The position of one vbucket's stream as messages arrive. A snapshot marker is kept pending
// and only becomes the state's snapshot with its first item (Java defers it the same way), so
// state() is resumable at every point — also between a marker and its first item.
class stream_tracker {
 public:
  explicit stream_tracker(stream_state s = {}) : state_(std::move(s)) {}

  const stream_state& state() const noexcept { return state_; }
  // The stream request for the current state.
  mcbp::dcp_stream_request request(std::uint32_t flags = 0) const {
    return make_stream_request(state_, flags);
  }

  // A successful STREAM_REQ response: its failover log replaces ours and the position takes
  // its newest uuid (on success the stored failover log is replaced).
  void on_stream_opened(const mcbp::failover_log& log);
  // A ROLLBACK response; see rollback_state().
  void on_rollback(std::uint64_t to);

  // Applies one stream message. Returns false for a message that goes backwards (a seqno not
  // above the current one), which a correct producer never sends; the state is unchanged then.
  bool on_message(const mcbp::dcp_message& m);

  // The snapshot the next item belongs to (the pending marker, or the current snapshot).
  std::uint64_t current_snapshot_start() const noexcept;
  std::uint64_t current_snapshot_end() const noexcept;

  // Inside an Out-of-Order snapshot (only with `enable_out_of_order_snapshots`): between
  // OSO start and end items arrive in key order, so the position stays at the last seqno before
  // the start (Y) — resuming from there repeats the backfill — and on `end` jumps to the
  // largest seqno seen inside (X), as a consistent point X/X. Items not above Y are refused.
  //
  //   t.on_message(mcbp::dcp_oso_snapshot{mcbp::oso_flags::start});   // state().seqno == Y
  //   t.on_message(mutation_9); t.on_message(mutation_4);             // still Y
  //   t.on_message(mcbp::dcp_oso_snapshot{mcbp::oso_flags::end});     // state().seqno == 9
  bool in_oso_snapshot() const noexcept { return oso_max_.has_value(); }

 private:
  bool on_oso_item(std::uint64_t seqno, const mcbp::dcp_message& m);

  stream_state state_;
  std::optional<mcbp::dcp_snapshot_marker> pending_;
  std::optional<std::uint64_t> oso_max_;  // engaged inside OSO: largest seqno seen (0 = none)
  std::uint64_t oso_manifest_uid_ = 0;    // system events inside OSO apply at its end
};

// Connection-level flow control: bytes of every counted message are recorded when
// received, released when the application acknowledges them, and sent in one BUFFER_ACK once
// the released total reaches the watermark (a fraction of the buffer).
//
//   flow_control fc{64 * 1024, 0.5};
//   fc.received(f.bytes.size());
//   if (auto n = fc.acknowledge(event_bytes)) conn->send(dcp_buffer_ack{*n}.encode().build());
class flow_control {
 public:
  flow_control(std::uint32_t buffer_size, double watermark)
      : buffer_size_(buffer_size), watermark_(watermark) {}

  // Counted P→C messages (every DCP request but DCP_NOOP).
  static bool counted(mcbp::opcode op) noexcept;

  void received(std::size_t bytes) noexcept { unacked_ += bytes; }
  // The application is done with `bytes`; returns the byte count to put in a BUFFER_ACK when the
  // watermark is reached (and resets the pending count), nullopt otherwise.
  std::optional<std::uint32_t> acknowledge(std::size_t bytes) noexcept;

  // Received and not yet acknowledged by the application (what memory the consumer holds).
  std::size_t outstanding() const noexcept { return unacked_; }
  // Acknowledged by the application, not yet sent to the producer.
  std::size_t pending_ack() const noexcept { return released_; }
  std::uint32_t buffer_size() const noexcept { return buffer_size_; }
  bool enabled() const noexcept { return buffer_size_ != 0; }

 private:
  std::uint32_t buffer_size_;
  double watermark_;
  std::size_t unacked_ = 0;
  std::size_t released_ = 0;
};

}  // namespace cbes::dcp
