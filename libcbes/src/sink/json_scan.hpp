#pragma once
// Internal: one validating pass over raw JSON without building a DOM, used to decide whether
// document content can be passed through as the Elasticsearch source.
#include <cstddef>
#include <string>
#include <string_view>

namespace cbes::sink::detail {

enum class scan_kind {
  object,       // one valid JSON object (plus whitespace)
  not_object,   // does not start with '{' (binary, string, number, array, empty)
  invalid,      // starts with '{' but is not valid JSON, or has data after the object
  big_integer,  // valid, but holds an integer Java cannot hold in a long (>= 2^63 or < -2^63)
};

struct scan_result {
  scan_kind kind = scan_kind::not_object;
  std::string message;           // invalid / big_integer: what and where
  bool has_watched_key = false;  // a top-level member is named `watched_key`
  bool has_line_breaks = false;  // '\n' or '\r' between tokens
};

// Maximum nesting accepted (Jackson's default StreamReadConstraints limit).
inline constexpr std::size_t max_json_depth = 1000;

scan_result scan_json_object(std::string_view text, std::string_view watched_key);

}  // namespace cbes::sink::detail
