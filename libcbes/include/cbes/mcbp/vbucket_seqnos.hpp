#pragma once
// GET_ALL_VB_SEQNOS (0x48; kv_engine's protocol docs) and OBSERVE_SEQNO (0x91).
//
//   auto bytes = get_all_vb_seqnos_request{vbucket_state::active}.encode().opaque(1).build();
//   for (auto [vb, seqno] : get_all_vb_seqnos_response::decode(f)->entries) ...
//   auto obs = observe_seqno_request{uuid}.encode().vbucket(vb).opaque(2).build();
#include <cstdint>
#include <optional>
#include <vector>

#include "cbes/mcbp/frame.hpp"
#include "cbes/mcbp/frame_builder.hpp"

namespace cbes::mcbp {

// Request extras `i32 state` (0 = alive: active + replica + pending).
enum class vbucket_state : std::int32_t {
  alive = 0,
  active = 1,
  replica = 2,
  pending = 3,
  dead = 4
};

// Extras: none, 4 (state) or 8 (state, collection id).
struct get_all_vb_seqnos_request {
  std::optional<vbucket_state> state;
  std::optional<std::uint32_t> collection_id;  // needs `state`

  frame_builder encode() const;
  static result<get_all_vb_seqnos_request> decode(const frame& f);
};

struct vbucket_seqno {
  std::uint16_t vbucket = 0;
  std::uint64_t seqno = 0;
  bool operator==(const vbucket_seqno&) const = default;
};

// Value: repeated `u16 vbid, u64 high_seqno` (10 bytes each), sorted by vbid.
struct get_all_vb_seqnos_response {
  std::vector<vbucket_seqno> entries;

  frame_builder encode(status s = status::success) const;
  // errc::bad_value when the value is not a multiple of 10 bytes.
  static result<get_all_vb_seqnos_response> decode(const frame& f);
};

// Value: u64 vbucket uuid; vbucket in the header.
struct observe_seqno_request {
  std::uint64_t vbucket_uuid = 0;

  frame_builder encode() const;
  static result<observe_seqno_request> decode(const frame& f);
};

// Format 0 (27 bytes) when the uuid is current, format 1 (43 bytes) after a hard failover.
struct observe_seqno_response {
  std::uint16_t vbucket = 0;
  std::uint64_t vbucket_uuid = 0;  // the latest uuid
  std::uint64_t last_persisted_seqno = 0;
  std::uint64_t current_seqno = 0;
  struct failover {
    std::uint64_t old_vbucket_uuid = 0;
    std::uint64_t last_seqno_of_old_uuid = 0;
    bool operator==(const failover&) const = default;
  };
  std::optional<failover> hard_failover;  // present ⇔ format 1

  frame_builder encode(status s = status::success) const;
  static result<observe_seqno_response> decode(const frame& f);
};

}  // namespace cbes::mcbp
