#pragma once
// Test helpers: frames written as hex text ("80 1f 00 05 ...", spaces ignored) and back, and a
// Catch printer for result<T> (Boost's operator<< would need T to be printable).
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

namespace cbes::mcbp::test {

inline std::string from_hex(std::string_view text) {
  std::string out;
  int high = -1;
  for (char c : text) {
    int v;
    if (c >= '0' && c <= '9')
      v = c - '0';
    else if (c >= 'a' && c <= 'f')
      v = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      v = c - 'A' + 10;
    else if (c == ' ' || c == '\n')
      continue;
    else
      throw std::invalid_argument("bad hex in test");
    if (high < 0) {
      high = v;
    } else {
      out.push_back(static_cast<char>(high * 16 + v));
      high = -1;
    }
  }
  if (high >= 0)
    throw std::invalid_argument("odd hex in test");
  return out;
}

inline std::string to_hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0)
      out += ' ';
    const auto b = static_cast<unsigned char>(bytes[i]);
    out += digits[b >> 4];
    out += digits[b & 0xf];
  }
  return out;
}

}  // namespace cbes::mcbp::test

namespace Catch {
template <class T>
struct StringMaker<boost::system::result<T, boost::system::error_code>> {
  static std::string convert(const boost::system::result<T, boost::system::error_code>& r) {
    return r ? std::string("{value}") : "{error: " + r.error().message() + "}";
  }
};
}  // namespace Catch
