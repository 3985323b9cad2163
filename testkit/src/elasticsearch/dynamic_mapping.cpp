#include "dynamic_mapping.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include "errors.hpp"

namespace cbes::testkit::es {

namespace json = boost::json;

namespace {

bool all_digits(std::string_view s, std::size_t from, std::size_t n) {
  if (from + n > s.size())
    return false;
  for (std::size_t i = from; i < from + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i])))
      return false;
  }
  return true;
}

// Date detection's default formats: strict_date_optional_time and
// "yyyy/MM/dd HH:mm:ss||yyyy/MM/dd".
bool looks_like_date(std::string_view s) {
  if (s.size() >= 10 && all_digits(s, 0, 4) && s[4] == '/' && all_digits(s, 5, 2) && s[7] == '/' &&
      all_digits(s, 8, 2))
    return s.size() == 10 ||
           (s.size() == 19 && s[10] == ' ' && all_digits(s, 11, 2) && s[13] == ':' &&
            all_digits(s, 14, 2) && s[16] == ':' && all_digits(s, 17, 2));
  if (!all_digits(s, 0, 4))
    return false;
  std::size_t i = 4;
  if (i == s.size())
    return true;
  if (s[i] != '-' || !all_digits(s, i + 1, 2))
    return false;
  i += 3;
  if (i == s.size())
    return true;
  if (s[i] != '-' || !all_digits(s, i + 1, 2))
    return false;
  i += 3;
  if (i == s.size())
    return true;
  if (s[i] != 'T' || !all_digits(s, i + 1, 2))
    return false;
  i += 3;
  for (int part = 0; part < 2 && i < s.size() && s[i] == ':'; ++part) {
    if (!all_digits(s, i + 1, 2))
      return false;
    i += 3;
  }
  if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
    ++i;
    std::size_t digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      ++i;
      ++digits;
    }
    if (digits == 0 || digits > 9)
      return false;
  }
  if (i == s.size())
    return true;
  if (s[i] == 'Z')
    return i + 1 == s.size();
  if (s[i] == '+' || s[i] == '-') {
    if (!all_digits(s, i + 1, 2))
      return false;
    i += 3;
    if (i == s.size())
      return true;
    if (s[i] == ':')
      ++i;
    return all_digits(s, i, 2) && i + 2 == s.size();
  }
  return false;
}

bool parses_as_number(std::string_view s) {
  if (s.empty())
    return false;
  double d = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  return ec == std::errc() && ptr == s.data() + s.size() && std::isfinite(d);
}

bool is_integer_type(const std::string& t) {
  return t == "long" || t == "integer" || t == "short" || t == "byte" || t == "unsigned_long";
}
bool is_float_type(const std::string& t) {
  return t == "float" || t == "double" || t == "half_float" || t == "scaled_float";
}
bool is_object_type(const std::string& t) {
  return t == "object" || t == "nested";
}

// Java's Map/List toString, as ES prints a field's value preview.
std::string java_preview(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      return std::string(v.get_string());
    case json::kind::object: {
      std::string out = "{";
      bool first = true;
      for (const auto& kv : v.get_object()) {
        out += (first ? "" : ", ") + std::string(kv.key()) + "=" + java_preview(kv.value());
        first = false;
      }
      return out + "}";
    }
    case json::kind::array: {
      std::string out = "[";
      bool first = true;
      for (const auto& e : v.get_array()) {
        out += (first ? "" : ", ") + java_preview(e);
        first = false;
      }
      return out + "]";
    }
    default:
      return json::serialize(v);
  }
}

