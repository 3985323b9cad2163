#pragma once
// DCP message bodies (kv_engine's protocol docs): one struct per message, `encode()` returning a
// frame_builder (the caller adds vbucket / opaque / datatype / cas where the header carries
// them) and `static decode(const frame&)` validating extras/key/value sizes of untrusted bytes.
// Decoded strings are copies: the structs outlive the parser's buffer.
//
//   auto open = dcp_open_request{"{\"a\":\"cbes\",\"i\":\"1\"}",
//                                dcp_open_flags::producer | dcp_open_flags::include_delete_times};
//   std::string bytes = open.encode().opaque(1).build();
//   auto req = dcp_stream_request{.start_seqno = 10, .vbucket_uuid = uuid,
//                                 .snapshot_start = 10, .snapshot_end = 10};
//   bytes = req.encode().vbucket(vb).opaque(7).build();
//   auto msg = decode_dcp_message(f);   // variant of every P→C stream message
//   if (auto* m = std::get_if<dcp_mutation>(&*msg)) ... m->by_seqno, m->key, m->value ...
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cbes/mcbp/frame.hpp"
#include "cbes/mcbp/frame_builder.hpp"

namespace cbes::mcbp {

// ---------------------------------------------------------------------------------------------
// Status-only responses (DCP_OPEN, DCP_CONTROL, DCP_CLOSE_STREAM, DCP_NOOP reply, snapshot-marker
// ack, DCP_SET_VBUCKET_STATE reply). Error responses may carry an XERROR
// JSON value, which decode ignores.
//
//   auto reply = encode_dcp_response(opcode::dcp_noop).opaque(f.opaque()).build();
//   auto s = decode_dcp_response(f, opcode::dcp_open);   // *s == status::success
frame_builder encode_dcp_response(opcode op, status s = status::success);
// errc::unexpected_opcode / unexpected_magic for another frame; bad_extras / bad_key when a
// success response carries extras or a key.
result<status> decode_dcp_response(const frame& f, opcode op);

// ---------------------------------------------------------------------------------------------
// DCP_OPEN 0x50: extras `u32 seqno (0), u32 flags`; key = connection name.
namespace dcp_open_flags {
inline constexpr std::uint32_t producer = 0x01;
inline constexpr std::uint32_t notifier = 0x02;  // invalid since 7.x → Einval
inline constexpr std::uint32_t include_xattrs = 0x04;
inline constexpr std::uint32_t no_value = 0x08;
inline constexpr std::uint32_t include_delete_times = 0x20;  // → DELETION v2
inline constexpr std::uint32_t no_value_with_underlying_datatype = 0x40;
inline constexpr std::uint32_t pitr = 0x80;
inline constexpr std::uint32_t include_deleted_user_xattrs = 0x100;
inline constexpr std::uint32_t skip_deletes_in_initial_backfill = 0x200;
// Every bit a producer accepts (anything else, incl. 0x02 and 0x10, → Einval).
inline constexpr std::uint32_t known = 0x3ed;
}  // namespace dcp_open_flags

// Longest connection name a producer accepts.
inline constexpr std::size_t max_dcp_connection_name = 200;

struct dcp_open_request {
  std::string name;  // connection name, ≤ 200 bytes
  std::uint32_t flags = dcp_open_flags::producer;
  std::string value;  // optional JSON {"consumer_name": ...} (consumer-type opens only)

  frame_builder encode() const;
  // bad_extras unless extras are 8 bytes; bad_key when the name is empty or > 200 bytes. Flags
  // are not validated here (the producer answers Einval for unknown bits).
  static result<dcp_open_request> decode(const frame& f);
};

// ---------------------------------------------------------------------------------------------
// DCP_CONTROL 0x5e: key = control name, value = ASCII value, both non-empty.
struct dcp_control_request {
  std::string key;
  std::string value;

