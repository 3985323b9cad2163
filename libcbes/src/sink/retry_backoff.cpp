#include "cbes/sink/retry_backoff.hpp"

namespace cbes::sink {

std::chrono::milliseconds retry_backoff::ceiling(std::uint32_t retry) const {
  auto d = settings_.first_delay;
  // Doubling stops at the cap, so neither the shift nor the multiplication can overflow.
  for (std::uint32_t i = 1; i < retry && d < settings_.max_delay; ++i)
    d *= 2;
  return std::min(d, settings_.max_delay);
}

}  // namespace cbes::sink
