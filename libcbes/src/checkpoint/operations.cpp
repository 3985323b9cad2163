#include "cbes/checkpoint/operations.hpp"

#include <algorithm>
#include <string>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace cbes::checkpoint {
namespace asio = boost::asio;
using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

bucket_info describe_bucket(const couchbase::cluster& cluster) {
  auto topo = cluster.current_topology();
  return {topo->bucket_uuid, topo->num_vbuckets()};
}

asio::awaitable<result<backup>> take_backup(store& s, bucket_info bucket) {
  std::vector<std::uint16_t> all;
  for (std::size_t vb = 0; vb < bucket.num_vbuckets && vb <= 0xffff; ++vb)
    all.push_back(static_cast<std::uint16_t>(vb));
  auto loaded = co_await s.load(std::move(all));
  if (!loaded)
    co_return loaded.error();
  backup b;
  b.bucket_uuid = std::move(bucket.uuid);
  for (const auto& [vb, cp] : *loaded)
    b.vbuckets.emplace(vb, cp.value_or(zero));
  co_return b;
}

asio::awaitable<result<void>> restore_backup(store& s, backup b, bucket_info bucket) {
  auto valid = validate(b, bucket);
  if (!valid)
    co_return valid.error();
  auto report = co_await s.save(std::move(b.vbuckets));
  co_return report.first_error();
}

asio::awaitable<result<checkpoint_map>> current_positions(couchbase::cluster& source,
                                                          milliseconds wait_for_active) {
  const auto deadline = clock::now() + wait_for_active;
  milliseconds pause{50};
  for (;;) {
    const std::size_t v = source.current_topology()->num_vbuckets();
    auto seqnos = co_await source.get_all_vb_seqnos();
    if (!seqnos)
      co_return make_error(errc::store_failed,
                           "reading the bucket's high seqnos failed: " + seqnos.error().what());
    std::vector<std::uint16_t> missing;
    std::map<std::uint16_t, std::uint64_t> high;
    for (const auto& e : *seqnos)
      high[e.vbucket] = e.seqno;
    for (std::size_t vb = 0; vb < v; ++vb)
      if (!high.contains(static_cast<std::uint16_t>(vb)))
        missing.push_back(static_cast<std::uint16_t>(vb));
    if (missing.empty() && v > 0) {
      checkpoint_map now;
      for (std::size_t i = 0; i < v; ++i) {
        const auto vb = static_cast<std::uint16_t>(i);
        auto log = co_await source.failover_log(vb);
        if (!log)
          co_return make_error(errc::store_failed, "reading the failover log of vbucket " +
                                                       std::to_string(vb) +
                                                       " failed: " + log.error().what());
        const std::uint64_t uuid = log->empty() ? 0 : log->front().vbucket_uuid;
        now[vb] = checkpoint{uuid, high[vb], {high[vb], high[vb]}};
      }
      co_return now;
    }
    if (clock::now() >= deadline)
      co_return make_error(
          errc::store_failed,
          std::to_string(missing.size()) + " vbuckets (first: " +
              (missing.empty() ? std::string("none") : std::to_string(missing[0])) +
              ") have no active copy; wait for the failover or rebalance to "
              "finish and run the catch-up again");
    // A vbucket without an active copy: wait for the cluster to promote one.
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(
        std::min(pause, std::chrono::duration_cast<milliseconds>(deadline - clock::now())));
    co_await timer.async_wait(asio::use_awaitable);
    pause = std::min(pause * 2, milliseconds{1000});
    auto refreshed = co_await source.refresh_config();
    (void)refreshed;  // a failed refresh only means the next round sees the old map
  }
}

asio::awaitable<result<checkpoint_map>> catch_up(store& s, couchbase::cluster& source,
                                                 milliseconds wait_for_active) {
  auto now = co_await current_positions(source, wait_for_active);
  if (!now)
    co_return now.error();
  auto report = co_await s.save(*now);
  auto saved = report.first_error();
  if (!saved)
    co_return saved.error();
  co_return std::move(*now);
}

asio::awaitable<result<checkpoint_map>> catch_up(store& s, couchbase::cluster& source) {
  co_return co_await catch_up(s, source, std::chrono::seconds{30});
}

}  // namespace cbes::checkpoint