  frame_builder encode() const;
  static result<dcp_control_request> decode(const frame& f);
};

// ---------------------------------------------------------------------------------------------
// DCP_STREAM_REQ 0x53: 48 bytes of extras; vbucket in the header.
namespace dcp_stream_flags {
inline constexpr std::uint32_t takeover = 0x01;
inline constexpr std::uint32_t disk_only = 0x02;
inline constexpr std::uint32_t to_latest = 0x04;
inline constexpr std::uint32_t no_value = 0x08;  // removed in 5.0 → Einval
inline constexpr std::uint32_t active_vb_only = 0x10;
inline constexpr std::uint32_t strict_vb_uuid = 0x20;
inline constexpr std::uint32_t from_latest = 0x40;
inline constexpr std::uint32_t ignore_purged_tombstones = 0x80;
inline constexpr std::uint32_t cache_transfer = 0x100;
// Every bit a 7.x/8.x producer accepts (0x08 and unknown bits → Einval).
inline constexpr std::uint32_t known = 0x1f7;
}  // namespace dcp_stream_flags

inline constexpr std::uint64_t dcp_seqno_infinity = std::numeric_limits<std::uint64_t>::max();

struct dcp_stream_request {
  std::uint32_t flags = 0;
  std::uint64_t start_seqno = 0;  // last seqno the consumer already has
  std::uint64_t end_seqno = dcp_seqno_infinity;
  std::uint64_t vbucket_uuid = 0;  // 0 = "I have nothing"
  std::uint64_t snapshot_start = 0;
  std::uint64_t snapshot_end = 0;
  std::string value;  // optional filter JSON (encode_stream_filter); sent with datatype raw

  frame_builder encode() const;
  // bad_extras unless 48 bytes; bad_key when a key is present.
  static result<dcp_stream_request> decode(const frame& f);
};

// The JSON value of a stream request. Ids are written as lowercase hex strings.
struct stream_filter {
  std::optional<std::uint64_t> manifest_uid;  // "uid"
  std::vector<std::uint32_t> collections;     // "collections" (non-empty ⇒ a collection filter)
  std::optional<std::uint32_t> scope;         // "scope" (exclusive with collections)
  std::optional<std::uint16_t> stream_id;     // "sid"
  std::optional<std::uint64_t> purge_seqno;   // "purge_seqno" (decimal string, 8.0)
  bool operator==(const stream_filter&) const = default;
};
std::string encode_stream_filter(const stream_filter& filter);
// bad_json for invalid JSON / not an object; bad_value for a member of the wrong type, a bad
// hex id, or both "collections" and "scope" (the producer answers Einval). Unknown keys ignored.
result<stream_filter> decode_stream_filter(std::string_view json);

// One failover-log entry; logs are newest first on the wire.
struct failover_entry {
  std::uint64_t vbucket_uuid = 0;
  std::uint64_t seqno = 0;
  bool operator==(const failover_entry&) const = default;
};
using failover_log = std::vector<failover_entry>;
// n × (u64 vbucket uuid, u64 seqno), the value of a STREAM_REQ success, DCP_GET_FAILOVER_LOG and
// GET_FAILOVER_LOG (0x96). bad_value when the size is not a multiple of 16.
result<failover_log> decode_failover_log(std::string_view value);

// Success → value = failover log (n × 16 bytes); Rollback (0x23) → value = u64 rollback seqno;
// other statuses → status only (an XERROR body, if any, is ignored by decode).
struct dcp_stream_response {
  mcbp::status status = status::success;
  mcbp::failover_log failover_log;   // success only
  std::uint64_t rollback_seqno = 0;  // status::rollback only

  frame_builder encode() const;
  // bad_value when a success value is not a multiple of 16 bytes or a rollback value is not 8.
  static result<dcp_stream_response> decode(const frame& f);
};

// ---------------------------------------------------------------------------------------------
// DCP_GET_FAILOVER_LOG 0x54: no body; vbucket in the header.
struct dcp_get_failover_log_request {
  frame_builder encode() const;
  static result<dcp_get_failover_log_request> decode(const frame& f);
};
struct dcp_get_failover_log_response {
  mcbp::status status = status::success;
  mcbp::failover_log failover_log;  // success only, newest first

  frame_builder encode() const;
  static result<dcp_get_failover_log_response> decode(const frame& f);
};

// ---------------------------------------------------------------------------------------------
// DCP_CLOSE_STREAM 0x52: no body; vbucket in the header; status-only response.
struct dcp_close_stream_request {
  frame_builder encode() const;
  static result<dcp_close_stream_request> decode(const frame& f);
};

// ---------------------------------------------------------------------------------------------
// DCP_STREAM_END 0x55: extras `u32 reason`.
enum class stream_end_reason : std::uint32_t {
  ok = 0,               // end seqno reached
  closed = 1,           // the consumer closed it
  state_changed = 2,    // vbucket no longer active here (rebalance) → reopen elsewhere
  disconnected = 3,     // → reopen
  too_slow = 4,         // → reconnect / reopen
  backfill_fail = 5,    // → reopen
  rollback = 6,         // → reopen, follow the rollback protocol
  filter_empty = 7,     // every filtered collection/scope dropped → stop
  lost_privileges = 8,  // → stop
};
std::string_view to_string(stream_end_reason r) noexcept;  // "ok", "state_changed", "unknown"...

struct dcp_stream_end {
  stream_end_reason reason = stream_end_reason::ok;  // unknown values are kept as-is

