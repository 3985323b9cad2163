#pragma once
// JSON text the metrics endpoints share: compact, or indented for `?pretty` and `/info`
// (Boost.JSON only writes compact text), with doubles as Jackson writes them ("0.0", "2.5", not
// Boost's "0E0"), and null for values JSON cannot hold (NaN, infinities).
#include <string>

#include <boost/json/value.hpp>

namespace cbes::metrics {

// Compact JSON, or (pretty) two-space indented, one member per line, ending in a newline.
std::string json_text(const boost::json::value& v, bool pretty);

}  // namespace cbes::metrics
