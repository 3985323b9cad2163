#pragma once
// Retry pacing shared by the client's read retries and consul::watch: jittered exponential
// backoff and a token bucket. Pure functions of their inputs (time and randomness are
// parameters) so tests can pin them down.
//
//   auto d = consul::backoff_delay({.base = 100ms, .max = 30s}, attempt, consul::random_unit());
//   consul::token_bucket tb(2, 15s);  auto wait = tb.take(now);
#include <chrono>

namespace consul {

struct backoff_policy {
  std::chrono::milliseconds base{100};   // node client: 2^attempt × 100 ms
  std::chrono::milliseconds max{30000};  // … capped at 30 s
};

// Delay before retry number `attempt` (0-based): uniformly in [cap/2, cap] with
// cap = min(max, base × 2^attempt); `unit` is a random number in [0, 1). Jitter keeps many
// clients that failed together from retrying together.
std::chrono::milliseconds backoff_delay(const backoff_policy& p, unsigned attempt, double unit);

// A random number in [0, 1) from a per-thread generator.
double random_unit();

// Token bucket: `burst` tokens, one more every `refill`. take() consumes a token
// and returns how long the caller must wait first (zero while tokens remain).
class token_bucket {
 public:
  using clock = std::chrono::steady_clock;
  token_bucket(double burst, std::chrono::milliseconds refill);
  std::chrono::milliseconds take(clock::time_point now);

 private:
  double burst_;
  std::chrono::milliseconds refill_;
  double tokens_;
  clock::time_point last_{};
  bool started_ = false;
};

}  // namespace consul
