#pragma once
// The streamer a group worker runs in production: a cbes::connector::worker started from the
// config text the leader sends (parsed and validated on this worker, where `${VAR}` and
// `pathToPassword` files resolve — as the Java connector does it).
//
//   auto s = std::make_shared<cbes::group::connector_streamer>(ex, log);
//   auto service = std::make_shared<cbes::group::worker_service>(s);
#include <atomic>
#include <functional>
#include <memory>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>

#include "cbes/group/worker_service.hpp"

namespace cbes::connector {
class worker;
}
namespace cbes::metrics {
class registry;
struct connector_metrics;
}  // namespace cbes::metrics

namespace cbes::group {

class connector_streamer : public streamer {
 public:
  using log_fn = std::function<void(std::string_view level, std::string_view line)>;
  connector_streamer(boost::asio::any_io_executor ex, log_fn log);
  ~connector_streamer() override;

  // errc::invalid_argument for a config that does not parse here (every problem: RPC -32602),
  // errc::streamer_failed for a connector that did not start (its one line: RPC -32603).
  boost::asio::awaitable<result<void>> start(std::string config,
                                             std::vector<std::uint16_t> vbuckets,
                                             std::optional<membership> share) override;
  boost::asio::awaitable<result<void>> add(std::vector<std::uint16_t> vbuckets) override;
  boost::asio::awaitable<result<void>> release(std::vector<std::uint16_t> vbuckets) override;
  boost::asio::awaitable<void> stop() override;
  void abort() override;
  bool running() const override;
  std::vector<std::uint16_t> vbuckets() const override;
  void set_write_gate(std::function<bool()> gate) override { gate_ = std::move(gate); }
  boost::asio::awaitable<std::optional<std::uint64_t>> backlog() override;
  // The sink's indexed + deleted documents, of every connector this streamer ran.
  std::optional<std::uint64_t> written() const override;
  std::optional<std::string> metrics_json() const override;

  // The running worker (null when stopped), for metrics and status.
  std::shared_ptr<connector::worker> worker() const { return worker_; }

 private:
  boost::asio::any_io_executor ex_;
  log_fn log_;
  // Before the workers: they keep a pointer to the meters. Kept across restarts, as the Java
  // worker's meters live as long as its process.
  std::shared_ptr<metrics::registry> registry_;
  std::shared_ptr<metrics::connector_metrics> meters_;
  std::shared_ptr<connector::worker> worker_;
  std::shared_ptr<connector::worker> stopping_;  // aborted by the kill switch, still draining
  // Stopped gracefully and still finishing its writes: its vbuckets are still reported (a new
  // leader must not hand them out before the stop has ended).
  std::shared_ptr<connector::worker> draining_;
  std::function<bool()> gate_;
  // What the connectors that ended wrote; the running one's count is added on reading.
  std::uint64_t written_before_ = 0;
  // Set by abort(): the running worker's writes are fenced at once, drain or not.
  std::shared_ptr<std::atomic<bool>> fenced_;
};

}  // namespace cbes::group
