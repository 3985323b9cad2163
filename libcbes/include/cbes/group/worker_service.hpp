#pragma once
// What a worker of a group answers over RPC, and the assignment state it keeps: the Java
// connector's methods (worker.status, worker.stopped, worker.stopStreaming,
// worker.startStreaming, plus rpc_methods' worker.ready and worker.ping) and the two that
// incremental rebalancing needs, worker.release and worker.grant.
//
//   auto service = std::make_shared<cbes::group::worker_service>(streamer);
//   service->install(methods);          // a cbes::group::rpc_methods, or an rpc_server
//   member->arm([&] { service->kill(); });   // the kill switch ends streaming
//
// Methods (params as the JSON-RPC request's positional array):
// - worker.status [] → {"membership":{"memberNumber":n,"clusterSize":m} | null,
//   "generation":g, "vbuckets":[…streamed now, sorted…], "paused":bool}. The first member is
//   the Java shape; the others say what the worker really does. `paused` is true when the last
//   command stopped everything (stopStreaming, or a release of all) and nothing was granted
//   since.
// - worker.stopped [] → true when nothing streams (Java: membership == null).
// - worker.stopStreaming [] → null; stops everything (checkpoints saved).
// - worker.startStreaming [{"memberNumber":n,"clusterSize":m}, "<config TOML>"] → null; the
//   Java leader's stop-the-world assignment: stops what runs, then streams member n of m's
//   static share of the vbuckets with that config.
// - worker.release [{"generation":g,"vbuckets":[…]}] → {"released":[…],"vbuckets":[…left…]};
//   stops streaming those vbuckets after their events are finished in Elasticsearch and their
//   checkpoints saved. Vbuckets it does not stream are ignored (a retried release is harmless).
// - worker.grant [{"generation":g,"vbuckets":[…],"config":"<TOML>",
//   "membership":{"memberNumber":n,"clusterSize":m}}] → {"vbuckets":[…streamed now…]}; starts
//   streaming them from their checkpoints. A config other than the running one restarts the
//   worker with it (checkpoints saved first) and every vbuckets it streamed plus the new ones.
// - worker.metrics [] → the streamer's meters as Dropwizard JSON (Java's answer; an empty
//   registry's document when the streamer keeps none).
// - worker.sleep [seconds] → null after that long (0–3600): the Java debugging method, which
//   keeps the endpoint busy meanwhile.
// worker.status adds "backlog" (events of its vbuckets not yet in Elasticsearch) and "written"
// (documents Elasticsearch acknowledged since the worker started, a counter) while streaming.
// - worker.streamHistory [] → {"starts":{"<vb>":n,…},"stops":{"<vb>":n,…},
//   "events":[{"at":<unix ms>,"started":[…],"stopped":[…]},…]}: how often each vbucket started
//   and stopped streaming on this worker since it started (a rebalance that restarts only what
//   moved leaves the other counters alone), and when (the last 10 000 changes; a start is
//   stamped when the command arrived, a stop once streaming ended), so that a test can check
//   that no vbucket was ever streamed by two workers at once.
// worker.status also carries "configDigest": config_digest() of the config it runs ("" before
// the first), so that a new leader knows which workers run an older config.
// Every release and grant carries the leader's generation: one older than the newest this
// worker has seen is refused (-32602, "stale generation"), so a deposed leader that wakes up
// cannot undo its successor's work.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "cbes/group/error.hpp"

namespace cbes::group {

class rpc_methods;
class rpc_server;

// A short, stable fingerprint of a config text (16 hex digits), as worker.status reports it.
//   config_digest("") == "cbf29ce484222325"
std::string config_digest(std::string_view config);

// The member's static share, as worker.startStreaming and worker.status carry it.
struct membership {
  int member_number = 1;  // 1-based
  int cluster_size = 1;
  bool operator==(const membership&) const = default;
};

// The connector as the service drives it. The production one runs a cbes::connector::worker
// (group/connector_streamer.hpp); tests may drive the service with their own.
class streamer {
 public:
  virtual ~streamer() = default;
  // Starts streaming with `config` (TOML text): `vbuckets`, or when empty and `share` is set,
  // that member's static share. Only called when not running.
  virtual boost::asio::awaitable<result<void>> start(std::string config,
                                                     std::vector<std::uint16_t> vbuckets,
                                                     std::optional<membership> share) = 0;
  virtual boost::asio::awaitable<result<void>> add(std::vector<std::uint16_t> vbuckets) = 0;
  // Finishes the vbuckets' events, saves their checkpoints, stops streaming them.
  virtual boost::asio::awaitable<result<void>> release(std::vector<std::uint16_t> vbuckets) = 0;
  // Graceful stop (checkpoints saved); not running afterwards.
  virtual boost::asio::awaitable<void> stop() = 0;
  // Immediate stop for the kill switch: no more writes, whatever is in flight.
  virtual void abort() = 0;
  virtual bool running() const = 0;
  // Every vbucket this process may still write for: while running, and during a graceful stop
  // until it ends (worker.status reports them, so no leader hands them out meanwhile).
  virtual std::vector<std::uint16_t> vbuckets() const = 0;
  // Asked before every write from now on: false, and nothing more may be written (the
  // member's kill switch as a fence). Streamers that do not write may ignore it.
  virtual void set_write_gate(std::function<bool()> gate) { (void)gate; }
  // DCP events of its vbuckets not yet in Elasticsearch; nullopt when unknown.
  virtual boost::asio::awaitable<std::optional<std::uint64_t>> backlog() { co_return std::nullopt; }
  // Documents Elasticsearch acknowledged as written (indexed or deleted) since the streamer was
  // made, across restarts: a counter a reader turns into a rate. nullopt when it keeps none.
  virtual std::optional<std::uint64_t> written() const { return std::nullopt; }
  // Its meters as Dropwizard JSON (the Java worker.metrics answer); nullopt when it has none.
  virtual std::optional<std::string> metrics_json() const { return std::nullopt; }
};

class worker_service : public std::enable_shared_from_this<worker_service> {
 public:
  // `log` (optional) gets one "info" line each time vbuckets start or stop streaming here, with
  // the unix-millisecond time the change took effect (for a kill switch: when writes ended), so
  // who streamed what and when survives the process in its log:
  //   "streaming started: vbuckets 0-340 (341) at unix ms 1796646000123"
  //   "streaming stopped: vbuckets 0-340 (341) at unix ms 1796646060456"
  explicit worker_service(
      std::shared_ptr<streamer> s,
      std::function<void(std::string_view level, std::string_view line)> log = {});

