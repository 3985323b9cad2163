#pragma once
// When the DCP consumer tries again, and when it gives up.
//
// A failure that a retry cannot fix (wrong credentials, a missing role, bucket or collection, a
// server without DCP) stops the consumer and reaches its owner once; anything else — a refused
// or lost connection, a timeout, Etmpfail, NOT_MY_VBUCKET — is retried with exponential
// back-off and jitter, so a node that is down is not hammered and many consumers restarting
// together do not retry in lockstep.
//
//   backoff b{200ms, 10s};
//   timer.expires_after(b.next());   // 100–200 ms, then 200–400 ms, ... at most 10 s
//   b.reset();                       // after a round that succeeded
//   if (retry_cannot_fix(err)) report(err);
#include <chrono>
#include <cstdint>
#include <random>

#include "cbes/couchbase/error.hpp"

namespace cbes::dcp {

// "Equal jitter": the n-th consecutive retry waits a uniformly random time in [d/2, d] with
// d = min(cap, base · 2^n) — never less than half the nominal delay, so the delay grows
// for sure, yet spread out.
class backoff {
 public:
  backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap,
          std::uint64_t seed = std::random_device{}());

  // The delay before the next retry; each call doubles the nominal delay up to the cap.
  std::chrono::milliseconds next();
  // The nominal delay of the next retry (its upper bound).
  std::chrono::milliseconds nominal() const noexcept;
  // Back to `base` (after a success).
  void reset() noexcept { attempt_ = 0; }
  // Consecutive retries since the last reset.
  unsigned attempts() const noexcept { return attempt_; }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds cap_;
  unsigned attempt_ = 0;
  std::mt19937_64 rng_;
};

// True for failures that retrying cannot fix: authentication (SASL AuthError), authorisation
// (Eaccess, e.g. DCP_OPEN without the Data DCP Reader role), a missing bucket, an unknown
// collection or scope, a request the server does not support (NotSupported / UnknownCommand,
// e.g. no DCP) and requests refused as invalid (Einval on a mandatory DCP_CONTROL).
bool retry_cannot_fix(const couchbase::error& e) noexcept;

}  // namespace cbes::dcp
