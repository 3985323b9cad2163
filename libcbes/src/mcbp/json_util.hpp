#pragma once
// Typed member access on untrusted Boost.JSON documents (private to the mcbp sources).
#include <cstdint>
#include <optional>
#include <string_view>

#include <boost/json.hpp>

#include "cbes/mcbp/error.hpp"

namespace cbes::mcbp::detail {

inline std::optional<std::int64_t> as_int(const boost::json::value& v) {
  if (v.is_int64())
    return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v.get_uint64());
  return std::nullopt;
}

// Absent → `fallback`; present with the wrong type → nullopt.
inline std::optional<std::int64_t> int_member(const boost::json::object& o, std::string_view k,
                                              std::optional<std::int64_t> fallback) {
  const auto* v = o.if_contains(k);
  if (!v)
    return fallback;
  return as_int(*v);
}

// Absent → "" ; present non-string → nullopt.
inline std::optional<std::string_view> string_member(const boost::json::object& o,
                                                     std::string_view k) {
  const auto* v = o.if_contains(k);
  if (!v)
    return std::string_view{};
  if (!v->is_string())
    return std::nullopt;
  return std::string_view(v->get_string());
}

// Parses untrusted text that must be a JSON object: errc::bad_json when it is not JSON, and
// `not_object` (the caller's own "bad document" code) when it is JSON of another kind.
inline result<boost::json::object> parse_object(std::string_view text, errc not_object) {
  boost::system::error_code ec;
  boost::json::value doc = boost::json::parse(text, ec);
  if (ec)
    return errc::bad_json;
  if (!doc.is_object())
    return not_object;
  return std::move(doc.get_object());
}

}  // namespace cbes::mcbp::detail