  // Registers the methods above (replacing earlier handlers of the same names).
  void install(rpc_methods& methods);
  void install(rpc_server& server);

  // The worker is leaving the group (a graceful shutdown): from now on worker.grant and
  // worker.startStreaming are refused, so a grant that races the shutdown's stop_streaming
  // cannot start streams the shutdown would not stop.
  void leave();

  // When the worker's writes were fenced (its membership lapsed), nullopt while they are not.
  // A stop recorded later is dated then: no write happened after it.
  void set_fence_clock(std::function<std::optional<std::chrono::system_clock::time_point>()> f) {
    fence_clock_ = std::move(f);
  }

  // The kill switch: stops streaming at once (streamer::abort) and forgets the assignment.
  // `writes_ended` is when the streamer stopped writing, for worker.streamHistory (the write
  // gate may have closed before the kill switch's timer ran).
  void kill();
  void kill(std::chrono::system_clock::time_point writes_ended);

  // The state worker.status reports, for the worker's own logs and tests.
  std::uint64_t generation() const noexcept { return generation_; }
  bool paused() const noexcept { return paused_; }
  std::optional<membership> share() const { return membership_; }
  // worker.status's answer (JSON text).
  std::string status_json() const;

  // The handlers, callable directly (params as JSON text).
  boost::asio::awaitable<result<std::string>> status(std::string params);
  boost::asio::awaitable<result<std::string>> stopped(std::string params);
  boost::asio::awaitable<result<std::string>> stop_streaming(std::string params);
  boost::asio::awaitable<result<std::string>> start_streaming(std::string params);
  boost::asio::awaitable<result<std::string>> release(std::string params);
  boost::asio::awaitable<result<std::string>> grant(std::string params);
  boost::asio::awaitable<result<std::string>> stream_history(std::string params);
  boost::asio::awaitable<result<std::string>> metrics(std::string params);
  boost::asio::awaitable<result<std::string>> sleep(std::string params);

 private:
  using method = boost::asio::awaitable<result<std::string>> (worker_service::*)(std::string);
  static boost::asio::awaitable<result<std::string>> call(std::weak_ptr<worker_service> w,
                                                          method fn, std::string params);
  std::function<boost::asio::awaitable<result<std::string>>(std::string)> handler(method fn);
  result<void> accept_generation(std::uint64_t g);
  static error refuse_leaving();
  // Records (history, counters, log) how `after` differs from what was last recorded.
  void note_change(const std::vector<std::uint16_t>& after,
                   std::chrono::system_clock::time_point began = {},
                   std::chrono::system_clock::time_point ended = {});

  std::shared_ptr<streamer> streamer_;
  std::function<void(std::string_view, std::string_view)> log_;
  std::function<std::optional<std::chrono::system_clock::time_point>()> fence_clock_;
  std::uint64_t generation_ = 0;
  bool paused_ = false;
  bool leaving_ = false;
  std::optional<membership> membership_;
  std::string config_;                   // the config text the streamer runs with
  std::vector<std::uint16_t> recorded_;  // what streams, as last recorded by note_change
  std::map<std::uint16_t, std::uint64_t> starts_;
  std::map<std::uint16_t, std::uint64_t> stops_;
  struct change {
    std::int64_t started_at_ms = 0;
    std::int64_t stopped_at_ms = 0;
    std::vector<std::uint16_t> started;
    std::vector<std::uint16_t> stopped;
  };
  std::deque<change> history_;
};

}  // namespace cbes::group
