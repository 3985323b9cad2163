#include "cbes/util/redaction.hpp"

#include <atomic>

namespace cbes::util {
namespace {
std::atomic<redaction> level{redaction::none};
}

void set_redaction(redaction l) noexcept {
  level.store(l, std::memory_order_relaxed);
}

redaction current_redaction() noexcept {
  return level.load(std::memory_order_relaxed);
}

std::string user_data(std::string_view text) {
  if (current_redaction() == redaction::none)
    return std::string(text);
  std::string out;
  out.reserve(text.size() + 9);
  out += "<ud>";
  out += text;
  out += "</ud>";
  return out;
}

}  // namespace cbes::util
