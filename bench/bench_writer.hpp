#pragma once
// The latency and rebalance benchmarks' load: a writer that upserts 1 KiB JSON documents
// "w_<n>" through Couchbase's KV port at a steady rate, and an arrival log that an in-process
// Elasticsearch fake feeds (elasticsearch_options::on_item_acknowledged) — both in this process,
// so a document's way from its write to Elasticsearch's acknowledgement is timed on one clock.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bench_util.hpp"
#include "cbes/couchbase/cluster.hpp"

namespace cbes::bench {

inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Per document n: when it was written, when Elasticsearch first acknowledged it, and how many
// times it was acknowledged (more than once = replayed after a rebalance or a retry).
class arrival_log {
 public:
  explicit arrival_log(std::size_t capacity)
      : written_(capacity), first_ack_(capacity), acks_(capacity) {}

  std::size_t capacity() const { return written_.size(); }
  void written(std::size_t n, std::int64_t at) { written_[n].store(at); }

  // For elasticsearch_options::on_item_acknowledged (runs on the fake's thread).
  void acknowledged(std::string_view id) {
    if (id.substr(0, 2) != "w_")
      return;
    std::size_t n = 0;
    for (char c : id.substr(2)) {
      if (c < '0' || c > '9')
        return;
      n = n * 10 + static_cast<std::size_t>(c - '0');
    }
    if (n >= capacity())
      return;
    if (acks_[n].fetch_add(1) == 0)
      first_ack_[n].store(now_ns());
  }

  std::int64_t written_at(std::size_t n) const { return written_[n].load(); }
  std::int64_t first_ack_at(std::size_t n) const { return first_ack_[n].load(); }
  std::uint32_t acks(std::size_t n) const { return acks_[n].load(); }

 private:
  std::vector<std::atomic<std::int64_t>> written_;
  std::vector<std::atomic<std::int64_t>> first_ack_;
  std::vector<std::atomic<std::uint32_t>> acks_;
};

// Upserts "w_<first>", "w_<first+1>", ... at `rate` per second from its own thread until stop();
// each write's start goes into the arrival log before it is sent.
class paced_writer {
 public:
  paced_writer(std::string seeds, arrival_log& log, double rate, std::size_t first = 0)
      : seeds_(std::move(seeds)), log_(log), rate_(rate), first_(first) {
    thread_ = std::thread([this] { run(); });
  }
  ~paced_writer() { stop(); }

  void stop() {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
  }
  // Documents sent so far: "w_<first>" … "w_<first + issued() - 1>".
  std::size_t issued() const { return issued_.load(); }
  std::size_t failed() const { return failed_.load(); }
  // Why the writer could not connect ("" while it could or has not tried yet).
  std::string error() const {
    std::lock_guard lock(error_mutex_);
    return error_;
  }

 private:
  void run() {
    namespace asio = boost::asio;
    asio::io_context io;
    asio::co_spawn(
        io,
        [this, &io]() -> asio::awaitable<void> {
          auto cluster = co_await cbes::couchbase::cluster::connect(io.get_executor(),
                                                                    fake_bucket_options(seeds_));
          if (!cluster) {
            std::lock_guard lock(error_mutex_);
            error_ = cluster.error().what();
            co_return;
          }
          auto c = *cluster;
          const std::string content = one_kib_document();
          const auto t0 = std::chrono::steady_clock::now();
          asio::steady_timer tick(io);
          std::size_t outstanding = 0;
          while (!stop_) {
            const double elapsed =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            const auto due = static_cast<std::size_t>(elapsed * rate_);
            // Bounded: a stalled server does not pile up unbounded requests here.
            while (issued_ < due && first_ + issued_ < log_.capacity() && outstanding < 20000) {
              const std::size_t n = first_ + issued_++;
              ++outstanding;
              log_.written(n, now_ns());
              asio::co_spawn(
                  io,
                  [this, c, n, &content, &outstanding]() -> asio::awaitable<void> {
                    auto r = co_await c->upsert({}, "w_" + std::to_string(n), content);
                    if (!r)
                      ++failed_;
                    --outstanding;
                  },
                  asio::detached);
            }
            tick.expires_after(std::chrono::milliseconds(1));
            co_await tick.async_wait(asio::use_awaitable);
          }
          while (outstanding > 0) {
            tick.expires_after(std::chrono::milliseconds(1));
            co_await tick.async_wait(asio::use_awaitable);
          }
          c->close();
        },
        asio::detached);
    io.run();
  }

  std::string seeds_;
  arrival_log& log_;
  double rate_;
  std::size_t first_;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> issued_{0};
  std::atomic<std::size_t> failed_{0};
  mutable std::mutex error_mutex_;  // error() is read from another thread
  std::string error_;
  std::thread thread_;
};

// The p-th percentile (0..100) of sorted values.
inline double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty())
    return 0;
  auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

}  // namespace cbes::bench
