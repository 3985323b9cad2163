#include "cbes/mcbp/frame.hpp"

#include "bytes.hpp"
#include "cbes/mcbp/datatype.hpp"

namespace cbes::mcbp {

using detail::load_u16;
using detail::load_u32;
using detail::load_u64;

result<header> decode_header(std::string_view bytes) {
  if (bytes.size() < header_size)
    return errc::truncated;
  const auto m = to_magic(static_cast<std::uint8_t>(bytes[0]));
  if (!m)
    return errc::bad_magic;
  header h;
  h.magic = *m;
  h.opcode = static_cast<std::uint8_t>(bytes[1]);
  // a receiver must switch on magic before reading bytes 2–3.
  if (is_alt(*m)) {
    h.framing_extras_length = static_cast<std::uint8_t>(bytes[2]);
    h.key_length = static_cast<std::uint8_t>(bytes[3]);
  } else {
    h.key_length = load_u16(bytes, 2);
  }
  h.extras_length = static_cast<std::uint8_t>(bytes[4]);
  h.datatype = static_cast<std::uint8_t>(bytes[5]);
  h.vbucket_or_status = load_u16(bytes, 6);
  h.body_length = load_u32(bytes, 8);
  h.opaque = load_u32(bytes, 12);
  h.cas = load_u64(bytes, 16);
  if ((h.datatype & ~datatype::all) != 0)
    return errc::bad_datatype;
  const std::uint64_t sections =
      std::uint64_t{h.framing_extras_length} + h.extras_length + h.key_length;
  if (sections > h.body_length)
    return errc::inconsistent_lengths;
  return h;
}

std::array<char, header_size> encode_header(const header& h) {
  std::string out;
  out.reserve(header_size);
  detail::put_u8(out, static_cast<std::uint8_t>(h.magic));
  detail::put_u8(out, h.opcode);
  if (is_alt(h.magic)) {
    detail::put_u8(out, h.framing_extras_length);
    detail::put_u8(out, static_cast<std::uint8_t>(h.key_length));
  } else {
    detail::put_u16(out, h.key_length);
  }
  detail::put_u8(out, h.extras_length);
  detail::put_u8(out, h.datatype);
  detail::put_u16(out, h.vbucket_or_status);
  detail::put_u32(out, h.body_length);
  detail::put_u32(out, h.opaque);
  detail::put_u64(out, h.cas);
  std::array<char, header_size> a{};
  out.copy(a.data(), header_size);
  return a;
}

namespace detail {

// Slices a complete frame whose header already validated; `bytes` holds exactly the frame.
frame slice_frame(const header& h, std::string_view bytes) {
  frame f;
  f.header = h;
  f.bytes = bytes;
  std::string_view body = bytes.substr(header_size);
  f.framing_extras = body.substr(0, h.framing_extras_length);
  body.remove_prefix(h.framing_extras_length);
  f.extras = body.substr(0, h.extras_length);
  body.remove_prefix(h.extras_length);
  f.key = body.substr(0, h.key_length);
  body.remove_prefix(h.key_length);
  f.value = body;
  return f;
}

}  // namespace detail

result<frame> decode_frame(std::string_view bytes) {
  auto h = decode_header(bytes);
  if (!h)
    return h.error();
  const std::uint64_t total = std::uint64_t{header_size} + h->body_length;
  if (bytes.size() < total)
    return errc::truncated;
  if (bytes.size() > total)
    return errc::trailing_bytes;
  return detail::slice_frame(*h, bytes);
}

owned_frame::owned_frame(const frame& f) : bytes_(f.bytes), frame_(f) {
  rebind();
}

owned_frame::owned_frame(const owned_frame& other) : bytes_(other.bytes_), frame_(other.frame_) {
  rebind();
}

owned_frame& owned_frame::operator=(const owned_frame& other) {
  if (this != &other) {
    bytes_ = other.bytes_;
    frame_ = other.frame_;
    rebind();
  }
  return *this;
}

owned_frame::owned_frame(owned_frame&& other) noexcept
    : bytes_(std::move(other.bytes_)), frame_(other.frame_) {
  rebind();
  other.bytes_.clear();
  other.frame_ = {};
}

owned_frame& owned_frame::operator=(owned_frame&& other) noexcept {
  if (this != &other) {
    bytes_ = std::move(other.bytes_);
    frame_ = other.frame_;
    rebind();
    other.bytes_.clear();
    other.frame_ = {};
  }
  return *this;
}

void owned_frame::rebind() {
  if (bytes_.size() >= header_size)
    frame_ = detail::slice_frame(frame_.header, bytes_);
}

}  // namespace cbes::mcbp
