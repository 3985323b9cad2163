#pragma once
// cbes::group::leader — the coordinator of a worker group: every worker campaigns for the
// group's leader key; the one elected watches the group's config, control document and
// members, and moves vbuckets between the workers with worker.release / worker.grant
// (worker_service.hpp) — incrementally, never stopping the group as a whole.
//
//   cbes::group::leader_options o;
//   o.group = "example-group";
//   o.endpoint_id = node->endpoint_id();      // the leader key's value
//   o.service_id = "example-group";           // leadership ends when this check fails
//   cbes::group::leader l(consul, o);
//   co_spawn(ex, l.run(), detached);          // campaigns, leads when elected, until stop()
//   ...
//   co_await l.stop();                        // abdicates when leading (one transaction)
//
// One term, as elected:
// 1. Learn: worker.status from every endpoint — what each streams and the newest generation
//    any of them has seen. Generations are fencing tokens: the leader key's ModifyIndex of
//    this term's acquisition × 2^20 plus the round, so every term's are above the last
//    term's, and workers refuse the commands of a deposed leader that wakes up. A new leader
//    with nothing changed moves nothing and restarts nobody.
// 2. Reconcile, whenever the config, the control document or the members change (member
//    changes debounced by `debounce`):
//    - the config is parsed here first; an invalid one is refused with one log line and the
//      group keeps the last good one;
//    - paused: every worker releases all it streams (checkpoints saved); nobody streams;
//    - workers that run another config are granted their own vbuckets with the new one (they
//      restart with it);
//    - plan() (plan.hpp) from the reported ownership and the live members (passing health
//      check and a bound endpoint): releases first, in parallel, and only after every release
//      of a vbucket answered is it granted to its new owner;
//    - the vbuckets of a member that vanished (session gone) are granted only `dead_margin`
//      after it vanished (and after the term began: the departure may predate it), so that a
//      worker cut off from Consul has stopped on its own kill switch first; `grace` can delay
//      that further, in case the member comes back.
//    Any failed call: the round is abandoned, ownership learned again, and retried after
//    `retry` (doubling up to 30 s).
// 3. The term ends when the lock is lost (the leader's session or service check failed, or
//    the key was taken): the leader stops at once and campaigns again.
#include <chrono>
#include <cstdint>
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

struct leader_options {
  std::string group;
  std::string endpoint_id;  // this worker's: written into the leader key
  std::string service_id;   // its check `service:<id>` binds the leader's session
  // Quiet time after a membership change before the group is rebalanced.
  std::chrono::milliseconds debounce{5000};
  // Extra delay before a departed member's vbuckets move (0 = none).
  std::chrono::milliseconds grace{0};
  // A vanished owner's vbuckets wait this long: the members' kill switch (member_options).
  std::chrono::milliseconds dead_margin{20000};
  // The leader lock's session: TTL and lock-delay (Consul's defaults).
  std::chrono::milliseconds session_ttl{15000};
  std::chrono::milliseconds lock_delay{15000};
  // Per RPC call (the Java client's 15 s).
  std::chrono::milliseconds rpc_timeout{15000};
  // After a failed round or an unreachable Consul; doubles up to 30 s.
  std::chrono::milliseconds retry{1000};
  // A round this often even when nothing changed: catches workers that stopped on their own
  // (a kill switch whose session survived) and gives their vbuckets out again.
  std::chrono::milliseconds resync{30000};
  // Long poll of the watches.
  std::chrono::milliseconds watch_wait{60000};
  // The bucket's vbucket count for a config; default: asks the Couchbase cluster it names.
  std::function<boost::asio::awaitable<result<std::uint16_t>>(std::string config)> vbucket_count{};
  std::function<void(std::string_view level, std::string_view line)> log{};
};

class leader {
 public:
  leader(consul::client& consul, leader_options options);
  ~leader();
  leader(const leader&) = delete;
  leader& operator=(const leader&) = delete;

  // Campaigns and leads, term after term, until stop(). Returns after stop().
  boost::asio::awaitable<void> run();
  // Ends run(): abdicates when leading (the key vanishes in one transaction, so a successor
  // takes over without the lock-delay). Returns when run() has ended.
  boost::asio::awaitable<void> stop();

  bool leading() const noexcept;
  // The generation of the last round (0 before the first).
  std::uint64_t generation() const noexcept;
  // Rounds that sent commands, for tests and logs.
  std::uint64_t rounds() const noexcept;

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace cbes::group
