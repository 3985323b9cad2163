#pragma once
// Collection-aware keys: `uleb128(collection_id) ++ key` on every key of a connection that
// negotiated HELLO Collections (kv_engine's protocol docs).
//
//   std::string wire = cbes::mcbp::encode_collection_key(8, "beer");   // "\x08beer"
//   auto k = cbes::mcbp::decode_collection_key(f.key);                  // k->collection_id == 8
#include <cstdint>
#include <string>
#include <string_view>

#include "cbes/mcbp/error.hpp"

namespace cbes::mcbp {

// Collection ids: default collection / scope are 0; 1–7 are reserved.
inline constexpr std::uint32_t default_collection_id = 0;
inline constexpr std::uint32_t default_scope_id = 0;

std::string encode_collection_key(std::uint32_t collection_id, std::string_view key);

struct collection_key {
  std::uint32_t collection_id = 0;
  std::string_view key;  // points into the decoded bytes
};

// errc::bad_leb128 when the prefix is truncated, too long or not canonical.
result<collection_key> decode_collection_key(std::string_view wire_key);

// Lowercase hex without `0x`, as ids appear in JSON ("1c"); parse refuses anything else.
std::string format_hex_id(std::uint64_t id);
result<std::uint64_t> parse_hex_id(std::string_view text);

}  // namespace cbes::mcbp
