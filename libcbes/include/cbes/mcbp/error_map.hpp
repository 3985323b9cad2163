#pragma once
// GET_ERROR_MAP (0xfe; kv_engine's protocol docs): request value = u16 max version, response = JSON
// `{"version":2,"revision":N,"errors":{"<hex code>":{"name","desc","attrs":[...]}}}`.
//
//   auto bytes = get_error_map_request{2}.encode().opaque(3).build();
//   auto map = parse_error_map(response.value);   // map->find(0x86)->has_attribute("temp")
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "cbes/mcbp/frame.hpp"
#include "cbes/mcbp/frame_builder.hpp"

namespace cbes::mcbp {

struct get_error_map_request {
  std::uint16_t version = 2;

  frame_builder encode() const;
  static result<get_error_map_request> decode(const frame& f);
};

struct get_error_map_response {
  std::string json;

  frame_builder encode(status s = status::success) const;
  static result<get_error_map_response> decode(const frame& f);
};

struct error_map_entry {
  std::string name;
  std::string description;
  std::vector<std::string> attributes;  // "temp", "retry-later", "auth", ...

  bool has_attribute(std::string_view a) const noexcept;
};

struct error_map {
  std::uint32_t version = 0;
  std::uint32_t revision = 0;
  std::map<std::uint16_t, error_map_entry> errors;

  const error_map_entry* find(std::uint16_t code) const noexcept;
};

// errc::bad_json / errc::bad_error_map; unknown members are ignored.
result<error_map> parse_error_map(std::string_view json);

}  // namespace cbes::mcbp
