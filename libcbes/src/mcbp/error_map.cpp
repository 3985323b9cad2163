#include "cbes/mcbp/error_map.hpp"

#include <algorithm>

#include <boost/json.hpp>

#include "body.hpp"
#include "bytes.hpp"
#include "cbes/mcbp/collection_key.hpp"
#include "json_util.hpp"

namespace cbes::mcbp {

namespace json = boost::json;

frame_builder get_error_map_request::encode() const {
  std::string v;
  detail::put_u16(v, version);
  return frame_builder::request(opcode::get_error_map).value(v);
}

result<get_error_map_request> get_error_map_request::decode(const frame& f) {
  if (auto ec = detail::expect_bare(f, opcode::get_error_map, detail::direction::request))
    return ec;
  if (f.value.size() != 2)
    return errc::bad_value;
  return get_error_map_request{detail::load_u16(f.value, 0)};
}

frame_builder get_error_map_response::encode(status s) const {
  return frame_builder::response(opcode::get_error_map, s).datatype(0x01).value(json);
}

result<get_error_map_response> get_error_map_response::decode(const frame& f) {
  if (auto ec = detail::expect_bare(f, opcode::get_error_map, detail::direction::response))
    return ec;
  return get_error_map_response{std::string(f.value)};
}

bool error_map_entry::has_attribute(std::string_view a) const noexcept {
  return std::find(attributes.begin(), attributes.end(), a) != attributes.end();
}

const error_map_entry* error_map::find(std::uint16_t code) const noexcept {
  auto it = errors.find(code);
  return it == errors.end() ? nullptr : &it->second;
}

result<error_map> parse_error_map(std::string_view text) {
  const auto doc = detail::parse_object(text, errc::bad_error_map);
  if (!doc)
    return doc.error();
  const json::object& root = *doc;
  error_map out;
  const auto* version = root.if_contains("version");
  const auto* revision = root.if_contains("revision");
  const auto* errors = root.if_contains("errors");
  if (!version || !version->is_int64() || !revision || !revision->is_int64() || !errors ||
      !errors->is_object())
    return errc::bad_error_map;
  out.version = static_cast<std::uint32_t>(version->as_int64());
  out.revision = static_cast<std::uint32_t>(revision->as_int64());
  for (const auto& [key, entry] : errors->as_object()) {
    const auto code = parse_hex_id(key);
    const auto* obj = entry.if_object();
    if (!code || *code > 0xffff || !obj)
      return errc::bad_error_map;
    error_map_entry e;
    if (const auto* n = obj->if_contains("name"); n && n->is_string())
      e.name = n->as_string();
    if (const auto* d = obj->if_contains("desc"); d && d->is_string())
      e.description = d->as_string();
    if (const auto* attrs = obj->if_contains("attrs"); attrs && attrs->is_array())
      for (const auto& a : attrs->as_array())
        if (a.is_string())
          e.attributes.emplace_back(a.as_string());
    out.errors.emplace(static_cast<std::uint16_t>(*code), std::move(e));
  }
  return out;
}

}  // namespace cbes::mcbp
