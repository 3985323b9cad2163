// Steady-state latency: `cbes-sandbox` (Couchbase, a separate process), an Elasticsearch fake in
// this process (count-only), and `cbes` (1/1, default config) streaming. A writer upserts 1 KiB
// documents through the sandbox's KV port at a steady rate; each document's latency runs from
// the moment its write is sent to the moment Elasticsearch acknowledges its bulk item. Prints
// p50 / p99 / p99.9 / max, the documents that never arrived, and the connector's CPU and RSS.
//
//   build/bin/bench-latency [writes/s=10000] [seconds=60]
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>

#include "bench_system.hpp"
#include "bench_writer.hpp"
#include "cbes/testkit/elasticsearch.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

int main(int argc, char** argv) try {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines show up as they happen
  const double rate = argc > 1 ? std::strtod(argv[1], nullptr) : 10000;
  const double seconds = argc > 2 ? std::strtod(argv[2], nullptr) : 60;
  if (rate <= 0 || seconds <= 0) {
    std::fprintf(stderr, "usage: bench-latency [writes/s > 0] [seconds > 0]\n");
    return 2;
  }
  const auto capacity = static_cast<std::size_t>(rate * (seconds + 30)) + 1000;
  cbes::bench::arrival_log log(capacity);

  cbes::testkit::elasticsearch_options eo;
  eo.port = 0;
  eo.count_only = true;
  eo.on_item_acknowledged = [&log](std::string_view, std::string_view id) { log.acknowledged(id); };
  cbes::testkit::elasticsearch es(eo);
  es.start();

  cbes::test::process sandbox({std::string(CBES_BIN_DIR) + "/cbes-sandbox", "--services=couchbase",
                               "--kv-port=0", "--mgmt-port=0", "--control-port=-1"});
  auto cb = sandbox.wait_for(std::regex("ready: couchbase couchbase://([0-9.:]+)"), 60s);
  if (!cb) {
    std::fprintf(stderr, "bench-latency: cbes-sandbox did not start: %s\n",
                 sandbox.errors().c_str());
    return 1;
  }
  const std::string kv = (*cb)[1];
  const auto dir = fs::temp_directory_path() / ("cbes-bench-latency-" + std::to_string(::getpid()));
  const auto config = cbes::bench::write_connector_config(dir, kv, es.url());
  cbes::test::process cbes({std::string(CBES_BIN_DIR) + "/cbes", "--config", config.string()});

  // Warm-up: writes until one arrives, so the figures start with every stream open.
  std::size_t first = 0;
  {
    cbes::bench::paced_writer warm("couchbase://" + kv, log, 100);
    while (true) {
      std::this_thread::sleep_for(10ms);  // a benchmark's pacing, not a test's wait
      if (!warm.error().empty())
        throw std::runtime_error("writer: " + warm.error());
      bool arrived = false;
      for (std::size_t n = 0; n < warm.issued(); ++n)
        arrived = arrived || log.acks(n) > 0;
      if (arrived)
        break;
      if (auto code = cbes.wait_exit(1ms))
        throw std::runtime_error("cbes exited with " + std::to_string(*code) + ": " +
                                 cbes.errors());
    }
    warm.stop();
    first = warm.issued();
  }
  std::printf("%.0f writes/s of 1 KiB for %.0f s through the KV port; cbes 1/1, default config\n",
              rate, seconds);
  const double cpu0 = cbes::bench::process_cpu_seconds(cbes.pid());
  std::size_t issued = 0;
  {
    // The measured writes continue the numbering after the warm-up ones.
    cbes::bench::paced_writer writer("couchbase://" + kv, log, rate, first);
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    writer.stop();
    issued = writer.issued();
    if (writer.failed())
      std::printf("writes that failed: %zu\n", writer.failed());
  }
  // Waits (bounded) for the stragglers.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  std::size_t missing = 0;
  do {
    missing = 0;
    for (std::size_t n = first; n < first + issued; ++n)
      missing += log.acks(n) == 0;
    if (missing == 0)
      break;
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < deadline);
  const double cpu = cbes::bench::process_cpu_seconds(cbes.pid()) - cpu0;
  const double rss = cbes::bench::process_memory_mib(cbes.pid());

  std::vector<double> ms;
  for (std::size_t n = first; n < first + issued; ++n)
    if (log.acks(n) > 0)
      ms.push_back(static_cast<double>(log.first_ack_at(n) - log.written_at(n)) / 1e6);
  std::sort(ms.begin(), ms.end());
  cbes.signal(SIGTERM);
  cbes.wait_exit(60s);
  sandbox.signal(SIGTERM);
  sandbox.wait_exit(60s);
  es.stop();
  fs::remove_all(dir);

  std::printf("%-28s %12s\n", "measure", "value");
  std::printf("%-28s %12zu\n", "documents written", issued);
  std::printf("%-28s %12zu\n", "never acknowledged", missing);
  std::printf("%-28s %12.2f\n", "latency p50 ms", cbes::bench::percentile(ms, 50));
  std::printf("%-28s %12.2f\n", "latency p99 ms", cbes::bench::percentile(ms, 99));
  std::printf("%-28s %12.2f\n", "latency p99.9 ms", cbes::bench::percentile(ms, 99.9));
  std::printf("%-28s %12.2f\n", "latency max ms", ms.empty() ? 0.0 : ms.back());
  std::printf("%-28s %12.2f\n", "cbes CPU us/document",
              issued ? cpu * 1e6 / static_cast<double>(issued) : 0.0);
  std::printf("%-28s %12.1f\n", "cbes peak RSS MiB", rss);
  return missing == 0 ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench-latency: %s\n", e.what());
  return 1;
}
