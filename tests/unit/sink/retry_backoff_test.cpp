#include <catch2/catch.hpp>

#include <random>

#include "cbes/sink/retry_backoff.hpp"

using namespace cbes::sink;
using std::chrono::milliseconds;

namespace {

// Always the largest value: pins the delay to the ceiling.
struct max_rng {
  using result_type = std::uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return UINT64_MAX; }
  result_type operator()() { return UINT64_MAX; }
};

struct min_rng {
  using result_type = std::uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return UINT64_MAX; }
  result_type operator()() { return 0; }
};

}  // namespace

TEST_CASE("retry back-off: the ceiling doubles from 100 ms and is capped at 5 minutes") {
  const retry_backoff b;
  CHECK(b.ceiling(1) == milliseconds(100));
  CHECK(b.ceiling(2) == milliseconds(200));
  CHECK(b.ceiling(3) == milliseconds(400));
  CHECK(b.ceiling(12) == milliseconds(204800));
  CHECK(b.ceiling(13) == std::chrono::minutes(5));
  CHECK(b.ceiling(1000000) == std::chrono::minutes(5));
}

TEST_CASE("retry back-off: full jitter spans [0, ceiling]") {
  retry_backoff high;
  max_rng hi;
  CHECK(high.next_delay(hi) == milliseconds(100));
  CHECK(high.next_delay(hi) == milliseconds(200));
  CHECK(high.next_delay(hi) == milliseconds(400));
  retry_backoff low;
  min_rng lo;
  CHECK(low.next_delay(lo) == milliseconds(0));
  CHECK(low.next_delay(lo) == milliseconds(0));
}

TEST_CASE("retry back-off: a draw maps onto [0, d] proportionally") {
  using ms = milliseconds;
  CHECK(retry_backoff::jitter(ms(100), 0) == ms(0));
  CHECK(retry_backoff::jitter(ms(100), UINT64_MAX) == ms(100));
  CHECK(retry_backoff::jitter(ms(100), UINT64_MAX / 2) == ms(50));
  CHECK(retry_backoff::jitter(std::chrono::minutes(5), UINT64_MAX) == std::chrono::minutes(5));
  CHECK(retry_backoff::jitter(ms(0), UINT64_MAX) == ms(0));
}

TEST_CASE("retry back-off: random delays stay within their bounds and are not constant") {
  std::mt19937_64 rng(12345);
  bool varied = false;
  for (int round = 0; round < 50; ++round) {
    retry_backoff b;
    for (std::uint32_t retry = 1; retry <= 20; ++retry) {
      const auto d = b.next_delay(rng);
      REQUIRE(d);
      CHECK(*d >= milliseconds(0));
      CHECK(*d <= b.ceiling(retry));
      if (retry == 10 && *d != b.ceiling(10))
        varied = true;
    }
  }
  CHECK(varied);
}

TEST_CASE("retry back-off: unlimited attempts by default") {
  retry_backoff b;
  min_rng rng;
  for (int i = 0; i < 10000; ++i)
    REQUIRE(b.next_delay(rng));
  CHECK(b.retries() == 10000);
}

TEST_CASE("retry back-off: max attempts counts the first try and then stops") {
  retry_backoff b({.max_attempts = 3});
  min_rng rng;
  CHECK(b.next_delay(rng));
  CHECK(b.next_delay(rng));
  CHECK_FALSE(b.next_delay(rng));
  CHECK_FALSE(b.may_retry());
  b.reset();
  CHECK(b.may_retry());
  retry_backoff once({.max_attempts = 1});
  CHECK_FALSE(once.next_delay(rng));
}

TEST_CASE("retry back-off: first delay and cap are configurable") {
  const retry_backoff b({.first_delay = milliseconds(50), .max_delay = milliseconds(120)});
  CHECK(b.ceiling(1) == milliseconds(50));
  CHECK(b.ceiling(2) == milliseconds(100));
  CHECK(b.ceiling(3) == milliseconds(120));
}
