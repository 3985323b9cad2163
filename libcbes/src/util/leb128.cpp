#include "cbes/util/leb128.hpp"

namespace cbes::util {

void append_uleb128(std::string& out, std::uint32_t value) {
  do {
    auto byte = static_cast<std::uint8_t>(value & 0x7fU);
    value >>= 7;
    if (value != 0)
      byte |= 0x80U;
    out.push_back(static_cast<char>(byte));
  } while (value != 0);
}

std::string encode_uleb128(std::uint32_t value) {
  std::string out;
  append_uleb128(out, value);
  return out;
}

std::optional<uleb128_decoded> decode_uleb128(std::string_view bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < bytes.size() && i < max_uleb128_u32_size; ++i) {
    const auto byte = static_cast<std::uint8_t>(bytes[i]);
    value |= static_cast<std::uint64_t>(byte & 0x7fU) << (7 * i);
    if ((byte & 0x80U) != 0)
      continue;
    // A zero final group after the first byte means a shorter encoding existed.
    if (i > 0 && byte == 0)
      return std::nullopt;
    if (value > 0xffffffffULL)
      return std::nullopt;
    return uleb128_decoded{static_cast<std::uint32_t>(value), i + 1};
  }
  return std::nullopt;
}

}  // namespace cbes::util
