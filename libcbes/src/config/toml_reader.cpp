#include "toml_reader.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "cbes/util/units.hpp"
#include "cbes/util/utf8.hpp"

namespace cbes::config::detail {
namespace {

std::string position_text(const std::string& origin, std::size_t line, std::size_t column) {
  return origin + ":" + std::to_string(line) + ":" + std::to_string(column);
}

// toml11's message is "[error] toml::<function>: <what>" followed by a source excerpt; keep
// only <what>.
std::string syntax_detail(std::string_view what) {
  std::string_view first = what.substr(0, what.find('\n'));
  if (first.starts_with("[error] "))
    first.remove_prefix(8);
  if (first.starts_with("toml::")) {
    const auto colon = first.find(": ");
    if (colon != std::string_view::npos)
      first.remove_prefix(colon + 2);
  }
  return std::string(first);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return std::string(s);
}

// A value that still holds `${...}` most likely names an unset environment variable.
std::string placeholder_hint(std::string_view text) {
  const auto open = text.find("${");
  if (open == std::string_view::npos)
    return {};
  const auto close = text.find('}', open);
  const auto name = text.substr(open, close == std::string_view::npos ? close : close - open + 1);
  return "; '" + std::string(name) + "' was not replaced: is that environment variable set?";
}

}  // namespace

std::string diagnostics::where(const toml_value& v, std::string_view key) const {
  const auto loc = v.location();
  std::size_t column = loc.column();
  if (!key.empty() && column > 1) {
    const std::string line = loc.line_str();
    const auto before = std::string_view(line).substr(0, std::min(line.size(), column - 1));
    const auto at = before.rfind(key);
    if (at != std::string_view::npos)
      column = at + 1;
  }
  return position_text(origin_, loc.line(), column);
}

std::optional<toml_value> parse_toml(std::string_view text, diagnostics& d, bool quote_detail) {
  // The TOML spec requires UTF-8, and toml11 3.7 reads past its buffer on some invalid bytes in
  // a literal string (found by fuzz/config.cpp): refuse them before it sees the text.
  if (const auto bad = util::first_invalid_utf8(text)) {
    const std::string_view before = text.substr(0, *bad);
    const std::size_t line =
        1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
    const auto line_start = before.rfind('\n');
    const std::size_t column =
        *bad - (line_start == std::string_view::npos ? 0 : line_start + 1) + 1;
    d.error(position_text(d.origin(), line, column) +
            ": not UTF-8 (TOML files must be UTF-8 text); save the file as UTF-8");
    return std::nullopt;
  }
  std::istringstream in{std::string(text)};
  try {
    return toml::parse<toml::discard_comments, std::map, std::vector>(in, d.origin());
  } catch (const toml::exception& e) {
    const auto loc = e.location();
    std::string message = position_text(d.origin(), loc.line(), loc.column()) + ": ";
    if (quote_detail)
      message += "TOML syntax error: " + syntax_detail(e.what());
    else
      message += "not valid TOML (the content is not shown, to keep secrets out of logs)";
    d.error(std::move(message));
  } catch (const std::exception& e) {
    d.error(d.file_start() + ": cannot parse the TOML: " +
            (quote_detail ? std::string(e.what()) : std::string("invalid content")));
  }
  return std::nullopt;
}

std::string_view describe_type(const toml_value& v) {
  switch (v.type()) {
    case toml::value_t::boolean:
      return "a boolean";
    case toml::value_t::integer:
      return "an integer";
    case toml::value_t::floating:
      return "a float";
    case toml::value_t::string:
      return "a string";
    case toml::value_t::array:
      return "an array";
    case toml::value_t::table:
      return "a table";
    case toml::value_t::empty:
      return "nothing";
    default:
      return "a date/time";
  }
}

table::table(diagnostics& d, const toml_value* value, std::string path, std::string position)
    : d_(&d), value_(value), path_(std::move(path)), position_(std::move(position)) {}

table root_table(diagnostics& d, const toml_value& root) {
  return table(d, &root, "", d.file_start());
}

std::string table::key_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

std::string table::where(std::string_view key) const {
  if (value_ != nullptr) {
    const auto& t = value_->as_table();
    const auto it = t.find(std::string(key));
    if (it != t.end())
      return d_->where(it->second, key);
  }
  return position_;
}

const toml_value* table::get(std::string_view key) {
  if (std::find(expected_.begin(), expected_.end(), key) == expected_.end())
    expected_.emplace_back(key);
  if (value_ == nullptr)
    return nullptr;
  const auto& t = value_->as_table();
  const auto it = t.find(std::string(key));
  return it == t.end() ? nullptr : &it->second;
}

void table::fail(std::string_view key, std::string_view message) {
  d_->error(key_path(key) + " at " + where(key) + ": " + std::string(message));
}

void table::warn(std::string_view key, std::string_view message) {
  d_->warn(key_path(key) + " at " + where(key) + ": " + std::string(message));
}

void table::type_error(std::string_view key, const toml_value& v, std::string_view expected) {
  std::string message =
      "expected " + std::string(expected) + ", got " + std::string(describe_type(v));
  if (v.is_string())
    message += " '" + v.as_string().str + "'" + placeholder_hint(v.as_string().str);
  fail(key, message);
}

std::optional<std::string> table::string(std::string_view key) {
  const auto* v = get(key);
  if (v == nullptr)
    return std::nullopt;
  if (!v->is_string()) {
    type_error(key, *v, "a string");
    return std::nullopt;
  }
  return v->as_string().str;
}

std::string table::string_or(std::string_view key, std::string fallback) {
  auto s = string(key);
  return s ? std::move(*s) : std::move(fallback);
}

std::string table::required_string(std::string_view key, std::string_view hint) {
  const auto* v = get(key);
  if (v == nullptr) {
    fail(key, "required key is missing; " + std::string(hint));
    return {};
  }
  return string(key).value_or(std::string{});
}

std::optional<bool> table::boolean(std::string_view key) {
  const auto* v = get(key);
  if (v == nullptr)
    return std::nullopt;
  if (v->is_boolean())
    return v->as_boolean();
  if (v->is_string()) {
    const auto s = lower(trimmed(v->as_string().str));
    if (s == "true")
      return true;
    if (s == "false")
      return false;
  }
  type_error(key, *v, "true or false");
  return std::nullopt;
}

bool table::boolean_or(std::string_view key, bool fallback) {
  return boolean(key).value_or(fallback);
}

std::optional<std::int64_t> table::integer(std::string_view key, std::int64_t min,
                                           std::int64_t max) {
  const auto* v = get(key);
  if (v == nullptr)
    return std::nullopt;
  std::optional<std::int64_t> n;
  if (v->is_integer()) {
    n = v->as_integer();
  } else if (v->is_string()) {
    const auto s = trimmed(v->as_string().str);
    std::size_t used = 0;
    try {
      const long long parsed = std::stoll(s, &used, 10);
      if (used == s.size())
        n = parsed;
    } catch (const std::exception&) {
      // not a number: reported below
    }
  }
  if (!n) {
    type_error(key, *v, "an integer");
    return std::nullopt;
  }
  if (*n < min || *n > max) {
    fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                  std::to_string(*n));
    return std::nullopt;
  }
  return n;
}

