#pragma once
// Internal: reading TOML tables with the connector's coercions while collecting every problem
// with its position, and flagging keys nobody asked for (the Java connector's "Unrecognized
// item" rule). Keeps toml11 out of the public headers.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <toml.hpp>

#include "cbes/config/error.hpp"

namespace cbes::config::detail {

// std::map: keys in a stable order for the "expected items" lists and for warnings.
using toml_value = toml::basic_value<toml::discard_comments, std::map, std::vector>;

// Problems and warnings of one source, in the order found.
class diagnostics {
 public:
  explicit diagnostics(std::string origin) : origin_(std::move(origin)) {}

  const std::string& origin() const noexcept { return origin_; }
  // "file:line:column" of a value, with the column moved back to `key` when the key is written
  // on the same line before it (toml11 records where values start, users look for keys).
  std::string where(const toml_value& v, std::string_view key = {}) const;
  std::string file_start() const { return origin_ + ":1:1"; }

  void error(std::string message) { errors_.push_back(std::move(message)); }
  void warn(std::string message) { warnings_.push_back(std::move(message)); }
  bool failed() const noexcept { return !errors_.empty(); }
  std::vector<std::string> take_warnings() { return std::move(warnings_); }
  config::error take_error() { return config::error{std::move(errors_)}; }

 private:
  std::string origin_;
  std::vector<std::string> errors_;
  std::vector<std::string> warnings_;
};

// Parses TOML text; on a syntax error records "<origin>:l:c: TOML syntax error: <what>" (the
// what only when `quote_detail`: password files never show any part of their content).
std::optional<toml_value> parse_toml(std::string_view text, diagnostics& d, bool quote_detail);

// One table (possibly absent) with its dotted path. Every key asked about becomes an expected
// item; finish() reports the keys nobody asked for.
class table {
 public:
  table(diagnostics& d, const toml_value* value, std::string path, std::string position);

  bool present() const noexcept { return value_ != nullptr; }
  diagnostics& diag() const noexcept { return *d_; }
  const std::string& path() const noexcept { return path_; }
  // The table's header (or where it would be: the file start).
  const std::string& position() const noexcept { return position_; }
  std::string key_path(std::string_view key) const;
  // Position of a present key, else of the table.
  std::string where(std::string_view key) const;

  // The raw value (nullptr when absent); marks the key expected.
  const toml_value* get(std::string_view key);

  std::optional<std::string> string(std::string_view key);
  std::string string_or(std::string_view key, std::string fallback);
  // Missing → error "required key is missing" plus `hint`.
  std::string required_string(std::string_view key, std::string_view hint);
  std::optional<bool> boolean(std::string_view key);
  bool boolean_or(std::string_view key, bool fallback);
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max);
  std::optional<std::chrono::milliseconds> duration(std::string_view key);
  std::optional<std::uint64_t> size(std::string_view key);
  std::optional<std::vector<std::string>> strings(std::string_view key);

  // A child table (absent when missing; an error when the key holds something else).
  table sub(std::string_view key);
  // `[[path.key]]` entries.
  std::vector<table> array_of_tables(std::string_view key);
  // Every entry of a free-form table, nested tables flattened to dotted keys.
  void flatten(std::vector<std::pair<std::string, const toml_value*>>& out,
               const std::string& prefix = {}) const;

  // "Unrecognized item '<path.key>' at <pos>; expected items in this context are: [...]".
  void finish();
  // Accept every key (a free-form table).
  void accept_all() noexcept { accept_all_ = true; }

  // Records "<path.key> at <pos>: <message>".
  void fail(std::string_view key, std::string_view message);
  void warn(std::string_view key, std::string_view message);

 private:
  void type_error(std::string_view key, const toml_value& v, std::string_view expected);

  diagnostics* d_;
  const toml_value* value_;
  std::string path_;
  std::string position_;
  std::vector<std::string> expected_;
  bool accept_all_ = false;
};

// A TOML document's root as a table with an empty path.
table root_table(diagnostics& d, const toml_value& root);

// "a string", "an integer", ... for messages.
std::string_view describe_type(const toml_value& v);

}  // namespace cbes::config::detail