  frame_builder encode() const;
  static result<dcp_stream_end> decode(const frame& f);
};

// ---------------------------------------------------------------------------------------------
// DCP_SNAPSHOT_MARKER 0x56: V1 = extras 20; V2.x = extras 1 (version) + value 36/44/52.
namespace snapshot_flags {
inline constexpr std::uint32_t memory = 0x01;
inline constexpr std::uint32_t disk = 0x02;
inline constexpr std::uint32_t checkpoint = 0x04;
inline constexpr std::uint32_t ack = 0x08;  // consumer must reply when fully received
inline constexpr std::uint32_t history = 0x10;
inline constexpr std::uint32_t may_contain_duplicates = 0x20;
}  // namespace snapshot_flags

enum class snapshot_marker_version : std::uint8_t {
  v1 = 0xff,  // not a wire value: the 20-byte extras form
  v2_0 = 0x00,
  v2_1 = 0x01,  // + timestamp (PiTR; parse and ignore)
  v2_2 = 0x02,  // + purge seqno, high prepared seqno
};

struct dcp_snapshot_marker {
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  std::uint32_t flags = 0;
  snapshot_marker_version version = snapshot_marker_version::v1;
  std::uint64_t max_visible_seqno = 0;     // v2.x
  std::uint64_t high_completed_seqno = 0;  // v2.x (valid with the Disk flag)
  std::uint64_t timestamp = 0;             // v2.1
  std::uint64_t purge_seqno = 0;           // v2.2
  std::uint64_t high_prepared_seqno = 0;   // v2.2

  frame_builder encode() const;
  // bad_extras for another extras length or an unknown version byte; bad_value when the value
  // size does not match the version (or V1 carries a value).
  static result<dcp_snapshot_marker> decode(const frame& f);
};

// ---------------------------------------------------------------------------------------------
// DCP_MUTATION 0x57: extras 31; key = wire key ([LEB128 cid] + key on collection-aware
// connections); datatype and CAS from the header (set/read them in the struct).
struct dcp_mutation {
  std::uint64_t by_seqno = 0;
  std::uint64_t rev_seqno = 0;
  std::uint32_t flags = 0;       // user flags
  std::uint32_t expiration = 0;  // absolute unix seconds, 0 = none
  std::uint32_t lock_time = 0;
  std::uint8_t nru = 0;
  std::string key;    // wire key
  std::string value;  // as sent (maybe Snappy and/or with an xattr section); ext-meta stripped
  std::uint8_t datatype = 0;
  std::uint64_t cas = 0;

  // Sets datatype and CAS in the header; nmeta 0.
  frame_builder encode() const;
  // bad_extras unless 31 bytes; bad_key when the key is empty; bad_value when nmeta > value.
  static result<dcp_mutation> decode(const frame& f);
};

// DCP_DELETION 0x58: V1 extras 18 (`by_seqno, rev_seqno, u16 nmeta`), V2 extras 21
// (`by_seqno, rev_seqno, u32 delete_time, u8 unused`) after DCP_OPEN IncludeDeleteTimes.
struct dcp_deletion {
  std::uint64_t by_seqno = 0;
  std::uint64_t rev_seqno = 0;
  std::optional<std::uint32_t> delete_time;  // present ⇔ V2
  std::string key;                           // wire key
  std::string value;                         // usually empty; xattrs of the tombstone
  std::uint8_t datatype = 0;
  std::uint64_t cas = 0;

  frame_builder encode() const;
  static result<dcp_deletion> decode(const frame& f);
};

// DCP_EXPIRATION 0x59: extras 20 (`by_seqno, rev_seqno, u32 delete_time`).
struct dcp_expiration {
  std::uint64_t by_seqno = 0;
  std::uint64_t rev_seqno = 0;
  std::uint32_t delete_time = 0;
  std::string key;  // wire key
  std::string value;
  std::uint8_t datatype = 0;
  std::uint64_t cas = 0;

  frame_builder encode() const;
  static result<dcp_expiration> decode(const frame& f);
};

// ---------------------------------------------------------------------------------------------
// DCP_SYSTEM_EVENT 0x5f: extras 13 (`u64 by_seqno, u32 event, u8 version`).
enum class system_event_id : std::uint32_t {
  begin_collection = 0,  // create (or flush: re-emitted at a new seqno)
  end_collection = 1,    // drop
  flush_collection = 2,  // reserved; never sent by 7.x
  create_scope = 3,
  drop_scope = 4,
  modify_collection = 5,  // only with flatbuffers_system_events
};
std::string_view to_string(system_event_id e) noexcept;

struct dcp_system_event {
  std::uint64_t by_seqno = 0;
  system_event_id event = system_event_id::begin_collection;  // unknown values kept as-is
  std::uint8_t version = 0;
  std::string key;    // collection / scope name for create events
  std::string value;  // layout per event and version (below)

