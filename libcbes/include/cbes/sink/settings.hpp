#pragma once
// Settings of the Elasticsearch sink, shaped like the Java connector's `[elasticsearch.*]` TOML
// tables (the Java connector's behaviour) with the Java code defaults, so a TOML loader can fill
// them field by field. Optional fields of a type rule are "absent" (inherit from typeDefaults),
// which is different from an explicit empty string (= none).
//
//   cbes::sink::sink_settings s;
//   s.types.push_back({.prefix = "airline_", .index = "airlines"});
//   if (auto err = cbes::sink::validate(s))
//     std::cerr << *err << '\n';  // e.g. "elasticsearch.type #1: ..."
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cbes::sink {

// `[elasticsearch.docStructure]`.
struct doc_structure_settings {
  // Empty = no metadata object (the Java code default; the example config uses "meta").
  std::string metadata_field_name{};
  bool document_content_at_top_level = false;
  bool wrap_counters = false;
};

// `[elasticsearch.typeDefaults]` (no `routing` here).
struct type_defaults {
  std::string index{};
  std::string pipeline{};
  bool ignore = false;
  bool ignore_deletes = false;
  bool match_on_qualified_key = false;
};

// One `[[elasticsearch.type]]` entry; exactly one of prefix / regex. Absent fields inherit from
// type_defaults.
struct type_rule_settings {
  std::optional<std::string> prefix{};
  std::optional<std::string> regex{};  // Java regex syntax, whole-key match, group `(?<index>...)`
  std::optional<std::string> index{};
  std::optional<std::string> pipeline{};
  std::optional<std::string> routing{};  // JSON pointer into the document, e.g. "/airlineid"
  std::optional<bool> ignore{};
  std::optional<bool> ignore_deletes{};
  std::optional<bool> match_on_qualified_key{};
};

// `[elasticsearch.bulkRequestLimits]`.
struct bulk_limits {
  std::size_t actions = 1000;
  std::uint64_t bytes = 10 * 1024 * 1024;  // "10mb"
  std::chrono::milliseconds timeout = std::chrono::minutes(1);
  int concurrent_requests = 2;  // 1..16
};

// `[elasticsearch.rejectionLog]`: empty index = rejection log disabled (Java code default).
struct rejection_log_settings {
  std::string index{};
};

// Back-off between retry rounds: full jitter, uniform in [0, d], d = first_delay,
// 2*first_delay, ... capped at max_delay. max_attempts counts every try of an item including the
// first; nullopt = unlimited (Java: the sink stalls rather than drops).
struct retry_settings {
  std::chrono::milliseconds first_delay{100};
  std::chrono::milliseconds max_delay = std::chrono::minutes(5);
  std::optional<std::uint32_t> max_attempts{};
};

struct sink_settings {
  doc_structure_settings doc_structure{};
  type_defaults defaults{};
  std::vector<type_rule_settings> types{};  // order matters: first match wins
  bulk_limits limits{};
  rejection_log_settings rejection_log{};
  retry_settings retry{};
};

// First configuration error as one line naming the setting, or nullopt when the settings are
// usable. Rules: the Java connector's `[[elasticsearch.type]]` validation plus the bulk limit
// ranges.
//
//   if (auto err = validate(settings)) return fail(*err);
std::optional<std::string> validate(const sink_settings& settings);

// Position (0-based) and message of the first syntax error in a JSON pointer (RFC 6901), or
// nullopt when valid. Used for `routing`.
//
//   check_json_pointer("airlineid");  // {0, "must be empty or start with '/'"}
struct syntax_error {
  std::size_t position;
  std::string message{};
};
std::optional<syntax_error> check_json_pointer(std::string_view pointer);

// Position and message of the first error in a type-rule regex, or nullopt when it compiles.
std::optional<syntax_error> check_regex(std::string_view pattern);

}  // namespace cbes::sink
