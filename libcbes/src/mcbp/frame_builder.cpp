#include "cbes/mcbp/frame_builder.hpp"

#include <stdexcept>

#include "cbes/mcbp/frame.hpp"

namespace cbes::mcbp {

frame_builder& frame_builder::server_duration(std::chrono::microseconds d) {
  std::string data;
  const std::uint16_t encoded = encode_server_duration(d);
  data.push_back(static_cast<char>(encoded >> 8));
  data.push_back(static_cast<char>(encoded & 0xffU));
  return frame_info(response_frame_info::server_recv_send_duration, data);
}

std::string frame_builder::build() const {
  header h;
  h.magic = magic_;
  if (!framing_extras_.empty()) {
    // framing extras only exist in the flexible-framing magics.
    if (magic_ == magic::client_request)
      h.magic = magic::alt_client_request;
    else if (magic_ == magic::client_response)
      h.magic = magic::alt_client_response;
    else if (!is_alt(magic_))
      throw std::invalid_argument("mcbp framing extras need magic 0x80/0x81/0x08/0x18");
  }
  const std::size_t key_limit = is_alt(h.magic) ? 0xff : 0xffff;
  if (framing_extras_.size() > 0xff || extras_.size() > 0xff || key_.size() > key_limit)
    throw std::length_error("mcbp frame section too long for its header field");
  const std::uint64_t body =
      framing_extras_.size() + extras_.size() + key_.size() + std::uint64_t{value_.size()};
  if (body > 0xffffffffULL)
    throw std::length_error("mcbp frame body longer than 4 GiB");
  h.opcode = opcode_;
  h.framing_extras_length = static_cast<std::uint8_t>(framing_extras_.size());
  h.key_length = static_cast<std::uint16_t>(key_.size());
  h.extras_length = static_cast<std::uint8_t>(extras_.size());
  h.datatype = datatype_;
  h.vbucket_or_status = vbucket_or_status_;
  h.body_length = static_cast<std::uint32_t>(body);
  h.opaque = opaque_;
  h.cas = cas_;
  const auto hdr = encode_header(h);
  std::string out;
  out.reserve(header_size + body);
  out.append(hdr.data(), hdr.size());
  out += framing_extras_;
  out += extras_;
  out += key_;
  out += value_;
  return out;
}

}  // namespace cbes::mcbp
