// The periodic `cbes.metrics` log line: rates over the interval, totals with their change.
#include <catch2/catch.hpp>

#include "cbes/metrics/log_summary.hpp"

using namespace cbes::metrics;
using namespace std::chrono_literals;

TEST_CASE("the log line reports docs/s, MB/s and latency over the interval since the last line") {
  registry reg;
  connector_metrics m(reg);
  m.latency.record(100ms);  // before the summary starts: not in its first interval
  const auto t0 = registry::clock::now();
  log_summary summary(m, t0);
  for (int i = 0; i < 20; ++i)
    m.latency.record(2ms);
  m.throughput_bytes.increment(4'000'000);
  m.doc_rejected.increment(3);
  m.write_queue.set(12);
  m.backlog.set(345);
  const auto first = summary.line(t0 + 10s);
  CHECK(first ==
        "docs/s=2.0 MB/s=0.40 backlog=345 writeQueue=12 esWait=0.0s rejected=3(+3) "
        "retries=0(+0) latency.avg=2.0ms latency.max=100.0ms");

  m.doc_rejected.increment();
  m.es_wait.start(t0 + 15s);
  const auto second = summary.line(t0 + 20s);
  CHECK(second.find("docs/s=0.0 ") == 0);
  CHECK(second.find(" rejected=4(+1) ") != std::string::npos);
  CHECK(second.find(" esWait=5.0s ") != std::string::npos);
  CHECK(second.find(" latency.avg=0.0ms ") != std::string::npos);
}
