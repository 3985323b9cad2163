#include "cbes/dcp/retry_policy.hpp"

#include <algorithm>

namespace cbes::dcp {

backoff::backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap, std::uint64_t seed)
    : base_(std::max(base, std::chrono::milliseconds{1})), cap_(std::max(cap, base_)), rng_(seed) {}

std::chrono::milliseconds backoff::nominal() const noexcept {
  auto d = base_;
  for (unsigned i = 0; i < attempt_ && d < cap_; ++i)
    d *= 2;
  return std::min(d, cap_);
}

std::chrono::milliseconds backoff::next() {
  const auto d = nominal().count();
  ++attempt_;
  std::uniform_int_distribution<std::chrono::milliseconds::rep> jitter(d - d / 2, d);
  return std::chrono::milliseconds{jitter(rng_)};
}

bool retry_cannot_fix(const couchbase::error& e) noexcept {
  using couchbase::errc;
  if (e.code == errc::authentication_failed || e.code == errc::no_sasl_mechanism ||
      e.code == errc::bucket_not_found || e.code == errc::access_denied ||
      e.code == errc::unknown_collection || e.code == errc::invalid_argument)
    return true;
  if (e.code.category() != couchbase::error_category() || !e.status)
    return false;
  switch (*e.status) {
    case mcbp::status::auth_error:
    case mcbp::status::eaccess:
    case mcbp::status::no_bucket:
    case mcbp::status::einval:
    case mcbp::status::not_supported:
    case mcbp::status::unknown_command:
    case mcbp::status::unknown_collection:
    case mcbp::status::unknown_scope:
      return true;
    default:
      return false;
  }
}

}  // namespace cbes::dcp
