#pragma once
// The Java connector's `/metrics` JSON: Dropwizard's metrics-json layout
// `{"version":"4.0.0","gauges":{},"counters":{},"histograms":{},"meters":{},"timers":{}}` with
// Micrometer's names (camel case after the first segment, tags in braces): counters are meters
// (count and rates per second), timers carry count, max and mean in milliseconds and rates, gauges
// a value. Percentiles, min and stddev are left out: the timers do not keep samples.
//
//   std::string body = cbes::metrics::dropwizard_json(reg);              // one line
//   std::string nice = cbes::metrics::dropwizard_json(reg.snapshot(), true);  // `?pretty`
//   // {"version":"4.0.0", ..., "meters":{"cbes.throughputBytes{bucket=travel-sample}":
//   //   {"count":512,"m15_rate":..., "units":"events/second"}}, ...}
#include <string>
#include <vector>

#include "cbes/metrics/registry.hpp"

namespace cbes::metrics {

// "cbes.throughput.bytes" with tags {bucket=b} -> "cbes.throughputBytes{bucket=b}".
std::string dropwizard_name(const meter_snapshot& m);

// Every meter (also those hidden from Prometheus); `pretty` indents by two spaces.
std::string dropwizard_json(const std::vector<meter_snapshot>& meters, bool pretty = false);
std::string dropwizard_json(const registry& r, bool pretty = false);

}  // namespace cbes::metrics
