#include "cbes/metrics/log_summary.hpp"

#include <cstdio>

namespace cbes::metrics {

log_summary::log_summary(const connector_metrics& m, clock::time_point now)
    : m_(m), last_(now), previous_(read()) {}

log_summary::counts log_summary::read() const {
  return counts{.docs = m_.latency.count(),
                .latency_ns = m_.latency.total_ns(),
                .bytes = m_.throughput_bytes.value(),
                .rejected = m_.doc_rejected.value(),
                .retries = m_.doc_write_retry.value()};
}

std::string log_summary::line(clock::time_point now) {
  const auto c = read();
  const double seconds = std::chrono::duration<double>(now - last_).count();
  const auto per_second = [&](std::uint64_t delta) {
    return seconds > 0 ? static_cast<double>(delta) / seconds : 0.0;
  };
  const auto docs = c.docs - previous_.docs;
  const double avg_ms =
      docs == 0 ? 0.0 : static_cast<double>(c.latency_ns - previous_.latency_ns) / 1e6 / docs;
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "docs/s=%.1f MB/s=%.2f backlog=%.0f writeQueue=%.0f esWait=%.1fs "
                "rejected=%llu(+%llu) retries=%llu(+%llu) latency.avg=%.1fms latency.max=%.1fms",
                per_second(docs), per_second(c.bytes - previous_.bytes) / 1e6, m_.backlog.value(),
                m_.write_queue.value(), m_.es_wait.seconds(now),
                static_cast<unsigned long long>(c.rejected),
                static_cast<unsigned long long>(c.rejected - previous_.rejected),
                static_cast<unsigned long long>(c.retries),
                static_cast<unsigned long long>(c.retries - previous_.retries), avg_ms,
                static_cast<double>(m_.latency.max_ns()) / 1e6);
  last_ = now;
  previous_ = c;
  return buf;
}

}  // namespace cbes::metrics
