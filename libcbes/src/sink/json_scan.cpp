#include "json_scan.hpp"

#include <cstdint>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <limits>

#include <boost/json/basic_parser_impl.hpp>

namespace cbes::sink::detail {
namespace {

using boost::json::error_code;
using boost::json::string_view;

struct scan_handler {
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);

  std::string_view watched_key;
  std::size_t depth = 0;
  std::string key;
  std::string number;
  bool has_watched_key = false;
  std::string big_integer;  // text of the first integer out of long range

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_array_begin(error_code&) {
    ++depth;
    return true;
  }
  bool on_array_end(std::size_t, error_code&) {
    --depth;
    return true;
  }
  bool on_object_begin(error_code&) {
    ++depth;
    return true;
  }
  bool on_object_end(std::size_t, error_code&) {
    --depth;
    return true;
  }
  bool on_string_part(string_view, std::size_t, error_code&) { return true; }
  bool on_string(string_view, std::size_t, error_code&) { return true; }
  bool on_key_part(string_view s, std::size_t, error_code&) {
    if (depth == 1)
      key.append(s.data(), s.size());
    return true;
  }
  bool on_key(string_view s, std::size_t, error_code&) {
    if (depth == 1 && !watched_key.empty()) {
      key.append(s.data(), s.size());
      if (key == watched_key)
        has_watched_key = true;
    }
    key.clear();
    return true;
  }
  bool on_number_part(string_view s, error_code&) {
    number.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t, string_view, error_code&) {
    number.clear();
    return true;
  }
  bool on_uint64(std::uint64_t u, string_view s, error_code&) {
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      note_big(s);
    number.clear();
    return true;
  }
  bool on_double(double, string_view s, error_code&) {
    // Boost.JSON falls back to double for integers beyond 64 bits; the text tells them apart.
    number.append(s.data(), s.size());
    if (number.find_first_of(".eE") == std::string::npos && big_integer.empty())
      big_integer = number;
    number.clear();
    return true;
  }
  bool on_bool(bool, error_code&) { return true; }
  bool on_null(error_code&) { return true; }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }

  void note_big(string_view s) {
    if (big_integer.empty()) {
      big_integer = number;
      big_integer.append(s.data(), s.size());
    }
  }
};

bool json_whitespace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

struct byte_census {
  bool ascii = true;        // no byte >= 0x80
  bool line_break = false;  // a '\n' or '\r'
};

// One pass over the text for both facts (the line-break check was two memchr passes).
byte_census census(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t n = text.size();
  unsigned high = 0, breaks = 0;
#ifdef __SSE2__
  const __m128i lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
  for (; n >= 16; p += 16, n -= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    high |= static_cast<unsigned>(_mm_movemask_epi8(v));
    breaks |= static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr))));
  }
#endif
  for (; n > 0; ++p, --n) {
    high |= *p & 0x80u;
    breaks |= (*p == '\n' || *p == '\r') ? 1u : 0u;
  }
  return {high == 0, breaks != 0};
}

}  // namespace

scan_result scan_json_object(std::string_view text, std::string_view watched_key) {
  scan_result r;
  std::size_t first = 0;
  while (first < text.size() && json_whitespace(text[first]))
    ++first;
  if (first == text.size() || text[first] != '{') {
    r.kind = scan_kind::not_object;
    return r;
  }
  boost::json::parse_options opt;
  opt.max_depth = max_json_depth;
  // Pure ASCII has no UTF-8 to validate, and Boost.JSON's per-byte UTF-8 check was the largest
  // part of this pass; the census proves it unnecessary for most documents.
  const byte_census bytes = census(text);
  opt.allow_invalid_utf8 = bytes.ascii;
  boost::json::basic_parser<scan_handler> parser(opt);
  parser.handler().watched_key = watched_key;
  error_code ec;
  const std::size_t n = parser.write_some(false, text.data(), text.size(), ec);
  if (ec) {
    r.kind = scan_kind::invalid;
    r.message = "invalid JSON at byte " + std::to_string(n) + ": " + ec.message();
    return r;
  }
  if (n != text.size()) {
    r.kind = scan_kind::invalid;
    r.message = "invalid JSON at byte " + std::to_string(n) + ": data after the JSON object";
    return r;
  }
  const auto& h = parser.handler();
  if (!h.big_integer.empty()) {
    r.kind = scan_kind::big_integer;
    r.message = "number " + h.big_integer + " does not fit a signed 64-bit integer";
    return r;
  }
  r.kind = scan_kind::object;
  r.has_watched_key = h.has_watched_key;
  r.has_line_breaks = bytes.line_break;
  return r;
}

}  // namespace cbes::sink::detail
