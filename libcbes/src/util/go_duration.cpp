#include "cbes/util/go_duration.hpp"

#include <cstdint>
#include <string>
#include <utility>

namespace cbes::util {
namespace {

// Go's time.Duration is an int64 of nanoseconds; magnitudes are summed as unsigned and may reach
// 2^63 only for a negative duration.
constexpr std::uint64_t magnitude_limit = std::uint64_t{1} << 63;

struct unit_entry {
  std::string_view name;
  std::uint64_t nanoseconds;
};
// "µs" is accepted as U+00B5 (micro sign) and U+03BC (Greek mu), as Go does.
constexpr unit_entry units[] = {
    {"ns", 1},         {"us", 1'000},        {"\xC2\xB5s", 1'000},  {"\xCE\xBCs", 1'000},
    {"ms", 1'000'000}, {"s", 1'000'000'000}, {"m", 60'000'000'000}, {"h", 3'600'000'000'000},
};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

parse_error invalid(std::string_view text, const std::string& reason) {
  std::string message = "invalid duration \"" + std::string(text) + "\": " + reason;
  for (char& c : message)
    if (static_cast<unsigned char>(c) < 0x20)
      c = '?';  // a control character in the text must not break the one-line message
  return parse_error{std::move(message)};
}

}  // namespace

parse_result<std::chrono::nanoseconds> parse_go_duration(std::string_view text) {
  std::string_view s = text;
  const bool negative = s.starts_with('-');
  if (negative || s.starts_with('+'))
    s.remove_prefix(1);
  if (s == "0")
    return std::chrono::nanoseconds{0};
  if (s.empty())
    return invalid(text, "expected a number and a unit, e.g. 10s");

  std::uint64_t total = 0;
  while (!s.empty()) {
    if (!is_digit(s.front()) && s.front() != '.')
      return invalid(text, "expected a number before each unit");
    std::uint64_t whole = 0;
    std::size_t i = 0;
    for (; i < s.size() && is_digit(s[i]); ++i) {
      if (whole > magnitude_limit / 10)
        return invalid(text, "out of range");
      whole = whole * 10 + static_cast<std::uint64_t>(s[i] - '0');
      if (whole > magnitude_limit)
        return invalid(text, "out of range");
    }
    bool has_digits = i > 0;
    // Fraction digits beyond what 63 bits hold are read but ignored, as Go does.
    std::uint64_t fraction = 0;
    double scale = 1;
    if (i < s.size() && s[i] == '.') {
      bool saturated = false;
      for (++i; i < s.size() && is_digit(s[i]); ++i) {
        has_digits = true;
        if (saturated || fraction > (magnitude_limit - 1) / 10) {
          saturated = true;
          continue;
        }
        fraction = fraction * 10 + static_cast<std::uint64_t>(s[i] - '0');
        scale *= 10;
      }
    }
    if (!has_digits)
      return invalid(text, "expected digits around '.'");

    std::size_t end = i;
    while (end < s.size() && !is_digit(s[end]) && s[end] != '.')
      ++end;
    const std::string_view name = s.substr(i, end - i);
    if (name.empty())
      return invalid(text, "missing unit (use ns, us, ms, s, m or h)");
    const unit_entry* unit = nullptr;
    for (const auto& u : units)
      if (u.name == name)
        unit = &u;
    if (unit == nullptr)
      return invalid(text,
                     "unknown unit \"" + std::string(name) + "\" (use ns, us, ms, s, m or h)");
    s.remove_prefix(end);

    if (whole > magnitude_limit / unit->nanoseconds)
      return invalid(text, "out of range");
    std::uint64_t value = whole * unit->nanoseconds;
    if (fraction > 0) {
      // A double is exact enough here: the fraction of one hour is below 3.6e12 ns.
      value += static_cast<std::uint64_t>(static_cast<double>(fraction) *
                                          (static_cast<double>(unit->nanoseconds) / scale));
      if (value > magnitude_limit)
        return invalid(text, "out of range");
    }
    if (value > magnitude_limit - total)
      return invalid(text, "out of range");
    total += value;
  }
  if (negative)
    return std::chrono::nanoseconds{total == 0 ? 0 : -static_cast<std::int64_t>(total - 1) - 1};
  if (total == magnitude_limit)
    return invalid(text, "out of range");
  return std::chrono::nanoseconds{static_cast<std::int64_t>(total)};
}

}  // namespace cbes::util
