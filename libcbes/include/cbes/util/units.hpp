#pragma once
// Durations and byte sizes as the connector's TOML config writes them (the Java connector's
// rules): durations in Go syntax, case-insensitive, whitespace before a unit ignored, legacy
// units `nanos`/`micros` accepted, never negative; sizes are an integer plus a required unit
// b, k|kb, m|mb, g|gb, t|tb, p|pb in powers of 1024.
//
//   auto d = cbes::util::parse_duration("1h30m");  // 5400 s
//   auto s = cbes::util::parse_size("10mb");       // 10485760
//   if (!s) std::cerr << s.error().message << '\n';
#include <chrono>
#include <cstdint>
#include <string_view>

#include "cbes/util/parse_error.hpp"

namespace cbes::util {

// An error when the text is not a duration (no unit, unknown unit, negative, overflow).
parse_result<std::chrono::nanoseconds> parse_duration(std::string_view text);

// An error when the text is not a size (missing or unknown unit, overflow).
parse_result<std::uint64_t> parse_size(std::string_view text);

}  // namespace cbes::util
