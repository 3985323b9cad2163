// Leader election (Consul's HTTP API docs: sessions, lock-delay, renew; Consul's Go api/lock.go).
#include "consul/lock.hpp"

#include <exception>
#include <utility>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cancel_as_value.hpp"
#include "consul/backoff.hpp"
#include "consul/watch.hpp"

namespace consul {
namespace asio = boost::asio;
using std::chrono::milliseconds;

// One background coroutine (renewer, monitor) and its own cancellation signal. co_spawn puts
// the coroutine's cancellation state into the bound slot, so a slot must never be reused for
// a second coroutine while the first may still run: re-binding destroys the first one's
// cancellation state under it (a use-after-free that surfaced as a crash inside a Beast
// write). Each task therefore gets a fresh signal, kept alive by the coroutine's completion
// handler until the coroutine has finished, and by the state for stop().
struct background_task {
  asio::cancellation_signal signal;
  void stop() { signal.emit(asio::cancellation_type::terminal); }
};
using task_ptr = std::shared_ptr<background_task>;

struct lock::state {
  state(const client& c, lock_options o)
      : executor(c.get_executor()),
        kv(c.kv()),
        sessions(c.session()),
        txn(c.txn()),
        options(std::move(o)),
        lost_signal(executor) {}

  asio::any_io_executor executor;
  kv_api kv;
  session_api sessions;
  txn_api txn;
  lock_options options;

  std::string session;  // empty = none (or known dead)
  milliseconds ttl{0};
  bool held = false;
  bool closed = false;  // the lock object is gone: pending acquires stand down
  std::string lost_reason;
  std::uint64_t generation = 0;  // bumps on every acquisition: stale monitors stand down
  asio::steady_timer lost_signal;
  task_ptr renewer;  // renews `session`
  task_ptr monitor;  // watches the key while held

