#pragma once
// cbes::group::member — one worker's presence in its group, the way the Java connector's
// Autonomous Operations keep it (its `cbes-consul run`): a Consul service named after the group
// with a TTL check, a session bound to that check and to the node's serfHealth, a heartbeat that
// passes the check, and the kill switch that stops streaming before the session can expire.
//
//   consul::client c(io.get_executor(), {.address = "127.0.0.1:8500"});
//   cbes::group::member_options o;
//   o.group = "example-group";
//   auto m = co_await cbes::group::member::join(c, o);   // service, check passed, session
//   if (!m) co_return log(m.error().what());
//   (*m)->arm([&] { worker.stop_streaming(); });         // while streaming
//   co_await (*m)->run();                                 // heartbeats until stop()
//   co_await (*m)->leave(true, "Graceful shutdown complete.");
//
// Why a kill switch: another worker may be granted this worker's vbuckets once its session is
// gone, which Consul decides by the TTL check (2 × heartbeat). A worker that cannot reach
// Consul must therefore stop streaming before that, on its own clock: when no heartbeat has
// succeeded for `kill_switch` (less than the TTL), the armed callback runs.
//
// Unlike the Java connector, a Consul failure is not fatal here: heartbeats are retried every
// `retry` and, when the agent lost the service or Consul invalidated the session meanwhile,
// the member registers again and makes a new session (on_rejoined tells the owner, whose RPC
// endpoint and leader key belonged to the old session).
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "cbes/group/error.hpp"

namespace consul {
class client;
}

namespace cbes::group {

inline constexpr std::string_view service_tag = "couchbase-elasticsearch-connector";

struct member_options {
  std::string group;       // the service name
  std::string service_id;  // empty = the group name (`--service-id`)
  // The TTL check passes this often; its TTL is twice this (Java: 15 s, TTL 30 s).
  std::chrono::milliseconds heartbeat{15000};
  // After a failed heartbeat, the next attempt comes this soon.
  std::chrono::milliseconds retry{1000};
  // Streaming stops when no heartbeat succeeded for this long; below the TTL (Java: 20 s).
  std::chrono::milliseconds kill_switch{20000};
  // consul.toml's deregisterCriticalServiceAfter (whole seconds, at least one minute).
  std::chrono::seconds deregister_critical_service_after{std::chrono::hours(168)};
  // consul.toml's deregisterServiceOnGracefulShutdown.
  bool deregister_on_graceful_shutdown = true;
  // Lock-delay of the session (Consul's default).
  std::chrono::milliseconds lock_delay{15000};
  // One line per event worth an operator's attention (heartbeat failures, rejoining).
  std::function<void(std::string_view level, std::string_view line)> log{};
  // After the member registered again with a new session (the old one is gone).
  std::function<void(const std::string& session)> on_rejoined{};
};

class member {
 public:
  // Reads the agent's node name and address (the endpoint id), registers the service with its
  // TTL check (`replace-existing-checks`), passes the check once and creates the session
  // ("couchbase:cbes:<service id>", behaviour delete, checks serfHealth + service:<id>).
  // Errors: the Consul call that failed, as errc::consul_failed (error::transient when trying
  // again later may succeed).
  static boost::asio::awaitable<result<std::unique_ptr<member>>> join(consul::client& consul,
                                                                      member_options options);

  ~member();
  member(const member&) = delete;
  member& operator=(const member&) = delete;

  // "<node>::<address>::<service id>": the RPC endpoint id of this worker.
  const std::string& endpoint_id() const noexcept;
  const std::string& service_id() const noexcept;
  // The current session (a new one after a rejoin).
  const std::string& session() const noexcept;
  // The random per-process id sent as the service's Meta.uuid.
  const std::string& instance_uuid() const noexcept;

  // Heartbeats until stop(): passes the check every `heartbeat`, retries failures every
  // `retry`, rejoins when the service or the session is gone. Returns after stop().
  boost::asio::awaitable<void> run();
  // Ends run() and disarms the kill switch. Idempotent.
  void stop();

  // Arms the kill switch: `on_expired` runs once (on the client's executor) when no heartbeat
  // has succeeded for `kill_switch`, or at once when a heartbeat finds the session gone (the
  // leader may grant its vbuckets to another from then on); each success pushes the deadline
  // back. The deadline starts
  // from the last successful heartbeat, so arming after a long outage fires at once.
  void arm(std::function<void()> on_expired);
  void disarm();
  // True while the last successful heartbeat is younger than `kill_switch`.
  bool alive() const;
  // When alive() turns false unless a heartbeat succeeds first.
  std::chrono::steady_clock::time_point alive_until() const;
  // Successful heartbeats and rejoins so far (for tests and metrics).
  std::uint64_t heartbeats() const noexcept;
  std::uint64_t rejoins() const noexcept;

  // Reports the end: graceful → deregister the service (or fail its check with `note` when
  // deregister_on_graceful_shutdown is off); not graceful → fail the check with `note`. Best
  // effort: a failure is logged, not returned. Call after stop().
  boost::asio::awaitable<void> leave(bool graceful, std::string note);

 private:
  struct impl;
  explicit member(std::shared_ptr<impl> p);
  std::shared_ptr<impl> impl_;
};

}  // namespace cbes::group
