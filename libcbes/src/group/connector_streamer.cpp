#include "cbes/group/connector_streamer.hpp"

#include "cbes/config/connector_config.hpp"
#include "cbes/connector/from_config.hpp"
#include "cbes/connector/worker.hpp"
#include "cbes/metrics/connector_metrics.hpp"
#include "cbes/metrics/dropwizard.hpp"
#include "cbes/metrics/registry.hpp"
#include "cbes/util/redaction.hpp"

namespace cbes::group {

namespace asio = boost::asio;

connector_streamer::connector_streamer(asio::any_io_executor ex, log_fn log)
    : ex_(std::move(ex)),
      log_(std::move(log)),
      registry_(std::make_shared<metrics::registry>()),
      meters_(std::make_shared<metrics::connector_metrics>(*registry_)) {}

connector_streamer::~connector_streamer() = default;

asio::awaitable<std::optional<std::uint64_t>> connector_streamer::backlog() {
  auto w = worker_;
  if (!w)
    co_return std::nullopt;
  auto b = co_await w->backlog();
  if (!b)
    co_return std::nullopt;
  co_return *b;
}

namespace {

// Documents Elasticsearch acknowledged as written: index and delete actions that succeeded
// (rejected documents and rejection-log entries are not the bucket's data arriving).
std::uint64_t acknowledged(const connector::worker& w) {
  const auto c = w.sink_counters();
  return c.docs_indexed + c.docs_deleted;
}

}  // namespace

std::optional<std::uint64_t> connector_streamer::written() const {
  return written_before_ + (worker_ ? acknowledged(*worker_) : 0);
}

std::optional<std::string> connector_streamer::metrics_json() const {
  return metrics::dropwizard_json(*registry_);
}

asio::awaitable<result<void>> connector_streamer::start(std::string config,
                                                        std::vector<std::uint16_t> vbuckets,
                                                        std::optional<membership> share) {
  if (auto old = std::exchange(stopping_, nullptr)) {
    co_await old->wait();  // an aborted worker finishes before its vbuckets stream again
    written_before_ += acknowledged(*old);
  }
  auto cfg = config::parse_connector_config(config, "the group's config from Consul", {});
  if (!cfg)
    co_return make_error(errc::invalid_argument,
                         "the group's connector config is invalid here: " + cfg.error().what());
  // [logging] redactionLevel: process-wide, as `cbes` sets it at start; a group worker learns
  // its config only here.
  const auto level = cfg->logging.redaction;
  util::set_redaction(level == config::redaction_level::none      ? util::redaction::none
                      : level == config::redaction_level::partial ? util::redaction::partial
                                                                  : util::redaction::full);
  auto opts = connector::worker_options_from(*cfg);
  opts.log = log_;
  opts.metrics = meters_.get();
  opts.vbuckets = std::move(vbuckets);
  fenced_ = std::make_shared<std::atomic<bool>>(false);
  opts.may_write = [gate = gate_, fenced = fenced_] { return !*fenced && (!gate || gate()); };
  if (share) {
    opts.member_number = share->member_number;
    opts.total_members = share->cluster_size;
  }
  auto w = co_await connector::worker::start(ex_, opts);
  if (!w)
    co_return make_error(errc::streamer_failed, "the connector did not start: " + w.error().what());
  worker_ = std::move(*w);
  co_return result<void>{};
}

asio::awaitable<result<void>> connector_streamer::add(std::vector<std::uint16_t> vbuckets) {
  auto w = worker_;
  if (!w)
    co_return make_error(errc::invalid_argument, "not streaming: grant with a config first");
  auto r = co_await w->add(std::move(vbuckets));
  if (!r)
    co_return make_error(errc::streamer_failed, "adding vbuckets failed: " + r.error().what());
  co_return result<void>{};
}

asio::awaitable<result<void>> connector_streamer::release(std::vector<std::uint16_t> vbuckets) {
  auto w = worker_;
  if (!w)
    co_return result<void>{};
  auto r = co_await w->release(std::move(vbuckets));
  if (!r)
    co_return make_error(errc::streamer_failed, "releasing vbuckets failed: " + r.error().what());
  co_return result<void>{};
}

asio::awaitable<void> connector_streamer::stop() {
  auto w = std::exchange(worker_, nullptr);
  if (!w)
    co_return;
  draining_ = w;
  w->stop();
  auto end = co_await w->wait();
  draining_.reset();
  written_before_ += acknowledged(*w);
  if (!end && log_)
    log_("warning", "the connector stopped with an error: " + end.error().what());
}

void connector_streamer::abort() {
  // The kill switch: no new work from now on; what is in flight drains within drain_timeout.
  // The worker is kept until a later start() has seen it end.
  if (fenced_)
    *fenced_ = true;
  if (auto w = std::exchange(worker_, nullptr)) {
    w->stop();
    stopping_ = std::move(w);
  }
}

bool connector_streamer::running() const {
  return worker_ != nullptr;
}

std::vector<std::uint16_t> connector_streamer::vbuckets() const {
  if (worker_)
    return worker_->vbuckets();
  // A graceful stop still writes (in-flight batches, checkpoints) until it ends: those vbuckets
  // are still this worker's. An abort fences writes at once: its vbuckets are not.
  return draining_ ? draining_->vbuckets() : std::vector<std::uint16_t>{};
}

}  // namespace cbes::group