  frame_builder encode() const;
  static result<dcp_system_event> decode(const frame& f);
};

// Value layouts of versions 0/1 (big-endian, packed; scope id before collection id).
// BeginCollection: key = name; v0 value 16 bytes, v1 20 bytes (+ u32 max_ttl).
struct collection_created {
  std::uint64_t manifest_uid = 0;
  std::uint32_t scope_id = 0;
  std::uint32_t collection_id = 0;
  std::optional<std::uint32_t> max_ttl;  // present ⇔ version 1
  std::string name;
  bool operator==(const collection_created&) const = default;

  dcp_system_event to_event(std::uint64_t by_seqno) const;
  // unexpected_opcode for another event id; bad_value for a wrong size or version ≥ 2.
  static result<collection_created> decode(const dcp_system_event& e);
};
// EndCollection: no key; value 16 bytes.
struct collection_dropped {
  std::uint64_t manifest_uid = 0;
  std::uint32_t scope_id = 0;
  std::uint32_t collection_id = 0;
  bool operator==(const collection_dropped&) const = default;

  dcp_system_event to_event(std::uint64_t by_seqno) const;
  static result<collection_dropped> decode(const dcp_system_event& e);
};
// CreateScope: key = name; value 12 bytes.
struct scope_created {
  std::uint64_t manifest_uid = 0;
  std::uint32_t scope_id = 0;
  std::string name;
  bool operator==(const scope_created&) const = default;

  dcp_system_event to_event(std::uint64_t by_seqno) const;
  static result<scope_created> decode(const dcp_system_event& e);
};
// DropScope: no key; value 12 bytes.
struct scope_dropped {
  std::uint64_t manifest_uid = 0;
  std::uint32_t scope_id = 0;
  bool operator==(const scope_dropped&) const = default;

  dcp_system_event to_event(std::uint64_t by_seqno) const;
  static result<scope_dropped> decode(const dcp_system_event& e);
};

// ---------------------------------------------------------------------------------------------
// DCP_SEQNO_ADVANCED 0x64: extras 8.
struct dcp_seqno_advanced {
  std::uint64_t by_seqno = 0;

  frame_builder encode() const;
  static result<dcp_seqno_advanced> decode(const frame& f);
};

// DCP_OSO_SNAPSHOT 0x65: extras `u32 flags`.
namespace oso_flags {
inline constexpr std::uint32_t start = 0x01;
inline constexpr std::uint32_t end = 0x02;
}  // namespace oso_flags
struct dcp_oso_snapshot {
  std::uint32_t flags = 0;

  frame_builder encode() const;
  static result<dcp_oso_snapshot> decode(const frame& f);
};

// DCP_NOOP 0x5c: P→C request with no body (opaque = P's counter); C answers with
// encode_dcp_response(opcode::dcp_noop).opaque(same).
struct dcp_noop_request {
  frame_builder encode() const;
  static result<dcp_noop_request> decode(const frame& f);
};

// DCP_BUFFER_ACKNOWLEDGEMENT 0x5d: extras `u32 bytes`; vbucket 0; no success response.
struct dcp_buffer_ack {
  std::uint32_t bytes = 0;

  frame_builder encode() const;
  static result<dcp_buffer_ack> decode(const frame& f);
};

// DCP_SET_VBUCKET_STATE 0x5b (takeover streams only): extras `u8 state`.
struct dcp_set_vbucket_state {
  std::uint8_t state = 0;  // 1 active, 2 replica, 3 pending, 4 dead

  frame_builder encode() const;
  static result<dcp_set_vbucket_state> decode(const frame& f);
};

// ---------------------------------------------------------------------------------------------
// Every P→C message of an open stream. `decode_dcp_message` dispatches on the opcode of
// a request frame (magic 0x80/0x08) and returns unexpected_opcode for anything else.
using dcp_message =
    std::variant<dcp_snapshot_marker, dcp_mutation, dcp_deletion, dcp_expiration, dcp_system_event,
                 dcp_seqno_advanced, dcp_oso_snapshot, dcp_stream_end>;
result<dcp_message> decode_dcp_message(const frame& f);

// The seqno a message moves the stream position to (mutation, deletion, expiration, system
// event, seqno advanced), or nullopt for markers / OSO / stream end.
std::optional<std::uint64_t> seqno_of(const dcp_message& m) noexcept;

}  // namespace cbes::mcbp
