#include <catch2/catch.hpp>

#include "consul/backoff.hpp"
#include "consul/watch.hpp"

using namespace std::chrono_literals;

TEST_CASE("the first blocking query result is delivered and its index kept") {
  auto s = consul::next_index(0, 42);
  CHECK(s.changed);
  CHECK(s.next_index == 42);
}

TEST_CASE("blocking query resets to index 0 when the index goes backwards") {
  auto s = consul::next_index(42, 7);
  CHECK_FALSE(s.changed);
  CHECK(s.next_index == 0);
  // The re-read without blocking is then delivered.
  auto again = consul::next_index(s.next_index, 7);
  CHECK(again.changed);
  CHECK(again.next_index == 7);
}

TEST_CASE("the same index returned means nothing changed") {
  auto s = consul::next_index(42, 42);
  CHECK_FALSE(s.changed);
  CHECK(s.next_index == 42);
}

TEST_CASE("a greater index is a change") {
  auto s = consul::next_index(42, 43);
  CHECK(s.changed);
  CHECK(s.next_index == 43);
}

TEST_CASE("an index of 0 from the server is never sent back: 1 is used instead") {
  auto first = consul::next_index(0, 0);
  CHECK(first.changed);
  CHECK(first.next_index == 1);
  auto later = consul::next_index(1, 0);
  CHECK_FALSE(later.changed);
  CHECK(later.next_index == 1);
}

TEST_CASE("backoff grows exponentially within jitter bounds and is capped") {
  consul::backoff_policy p{100ms, 30s};
  for (unsigned attempt = 0; attempt < 12; ++attempt) {
    const auto cap = std::min<std::chrono::milliseconds>(30s, 100ms * (1LL << attempt));
    INFO("attempt " << attempt);
    CHECK(consul::backoff_delay(p, attempt, 0.0) == cap / 2);
    CHECK(consul::backoff_delay(p, attempt, 0.999999) <= cap);
    CHECK(consul::backoff_delay(p, attempt, 0.999999) >= cap - 1ms);
  }
  CHECK(consul::backoff_delay(p, 1000, 0.5) <= 30s);
  for (int i = 0; i < 1000; ++i) {
    auto u = consul::random_unit();
    REQUIRE(u >= 0.0);
    REQUIRE(u < 1.0);
  }
}

TEST_CASE("the token bucket allows a burst then paces at the refill rate") {
  using clock = consul::token_bucket::clock;
  consul::token_bucket b(2, 15s);
  auto t = clock::time_point{} + 1h;
  CHECK(b.take(t) == 0ms);
  CHECK(b.take(t) == 0ms);
  CHECK(b.take(t) == 15s);        // third quick poll waits a full refill
  CHECK(b.take(t + 15s) == 15s);  // the borrowed token is paid back first
  consul::token_bucket idle(2, 15s);
  CHECK(idle.take(t) == 0ms);
  CHECK(idle.take(t + 1h) == 0ms);  // after a long poll the bucket is full again
  CHECK(idle.take(t + 1h) == 0ms);
}
