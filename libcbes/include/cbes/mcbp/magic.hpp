#pragma once
// The magic byte (header byte 0) decides who sent a frame and how bytes 2–3 are laid out
// (kv_engine's protocol docs).
//
//   if (cbes::mcbp::is_response(f.magic)) { ... f.status() ... }
#include <cstdint>
#include <optional>
#include <string_view>

namespace cbes::mcbp {

enum class magic : std::uint8_t {
  client_request = 0x80,
  client_response = 0x81,
  alt_client_request = 0x08,   // flexible framing: byte 2 = framing extras length
  alt_client_response = 0x18,  // flexible framing
  server_request = 0x82,       // duplex: server-initiated (e.g. cluster map push)
  server_response = 0x83,      // duplex: client's answer to a 0x82
};

// nullopt for a byte that is not one of the six magics.
std::optional<magic> to_magic(std::uint8_t byte) noexcept;

// 0x08 / 0x18: bytes 2–3 are framing-extras length + 1-byte key length.
constexpr bool is_alt(magic m) noexcept {
  return m == magic::alt_client_request || m == magic::alt_client_response;
}
// Header bytes 6–7 hold a status (not a vbucket).
constexpr bool is_response(magic m) noexcept {
  return m == magic::client_response || m == magic::alt_client_response ||
         m == magic::server_response;
}
constexpr bool is_request(magic m) noexcept {
  return !is_response(m);
}

std::string_view to_string(magic m) noexcept;

}  // namespace cbes::mcbp
