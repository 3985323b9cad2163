#pragma once
// Big-endian appenders and a bounds-checked reader shared by the mcbp codec sources (private).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cbes::mcbp::detail {

inline void put_u8(std::string& out, std::uint8_t v) {
  out.push_back(static_cast<char>(v));
}
inline void put_u16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xffU));
}
inline void put_u32(std::string& out, std::uint32_t v) {
  put_u16(out, static_cast<std::uint16_t>(v >> 16));
  put_u16(out, static_cast<std::uint16_t>(v & 0xffffU));
}
inline void put_u64(std::string& out, std::uint64_t v) {
  put_u32(out, static_cast<std::uint32_t>(v >> 32));
  put_u32(out, static_cast<std::uint32_t>(v & 0xffffffffU));
}

inline std::uint64_t load_be(std::string_view bytes) {
  std::uint64_t v = 0;
  for (char c : bytes)
    v = (v << 8) | static_cast<std::uint8_t>(c);
  return v;
}
inline std::uint16_t load_u16(std::string_view b, std::size_t at) {
  return static_cast<std::uint16_t>(load_be(b.substr(at, 2)));
}
inline std::uint32_t load_u32(std::string_view b, std::size_t at) {
  return static_cast<std::uint32_t>(load_be(b.substr(at, 4)));
}
inline std::uint64_t load_u64(std::string_view b, std::size_t at) {
  return load_be(b.substr(at, 8));
}

// Reads fixed-size fields from untrusted bytes; every read checks the remaining length.
class reader {
 public:
  explicit reader(std::string_view bytes) : bytes_(bytes) {}
  std::size_t remaining() const noexcept { return bytes_.size(); }
  bool empty() const noexcept { return bytes_.empty(); }

  std::optional<std::string_view> take(std::size_t n) {
    if (n > bytes_.size())
      return std::nullopt;
    auto out = bytes_.substr(0, n);
    bytes_.remove_prefix(n);
    return out;
  }
  std::optional<std::uint8_t> u8() { return number<std::uint8_t>(1); }
  std::optional<std::uint16_t> u16() { return number<std::uint16_t>(2); }
  std::optional<std::uint32_t> u32() { return number<std::uint32_t>(4); }
  std::optional<std::uint64_t> u64() { return number<std::uint64_t>(8); }

 private:
  template <class T>
  std::optional<T> number(std::size_t n) {
    auto b = take(n);
    if (!b)
      return std::nullopt;
    return static_cast<T>(load_be(*b));
  }
  std::string_view bytes_;
};

}  // namespace cbes::mcbp::detail
