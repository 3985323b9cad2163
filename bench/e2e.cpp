// End to end: `cbes-sandbox` (a separate process) holds N JSON documents of ~1 KiB over 1024
// vbuckets and an Elasticsearch in count-only mode; `cbes` (member 1 of 1, the default config,
// one type rule) replicates them from zero checkpoints until Elasticsearch has acknowledged
// every one. Prints wall seconds, documents/s, the connector's CPU µs per document (user + sys
// of the cbes process only, from /proc), its peak RSS, and the fakes' CPU over the same time.
//
//   build/bin/bench-e2e [docs=1000000] [document bytes=1024] [extra connector TOML]
//
//   bench-e2e 1000000 1024 $'[elasticsearch.bulkRequestLimits]\nconcurrentRequests = 4'
//
// Peak RSS independent of N: run it with 250000 and 1000000 and compare.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include <boost/json/parse.hpp>

#include "bench_system.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string bin(const std::string& name) {
  return std::string(CBES_BIN_DIR) + "/" + name;
}

std::uint64_t acknowledged_items(int control_port) {
  auto v = boost::json::parse(cbes::bench::http_get(control_port, "/elasticsearch/stats"));
  return v.at("bulk_items").to_number<std::uint64_t>();
}

}  // namespace

int main(int argc, char** argv) try {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines show up as they happen
  const std::size_t docs = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const std::size_t size = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1024;
  if (docs == 0 || size < 200) {
    std::fprintf(stderr, "usage: bench-e2e [docs >= 1] [document bytes >= 200] [extra TOML]\n");
    return 2;
  }
  std::printf("%zu documents of %zu bytes over 1024 vbuckets; cbes 1/1, default config\n", docs,
              size);
  const auto load0 = std::chrono::steady_clock::now();
  cbes::test::process sandbox({bin("cbes-sandbox"), "--services=couchbase,elasticsearch",
                               "--kv-port=0", "--mgmt-port=0", "--es-port=0", "--control-port=0",
                               "--es-count-only", "--load-documents=" + std::to_string(docs),
                               "--document-size=" + std::to_string(size)});
  // Each match points into the process's last matched line: copied before the next wait.
  auto found = [&](const char* re, std::chrono::seconds limit) -> std::string {
    auto m = sandbox.wait_for(std::regex(re), limit);
    if (!m)
      throw std::runtime_error("cbes-sandbox did not start: " + sandbox.errors());
    return (*m)[1];
  };
  const std::string kv = found("ready: couchbase couchbase://([0-9.:]+)", 600s);
  const std::string es_url = found("ready: elasticsearch (http://[0-9.:]+)", 60s);
  const int control_port = cbes::bench::url_port(found("ready: control (http://[0-9.:]+)", 60s));
  std::printf("sandbox loaded in %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - load0).count());

  const auto dir = fs::temp_directory_path() / ("cbes-bench-e2e-" + std::to_string(::getpid()));
  const auto config = cbes::bench::write_connector_config(dir, kv, es_url, argc > 3 ? argv[3] : "");
  const double fakes0 = cbes::bench::process_cpu_seconds(sandbox.pid());
  const auto t0 = std::chrono::steady_clock::now();
  // CBES_BENCH_WRAPPER runs cbes under a tool, e.g. "valgrind --tool=callgrind": instruction
  // counts do not vary from run to run as times do on a shared machine.
  std::vector<std::string> command;
  if (const char* wrapper = std::getenv("CBES_BENCH_WRAPPER")) {
    std::istringstream words(wrapper);
    for (std::string w; words >> w;)
      command.push_back(w);
  }
  command.insert(command.end(), {bin("cbes"), "--config", config.string()});
  cbes::test::process cbes(command);
  std::uint64_t done = 0;
  double cbes_cpu = 0, peak_rss = 0;
  for (;;) {
    // What a finished run costs is read before cbes is stopped: its shutdown is not the job.
    cbes_cpu = cbes::bench::process_cpu_seconds(cbes.pid());
    peak_rss = cbes::bench::process_memory_mib(cbes.pid());
    done = acknowledged_items(control_port);
    if (done >= docs)
      break;
    if (auto code = cbes.wait_exit(20ms)) {
      std::fprintf(stderr, "bench-e2e: cbes exited with %d after %llu documents: %s\n", *code,
                   static_cast<unsigned long long>(done), cbes.errors().c_str());
      return 1;
    }
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double fakes = cbes::bench::process_cpu_seconds(sandbox.pid()) - fakes0;
  cbes.signal(SIGTERM);
  const auto code = cbes.wait_exit(60s);
  sandbox.signal(SIGTERM);
  sandbox.wait_exit(60s);
  fs::remove_all(dir);

  const auto n = static_cast<double>(docs);
  std::printf("%-28s %12s\n", "measure", "value");
  std::printf("%-28s %12.2f\n", "wall seconds", wall);
  std::printf("%-28s %12.0f\n", "documents/s (wall)", n / wall);
  std::printf("%-28s %12.2f\n", "cbes CPU us/document", cbes_cpu * 1e6 / n);
  std::printf("%-28s %12.1f\n", "cbes CPU seconds", cbes_cpu);
  std::printf("%-28s %12.1f\n", "cbes peak RSS MiB", peak_rss);
  std::printf("%-28s %12.1f\n", "fakes CPU seconds", fakes);
  std::printf("%-28s %12.2f\n", "fakes CPU us/document", fakes * 1e6 / n);
  if (code != 0) {
    std::fprintf(stderr, "bench-e2e: cbes did not stop cleanly on SIGTERM (%d): %s\n",
                 code.value_or(-1), cbes.errors().c_str());
    return 1;
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench-e2e: %s\n", e.what());
  return 1;
}
