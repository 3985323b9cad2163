#pragma once
// consul::watch — a blocking-query loop that yields each distinct result once, applying the
// client rules of Consul's HTTP API docs exactly.
//
//   consul::watch<std::optional<consul::kv_pair>> w(
//       c.get_executor(), [kv = c.kv()](consul::query_options q) { return kv.get("cfg", q); },
//       {.wait = 30s});
//   for (;;) {
//     auto r = co_await w.next();   // first call returns at once, then only on change
//     if (!r) break;                 // non-transient error (400, ACL, cancelled, ...)
//     use(r->value);
//   }
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "consul/backoff.hpp"
#include "consul/error.hpp"
#include "consul/types.hpp"

namespace consul {

// What to do with the X-Consul-Index a blocking query returned, as a pure
// function of the index sent and the index returned.
struct index_step {
  std::uint64_t next_index = 0;  // index for the next request
  bool changed = false;          // deliver this result to the listener
};
// sent == 0 (first call or after a reset): deliver; next = max(returned, 1) (rule 4).
// returned < sent: the index went backwards; reset: next = 0, nothing delivered (rule 3).
// returned == sent: no change (rule 5). returned > sent: change, next = returned (rule 2).
index_step next_index(std::uint64_t sent, std::uint64_t returned) noexcept;

struct watch_options {
  std::chrono::milliseconds wait{300000};  // per long poll (Consul's default 5 m)
  consistency mode = consistency::default_mode;
  backoff_policy backoff{};  // after transient errors
  // Token bucket: under churn at most `rate_burst` quick polls, then one per
  // `rate_refill`; refill 0 disables the limit.
  double rate_burst = 2;
  std::chrono::milliseconds rate_refill{15000};
  // Consecutive transient failures before next() reports the last one; 0 = retry forever.
  unsigned max_failures = 0;
};

// The type-independent engine of watch<T>. One loop iteration = one call of `query`.
class watch_engine {
 public:
  using query_fn = std::function<boost::asio::awaitable<result<query_meta>>(query_options)>;
  watch_engine(boost::asio::any_io_executor ex, watch_options o);
  // Runs `query` until it returns a changed index; errors as described on watch<T>::next().
  boost::asio::awaitable<result<void>> next(query_fn query);
  std::uint64_t index() const noexcept { return index_; }
  const watch_options& options() const noexcept { return options_; }

 private:
  boost::asio::any_io_executor executor_;
  watch_options options_;
  token_bucket bucket_;
  std::uint64_t index_ = 0;
};

template <class T>
class watch {
 public:
  using query_fn = std::function<boost::asio::awaitable<result<response<T>>>(query_options)>;

  watch(boost::asio::any_io_executor ex, query_fn query, watch_options o = {})
      : engine_(std::move(ex), o), query_(std::move(query)) {}

  // The next distinct result. Transient failures (connection, timeout, 5xx, 429, a 404 the
  // endpoint reports as an error) are retried with jittered backoff, keeping the index;
  // anything else (400, ACL denied, cancellation) is returned.
  boost::asio::awaitable<result<response<T>>> next() {
    std::optional<response<T>> latest;
    auto done = co_await engine_.next(
        [this, &latest](query_options q) -> boost::asio::awaitable<result<query_meta>> {
          auto r = co_await query_(q);
          if (!r)
            co_return r.error();
          latest.emplace(std::move(*r));
          co_return latest->meta;
        });
    if (!done)
      co_return done.error();
    co_return std::move(*latest);
  }

  // The index the next long poll will send.
  std::uint64_t index() const noexcept { return engine_.index(); }

 private:
  watch_engine engine_;
  query_fn query_;
};

}  // namespace consul
