// Throughput, CPU cost and memory bound of the DCP consumer: N 1 KiB JSON documents over 1024
// vbuckets, loaded into the testkit cluster, streamed from the beginning through
// cbes::dcp::consumer (flow control on, every event acknowledged as the listener sees it) until
// every vbucket has reached its high seqno. The fake producer runs on its own thread; the CPU
// figure is the consumer's thread only.
//
//   build/bin/bench-dcp [docs] [buffer bytes]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bench_util.hpp"
#include "cbes/couchbase/cluster.hpp"
#include "cbes/dcp/consumer.hpp"
#include "cbes/testkit/couchbase_cluster.hpp"

namespace {
namespace asio = boost::asio;
constexpr std::uint16_t vbuckets = 1024;
}  // namespace

int main(int argc, char** argv) {
  const std::size_t docs = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200000;
  const auto buffer =
      static_cast<std::uint32_t>(argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 10u * 1024 * 1024);
  cbes::testkit::couchbase_cluster_options fo;
  fo.buckets = {cbes::testkit::couchbase_bucket_options{"default", vbuckets, 0}};
  fo.users = {{"Administrator", "password", {}}};
  cbes::testkit::couchbase_cluster fake(fo);
  fake.start();
  const std::string content = cbes::bench::one_kib_document();
  for (std::size_t i = 0; i < docs; ++i)
    fake.upsert("default", "doc_" + std::to_string(i), content);
  std::map<std::uint16_t, std::uint64_t> targets;
  std::vector<std::uint16_t> all;
  for (std::uint16_t vb = 0; vb < vbuckets; ++vb) {
    targets[vb] = fake.high_seqno("default", vb);
    all.push_back(vb);
  }
  std::printf("%zu docs of %zu bytes over %u vbuckets, flow-control buffer %u bytes\n", docs,
              content.size(), vbuckets, buffer);

  asio::io_context io;
  std::size_t mutations = 0;
  std::string failure;
  double cpu = 0, secs = 0;
  cbes::dcp::consumer_stats stats;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto cluster = co_await cbes::couchbase::cluster::connect(
            io.get_executor(), cbes::bench::fake_bucket_options(fake.connection_string()));
        if (!cluster) {
          failure = cluster.error().what();
          co_return;
        }
        cbes::dcp::consumer_options opts;
        opts.buffer_size = buffer;
        auto made = co_await cbes::dcp::consumer::create(*cluster, opts);
        if (!made) {
          failure = made.error().what();
          co_return;
        }
        auto consumer = *made;
        consumer->on_event([&](cbes::dcp::event ev) {
          mutations += ev.type == cbes::dcp::event_type::mutation;
          consumer->acknowledge(ev);
        });
        auto from = co_await consumer->states_from_beginning(all);
        if (!from) {
          failure = from.error().what();
          co_return;
        }
        const double cpu0 = cbes::bench::thread_cpu_seconds();
        const auto t0 = std::chrono::steady_clock::now();
        if (auto r = co_await consumer->open(*from); !r) {
          failure = r.error().what();
          co_return;
        }
        asio::steady_timer t(io);
        while (!consumer->reached(targets)) {
          t.expires_after(std::chrono::milliseconds(1));
          co_await t.async_wait(asio::use_awaitable);
        }
        secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        cpu = cbes::bench::thread_cpu_seconds() - cpu0;
        stats = consumer->stats();
        consumer->stop();
        (*cluster)->close();
      },
      asio::detached);
  io.run();
  fake.stop();
  if (!failure.empty()) {
    std::printf("bench-dcp: %s\n", failure.c_str());
    return 1;
  }
  std::printf(
      "cbes dcp consumer  %10.0f docs/s %8.2f CPU us/doc  (%zu mutations, %.1f MiB received, "
      "%llu buffer acks, max unacked %zu bytes)\n",
      static_cast<double>(mutations) / secs, cpu * 1e6 / static_cast<double>(mutations), mutations,
      static_cast<double>(stats.bytes_received) / (1 << 20),
      static_cast<unsigned long long>(stats.buffer_acks_sent), stats.max_outstanding_bytes);
  return mutations == docs ? 0 : 1;
}
