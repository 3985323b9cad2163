#include "cbes/util/crc32.hpp"

#include <array>

namespace cbes::util {
namespace {

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit)
      c = (c & 1U) != 0 ? 0xedb88320U ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}

constexpr auto crc_table = make_table();

}  // namespace

std::uint32_t crc32(std::string_view bytes) {
  return crc32(bytes, 0);
}

std::uint32_t crc32(std::string_view bytes, std::uint32_t previous) {
  std::uint32_t crc = previous ^ 0xffffffffU;
  for (char ch : bytes)
    crc = crc_table[(crc ^ static_cast<std::uint8_t>(ch)) & 0xffU] ^ (crc >> 8);
  return crc ^ 0xffffffffU;
}

std::uint16_t vbucket_for_key(std::string_view key, std::size_t num_vbuckets) {
  if (num_vbuckets == 0)
    return 0;
  const std::uint32_t hash = (crc32(key) >> 16) & 0x7fffU;
  return static_cast<std::uint16_t>(hash & (num_vbuckets - 1));
}

}  // namespace cbes::util