// 1-based line:column of the value of the (last seen) key `leaf` in the raw source; ES
// reports the parser position in its reasons. Approximate for repeated key names.
std::string location_of(std::string_view raw, std::string_view leaf) {
  std::string needle = "\"" + std::string(leaf) + "\"";
  std::size_t offset = 0;
  std::size_t at = raw.find(needle);
  while (at != std::string_view::npos) {
    std::size_t i = at + needle.size();
    while (i < raw.size() && std::isspace(static_cast<unsigned char>(raw[i])))
      ++i;
    if (i < raw.size() && raw[i] == ':') {
      ++i;
      while (i < raw.size() && std::isspace(static_cast<unsigned char>(raw[i])))
        ++i;
      offset = i;
      break;
    }
    at = raw.find(needle, at + 1);
  }
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < raw.size(); ++i) {
    if (raw[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return std::to_string(line) + ":" + std::to_string(column);
}

// The mapping walk of one document: new fields go to `pending` and are committed only when
// the whole document fits, as a failed document leaves the mapping unchanged.
struct mapping_walk {
  const std::map<std::string, std::string>& fields;
  const std::string& dynamic;
  const flavor_traits& traits;
  std::string_view raw;
  const std::string& id;
  std::map<std::string, std::string> pending;
  std::optional<json::object> error;

  std::string type_of(const std::string& path) const {
    if (auto it = pending.find(path); it != pending.end())
      return it->second;
    if (auto it = fields.find(path); it != fields.end())
      return it->second;
    return {};
  }

  std::string prefixed(std::string_view leaf, const std::string& reason) const {
    return traits.document_parsing_8 ? "[" + location_of(raw, leaf) + "] " + reason : reason;
  }

  const char* parsing_type() const {
    return traits.document_parsing_8 ? "document_parsing_exception" : "mapper_parsing_exception";
  }

  bool fail_field(const std::string& path, std::string_view leaf, const std::string& type,
                  const json::value& v, const char* cause_type, const std::string& cause) {
    auto o =
        error_cause(parsing_type(),
                    prefixed(leaf, "failed to parse field [" + path + "] of type [" + type +
                                       "] in document with id '" + id +
                                       "'. Preview of field's value: '" + java_preview(v) + "'"));
    o["caused_by"] = error_cause(cause_type, cause);
    error = std::move(o);
    return false;
  }

  // May a new field be added here? Handles `dynamic: strict|false`.
  bool may_add(const std::string& path, std::string_view leaf, bool& ignore) {
    ignore = false;
    if (dynamic == "strict") {
      auto dot = path.rfind('.');
      std::string parent = dot == std::string::npos ? "_doc" : path.substr(0, dot);
      error = error_cause(
          "strict_dynamic_mapping_exception",
          prefixed(leaf, "mapping set to strict, dynamic introduction of [" + std::string(leaf) +
                             "] within [" + parent + "] is not allowed"));
      return false;
    }
    if (dynamic == "false")
      ignore = true;
    return true;
  }

  bool walk_object(const json::object& o, const std::string& prefix) {
    for (const auto& kv : o) {
      std::string_view key = kv.key();
      if (key.empty() || key.front() == '.' || key.back() == '.' ||
          key.find("..") != std::string_view::npos) {
        if (key.find('.') != std::string_view::npos || key.empty()) {
          error = error_cause(
              parsing_type(),
              prefixed(key, key.empty() ? std::string("field name cannot be an empty string")
                                        : "object field starting or ending with a [.] makes "
                                          "object resolution ambiguous: [" +
                                              std::string(key) + "]"));
          return false;
        }
      }
      // Dotted keys are objects in disguise.
      std::string path = prefix;
      std::size_t start = 0;
      for (;;) {
        auto dot = key.find('.', start);
        std::string part(key.substr(
            start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
        path = path.empty() ? part : path + "." + part;
        if (dot == std::string_view::npos)
          break;
        std::string t = type_of(path);
        if (t.empty()) {
          bool ignore = false;
          if (!may_add(path, part, ignore))
            return false;
          if (ignore)
            return true;
          pending[path] = "object";
        } else if (!is_object_type(t)) {
          error = error_cause("illegal_argument_exception",
                              "Could not dynamically add mapping for field [" + std::string(key) +
                                  "]. Existing mapping for [" + path +
                                  "] must be of type object but found [" + t + "].");
          return false;
        }
        start = dot + 1;
      }
      auto dot = key.rfind('.');
      if (!walk_value(kv.value(), path, dot == std::string_view::npos ? key : key.substr(dot + 1)))
        return false;
    }
    return true;
  }

  bool walk_value(const json::value& v, const std::string& path, std::string_view leaf) {
    if (v.is_null())
      return true;
    if (v.is_array()) {
      for (const auto& e : v.get_array()) {
        if (!walk_value(e, path, leaf))
          return false;
      }
      return true;
    }
    std::string t = type_of(path);
    if (v.is_object()) {
      if (t.empty()) {
        bool ignore = false;
        if (!may_add(path, leaf, ignore))
          return false;
        if (ignore)
          return true;
        pending[path] = "object";
        return walk_object(v.get_object(), path);
      }
      if (is_object_type(t))
        return walk_object(v.get_object(), path);
      std::string where = location_of(raw, leaf);
      if (is_integer_type(t) || is_float_type(t) || t == "boolean")
        return fail_field(path, leaf, t, v, "illegal_state_exception",
                          "Can't get text on a START_OBJECT at " + where);
      return fail_field(path, leaf, t, v, "illegal_state_exception",
                        "Can't get text on a START_OBJECT at " + where);
    }
    if (is_object_type(t)) {
      auto o = error_cause(
          parsing_type(),
          prefixed(leaf, "object mapping for [" + path + "] tried to parse field [" +
                             std::string(leaf) + "] as object, but found a concrete value"));
      error = std::move(o);
      return false;
    }
    if (t.empty()) {
      bool ignore = false;
      if (!may_add(path, leaf, ignore))
        return false;
      if (ignore)
        return true;
      if (v.is_string())
        pending[path] = looks_like_date(v.get_string()) ? "date" : "text";
      else if (v.is_bool())
        pending[path] = "boolean";
      else if (v.is_double() || (v.is_uint64() && v.get_uint64() > 9223372036854775807ULL))
        pending[path] = "float";
      else
        pending[path] = "long";
      return true;
    }
    if (is_integer_type(t) || is_float_type(t)) {
      if (v.is_number())
        return true;
      if (v.is_string()) {
        std::string_view s = v.get_string();
        if (parses_as_number(s))
          return true;
        return fail_field(path, leaf, t, v, "number_format_exception",
                          "For input string: \"" + std::string(s) + "\"");
      }
      return fail_field(path, leaf, t, v, "illegal_argument_exception",
                        std::string("Current token (") +
                            (v.get_bool() ? "VALUE_TRUE" : "VALUE_FALSE") +
                            ") not numeric, can not use numeric value accessors");
    }
    if (t == "boolean") {
      if (v.is_bool())
        return true;
      if (v.is_string() &&
          (v.get_string() == "true" || v.get_string() == "false" || v.get_string().empty()))
        return true;
      return fail_field(
          path, leaf, t, v, "illegal_argument_exception",
          "Failed to parse value [" + java_preview(v) + "] as only [true] or [false] are allowed.");
    }
    if (t == "date") {
      if (v.is_number())
        return true;
      if (v.is_string()) {
        std::string_view s = v.get_string();
        bool epoch = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c));
        });
        if (epoch || looks_like_date(s))
          return true;
      }
      return fail_field(path, leaf, t, v, "illegal_argument_exception",
                        "failed to parse date field [" + java_preview(v) +
                            "] with format [strict_date_optional_time||epoch_millis]");
    }
    return true;  // text, keyword and other types take any scalar
  }
};

}  // namespace

mapping_result map_document(const std::map<std::string, std::string>& fields,
                            const std::string& dynamic, const flavor_traits& traits,
                            std::string_view raw, const json::object& source,
                            const std::string& id) {
  mapping_walk walk{fields, dynamic, traits, raw, id, {}, {}};
  mapping_result out;
  out.fits = walk.walk_object(source, "");
  out.error = std::move(walk.error);
  out.new_fields = std::move(walk.pending);
  return out;
}

}  // namespace cbes::testkit::es
