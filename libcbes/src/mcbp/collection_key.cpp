#include "cbes/mcbp/collection_key.hpp"

#include <charconv>

#include "cbes/util/leb128.hpp"

namespace cbes::mcbp {

std::string encode_collection_key(std::uint32_t collection_id, std::string_view key) {
  std::string out;
  out.reserve(util::max_uleb128_u32_size + key.size());
  util::append_uleb128(out, collection_id);
  out.append(key);
  return out;
}

result<collection_key> decode_collection_key(std::string_view wire_key) {
  const auto prefix = util::decode_uleb128(wire_key);
  if (!prefix)
    return errc::bad_leb128;
  return collection_key{prefix->value, wire_key.substr(prefix->size)};
}

std::string format_hex_id(std::uint64_t id) {
  char buf[17];
  const auto r = std::to_chars(buf, buf + sizeof buf, id, 16);
  return std::string(buf, r.ptr);
}

result<std::uint64_t> parse_hex_id(std::string_view text) {
  if (text.empty() || text.size() > 16)
    return errc::bad_value;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
      return errc::bad_value;
  std::uint64_t v = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v, 16);
  if (r.ec != std::errc{} || r.ptr != text.data() + text.size())
    return errc::bad_value;
  return v;
}

}  // namespace cbes::mcbp
