#pragma once
// Prometheus text exposition format 0.0.4 with the Java connector's names (Micrometer's
// Prometheus naming): dots become underscores, counters end in `_total`, timers are summaries in
// seconds (`_seconds_count`, `_seconds_sum`) plus a `_seconds_max` gauge, gauges keep their name.
// Every family gets `# HELP` and `# TYPE`; label values are escaped (backslash, quote, newline).
//
//   cbes::metrics::registry reg(cbes::metrics::tags{{"bucket", "travel-sample"}});
//   reg.counter("cbes.doc.rejected").increment();
//   std::string text = cbes::metrics::prometheus_text(reg);
//   // # HELP cbes_doc_rejected_total
//   // # TYPE cbes_doc_rejected_total counter
//   // cbes_doc_rejected_total{bucket="travel-sample"} 1
#include <string>
#include <string_view>
#include <vector>

#include "cbes/metrics/registry.hpp"

namespace cbes::metrics {

// The Content-Type a Prometheus server expects for this format.
inline constexpr std::string_view prometheus_content_type =
    "text/plain; version=0.0.4; charset=utf-8";

// "cbes.throughput.bytes" -> "cbes_throughput_bytes": characters outside [a-zA-Z0-9_:] become
// '_', and a leading digit gets a '_' in front (the exposition format's metric name rule).
std::string prometheus_name(std::string_view dotted);

// Renders the meters whose `prometheus` flag is set.
std::string prometheus_text(const std::vector<meter_snapshot>& meters);
std::string prometheus_text(const registry& r);

}  // namespace cbes::metrics