  void stop_monitor() {
    if (auto t = std::exchange(monitor, nullptr))
      t->stop();
  }
  void stop_renewer() {
    if (auto t = std::exchange(renewer, nullptr))
      t->stop();
  }
  void mark_lost(std::string reason, std::uint64_t gen) {
    if (!held || gen != generation)
      return;
    held = false;
    lost_reason = std::move(reason);
    lost_signal.cancel();
    stop_monitor();
  }
  void stop_background() {
    stop_monitor();
    stop_renewer();
  }
};

namespace {
using state_ptr = std::shared_ptr<lock::state>;

// Plain builders: designated initializers trip GCC 12's -Wmissing-field-initializers.
kv_put_options put_options(std::uint64_t flags, std::string acquire, std::string release) {
  kv_put_options p;
  p.flags = flags;
  p.acquire = std::move(acquire);
  p.release = std::move(release);
  return p;
}

query_options blocking(std::uint64_t index, milliseconds wait, consistency mode) {
  query_options q;
  q.index = index;
  q.wait = wait;
  q.mode = mode;
  return q;
}

asio::awaitable<bool> sleep_for(asio::any_io_executor ex, milliseconds d) {
  asio::steady_timer t(ex, d);
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

asio::awaitable<bool> cancelled() {
  auto cs = co_await asio::this_coro::cancellation_state;
  co_return cs.cancelled() != asio::cancellation_type::none;
}

// Renew every TTL/2, adopting the TTL Consul returns; 404 means the session is gone; other
// failures are retried every renew_retry until a TTL has passed since the last success
// (the Go client's RenewPeriodic).
asio::awaitable<void> renew_loop(state_ptr s, std::string id) {
  co_await asio::this_coro::throw_if_cancelled(false);
  using clock = std::chrono::steady_clock;
  auto last_ok = clock::now();
  for (;;) {
    auto interval = s->options.renew_interval.count() > 0 ? s->options.renew_interval : s->ttl / 2;
    if (!co_await sleep_for(s->executor, interval))
      co_return;
    for (;;) {
      auto r = co_await s->sessions.renew(id);
      const bool stop = co_await cancelled();
      if (stop || s->session != id)
        co_return;
      if (r) {
        last_ok = clock::now();
        if (auto t = std::chrono::duration_cast<milliseconds>(r->ttl_duration); t.count() > 0)
          s->ttl = t;
        break;
      }
      if (r.error().code == errc::session_not_found || r.error().code == errc::cancelled ||
          clock::now() - last_ok > s->ttl) {
        s->session.clear();
        s->mark_lost("session " + id + " is gone: " + r.error().what(), s->generation);
        co_return;
      }
      if (!co_await sleep_for(s->executor, s->options.renew_retry))
        co_return;
    }
  }
}

// While held: blocking reads of the key; anything but "exists with our Session" is a loss
// (the Go client's monitorLock; a blocking read on an invalidated session still returns).
asio::awaitable<void> monitor_loop(state_ptr s, std::uint64_t gen, std::string id) {
  co_await asio::this_coro::throw_if_cancelled(false);
  std::uint64_t index = 0;
  unsigned failures = 0;
  while (s->held && s->generation == gen) {
    auto r = co_await s->kv.get(s->options.key,
                                blocking(index, s->options.wait, consistency::consistent));
    const bool stop = co_await cancelled();
    if (stop || !s->held || s->generation != gen)
      co_return;
    if (!r) {
      if (!r.error().transient()) {
        s->mark_lost("watching " + s->options.key + " failed: " + r.error().what(), gen);
        co_return;
      }
      // Ride out leader elections; if the session really dies the renewer reports it.
      if (!co_await sleep_for(s->executor,
                              backoff_delay(s->options.backoff, failures++, random_unit())))
        co_return;
      continue;
    }
    failures = 0;
    if (!r->value) {
      s->mark_lost("key " + s->options.key + " was deleted", gen);
      co_return;
    }
    if (r->value->session != id) {
      s->mark_lost("key " + s->options.key + " is no longer held by session " + id +
                       (r->value->session.empty() ? std::string(" (released)")
                                                  : " (now " + r->value->session + ")"),
                   gen);
      co_return;
    }
    index = next_index(index, r->meta.index).next_index;
  }
}

// Starts `work` with its own cancellation signal (see background_task). The completion
// handler owns the task and drops it from a later handler, once the coroutine is unwound.
task_ptr spawn_background(const asio::any_io_executor& ex, asio::awaitable<void> work) {
  auto task = std::make_shared<background_task>();
  asio::co_spawn(ex, std::move(work),
                 asio::bind_cancellation_slot(task->signal.slot(),
                                              [ex, keep = task](std::exception_ptr) mutable {
                                                asio::post(ex, [done = std::move(keep)] {});
                                              }));
  return task;
}

void start_renewing(const state_ptr& s) {
  s->stop_renewer();  // a previous renewer (for a dead session) must not outlive it
  s->renewer = spawn_background(s->executor, renew_loop(s, s->session));
}

void become_holder(const state_ptr& s) {
  s->held = true;
  s->lost_reason.clear();
  ++s->generation;
  s->lost_signal.expires_at(asio::steady_timer::time_point::max());
  s->stop_monitor();
  s->monitor = spawn_background(s->executor, monitor_loop(s, s->generation, s->session));
}

asio::awaitable<result<void>> ensure_session(const state_ptr& s) {
  if (!s->session.empty())
    co_return result<void>{};
  session_options so;
  so.name = s->options.session_name;
  so.ttl = s->options.session_ttl;
  so.lock_delay = s->options.lock_delay;
  so.behavior = s->options.behavior;
  so.node_checks = s->options.node_checks;
  so.service_checks = s->options.service_checks;
  auto id = co_await s->sessions.create(so);
  if (!id)
    co_return id.error();
  s->session = std::move(*id);
  s->ttl = s->options.session_ttl;
  start_renewing(s);
  co_return result<void>{};
}

asio::awaitable<void> destroy_in_background(state_ptr s, std::string id, bool held) {
  if (held)
    co_await s->kv.put(s->options.key, s->options.value, put_options(s->options.flags, {}, id));
  co_await s->sessions.destroy(id);
}

// The lock object was destroyed while an acquire was running: give back what it got since.
error stand_down(const state_ptr& s, bool won) {
  s->stop_background();
  s->held = false;
  if (!s->session.empty())
    asio::co_spawn(s->executor, destroy_in_background(s, std::exchange(s->session, {}), won),
                   asio::detached);
  return make_error(errc::cancelled, "lock destroyed during acquisition");
}

// Awaited at once by its caller, so the reference stays valid.
asio::awaitable<bool> backoff_sleep(state_ptr s, unsigned& failures) {
  co_return co_await sleep_for(s->executor,
                               backoff_delay(s->options.backoff, failures++, random_unit()));
}

asio::awaitable<result<void>> acquire_loop(state_ptr s) {
  const auto& o = s->options;
  std::uint64_t index = 0;
  unsigned failures = 0;
  for (;;) {
    const bool stop = co_await cancelled();
    if (stop)
      co_return make_error(errc::cancelled, "lock acquisition cancelled");
    if (s->closed)
      co_return stand_down(s, false);
    if (s->held)
      co_return result<void>{};
    auto ok = co_await ensure_session(s);
    if (s->closed)
      co_return stand_down(s, false);
    if (!ok) {
      if (!ok.error().transient())
        co_return ok.error();
      const bool slept = co_await backoff_sleep(s, failures);
      if (!slept)
        co_return ok.error();
      continue;
    }
    auto r = co_await s->kv.get(o.key, blocking(index, o.wait, consistency::default_mode));
    if (s->closed)
      co_return stand_down(s, false);
    if (!r) {
      if (!r.error().transient())
        co_return r.error();
      const bool slept = co_await backoff_sleep(s, failures);
      if (!slept)
        co_return r.error();
      continue;
    }
    const auto step = next_index(index, r->meta.index);
    if (r->value && r->value->session == s->session) {
      become_holder(s);
      co_return result<void>{};
    }
    if (r->value && !r->value->session.empty()) {
      index = step.next_index;  // held by someone else: block until the key changes
      continue;
    }
    auto won = co_await s->kv.put(o.key, o.value, put_options(o.flags, s->session, {}));
    if (s->closed)
      co_return stand_down(s, won.has_value() && *won);
    if (!won) {
      // the session died under us (TTL, check): make a new one.
      if (won.error().message.find("invalid session") != std::string::npos) {
        s->session.clear();
        continue;
      }
      if (!won.error().transient())
        co_return won.error();
      const bool slept = co_await backoff_sleep(s, failures);
      if (!slept)
        co_return won.error();
      continue;
    }
    failures = 0;
    if (*won) {
      become_holder(s);
      co_return result<void>{};
    }
    // Refused: either someone was faster, or a lock-delay is running on the free key.
    auto again = co_await s->kv.get(o.key);
    if (again && again->value && !again->value->session.empty()) {
      index = again->meta.index;
      continue;
    }
    index = 0;
    const bool slept = co_await sleep_for(s->executor, o.retry_time);
    if (!slept)
      co_return make_error(errc::cancelled, "lock acquisition cancelled");
  }
}

}  // namespace

lock::lock(const client& c, lock_options o) : state_(std::make_shared<state>(c, std::move(o))) {}

lock::~lock() {
  auto& s = *state_;
  s.closed = true;
  s.stop_background();
  if (!s.session.empty()) {
    asio::co_spawn(s.executor, destroy_in_background(state_, s.session, s.held), asio::detached);
    s.session.clear();
  }
  s.held = false;
  s.lost_reason = "lock object destroyed";
  s.lost_signal.cancel();
}

asio::awaitable<result<void>> lock::acquire() {
  if (state_->options.key.empty() || state_->options.key.front() == '/')
    co_return make_error(errc::invalid_argument, "lock key must be non-empty and not start with /");
  co_return co_await detail::cancel_as_value(acquire_loop(state_));
}

asio::awaitable<result<void>> lock::wait_lost() {
  auto s = state_;
  if (s->held) {
    boost::system::error_code ec;
    co_await s->lost_signal.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (s->held)
      co_return make_error(errc::cancelled, "wait for lock loss cancelled");
  }
  co_return make_error(errc::lock_lost, s->lost_reason.empty() ? "lock not held" : s->lost_reason);
}

asio::awaitable<result<void>> lock::release() {
  auto s = state_;
  const std::string id = s->session;
  const bool was_held = s->held;
  s->held = false;
  s->lost_reason = "released";
  s->lost_signal.cancel();
  s->stop_background();
  s->session.clear();
  if (id.empty())
    co_return result<void>{};
  result<void> out;
  if (was_held) {
    auto r =
        co_await s->kv.put(s->options.key, s->options.value, put_options(s->options.flags, {}, id));
    if (!r)
      out = r.error();
  }
  // Release before destroy: destroying a holding session would start a lock-delay.
  auto d = co_await s->sessions.destroy(id);
  if (!d && out)
    out = d.error();
  co_return out;
}

asio::awaitable<result<void>> lock::abdicate() {
  auto s = state_;
  const std::string id = s->session;
  if (!s->held || id.empty())
    co_return co_await release();
  s->held = false;
  s->lost_reason = "abdicated";
  s->lost_signal.cancel();
  s->stop_background();
  s->session.clear();
  std::vector<txn_op> ops;
  ops.push_back(txn_op::check_session(s->options.key, id));
  ops.push_back(txn_op::unlock(s->options.key, s->options.value, id));
  ops.push_back(txn_op::remove(s->options.key));
  auto r = co_await s->txn.run(std::move(ops));
  result<void> out;
  if (!r) {
    out = r.error();
  } else if (!r->committed) {
    std::string text;
    for (const auto& e : r->errors)
      text += (text.empty() ? "" : "; ") + std::string("op ") + std::to_string(e.op_index) + ": " +
              e.what;
    out = make_error(errc::lock_lost, "abdicate transaction failed: " + text, 409);
  }
  auto d = co_await s->sessions.destroy(id);
  if (!d && out)
    out = d.error();
  co_return out;
}

bool lock::held() const noexcept {
  return state_->held;
}
std::string lock::session_id() const {
  return state_->session;
}

}  // namespace consul
