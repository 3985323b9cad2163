#include "cbes/util/utf8.hpp"

namespace cbes::util {

std::size_t utf8_sequence(std::string_view s, std::size_t& bad) {
  const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  std::size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    if (c == 0xE0)
      lo = 0xA0;
    else if (c == 0xED)
      hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    if (c == 0xF0)
      lo = 0x90;
    else if (c == 0xF4)
      hi = 0x8F;
  } else {
    bad = 1;
    return 0;
  }
  for (std::size_t i = 1; i <= need; ++i) {
    const bool ok =
        i < s.size() && (i == 1 ? (b(i) >= lo && b(i) <= hi) : (b(i) >= 0x80 && b(i) <= 0xBF));
    if (!ok) {
      bad = i;
      return 0;
    }
  }
  return need + 1;
}

std::optional<std::size_t> first_invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    std::size_t bad = 0;
    const std::size_t n = utf8_sequence(s.substr(i), bad);
    if (n == 0)
      return i;
    i += n;
  }
  return std::nullopt;
}

}  // namespace cbes::util
