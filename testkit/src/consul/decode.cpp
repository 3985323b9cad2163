#include "decode.hpp"

#include <boost/json/parse.hpp>

#include <cctype>
#include <charconv>

#include "cbes/util/go_duration.hpp"

namespace cbes::testkit::consul_fake {

namespace json = boost::json;

namespace {

// Go matches JSON field names case-insensitively; agent endpoints also accept
// snake_case aliases, so compare with underscores removed.
std::string fold(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '_')
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

std::variant<std::uint64_t, std::string> parse_u64(const std::string& text) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec == std::errc::invalid_argument || p != text.data() + text.size())
    return "strconv.ParseUint: parsing \"" + text + "\": invalid syntax";
  if (ec == std::errc::result_out_of_range)
    return "strconv.ParseUint: parsing \"" + text + "\": value out of range";
  return v;
}

const json::value* field(const json::object& o, std::string_view name) {
  if (auto it = o.find(name); it != o.end())
    return &it->value();
  auto want = fold(name);
  for (const auto& kv : o) {
    if (fold(kv.key()) == want)
      return &kv.value();
  }
  return nullptr;
}

std::string go_type_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      return "string";
    case json::kind::bool_:
      return "bool";
    case json::kind::array:
      return "array";
    case json::kind::object:
      return "object";
    case json::kind::null:
      return "null";
    default:
      return "number";
  }
}

std::string get_string(const json::object& o, std::string_view name, std::string fallback) {
  const auto* v = field(o, name);
  if (!v || v->is_null())
    return fallback;
  if (!v->is_string())
    throw decode_error{"json: cannot unmarshal " + go_type_name(*v) + " into Go struct field ." +
                       std::string(name) + " of type string"};
  return std::string(v->as_string());
}

std::optional<std::vector<std::string>> get_strings(const json::object& o, std::string_view name) {
  const auto* v = field(o, name);
  if (!v || v->is_null())
    return std::nullopt;
  if (!v->is_array())
    throw decode_error{"json: cannot unmarshal " + go_type_name(*v) + " into Go struct field ." +
                       std::string(name) + " of type []string"};
  std::vector<std::string> out;
  for (const auto& e : v->as_array()) {
    if (!e.is_string())
      throw decode_error{"json: cannot unmarshal " + go_type_name(e) + " into Go struct field ." +
                         std::string(name) + " of type string"};
    out.emplace_back(e.as_string());
  }
  return out;
}

std::int64_t get_int(const json::object& o, std::string_view name, std::int64_t fallback) {
  const auto* v = field(o, name);
  if (!v || v->is_null())
    return fallback;
  if (v->is_int64())
    return v->as_int64();
  if (v->is_uint64())
    return static_cast<std::int64_t>(v->as_uint64());
  if (v->is_double())
    return static_cast<std::int64_t>(v->as_double());
  throw decode_error{"json: cannot unmarshal " + go_type_name(*v) + " into Go struct field ." +
                     std::string(name) + " of type int"};
}

bool get_bool(const json::object& o, std::string_view name) {
  const auto* v = field(o, name);
  if (!v || v->is_null())
    return false;
  if (!v->is_bool())
    throw decode_error{"json: cannot unmarshal " + go_type_name(*v) + " into Go struct field ." +
                       std::string(name) + " of type bool"};
  return v->as_bool();
}

// Durations in request bodies: Go duration strings or integer nanoseconds.
std::optional<ns> get_duration(const json::object& o, std::string_view name) {
  const auto* v = field(o, name);
  if (!v || v->is_null())
    return std::nullopt;
  if (v->is_string()) {
    std::string_view text = v->as_string();
    if (text.empty())
      return ns{0};
    auto d = cbes::util::parse_go_duration(text);
    if (!d)
      throw decode_error{"time: invalid duration \"" + std::string(text) + "\""};
    return *d;
  }
  if (v->is_int64())
    return ns{v->as_int64()};
  if (v->is_uint64())
    return ns{static_cast<std::int64_t>(v->as_uint64())};
  if (v->is_double())
    return ns{static_cast<std::int64_t>(v->as_double())};
  throw decode_error{"json: cannot unmarshal " + go_type_name(*v) + " into Go value of type " +
                     "time.Duration"};
}

json::object parse_object(const std::string& body, bool allow_empty) {
  if (body.empty() && allow_empty)
    return {};
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec) {
    throw decode_error{body.empty() ? std::string("EOF") : ec.message()};
  }
  if (!v.is_object())
    throw decode_error{"json: cannot unmarshal " + go_type_name(v) + " into Go value of type " +
                       "struct"};
  return std::move(v.as_object());
}

}  // namespace cbes::testkit::consul_fake
