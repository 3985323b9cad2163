#pragma once
// Typed member access on untrusted Boost.JSON documents (private to the mcbp sources).
#include <cstdint>
#include <optional>
#include <string_view>

#include <boost/json.hpp>

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

}  // namespace cbes::mcbp::detail
