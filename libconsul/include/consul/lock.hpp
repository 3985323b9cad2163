#pragma once
// consul::lock — leader election on one KV key (Consul's HTTP API docs with the rules of
// Consul's own api/lock.go): an own TTL session renewed at TTL/2, `?acquire=`, a
// blocking watch of the key, lock-delay honoured, loss reported, graceful hand-over.
//
//   consul::lock l(c, {.key = "service/web/leader", .value = "node-1"});
//   if (auto r = co_await l.acquire(); r) {
//     // leader work; stop it as soon as this completes:
//     auto lost = co_await l.wait_lost();   // error errc::lock_lost with the reason
//   }
//   co_await l.abdicate();                  // or l.release()
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "consul/backoff.hpp"
#include "consul/client.hpp"

namespace consul {

struct lock_options {
  std::string key;
  std::string value;        // written on acquire: who leads
  std::uint64_t flags = 0;  // written on acquire and release
  std::string session_name = "libconsul lock";
  // What Consul does with the key when the session ends without a release (TTL, failed check):
  // release keeps the last holder's value, delete removes the key.
  session_behavior behavior = session_behavior::release;
  std::chrono::milliseconds session_ttl{15000};         // Go DefaultLockSessionTTL
  std::chrono::milliseconds lock_delay{15000};          // Consul's default lock-delay
  std::optional<std::vector<std::string>> node_checks;  // unset = ["serfHealth"]
  std::vector<std::string> service_checks;      // e.g. {"service:web-1"}: leadership ends with it
  std::chrono::milliseconds renew_interval{0};  // 0 = TTL/2 of the TTL Consul returned
  std::chrono::milliseconds renew_retry{1000};  // after a failed renew, until TTL has passed
  std::chrono::milliseconds wait{15000};        // long poll on the key (DefaultLockWaitTime)
  std::chrono::milliseconds retry_time{5000};   // acquire refused on a free key: lock-delay
  backoff_policy backoff{std::chrono::milliseconds(100), std::chrono::milliseconds(5000)};
};

class lock {
 public:
  lock(const client& c, lock_options o);
  // Stops background renewal/monitoring; a held lock is released and the session destroyed
  // in the background (best effort).
  ~lock();
  lock(const lock&) = delete;
  lock& operator=(const lock&) = delete;

  // Returns once this process holds the key; waits (blocking queries) while another holds it.
  // Errors: non-transient Consul failures, cancellation (asio cancellation slot).
  //   if (auto r = co_await l.acquire(); !r) std::cerr << r.error().what();
  boost::asio::awaitable<result<void>> acquire();

  // Completes when leadership ends — session gone (renew 404, TTL, failing check), the key's
  // Session changed, or the key deleted — with errc::lock_lost and the reason as message.
  //   auto why = co_await l.wait_lost();
  boost::asio::awaitable<result<void>> wait_lost();

  // Graceful stop: `?release=` (no lock-delay for the successor), then destroy the session.
  //   co_await l.release();
  boost::asio::awaitable<result<void>> release();

  // Steps down in ONE transaction (check-session, unlock, delete) so watchers see the key
  // vanish and a successor acquires at once; then destroys the session.
  //   co_await l.abdicate();
  boost::asio::awaitable<result<void>> abdicate();

  bool held() const noexcept;
  std::string session_id() const;

  struct state;

 private:
  std::shared_ptr<state> state_;
};

}  // namespace consul
