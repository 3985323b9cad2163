#pragma once
// Durations in Go's time.ParseDuration syntax (https://pkg.go.dev/time#ParseDuration), the
// syntax of Consul's `wait`/`TTL` values and of the connector's config durations.
//
//   auto d = cbes::util::parse_go_duration("1h2m3.5s");  // 3723500 ms
//   auto e = cbes::util::parse_go_duration("15");        // error: missing unit
//   if (!e) std::cerr << e.error().message << '\n';
#include <chrono>
#include <string_view>

#include "cbes/util/parse_error.hpp"

namespace cbes::util {

// An optional sign, then one or more decimal numbers, each with an optional fraction and a unit
// ns, us (or µs), ms, s, m, h, e.g. "300ms", "-1.5h", "2h45m". A bare "0" needs no unit. The
// arithmetic is Go's: whole numbers exact, fractions rounded towards zero to the nanosecond;
// anything beyond ±2^63 ns is out of range.
parse_result<std::chrono::nanoseconds> parse_go_duration(std::string_view text);

}  // namespace cbes::util
