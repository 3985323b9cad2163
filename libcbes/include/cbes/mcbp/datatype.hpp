#pragma once
// Datatype bits of header byte 5 (kv_engine's protocol docs); combinations are allowed.
//
//   if (cbes::mcbp::has(f.datatype, cbes::mcbp::datatype::snappy)) { ... inflate first ... }
#include <cstdint>

namespace cbes::mcbp {

namespace datatype {
inline constexpr std::uint8_t raw = 0x00;
inline constexpr std::uint8_t json = 0x01;
inline constexpr std::uint8_t snappy = 0x02;
inline constexpr std::uint8_t xattr = 0x04;
// Every bit defined by the protocol; anything else in a frame is a protocol violation.
inline constexpr std::uint8_t all = json | snappy | xattr;
}  // namespace datatype

constexpr bool has(std::uint8_t datatype_bits, std::uint8_t bit) noexcept {
  return (datatype_bits & bit) == bit && bit != 0;
}

}  // namespace cbes::mcbp
