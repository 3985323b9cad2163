#include "cbes/sink/retry_backoff.hpp"

namespace cbes::sink {
namespace {

// High 64 bits of a 64x64-bit product, portably (no __int128 under -Wpedantic).
std::uint64_t mul_high(std::uint64_t a, std::uint64_t b) {
  const std::uint64_t a_lo = a & 0xFFFFFFFF, a_hi = a >> 32;
  const std::uint64_t b_lo = b & 0xFFFFFFFF, b_hi = b >> 32;
  const std::uint64_t lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo, lo_hi = a_lo * b_hi;
  const std::uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xFFFFFFFF) + lo_hi;
  return a_hi * b_hi + (hi_lo >> 32) + (cross >> 32);
}

}  // namespace

std::chrono::milliseconds retry_backoff::jitter(std::chrono::milliseconds d, std::uint64_t draw) {
  if (d.count() <= 0)
    return std::chrono::milliseconds(0);
  const auto span = static_cast<std::uint64_t>(d.count()) + 1;
  return std::chrono::milliseconds(static_cast<std::int64_t>(mul_high(span, draw)));
}

std::chrono::milliseconds retry_backoff::ceiling(std::uint32_t retry) const {
  auto d = settings_.first_delay;
  // Doubling stops at the cap, so neither the shift nor the multiplication can overflow.
  for (std::uint32_t i = 1; i < retry && d < settings_.max_delay; ++i)
    d *= 2;
  return std::min(d, settings_.max_delay);
}

}  // namespace cbes::sink
