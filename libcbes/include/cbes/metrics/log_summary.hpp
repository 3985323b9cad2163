#pragma once
// The line the connector logs to `cbes.metrics` every `logInterval`: what an operator scans
// for first, as key=value pairs so that it greps and parses.
//
//   cbes::metrics::log_summary summary(m);          // counts from now on
//   ... every logInterval:
//   log.info("{}", summary.line());
//   // docs/s=1520.3 MB/s=1.87 backlog=0 writeQueue=12 esWait=0.0s rejected=2(+1)
//   //   retries=0(+0) latency.avg=3.1ms latency.max=41.0ms
//
// Rates and averages cover the time since the previous line; rejected/retries are totals with
// the change since the previous line. docs/s counts documents Elasticsearch accepted (the
// `cbes.latency` samples). Not thread-safe: one caller (the log timer).
#include <chrono>
#include <cstdint>
#include <string>

#include "cbes/metrics/connector_metrics.hpp"

namespace cbes::metrics {

class log_summary {
 public:
  using clock = std::chrono::steady_clock;
  explicit log_summary(const connector_metrics& m, clock::time_point now = clock::now());

  std::string line(clock::time_point now = clock::now());

 private:
  struct counts {
    std::uint64_t docs = 0, latency_ns = 0, bytes = 0, rejected = 0, retries = 0;
  };
  counts read() const;

  const connector_metrics& m_;
  clock::time_point last_;
  counts previous_;
};

}  // namespace cbes::metrics