std::optional<std::chrono::milliseconds> table::duration(std::string_view key) {
  const auto* v = get(key);
  if (v == nullptr)
    return std::nullopt;
  // A bare 0 means "off" in several settings; TOML users write it without quotes.
  if (v->is_integer() && v->as_integer() == 0)
    return std::chrono::milliseconds{0};
  if (!v->is_string()) {
    type_error(key, *v, "a duration such as '10s', '100ms' or '1h30m'");
    return std::nullopt;
  }
  auto d = util::parse_duration(v->as_string().str);
  if (!d) {
    fail(key, d.error().message + placeholder_hint(v->as_string().str));
    return std::nullopt;
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

std::optional<std::uint64_t> table::size(std::string_view key) {
  const auto* v = get(key);
  if (v == nullptr)
    return std::nullopt;
  if (!v->is_string()) {
    type_error(key, *v, "a size with a unit such as '16mb' or '512kb'");
    return std::nullopt;
  }
  auto s = util::parse_size(v->as_string().str);
  if (!s) {
    fail(key, s.error().message + placeholder_hint(v->as_string().str));
    return std::nullopt;
  }
  return *s;
}

std::optional<std::vector<std::string>> table::strings(std::string_view key) {
  const auto* v = get(key);
  if (v == nullptr)
    return std::nullopt;
  if (!v->is_array()) {
    type_error(key, *v, "an array of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  bool ok = true;
  const auto& a = v->as_array();
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_string()) {
      d_->error(key_path(key) + "[" + std::to_string(i) + "] at " + d_->where(a[i]) +
                ": expected a string, got " + std::string(describe_type(a[i])));
      ok = false;
      continue;
    }
    out.push_back(a[i].as_string().str);
  }
  if (!ok)
    return std::nullopt;
  return out;
}

table table::sub(std::string_view key) {
  const auto* v = get(key);
  if (v != nullptr && !v->is_table()) {
    type_error(key, *v, "a table");
    v = nullptr;
  }
  return table(*d_, v, key_path(key), v != nullptr ? d_->where(*v, key) : position_);
}

std::vector<table> table::array_of_tables(std::string_view key) {
  std::vector<table> out;
  const auto* v = get(key);
  if (v == nullptr)
    return out;
  if (!v->is_array()) {
    type_error(key, *v, "an array of tables ([[" + key_path(key) + "]])");
    return out;
  }
  const auto& a = v->as_array();
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string path = key_path(key) + " #" + std::to_string(i + 1);
    if (!a[i].is_table()) {
      d_->error(path + " at " + d_->where(a[i]) + ": expected a table, got " +
                std::string(describe_type(a[i])));
      continue;
    }
    out.emplace_back(*d_, &a[i], path, d_->where(a[i], key));
  }
  return out;
}

void table::flatten(std::vector<std::pair<std::string, const toml_value*>>& out,
                    const std::string& prefix) const {
  if (value_ == nullptr)
    return;
  for (const auto& [k, v] : value_->as_table()) {
    const std::string name = prefix.empty() ? k : prefix + "." + k;
    if (v.is_table())
      table(*d_, &v, path_, position_).flatten(out, name);
    else
      out.emplace_back(name, &v);
  }
}

void table::finish() {
  if (value_ == nullptr || accept_all_)
    return;
  std::string expected;
  for (const auto& e : expected_)
    expected += (expected.empty() ? "" : ", ") + e;
  for (const auto& [k, v] : value_->as_table()) {
    if (std::find(expected_.begin(), expected_.end(), k) != expected_.end())
      continue;
    d_->error("Unrecognized item '" + key_path(k) + "' at " + d_->where(v, k) +
              "; expected items in this context are: [" + expected + "]");
  }
}

}  // namespace cbes::config::detail
