#include "agent_impl.hpp"

namespace cbes::testkit {

ns consul_agent::impl::now() const {
  if (opts.manual_clock)
    return manual_now;
  return std::chrono::duration_cast<ns>(std::chrono::steady_clock::now() - started);
}

// Wakes every parked request so it re-evaluates. Timers belong to the server thread,
// so the cancel is posted there; a waiter registers under `mu` before it suspends.
void consul_agent::impl::notify() {
  std::lock_guard guard(mu);
  if (!server || !running)
    return;
  // Posting under `mu` keeps stop() from destroying the io_context meanwhile.
  asio::post(server->executor(), [this] {
    std::lock_guard lock(mu);
    for (auto* t : waiters)
      t->cancel();
  });
}

// Parks the current request until notify(); `begins` when the request had not waited before.
asio::awaitable<void> consul_agent::impl::park(std::optional<ns> real_timeout, bool begins) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  if (real_timeout && !opts.manual_clock)
    timer.expires_after(*real_timeout);
  else
    timer.expires_at(asio::steady_timer::time_point::max());
  {
    std::lock_guard lock(mu);
    waiters.insert(&timer);
    if (begins)
      ++parked_total;
  }
  // Tests wait on this (consul_agent::wait_until_parked) to inject a fault into a long poll
  // that is certainly parked instead of sleeping and hoping it is.
  parked_changed.notify_all();
  waiter_registration reg{this, &timer};
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

// Real clock: timers fall due on their own; a light periodic tick runs them so that
// watchers are woken even when no request arrives.
asio::awaitable<void> consul_agent::impl::ticker() {
  asio::steady_timer t(co_await asio::this_coro::executor);
  for (;;) {
    t.expires_after(std::chrono::milliseconds(100));
    auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec)
      co_return;
    bool changed;
    {
      std::lock_guard lock(mu);
      changed = st.run_due(now());
    }
    if (changed)
      notify();
  }
}

}  // namespace cbes::testkit
