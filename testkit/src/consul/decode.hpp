#pragma once
// Request decoding as the Consul agent (a Go program) does it: JSON field names matched
// case-insensitively, Go's error texts for values of the wrong type, Go duration strings and
// strconv.ParseUint for numbers in the query string.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "store.hpp"

namespace cbes::testkit::consul_fake {

// Thrown by the decoders below; the agent answers 400 "Request decode failed: <message>".
struct decode_error {
  std::string message;
};

std::variant<std::uint64_t, std::string> parse_u64(const std::string& text);
std::string go_type_name(const boost::json::value& v);
const boost::json::value* field(const boost::json::object& o, std::string_view name);
std::string get_string(const boost::json::object& o, std::string_view name,
                       std::string fallback = {});
std::optional<std::vector<std::string>> get_strings(const boost::json::object& o,
                                                    std::string_view name);
std::int64_t get_int(const boost::json::object& o, std::string_view name,
                     std::int64_t fallback = 0);
bool get_bool(const boost::json::object& o, std::string_view name);
std::optional<ns> get_duration(const boost::json::object& o, std::string_view name);
boost::json::object parse_object(const std::string& body, bool allow_empty);

}  // namespace cbes::testkit::consul_fake
