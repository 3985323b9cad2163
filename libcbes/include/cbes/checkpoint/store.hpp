#pragma once
// Where checkpoints live: the interface the connector, the checkpoint tools and the AO worker
// use, and an in-memory implementation (embedding without a metadata bucket, tests of the
// layers above). The Couchbase implementation is couchbase_store.hpp.
//
//   cbes::checkpoint::memory_store store(1024);
//   auto report = co_await store.save(positions);        // report.ok(), report.failed
//   auto loaded = co_await store.load({0, 1, 2});        // (*loaded)[1] == nullopt: none saved
//   co_await store.clear(1024);
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "cbes/checkpoint/checkpoint.hpp"
#include "cbes/checkpoint/error.hpp"

namespace cbes::checkpoint {

using checkpoint_map = std::map<std::uint16_t, checkpoint>;
// nullopt: the vbucket has no checkpoint (never saved, or cleared).
using loaded_map = std::map<std::uint16_t, std::optional<checkpoint>>;

// The outcome of one save pass: each vbucket either saved or failed; one failure never stops
// the others (the Java connector's behaviour).
struct save_report {
  std::vector<std::uint16_t> saved;
  std::map<std::uint16_t, error> failed;

  bool ok() const noexcept { return failed.empty(); }
  // The first failure (lowest vbucket) as one result, for callers that only need pass/fail.
  result<void> first_error() const;
};

// What a store has done so far, for metrics (the Java connector's `save.state.fail` counts
// failed vbucket saves). Readable from any thread.
struct store_counters {
  std::uint64_t saves = 0;          // vbucket checkpoints written
  std::uint64_t save_failures = 0;  // vbucket checkpoints that could not be written in a pass
  std::uint64_t retries = 0;        // writes repeated after a temporary failure
  std::uint64_t loads = 0;          // vbucket checkpoints read (found or not)
};

class store {
 public:
  virtual ~store() = default;

  // The checkpoints of `vbuckets`; a vbucket without one maps to nullopt. Fails as a whole
  // (errc::store_failed, errc::invalid_document naming the vbucket) rather than return a
  // position that may be wrong.
  //
  //   auto cps = co_await store.load(vbuckets);
  virtual boost::asio::awaitable<result<loaded_map>> load(std::vector<std::uint16_t> vbuckets) = 0;

  // Writes every checkpoint (overwriting), vbucket by vbucket; see save_report.
  //
  //   auto report = co_await store.save(positions);
  //   if (!report.ok()) log(report.first_error().error().what());
  virtual boost::asio::awaitable<save_report> save(checkpoint_map checkpoints) = 0;

  // Removes the checkpoints of vbuckets 0..num_vbuckets-1 (absent ones are fine); tries every
  // vbucket and returns the first failure.
  //
  //   co_await store.clear(store.num_vbuckets());
  virtual boost::asio::awaitable<result<void>> clear(std::size_t num_vbuckets) = 0;

  // Number of vbuckets of the bucket the store keeps checkpoints for (the metadata bucket).
  virtual std::size_t num_vbuckets() const = 0;

  store_counters counters() const;

 protected:
  std::atomic<std::uint64_t> saves_{0};
  std::atomic<std::uint64_t> save_failures_{0};
  std::atomic<std::uint64_t> retries_{0};
  std::atomic<std::uint64_t> loads_{0};
};

// Checkpoints in process memory: lost when the process ends. Thread-safe.
class memory_store final : public store {
 public:
  explicit memory_store(std::size_t num_vbuckets = 1024) : num_vbuckets_(num_vbuckets) {}

  boost::asio::awaitable<result<loaded_map>> load(std::vector<std::uint16_t> vbuckets) override;
  boost::asio::awaitable<save_report> save(checkpoint_map checkpoints) override;
  boost::asio::awaitable<result<void>> clear(std::size_t num_vbuckets) override;
  std::size_t num_vbuckets() const override { return num_vbuckets_; }

  // Synchronous access for tests and embedders.
  //
  //   store.put(3, cp); CHECK(store.get(3) == cp);
  std::optional<checkpoint> get(std::uint16_t vbucket) const;
  void put(std::uint16_t vbucket, const checkpoint& cp);
  checkpoint_map snapshot() const;

 private:
  std::size_t num_vbuckets_;
  mutable std::mutex mutex_;
  checkpoint_map checkpoints_;
};

// errc::invalid_argument when some vbucket is not below `num_vbuckets` (shared by the stores).
result<void> check_vbuckets(const std::vector<std::uint16_t>& vbuckets, std::size_t num_vbuckets);

}  // namespace cbes::checkpoint
