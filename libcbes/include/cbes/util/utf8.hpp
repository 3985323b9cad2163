#pragma once
// UTF-8 well-formedness (Unicode Table 3-7), for text that must be UTF-8 before another parser
// sees it: TOML configs (the TOML spec requires UTF-8) and Elasticsearch IDs.
//
//   std::size_t bad = 0;
//   cbes::util::utf8_sequence("\xc3\xa9", bad);      // 2
//   cbes::util::first_invalid_utf8("ok \xff");       // 3
#include <cstddef>
#include <optional>
#include <string_view>

namespace cbes::util {

// Length of the well-formed UTF-8 sequence at the start of `s` (1-4), or 0 with `bad` set to the
// length of its maximal ill-formed subpart (what one U+FFFD replaces). `s` must not be empty.
std::size_t utf8_sequence(std::string_view s, std::size_t& bad);

// Offset of the first byte that is not part of well-formed UTF-8; nullopt when all of it is.
std::optional<std::size_t> first_invalid_utf8(std::string_view s);

}  // namespace cbes::util
