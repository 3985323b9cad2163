#pragma once
// One mcbp frame: the fixed 24-byte header plus views of its four body sections
// `[framing extras][extras][key][value]` (kv_engine's protocol docs). A `frame` never owns bytes:
// its views point into the buffer it was decoded from (the parser's, or the caller's).
//
//   auto f = cbes::mcbp::decode_frame(bytes);   // exactly one complete frame
//   if (f && f->opcode() == cbes::mcbp::opcode::hello && f->status() == status::success) ...
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "cbes/mcbp/error.hpp"
#include "cbes/mcbp/magic.hpp"
#include "cbes/mcbp/opcode.hpp"
#include "cbes/mcbp/status.hpp"

namespace cbes::mcbp {

inline constexpr std::size_t header_size = 24;

struct header {
  mcbp::magic magic = magic::client_request;
  std::uint8_t opcode = 0;
  std::uint8_t framing_extras_length = 0;  // always 0 unless the magic is 0x08 / 0x18
  std::uint16_t key_length = 0;
  std::uint8_t extras_length = 0;
  std::uint8_t datatype = 0;
  std::uint16_t vbucket_or_status = 0;  // vbucket in requests, status in responses
  std::uint32_t body_length = 0;        // framing extras + extras + key + value
  std::uint32_t opaque = 0;
  std::uint64_t cas = 0;

  std::size_t value_length() const noexcept {
    return body_length - framing_extras_length - extras_length - key_length;
  }
};

// Decodes and validates a 24-byte header: known magic, known datatype bits, section lengths that
// fit in the body. Does not check the body length against any maximum (the parser does).
result<header> decode_header(std::string_view bytes);

// Writes the 24 header bytes (big-endian); for 0x08/0x18 the key length must be ≤ 255.
std::array<char, header_size> encode_header(const header& h);

struct frame {
  mcbp::header header;
  std::string_view framing_extras;
  std::string_view extras;
  std::string_view key;
  std::string_view value;
  std::string_view bytes;  // the whole frame, header included (e.g. to copy or to count for acks)

  mcbp::magic magic() const noexcept { return header.magic; }
  mcbp::opcode opcode() const noexcept { return static_cast<mcbp::opcode>(header.opcode); }
  mcbp::server_opcode server_opcode() const noexcept {
    return static_cast<mcbp::server_opcode>(header.opcode);
  }
  // Meaningful only for responses (is_response(magic())).
  mcbp::status status() const noexcept {
    return static_cast<mcbp::status>(header.vbucket_or_status);
  }
  // Meaningful only for requests.
  std::uint16_t vbucket() const noexcept { return header.vbucket_or_status; }
  std::uint32_t opaque() const noexcept { return header.opaque; }
  std::uint64_t cas() const noexcept { return header.cas; }
  std::uint8_t datatype() const noexcept { return header.datatype; }
  bool is_request() const noexcept { return mcbp::is_request(header.magic); }
  bool is_response() const noexcept { return mcbp::is_response(header.magic); }
};

// Decodes exactly one complete frame occupying all of `bytes` (truncated → errc::truncated,
// extra bytes → errc::trailing_bytes). The frame's views point into `bytes`.
result<frame> decode_frame(std::string_view bytes);

// A frame that owns its bytes, for keeping a message beyond the parser's next call.
//
//   owned_frame kept{f};           // copies f.bytes
//   use(kept.view().key);
class owned_frame {
 public:
  owned_frame() = default;
  explicit owned_frame(const frame& f);
  owned_frame(const owned_frame& other);
  owned_frame& operator=(const owned_frame& other);
  owned_frame(owned_frame&& other) noexcept;
  owned_frame& operator=(owned_frame&& other) noexcept;

  const frame& view() const noexcept { return frame_; }

 private:
  void rebind();
  std::string bytes_;
  frame frame_;
};

}  // namespace cbes::mcbp
