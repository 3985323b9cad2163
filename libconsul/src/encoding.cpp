#include "consul/encoding.hpp"

#include <array>
#include <cstdint>
#include <limits>

namespace consul {
namespace {

constexpr std::string_view b64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<std::int8_t, 256> make_b64_table() {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t)
    v = -1;
  for (std::size_t i = 0; i < b64_alphabet.size(); ++i)
    t[static_cast<unsigned char>(b64_alphabet[i])] = static_cast<std::int8_t>(i);
  return t;
}
constexpr auto b64_table = make_b64_table();

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t n = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out += b64_alphabet[n >> 18 & 63];
    out += b64_alphabet[n >> 12 & 63];
    out += b64_alphabet[n >> 6 & 63];
    out += b64_alphabet[n & 63];
  }
  if (std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t n = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
    out += b64_alphabet[n >> 18 & 63];
    out += b64_alphabet[n >> 12 & 63];
    out += rest == 2 ? b64_alphabet[n >> 6 & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0)
    return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    std::uint32_t n = 0;
    int pad = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=' && last && k >= 2) {
        ++pad;
        n <<= 6;
        continue;
      }
      const auto v = b64_table[static_cast<unsigned char>(c)];
      if (v < 0 || pad > 0)
        return std::nullopt;
      n = n << 6 | static_cast<std::uint32_t>(v);
    }
    out += static_cast<char>(n >> 16 & 0xff);
    if (pad < 2)
      out += static_cast<char>(n >> 8 & 0xff);
    if (pad < 1)
      out += static_cast<char>(n & 0xff);
  }
  return out;
}

std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view s) {
  using rep = std::chrono::nanoseconds::rep;
  bool negative = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s == "0")
    return std::chrono::nanoseconds{0};
  if (s.empty())
    return std::nullopt;
  long double total = 0;
  while (!s.empty()) {
    std::size_t i = 0;
    long double whole = 0;
    bool digits = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      whole = whole * 10 + (s[i] - '0');
      ++i;
      digits = true;
    }
    long double frac = 0, scale = 1;
    if (i < s.size() && s[i] == '.') {
      ++i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        frac = frac * 10 + (s[i] - '0');
        scale *= 10;
        ++i;
        digits = true;
      }
    }
    if (!digits)
      return std::nullopt;
    std::size_t u = i;
    while (u < s.size() && !(s[u] >= '0' && s[u] <= '9') && s[u] != '.')
      ++u;
    const std::string_view unit = s.substr(i, u - i);
    long double mult;
    if (unit == "ns")
      mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
      mult = 1e3;
    else if (unit == "ms")
      mult = 1e6;
    else if (unit == "s")
      mult = 1e9;
    else if (unit == "m")
      mult = 60e9;
    else if (unit == "h")
      mult = 3600e9;
    else
      return std::nullopt;
    total += (whole + frac / scale) * mult;
    if (total > static_cast<long double>(std::numeric_limits<rep>::max()))
      return std::nullopt;
    s.remove_prefix(u);
  }
  const auto ns = static_cast<rep>(total + 0.5L);
  return std::chrono::nanoseconds{negative ? -ns : ns};
}

std::string format_go_duration(std::chrono::nanoseconds d) {
  using namespace std::chrono;
  if (d == nanoseconds::zero())
    return "0s";
  std::string out;
  if (d < nanoseconds::zero()) {
    out += '-';
    d = -d;
  }
  // Below one second Go writes a single unit ("1.5ms"); we keep whole units for exactness.
  if (d < seconds{1}) {
    if (d % milliseconds{1} == nanoseconds::zero())
      return out + std::to_string(duration_cast<milliseconds>(d).count()) + "ms";
    if (d % microseconds{1} == nanoseconds::zero())
      return out + std::to_string(duration_cast<microseconds>(d).count()) + "us";
    return out + std::to_string(d.count()) + "ns";
  }
  if (d % seconds{1} != nanoseconds::zero()) {
    // Keep it exact and parseable by Consul: fall back to milliseconds or nanoseconds.
    if (d % milliseconds{1} == nanoseconds::zero())
      return out + std::to_string(duration_cast<milliseconds>(d).count()) + "ms";
    return out + std::to_string(d.count()) + "ns";
  }
  const auto h = duration_cast<hours>(d);
  const auto m = duration_cast<minutes>(d - h);
  const auto sec = duration_cast<seconds>(d - h - m);
  if (h.count())
    out += std::to_string(h.count()) + "h";
  if (h.count() || m.count())
    out += std::to_string(m.count()) + "m";
  out += std::to_string(sec.count()) + "s";
  return out;
}

}  // namespace consul
