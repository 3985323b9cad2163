// Throughput and CPU cost of the Elasticsearch sink end to end: 1 KiB JSON documents through
// type rules, shaping, batching, HTTP keep-alive and response classification into the testkit
// fake in count-only mode. Then, against the same fake, the official Node.js client's
// `helpers.bulk` (@elastic/elasticsearch 8, bench/node/) pushes the same documents, and the
// ratio is printed. Without node/npm the comparison is skipped (exit 0).
//
//   build/bin/bench-sink [docs] [concurrentRequests]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include "bench_util.hpp"
#include "cbes/sink/sink.hpp"
#include "cbes/testkit/elasticsearch.hpp"

namespace {

using cbes::bench::one_kib_document;
using cbes::bench::thread_cpu_seconds;

namespace fs = std::filesystem;
namespace asio = boost::asio;

struct figures {
  double docs_per_second = 0;
  double cpu_us_per_doc = 0;
};

std::optional<figures> run_sink(const std::string& host, std::size_t docs, int lanes) {
  asio::io_context io;
  cbes::sink::sink_settings settings;
  settings.types.push_back({.prefix = "", .index = "bench"});
  settings.doc_structure.document_content_at_top_level = true;  // raw pass-through
  settings.limits.concurrent_requests = lanes;
  std::size_t done = 0;
  std::shared_ptr<cbes::sink::sink> s;
  const std::string content = one_kib_document();
  std::optional<cbes::sink::error> failure;
  const double cpu0 = thread_cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        cbes::sink::connection_settings conn;
        conn.hosts = {host};
        cbes::sink::sink_callbacks callbacks;
        callbacks.on_done = [&](std::span<const cbes::sink::event_done> d) { done += d.size(); };
        auto made =
            co_await cbes::sink::sink::connect(io.get_executor(), settings, conn, callbacks);
        if (!made) {
          failure = made.error();
          co_return;
        }
        s = std::move(*made);
        for (std::size_t i = 0; i < docs; ++i) {
          cbes::sink::document_event ev;
          ev.key = "doc_" + std::to_string(i);
          ev.content = content;
          ev.vbucket = static_cast<std::uint16_t>(i % 1024);
          ev.seqno = i / 1024 + 1;
          auto r = co_await s->write(std::move(ev));
          if (!r) {
            failure = r.error();
            co_return;
          }
        }
        auto flushed = co_await s->flush();
        if (!flushed)
          failure = flushed.error();
      },
      asio::detached);
  io.run();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = thread_cpu_seconds() - cpu0;
  if (failure) {
    std::printf("sink: %s\n", failure->what().c_str());
    return std::nullopt;
  }
  const auto c = s->counters();
  std::printf(
      "cbes sink          %10.0f docs/s %8.2f CPU us/doc  (%zu done, %llu requests, "
      "%.1f MiB NDJSON, %d lanes)\n",
      static_cast<double>(docs) / secs, cpu * 1e6 / static_cast<double>(docs), done,
      static_cast<unsigned long long>(c.requests), static_cast<double>(c.bytes_sent) / (1 << 20),
      lanes);
  return figures{static_cast<double>(docs) / secs, cpu * 1e6 / static_cast<double>(docs)};
}

std::string capture(const std::string& command, int& status) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) {
    status = -1;
    return out;
  }
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p))
    out.append(buf, n);
  status = ::pclose(p);
  return out;
}

bool have(const char* tool) {
  return std::system(("command -v " + std::string(tool) + " >/dev/null 2>&1").c_str()) == 0;
}

// `npm ci` of bench/node/ into <build>/bench-node (once); the directory with bulk.js, or nullopt.
std::optional<fs::path> prepare_node() {
  if (!have("node") || !have("npm")) {
    std::printf("node/npm not found: skipping the @elastic/elasticsearch comparison\n");
    return std::nullopt;
  }
  const fs::path source = fs::path(CBES_BENCH_DIR) / "node";
  const fs::path build = fs::canonical("/proc/self/exe").parent_path().parent_path();
  const fs::path dir = build / "bench-node";
  std::error_code ec;
  fs::create_directories(dir, ec);
  for (const char* f : {"package.json", "package-lock.json", "bulk.js"})
    fs::copy_file(source / f, dir / f, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    std::printf("cannot copy %s to %s (%s): skipping the comparison\n", source.c_str(), dir.c_str(),
                ec.message().c_str());
    return std::nullopt;
  }
  if (!fs::exists(dir / "node_modules" / "@elastic" / "elasticsearch" / "package.json")) {
    std::printf("npm ci in %s ...\n", dir.c_str());
    const std::string cmd = "cd '" + dir.string() +
                            "' && npm ci --no-audit --no-fund --ignore-scripts >npm-ci.log 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      std::printf("npm ci failed (see %s/npm-ci.log): skipping the comparison\n", dir.c_str());
      return std::nullopt;
    }
  }
  return dir;
}

std::optional<figures> run_node(const fs::path& dir, const std::string& url, std::size_t docs,
                                int lanes) {
  int status = 0;
  const std::string out =
      capture("node '" + (dir / "bulk.js").string() + "' " + url + " " + std::to_string(docs) +
                  " " + std::to_string(lanes) + " 1000000 2>&1",
              status);
  boost::system::error_code ec;
  auto v = boost::json::parse(out, ec);
  if (status != 0 || ec || !v.is_object()) {
    std::printf("node helpers.bulk failed: %s\n", out.c_str());
    return std::nullopt;
  }
  const auto& o = v.as_object();
  const double secs = o.at("seconds").to_number<double>();
  const double cpu_us = o.at("cpu_us").to_number<double>();
  const auto ok = o.at("docs").to_number<double>();
  std::printf(
      "node helpers.bulk  %10.0f docs/s %8.2f CPU us/doc  (%.0f ok, %.0f failed, "
      "concurrency %d, flushBytes 1000000)\n",
      ok / secs, cpu_us / ok, ok, o.at("failed").to_number<double>(), lanes);
  return figures{ok / secs, cpu_us / ok};
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t docs = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200000;
  const int lanes = argc > 2 ? std::atoi(argv[2]) : 2;
  cbes::testkit::elasticsearch_options fo;
  fo.count_only = true;
  cbes::testkit::elasticsearch fake(fo);
  fake.start();
  const std::string host = "127.0.0.1:" + std::to_string(fake.port());
  std::printf("%zu docs of %zu bytes into %s (count-only fake)\n", docs, one_kib_document().size(),
              fake.url().c_str());

  auto sink_figures = run_sink(host, docs, lanes);
  const auto items = fake.stats().bulk_items;
  if (!sink_figures || items < docs) {
    std::printf("sink run failed (fake counted %llu items)\n",
                static_cast<unsigned long long>(items));
    return 1;
  }
  fake.reset_stats();

  auto dir = prepare_node();
  if (!dir)
    return 0;
  auto node_figures = run_node(*dir, fake.url(), docs, lanes);
  if (!node_figures)
    return 0;
  std::printf("ratio (cbes / node): %.2fx docs/s, %.2fx less CPU per doc\n",
              sink_figures->docs_per_second / node_figures->docs_per_second,
              node_figures->cpu_us_per_doc / sink_figures->cpu_us_per_doc);
  return 0;
}
