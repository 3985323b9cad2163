#pragma once
// Builds the bytes of one frame. Framing extras switch 0x80/0x81 to their flexible-framing
// forms 0x08/0x18 automatically (kv_engine's protocol docs).
//
//   std::string bytes =
//   frame_builder::request(opcode::get).vbucket(12).opaque(7).key("doc").build(); std::string reply
//   = frame_builder::response(opcode::get, status::key_enoent).opaque(7).build();
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "cbes/mcbp/frame_info.hpp"
#include "cbes/mcbp/magic.hpp"
#include "cbes/mcbp/opcode.hpp"
#include "cbes/mcbp/status.hpp"

namespace cbes::mcbp {

class frame_builder {
 public:
  frame_builder(mcbp::magic m, std::uint8_t opcode) : magic_(m), opcode_(opcode) {}

  // Client request (0x80, or 0x08 once framing extras are added).
  static frame_builder request(mcbp::opcode op) {
    return {magic::client_request, static_cast<std::uint8_t>(op)};
  }
  // Response to a client request (0x81 / 0x18).
  static frame_builder response(mcbp::opcode op, mcbp::status s = status::success) {
    frame_builder b{magic::client_response, static_cast<std::uint8_t>(op)};
    b.status(s);
    return b;
  }
  // Server-initiated request (0x82), e.g. a cluster map push.
  static frame_builder server_request(mcbp::server_opcode op) {
    return {magic::server_request, static_cast<std::uint8_t>(op)};
  }

  frame_builder& opaque(std::uint32_t v) { return opaque_ = v, *this; }
  frame_builder& vbucket(std::uint16_t v) { return vbucket_or_status_ = v, *this; }
  frame_builder& status(mcbp::status s) {
    return vbucket_or_status_ = static_cast<std::uint16_t>(s), *this;
  }
  frame_builder& cas(std::uint64_t v) { return cas_ = v, *this; }
  frame_builder& datatype(std::uint8_t v) { return datatype_ = v, *this; }
  frame_builder& extras(std::string_view v) { return extras_.assign(v), *this; }
  frame_builder& key(std::string_view v) { return key_.assign(v), *this; }
  frame_builder& value(std::string_view v) { return value_.assign(v), *this; }

  // Raw framing extras / one FrameInfo entry / typed entries.
  frame_builder& framing_extras(std::string_view v) { return framing_extras_.assign(v), *this; }
  frame_builder& frame_info(std::uint16_t id, std::string_view data) {
    return append_frame_info(framing_extras_, id, data), *this;
  }
  frame_builder& durability(const durability_requirement& d) {
    return frame_info(request_frame_info::durability, encode_durability(d));
  }
  frame_builder& stream_id(std::uint16_t sid) {
    return frame_info(request_frame_info::dcp_stream_id, encode_stream_id(sid));
  }
  frame_builder& preserve_ttl() { return frame_info(request_frame_info::preserve_ttl, {}); }
  frame_builder& server_duration(std::chrono::microseconds d);

  // The frame's bytes. Sections longer than their header fields allow (extras > 255, key >
  // 65535, or > 255 with framing extras, framing extras > 255) are programmer errors:
  // std::length_error.
  std::string build() const;

 private:
  mcbp::magic magic_;
  std::uint8_t opcode_;
  std::uint16_t vbucket_or_status_ = 0;
  std::uint32_t opaque_ = 0;
  std::uint64_t cas_ = 0;
  std::uint8_t datatype_ = 0;
  std::string framing_extras_, extras_, key_, value_;
};

}  // namespace cbes::mcbp
