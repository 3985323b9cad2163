#pragma once
// Durations and byte sizes as the connector's TOML config writes them
// (java-connector-behaviour.md §4): durations in Go syntax, case-insensitive, whitespace
// before a unit ignored, legacy units `nanos`/`micros` accepted; sizes are an integer plus a
// required unit b, k|kb, m|mb, g|gb, t|tb, p|pb in powers of 1024.
//
//   auto d = cbes::util::parse_duration("1h30m");  // 5400 s
//   auto s = cbes::util::parse_size("10mb");       // 10485760
#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace cbes::util {

// nullopt when the text is not a duration (no unit, unknown unit, negative, overflow).
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);

// nullopt when the text is not a size (missing or unknown unit, overflow).
std::optional<std::uint64_t> parse_size(std::string_view text);

}  // namespace cbes::util
