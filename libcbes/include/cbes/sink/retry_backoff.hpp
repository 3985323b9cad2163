#pragma once
// Delay before a retry round (the Java connector's behaviour): truncated exponential back-off
// with full jitter, uniform in [0, d] with d = 100 ms, 200 ms, 400 ms, ... capped at 5 min;
// unlimited attempts unless configured. Pure: the random source is injected.
//
//   cbes::sink::retry_backoff b(settings.retry);
//   std::mt19937_64 rng{std::random_device{}()};
//   while (auto delay = b.next_delay(rng)) { sleep(*delay); if (resend()) break; }
#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <random>

#include "cbes/sink/settings.hpp"

namespace cbes::sink {

class retry_backoff {
 public:
  explicit retry_backoff(retry_settings settings = {}) : settings_(settings) {}

  // Upper bound d of the delay before retry number `retry` (1-based): first_delay * 2^(retry-1),
  // capped at max_delay.
  std::chrono::milliseconds ceiling(std::uint32_t retry) const;

  // Delay before the next retry, or nullopt when max_attempts tries have been made. Rng yields
  // uniform 64-bit values (e.g. std::mt19937_64); the delay is scaled from one draw, so a given
  // draw maps to the same delay on every platform (0 -> 0 ms, 2^64-1 -> d).
  template <std::uniform_random_bit_generator Rng>
  std::optional<std::chrono::milliseconds> next_delay(Rng& rng) {
    static_assert(Rng::min() == 0 && Rng::max() == UINT64_MAX, "needs a 64-bit generator");
    if (!may_retry())
      return std::nullopt;
    ++retries_;
    return jitter(ceiling(retries_), static_cast<std::uint64_t>(rng()));
  }

  // Full jitter: `draw` (uniform over 64 bits) scaled onto [0, d] inclusive.
  static std::chrono::milliseconds jitter(std::chrono::milliseconds d, std::uint64_t draw);

  // Whether one more try is allowed (the first try counts as an attempt).
  bool may_retry() const {
    return !settings_.max_attempts || retries_ + 1 < *settings_.max_attempts;
  }

  std::uint32_t retries() const { return retries_; }
  void reset() { retries_ = 0; }

 private:
  retry_settings settings_;
  std::uint32_t retries_ = 0;
};

}  // namespace cbes::sink
