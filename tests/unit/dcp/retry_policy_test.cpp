#include <catch2/catch.hpp>

#include <set>

#include "cbes/dcp/retry_policy.hpp"

using namespace std::chrono_literals;
using cbes::dcp::backoff;
using cbes::dcp::retry_cannot_fix;
namespace cb = cbes::couchbase;
using cbes::mcbp::status;

TEST_CASE("back-off doubles from the base to the cap, each delay within [half, full]") {
  backoff b{200ms, 10s, 42};
  const std::chrono::milliseconds nominal[] = {200ms,  400ms, 800ms, 1600ms, 3200ms,
                                               6400ms, 10s,   10s,   10s};
  for (auto n : nominal) {
    CHECK(b.nominal() == n);
    const auto d = b.next();
    CHECK(d >= n / 2);
    CHECK(d <= n);
  }
  CHECK(b.attempts() == 9);
}

TEST_CASE("back-off starts again from the base after a reset") {
  backoff b{50ms, 1s, 7};
  for (int i = 0; i < 5; ++i)
    b.next();
  b.reset();
  CHECK(b.attempts() == 0);
  CHECK(b.nominal() == 50ms);
  CHECK(b.next() <= 50ms);
}

TEST_CASE("back-off delays are jittered, so consumers restarting together spread out") {
  std::set<std::chrono::milliseconds::rep> seen;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    backoff b{1000ms, 10s, seed};
    seen.insert(b.next().count());
  }
  CHECK(seen.size() > 10);
}

TEST_CASE("failures a retry cannot fix are told apart from transient ones") {
  CHECK(retry_cannot_fix(cb::make_error(cb::errc::authentication_failed, "x")));
  CHECK(retry_cannot_fix(cb::make_error(cb::errc::access_denied, "x", status::eaccess)));
  CHECK(retry_cannot_fix(cb::make_error(cb::errc::bucket_not_found, "x")));
  CHECK(retry_cannot_fix(cb::make_error(cb::errc::unknown_collection, "x")));
  CHECK(retry_cannot_fix(cb::make_error(cb::errc::server_error, "x", status::not_supported)));
  CHECK(retry_cannot_fix(cb::make_error(cb::errc::server_error, "x", status::unknown_command)));
  CHECK(retry_cannot_fix(cb::make_error(cb::errc::server_error, "x", status::eaccess)));

  CHECK_FALSE(retry_cannot_fix(cb::make_error(cb::errc::connection_failed, "refused")));
  CHECK_FALSE(retry_cannot_fix(cb::make_error(cb::errc::connection_closed, "lost")));
  CHECK_FALSE(retry_cannot_fix(cb::make_error(cb::errc::timeout, "slow")));
  CHECK_FALSE(retry_cannot_fix(cb::make_error(cb::errc::server_error, "x", status::etmpfail)));
  CHECK_FALSE(
      retry_cannot_fix(cb::make_error(cb::errc::server_error, "x", status::not_my_vbucket)));
  CHECK_FALSE(retry_cannot_fix(cb::make_error(cb::errc::protocol_error, "garbled")));
}
