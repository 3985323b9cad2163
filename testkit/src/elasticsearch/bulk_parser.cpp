#include "bulk_parser.hpp"

#include <charconv>
#include <stdexcept>

#include "json_tokens.hpp"

namespace cbes::testkit::es {

const char* bulk_item::response_key() const {
  switch (op) {
    case op_kind::index:
      return "index";
    case op_kind::create:
      return "create";
    case op_kind::update:
      return "update";
    case op_kind::delete_:
      return "delete";
  }
  return "index";
}

namespace {

// Whole-request 400 raised while parsing (IllegalArgumentException in BulkRequestParser).
struct parse_failure {
  bulk_parse_error error;
};

[[noreturn]] void illegal_argument(std::string reason) {
  throw parse_failure{{"illegal_argument_exception", std::move(reason)}};
}

// XContentParser.longValue(): numbers, and numeric strings (coerced).
std::int64_t long_value(const json_tokens& p, token t, const std::string& field) {
  std::int64_t v = 0;
  const std::string& s = p.text();
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if ((t == token::value_number_int || t == token::value_string) && ec == std::errc() &&
      ptr == s.data() + s.size())
    return v;
  if (t == token::value_number_float) {
    try {
      return static_cast<std::int64_t>(std::stod(s));
    } catch (const std::exception&) {
    }
  }
  illegal_argument("Failed to parse value [" + s + "] for field [" + field + "]");
}

bool boolean_value(const json_tokens& p, token t, const std::string& field) {
  if (t == token::value_true || (t == token::value_string && p.text() == "true"))
    return true;
  if (t == token::value_false || (t == token::value_string && p.text() == "false"))
    return false;
  illegal_argument("Failed to parse value [" + p.text() +
                   "] as only [true] or [false] are allowed.");
  (void)field;
}

// data.indexOf('\n', from); the missing final newline is only noticed when the scan reaches
// the tail, so an earlier malformed line wins (BulkRequestParser.findNextMarker).
std::size_t find_next_marker(std::string_view data, std::size_t from) {
  auto res = data.find('\n', from);
  if (res != std::string_view::npos)
    return res;
  if (from < data.size())
    illegal_argument("The bulk request must be terminated by a newline [\\n]");
  return res;
}

std::string_view trim_cr(std::string_view s) {
  if (!s.empty() && s.back() == '\r')
    s.remove_suffix(1);
  return s;
}

// UpdateRequest.fromXContent runs on the coordinating node, so a broken update body fails
// the whole request.
void check_update_source(std::string_view source, const bulk_parse_rules& rules) {
  json_tokens p(source);
  token t = p.next();
  if (p.failed())
    throw parse_failure{
        {rules.parse_exception_type,
         "[" + std::to_string(p.line()) + ":" + std::to_string(p.column()) + "] " + p.error()}};
  if (t != token::start_object)
    throw parse_failure{
        {"x_content_parse_exception",
         "[1:1] Unknown key for a " + std::string(token_name(t)) + " in [" + p.text() + "]."}};
  static const char* known[] = {"doc",     "upsert",          "doc_as_upsert",
                                "script",  "scripted_upsert", "detect_noop",
                                "_source", "if_seq_no",       "if_primary_term"};
  for (;;) {
    t = p.next();
    if (t == token::none && p.failed())
      throw parse_failure{
          {rules.parse_exception_type,
           "[" + std::to_string(p.line()) + ":" + std::to_string(p.column()) + "] " + p.error()}};
    if (t != token::field_name)
      break;
    std::string name = p.text();
    bool ok = false;
    for (const char* k : known)
      ok = ok || name == k;
    if (!ok)
      throw parse_failure{{"x_content_parse_exception",
                           "[" + std::to_string(p.line()) + ":" + std::to_string(p.column()) +
                               "] [UpdateRequest] unknown field [" + name + "]"}};
    t = p.next();
    if (t == token::start_object || t == token::start_array)
      p.skip_children();
    if (p.failed())
      throw parse_failure{
          {rules.parse_exception_type,
           "[" + std::to_string(p.line()) + ":" + std::to_string(p.column()) + "] " + p.error()}};
  }
}

}  // namespace

void validate_item(const bulk_item& item, std::vector<std::string>& errors) {
  if (item.index.empty())
    errors.emplace_back("index is missing");
  bool internal = item.version_type == "internal";
  if (item.op == op_kind::delete_ || item.op == op_kind::update) {
    if (!item.id || item.id->empty())
      errors.emplace_back("id is missing");
  }
  if (item.op == op_kind::create && item.version)
    errors.emplace_back("create operations do not support explicit versions. use index instead");
  if (item.op == op_kind::create && !internal)
    errors.emplace_back("create operations only support internal versioning. use index instead");
  if (item.op == op_kind::index && !item.id && (item.version || !internal))
    errors.emplace_back("an id must be provided if version type or value are set");
  if ((item.op == op_kind::index || item.op == op_kind::delete_) && internal && item.version)
    errors.emplace_back(
        "internal versioning can not be used for optimistic concurrency control. Please use "
        "`if_seq_no` and `if_primary_term` instead");
  if (item.version && !internal && *item.version < 0)
    errors.emplace_back("illegal version value [" + std::to_string(*item.version) +
                        "] for version type [" +
                        (item.version_type == "external_gte" ? "EXTERNAL_GTE" : "EXTERNAL") + "]");
  if (item.id && item.id->size() > 512)
    errors.emplace_back("id [" + *item.id +
                        "] is too long, must be no longer than 512 bytes but was: " +
                        std::to_string(item.id->size()));
  if (item.pipeline && item.pipeline->empty() && item.op != op_kind::delete_)
    errors.emplace_back("pipeline cannot be an empty string");
}

std::string validation_message(const std::vector<std::string>& errors) {
  std::string out = "Validation Failed: ";
  for (std::size_t i = 0; i < errors.size(); ++i)
    out += std::to_string(i + 1) + ": " + errors[i] + ";";
  return out;
}

bulk_parse_result parse_bulk(std::string_view data, const bulk_defaults& defaults,
                             const bulk_parse_rules& rules) {
  bulk_parse_result result;
  try {
    std::size_t line = 0;
    std::size_t from = 0;
    for (;;) {
      std::size_t next_marker = find_next_marker(data, from);
      if (next_marker == std::string_view::npos)
        break;
      ++line;
      json_tokens p(data.substr(from, next_marker - from));
      from = next_marker + 1;
      auto where = [&line] {
        return "Malformed action/metadata line [" + std::to_string(line) + "]";
      };
      auto check = [&p, &rules] {
        if (p.failed())
          throw parse_failure{{rules.parse_exception_type, "[" + std::to_string(p.line()) + ":" +
                                                               std::to_string(p.column()) + "] " +
                                                               p.error()}};
      };
      token t = p.next();
      check();
      if (t == token::none)
        continue;  // blank line
      if (t != token::start_object)
        illegal_argument(where() + ", expected START_OBJECT but found [" + token_name(t) + "]");
      t = p.next();
      check();
      if (t != token::field_name)
        illegal_argument(where() + ", expected FIELD_NAME but found [" + token_name(t) + "]");
      std::string action = p.text();
      bulk_item item;
      if (action == "index")
        item.op = op_kind::index;
      else if (action == "create")
        item.op = op_kind::create;
      else if (action == "update")
        item.op = op_kind::update;
      else if (action == "delete")
        item.op = op_kind::delete_;
      else
        illegal_argument(where() + ", expected one of [create, delete, index, update] but found [" +
                         action + "]");
      item.index = defaults.index;
      item.routing = defaults.routing;
      if (item.op == op_kind::index || item.op == op_kind::create)
        item.pipeline = defaults.pipeline;
      item.require_alias = defaults.require_alias;
      std::optional<std::string> op_type;

      t = p.next();
      check();
      if (t == token::start_object) {
        std::string field;
        for (;;) {
          t = p.next();
          check();
          if (t == token::end_object)
            break;
          if (t == token::none)
            illegal_argument(where() + ", expected FIELD_NAME but found [null]");
          if (t == token::field_name) {
            field = p.text();
          } else if (t == token::value_null) {
            // null metadata values are ignored by the parser
          } else if (is_value(t)) {
            if (field == "_index") {
              item.index = p.text();
            } else if (field == "_type") {
              if (!rules.accept_type)
                illegal_argument("Action/metadata line [" + std::to_string(line) +
                                 "] contains an unknown parameter [_type]");
            } else if (field == "_id") {
              item.id = p.text();
            } else if (field == "routing") {
              item.routing = p.text();
            } else if (field == "op_type") {
              op_type = p.text();
            } else if (field == "version") {
              item.version = long_value(p, t, field);
            } else if (field == "version_type") {
              const std::string& v = p.text();
              if (v != "internal" && v != "external" && v != "external_gt" && v != "external_gte")
                illegal_argument("No version type match [" + v + "]");
              item.version_type = v == "external_gt" ? "external" : v;
            } else if (field == "if_seq_no") {
              item.if_seq_no = long_value(p, t, field);
            } else if (field == "if_primary_term") {
              item.if_primary_term = long_value(p, t, field);
            } else if (field == "retry_on_conflict") {
              (void)long_value(p, t, field);
            } else if (field == "pipeline") {
              item.pipeline = p.text();
            } else if (field == "_source") {
              // fetch-source flag for update: accepted, not returned
            } else if (field == "require_alias") {
              item.require_alias = boolean_value(p, t, field);
            } else if (field == "require_data_stream" || field == "list_executed_pipelines") {
              (void)boolean_value(p, t, field);
            } else {
              illegal_argument("Action/metadata line [" + std::to_string(line) +
                               "] contains an unknown parameter [" + field + "]");
            }
          } else if (t == token::start_array) {
            illegal_argument(where() + ", expected a simple value for field [" + field +
                             "] but found [START_ARRAY]");
          } else if (t == token::start_object &&
                     (field == "dynamic_templates" || field == "_source")) {
            p.skip_children();
            check();
          } else {
            illegal_argument(where() + ", expected a simple value for field [" + field +
                             "] but found [" + token_name(t) + "]");
          }
        }
      } else if (t != token::end_object) {
        illegal_argument(where() + ", expected START_OBJECT or END_OBJECT but found [" +
                         token_name(t) + "]");
      }
      // A missing closing brace or trailing data only earns a deprecation warning on ES 8
      //, so nothing after the metadata object is read.

      if (item.op == op_kind::update && (item.version || item.version_type != "internal"))
        illegal_argument(
            "Update requests do not support versioning. Please use `if_seq_no` and "
            "`if_primary_term` instead");
      if (item.op == op_kind::index && op_type) {
        if (*op_type == "create")
          item.op = op_kind::create;
        else if (*op_type != "index")
          illegal_argument("opType must be 'create' or 'index', found: [" + *op_type + "]");
      }
      if (item.op != op_kind::delete_) {
        next_marker = find_next_marker(data, from);
        if (next_marker == std::string_view::npos)
          break;  // an action without its source line is dropped ("no requests added")
        ++line;
        item.source = trim_cr(data.substr(from, next_marker - from));
        from = next_marker + 1;
        if (item.op == op_kind::update)
          check_update_source(item.source, rules);
      }
      result.items.push_back(std::move(item));
    }
  } catch (parse_failure& f) {
    result.items.clear();
    result.error = std::move(f.error);
    return result;
  }
  // BulkRequest.validate: every item before any is executed.
  std::vector<std::string> errors;
  if (result.items.empty())
    errors.emplace_back("no requests added");
  for (const auto& item : result.items)
    validate_item(item, errors);
  if (!errors.empty()) {
    result.items.clear();
    result.error =
        bulk_parse_error{"action_request_validation_exception", validation_message(errors)};
  }
  return result;
}

}  // namespace cbes::testkit::es
