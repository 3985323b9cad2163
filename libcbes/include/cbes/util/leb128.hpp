#pragma once
// Unsigned LEB128 for 32-bit values: 7 bits per byte, least significant group first, bit 0x80
// = "more bytes follow". Couchbase prefixes collection-aware keys with it
// (kv_engine's protocol docs); only canonical (shortest) encodings of at most 5 bytes are valid.
//
//   std::string b = cbes::util::encode_uleb128(0x555);        // "\xd5\x0a"
//   auto d = cbes::util::decode_uleb128("\xd5\x0a" "rest");    // d->value == 0x555, d->size == 2
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cbes::util {

// Longest encoding of a u32.
inline constexpr std::size_t max_uleb128_u32_size = 5;

// Appends the canonical encoding of `value` to `out`.
void append_uleb128(std::string& out, std::uint32_t value);

// The canonical encoding of `value`.
std::string encode_uleb128(std::uint32_t value);

struct uleb128_decoded {
  std::uint32_t value = 0;
  std::size_t size = 0;  // bytes consumed from the front of the input
};

// Decodes the prefix of `bytes`; nullopt when it is truncated, longer than 5 bytes, overflows
// 32 bits or is not the shortest encoding (e.g. "\x80\x00").
std::optional<uleb128_decoded> decode_uleb128(std::string_view bytes);

}  // namespace cbes::util
