#pragma once
// FrameInfo entries inside the framing extras of flexible-framing frames (magic 0x08/0x18;
// kv_engine's protocol docs): a byte whose high nibble is the id and low nibble the length
// (15 = escape: add the next byte; ids escape the same way), followed by the data.
//
//   std::string fx;
//   append_frame_info(fx, request_frame_info::dcp_stream_id, encode_stream_id(7)); //
//   "\x22\x00\x07" auto infos = decode_frame_infos(f.framing_extras);
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cbes/mcbp/error.hpp"

namespace cbes::mcbp {

// Ids in request framing extras (client → server, and DCP producer → consumer for stream ids).
namespace request_frame_info {
inline constexpr std::uint8_t barrier = 0;
inline constexpr std::uint8_t durability = 1;
inline constexpr std::uint8_t dcp_stream_id = 2;
inline constexpr std::uint8_t open_tracing_context = 3;
inline constexpr std::uint8_t impersonate_user = 4;
inline constexpr std::uint8_t preserve_ttl = 5;
inline constexpr std::uint8_t impersonate_extra_privilege = 6;
inline constexpr std::uint8_t impersonate_by_token_id = 7;
}  // namespace request_frame_info

// Ids in response framing extras (server → client).
namespace response_frame_info {
inline constexpr std::uint8_t server_recv_send_duration = 0;
inline constexpr std::uint8_t read_units = 1;
inline constexpr std::uint8_t write_units = 2;
inline constexpr std::uint8_t throttle_duration = 3;
}  // namespace response_frame_info

struct frame_info {
  std::uint16_t id = 0;
  std::string_view data;
};

// Splits framing extras into entries; errc::bad_frame_info when an entry's length runs past
// the end. Unknown ids are returned as they are (the caller decides).
result<std::vector<frame_info>> decode_frame_infos(std::string_view framing_extras);

// First entry with `id`, or nullopt (also nullopt when the framing extras are malformed).
std::optional<std::string_view> find_frame_info(std::string_view framing_extras, std::uint16_t id);

// Appends one entry (escaping id/length ≥ 15). Data longer than 270 bytes is a programmer error
// (std::length_error).
void append_frame_info(std::string& framing_extras, std::uint16_t id, std::string_view data);

enum class durability_level : std::uint8_t {
  none = 0x00,
  majority = 0x01,
  majority_and_persist_to_active = 0x02,
  persist_to_majority = 0x03,
};

struct durability_requirement {
  durability_level level = durability_level::majority;
  std::optional<std::uint16_t> timeout_ms;  // absent: server default
};

// Durability data: 1 byte level, optionally followed by a u16 timeout (ms).
std::string encode_durability(const durability_requirement& d);
result<durability_requirement> decode_durability(std::string_view data);

// DCP stream id data: u16 (frame info byte 0x22 + sid).
std::string encode_stream_id(std::uint16_t sid);
result<std::uint16_t> decode_stream_id(std::string_view data);

// Server recv→send duration: encoded = (µs × 2)^(1/1.74), saturating at 0xffff; decoding is
// the inverse and therefore approximate (the wire keeps about 3 significant digits).
std::uint16_t encode_server_duration(std::chrono::microseconds d);
std::chrono::microseconds decode_server_duration(std::uint16_t encoded);
result<std::chrono::microseconds> decode_server_duration(std::string_view data);

}  // namespace cbes::mcbp
