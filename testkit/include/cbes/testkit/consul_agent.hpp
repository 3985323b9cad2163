#pragma once
// A Consul-compatible single-node dev agent for tests and cbes-sandbox.
//
// It serves the subset of Consul's HTTP API described in
// shared/reference/Consul's HTTP API docs (KV, sessions, agent services + TTL checks, health,
// catalog, status, txn, blocking queries, ACL tokens) with the edge cases of a real dev agent, so
// that libconsul and stock Consul clients (python3-consul2, npm `consul`) behave against it as
// against `consul agent -dev`. Like a dev agent it also serves a web UI at /ui/ (a read-only
// view of services, health checks, nodes and KV; `/` redirects there). It runs on its own thread;
// every method here is thread-safe.
//
//   cbes::testkit::consul_agent agent;            // 127.0.0.1, ephemeral port
//   agent.start();
//   std::string base = agent.url();               // "http://127.0.0.1:41234"
//   agent.fail_next_requests(3, 500);             // next 3 requests: 500 "No cluster leader"
//   agent.stop();
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace cbes::testkit {

struct consul_agent_options {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = ephemeral; see consul_agent::port()
  std::string node_name = "cbes-sandbox";
  std::string datacenter = "dc1";
  // When non-empty, ACLs are enforced: requests must carry this token (X-Consul-Token,
  // Authorization: Bearer, or ?token=) or get 403 "ACL not found".
  std::string acl_master_token;
  // Time is driven by consul_agent::advance() instead of the steady clock: session TTLs,
  // check TTLs, lock-delay, the critical-service reaper and blocking-query waits only move
  // when the test advances the clock.
  bool manual_clock = false;
  // Blocking-query jitter (up to wait/16) as Consul adds it; tests turn it off to be exact.
  bool jitter = true;
  // TLS: when both are set the agent serves HTTPS with this PEM certificate chain and key.
  std::string tls_cert_file;
  std::string tls_key_file;
};

class consul_agent {
 public:
  explicit consul_agent(consul_agent_options options = {});
  ~consul_agent();  // stops the agent
  consul_agent(const consul_agent&) = delete;
  consul_agent& operator=(const consul_agent&) = delete;

  // Binds, starts the server thread, and returns once connections are accepted.
  // Throws std::system_error when the port cannot be bound.
  void start();
  // Closes the listener and every connection (in-flight long polls are dropped).
  void stop();

  std::uint16_t port() const;
  std::string url() const;  // "http://127.0.0.1:<port>" (https when TLS is on)

  // Manual clock only: moves time forward and runs every timer that falls due.
  void advance(std::chrono::milliseconds d);

  // ---- fault injection ----
  // The next n requests (any endpoint) fail with `status`: 500 answers "No cluster leader",
  // 503 answers "Service Unavailable", 429 answers with an empty body.
  void fail_next_requests(int n, int status = 500);
  // Every response is delayed by d before it is written (0 = off).
  void delay_responses(std::chrono::milliseconds d);
  // Every long poll currently waiting is dropped: its connection is closed without answer.
  void drop_long_polls();
  // The raft index goes backwards (as after a dev-agent restart or snapshot restore): the
  // global counter restarts low; data is kept with re-numbered indexes. Waiters wake.
  void reset_index();
  // The agent process goes away as in a restart: the listener and every connection close at
  // once (clients see connection refused) until start() runs again, on the same port. With
  // `keep_data` (a server with its data directory) KV, sessions, services and checks survive
  // and their TTL timers start over at start(); without it (a dev agent, or a data directory
  // lost) everything is gone and the index starts low again. Faults set before are cleared.
  //
  //   agent.shut_down(false);   // ... clients retry ...
  //   agent.start();            // empty, same port
  void shut_down(bool keep_data);
  // Accepts connections and reads requests but never answers, until unfrozen.
  void freeze(bool on);
  // The node's serfHealth check turns critical (sessions bound to it are invalidated,
  // health/service?passing hides its services) or passing again.
  void kill_node(bool dead = true);
  // No leader: default and consistent reads and all writes answer 500 "No cluster leader";
  // ?stale reads still work with X-Consul-KnownLeader: false; status/leader answers "".
  void lose_leader(bool lost = true);
  // Wakes every blocking query without a change (the query returns with the same index).
  void spurious_wakeup();

  // ---- inspection ----
  std::uint64_t current_index() const;
  std::size_t requests_served() const;
  // Requests currently parked (blocking queries, frozen requests).
  std::size_t waiting_queries() const;
  // Requests that have begun waiting since start: a blocking query counts once when it
  // parks, however often writes wake it to re-check; a frozen request counts once too.
  std::uint64_t queries_parked() const;

  // ---- synchronisation for tests ----
  // A test that injects a fault into a long poll waits for the poll to be parked first; these
  // block the calling thread (not the agent's) and return false when `limit` passes first.
  //
  //   auto mark = agent.queries_parked();
  //   auto poll = std::async(...);                   // a blocking query
  //   REQUIRE(agent.wait_until_parked(mark + 1, 10s));
  //   agent.drop_long_polls();                       // certainly hits the parked poll
  //
  // Until queries_parked() reaches `total`: a poll begun after the mark is parked.
  bool wait_until_parked(std::uint64_t total, std::chrono::milliseconds limit) const;
  // Until waiting_queries() reaches `n`: n requests are parked at the same time (e.g. a lock
  // holder's monitor and a contender's acquire).
  bool wait_until_waiting(std::size_t n, std::chrono::milliseconds limit) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace cbes::testkit
