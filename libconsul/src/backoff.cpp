#include "consul/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace consul {

std::chrono::milliseconds backoff_delay(const backoff_policy& p, unsigned attempt, double unit) {
  const double base = static_cast<double>(std::max<long long>(p.base.count(), 1));
  const double max = static_cast<double>(std::max(p.max.count(), p.base.count()));
  const double cap = std::min(max, base * std::pow(2.0, std::min(attempt, 40u)));
  const double u = std::clamp(unit, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<long long>(cap / 2 + u * cap / 2));
}

double random_unit() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}

token_bucket::token_bucket(double burst, std::chrono::milliseconds refill)
    : burst_(std::max(burst, 1.0)), refill_(refill), tokens_(burst_) {}

std::chrono::milliseconds token_bucket::take(clock::time_point now) {
  if (started_ && refill_.count() > 0) {
    const double elapsed = std::chrono::duration<double, std::milli>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed / static_cast<double>(refill_.count()));
  } else if (refill_.count() <= 0) {
    tokens_ = burst_;
  }
  started_ = true;
  last_ = now;
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return std::chrono::milliseconds{0};
  }
  // Borrow the token now; the caller waits until it would have been refilled.
  const double missing = 1.0 - tokens_;
  tokens_ -= 1.0;
  return std::chrono::milliseconds(
      static_cast<long long>(std::ceil(missing * static_cast<double>(refill_.count()))));
}

}  // namespace consul
