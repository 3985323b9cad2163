#include "cbes/util/units.hpp"

#include <cctype>
#include <string>

#include "cbes/util/go_duration.hpp"

namespace cbes::util {
namespace {

// Lower-cases and drops the whitespace the Java connector tolerates ("10 s", "5 MB").
std::string normalise(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c)))
      continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
}

}  // namespace

parse_result<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  std::string s = normalise(text);
  // Legacy spellings accepted by the Java connector.
  replace_all(s, "nanos", "ns");
  replace_all(s, "micros", "us");
  if (!s.empty() && (s.front() == '-' || s.front() == '+'))
    return parse_error{"invalid duration \"" + s + "\": a duration has no sign"};
  return parse_go_duration(s);
}

parse_result<std::uint64_t> parse_size(std::string_view text) {
  const std::string s = normalise(text);
  auto invalid = [&s](std::string_view reason) {
    return parse_error{"invalid size \"" + s + "\": " + std::string(reason)};
  };
  std::size_t i = 0;
  std::uint64_t n = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    const std::uint64_t digit = static_cast<std::uint64_t>(s[i] - '0');
    if (n > (UINT64_MAX - digit) / 10)
      return invalid("out of range");
    n = n * 10 + digit;
    ++i;
  }
  if (i == 0)
    return invalid("expected a whole number and a unit, e.g. 10mb");
  const std::string_view unit = std::string_view(s).substr(i);
  int shift;
  if (unit == "b")
    shift = 0;
  else if (unit == "k" || unit == "kb")
    shift = 10;
  else if (unit == "m" || unit == "mb")
    shift = 20;
  else if (unit == "g" || unit == "gb")
    shift = 30;
  else if (unit == "t" || unit == "tb")
    shift = 40;
  else if (unit == "p" || unit == "pb")
    shift = 50;
  else
    return invalid(unit.empty() ? "missing unit (use b, kb, mb, gb, tb or pb)"
                                : "unknown unit \"" + std::string(unit) +
                                      "\" (use b, kb, mb, gb, tb or pb)");
  if (shift > 0 && n > (UINT64_MAX >> shift))
    return invalid("out of range");
  return n << shift;
}

}  // namespace cbes::util
