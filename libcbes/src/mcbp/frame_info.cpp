#include "cbes/mcbp/frame_info.hpp"

#include <cmath>
#include <stdexcept>

#include "bytes.hpp"

namespace cbes::mcbp {

result<std::vector<frame_info>> decode_frame_infos(std::string_view fx) {
  std::vector<frame_info> out;
  detail::reader r{fx};
  while (!r.empty()) {
    const std::uint8_t first = *r.u8();
    std::uint16_t id = first >> 4;
    std::size_t length = first & 0x0fU;
    // Escapes: a nibble of 15 means "15 + the next byte" (kv_engine BinaryProtocol.md).
    if (id == 0x0f) {
      auto more = r.u8();
      if (!more)
        return errc::bad_frame_info;
      id = static_cast<std::uint16_t>(id + *more);
    }
    if (length == 0x0f) {
      auto more = r.u8();
      if (!more)
        return errc::bad_frame_info;
      length += *more;
    }
    auto data = r.take(length);
    if (!data)
      return errc::bad_frame_info;
    out.push_back({id, *data});
  }
  return out;
}

std::optional<std::string_view> find_frame_info(std::string_view fx, std::uint16_t id) {
  auto infos = decode_frame_infos(fx);
  if (!infos)
    return std::nullopt;
  for (const auto& fi : *infos)
    if (fi.id == id)
      return fi.data;
  return std::nullopt;
}

void append_frame_info(std::string& fx, std::uint16_t id, std::string_view data) {
  if (id > 0x0f + 0xff || data.size() > 0x0f + 0xff)
    throw std::length_error("mcbp frame info id or data too long");
  const std::uint8_t id_nibble = id >= 0x0f ? 0x0f : static_cast<std::uint8_t>(id);
  const std::uint8_t len_nibble =
      data.size() >= 0x0f ? 0x0f : static_cast<std::uint8_t>(data.size());
  detail::put_u8(fx, static_cast<std::uint8_t>((id_nibble << 4) | len_nibble));
  if (id_nibble == 0x0f)
    detail::put_u8(fx, static_cast<std::uint8_t>(id - 0x0f));
  if (len_nibble == 0x0f)
    detail::put_u8(fx, static_cast<std::uint8_t>(data.size() - 0x0f));
  fx.append(data);
}

std::string encode_durability(const durability_requirement& d) {
  std::string out;
  detail::put_u8(out, static_cast<std::uint8_t>(d.level));
  if (d.timeout_ms)
    detail::put_u16(out, *d.timeout_ms);
  return out;
}

result<durability_requirement> decode_durability(std::string_view data) {
  if (data.size() != 1 && data.size() != 3)
    return errc::bad_frame_info;
  const auto level = static_cast<std::uint8_t>(data[0]);
  if (level > 0x03)
    return errc::bad_frame_info;
  durability_requirement d;
  d.level = static_cast<durability_level>(level);
  if (data.size() == 3)
    d.timeout_ms = detail::load_u16(data, 1);
  return d;
}

std::string encode_stream_id(std::uint16_t sid) {
  std::string out;
  detail::put_u16(out, sid);
  return out;
}

result<std::uint16_t> decode_stream_id(std::string_view data) {
  if (data.size() != 2)
    return errc::bad_frame_info;
  return detail::load_u16(data, 0);
}

// encoded = (µs × 2)^(1/1.74).
std::uint16_t encode_server_duration(std::chrono::microseconds d) {
  if (d.count() <= 0)
    return 0;
  const double encoded = std::pow(static_cast<double>(d.count()) * 2.0, 1.0 / 1.74);
  if (encoded >= 65535.0)
    return 0xffff;
  return static_cast<std::uint16_t>(std::lround(encoded));
}

std::chrono::microseconds decode_server_duration(std::uint16_t encoded) {
  const double us = std::pow(static_cast<double>(encoded), 1.74) / 2.0;
  return std::chrono::microseconds{std::llround(us)};
}

result<std::chrono::microseconds> decode_server_duration(std::string_view data) {
  if (data.size() != 2)
    return errc::bad_frame_info;
  return decode_server_duration(detail::load_u16(data, 0));
}

}  // namespace cbes::mcbp
