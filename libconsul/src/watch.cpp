#include "consul/watch.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace consul {
namespace asio = boost::asio;

index_step next_index(std::uint64_t sent, std::uint64_t returned) noexcept {
  // A server (or fake) answering 0 would make us busy-loop: treat it as 1 (rule 4).
  const std::uint64_t r = returned == 0 ? 1 : returned;
  if (sent == 0)
    return {r, true};
  if (r < sent)
    return {0, false};
  if (r == sent)
    return {sent, false};
  return {r, true};
}

watch_engine::watch_engine(asio::any_io_executor ex, watch_options o)
    : executor_(std::move(ex)), options_(o), bucket_(o.rate_burst, o.rate_refill) {}

namespace {

asio::awaitable<bool> sleep_for(asio::any_io_executor ex, std::chrono::milliseconds d) {
  if (d.count() <= 0)
    co_return true;
  asio::steady_timer t(ex, d);
  boost::system::error_code ec;
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_return !ec;
}

bool retryable(const error& e) {
  // A 404 reported as an error (e.g. an endpoint the agent lost) is retried after backoff.
  return e.transient() || e.code == errc::not_found;
}

}  // namespace

asio::awaitable<result<void>> watch_engine::next(query_fn query) {
  const bool throw_before = co_await asio::this_coro::throw_if_cancelled();
  co_await asio::this_coro::throw_if_cancelled(false);
  auto finish = [&](result<void> r) -> asio::awaitable<result<void>> {
    co_await asio::this_coro::throw_if_cancelled(throw_before);
    co_return r;
  };
  unsigned failures = 0;
  for (;;) {
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none)
      co_return co_await finish(make_error(errc::cancelled, "watch cancelled"));
    // Only blocking polls spend tokens: the first read and a reset re-read are free.
    if (index_ > 0 && options_.rate_refill.count() > 0) {
      if (!co_await sleep_for(executor_, bucket_.take(std::chrono::steady_clock::now())))
        co_return co_await finish(make_error(errc::cancelled, "watch cancelled"));
    }
    query_options q;
    q.index = index_;
    q.wait = options_.wait;
    q.mode = options_.mode;
    auto meta = co_await query(q);
    if (!meta) {
      if (!retryable(meta.error()) ||
          (options_.max_failures > 0 && failures + 1 >= options_.max_failures))
        co_return co_await finish(meta.error());
      const auto delay = backoff_delay(options_.backoff, failures++, random_unit());
      if (!co_await sleep_for(executor_, delay))
        co_return co_await finish(make_error(errc::cancelled, "watch cancelled"));
      continue;
    }
    failures = 0;
    const auto step = next_index(index_, meta->index);
    index_ = step.next_index;
    if (step.changed)
      co_return co_await finish(result<void>{});
  }
}

}  // namespace consul
