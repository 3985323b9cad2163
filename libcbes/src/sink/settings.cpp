#include "cbes/sink/settings.hpp"

#include "type_regex.hpp"

namespace cbes::sink {
namespace {

using detail::has_index_group;

std::string rule_label(std::size_t i) {
  return "elasticsearch.type #" + std::to_string(i + 1);
}

}  // namespace

std::optional<syntax_error> check_json_pointer(std::string_view pointer) {
  if (pointer.empty())
    return std::nullopt;
  if (pointer.front() != '/')
    return syntax_error{0, "must be empty or start with '/'"};
  for (std::size_t i = 0; i < pointer.size(); ++i) {
    if (pointer[i] != '~')
      continue;
    if (i + 1 >= pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1'))
      return syntax_error{i, "'~' must be followed by '0' or '1'"};
  }
  return std::nullopt;
}

std::optional<syntax_error> check_regex(std::string_view pattern) {
  try {
    (void)detail::compile_type_regex(pattern);
  } catch (const boost::regex_error& e) {
    return syntax_error{static_cast<std::size_t>(e.position()), e.what()};
  }
  return std::nullopt;
}

std::optional<std::string> validate(const sink_settings& s) {
  if (s.types.empty())
    return "elasticsearch.type: at least one [[elasticsearch.type]] rule is required";
  for (std::size_t i = 0; i < s.types.size(); ++i) {
    const auto& t = s.types[i];
    const std::string label = rule_label(i);
    if (t.prefix && t.regex)
      return label + ": set exactly one of 'prefix' or 'regex', not both";
    if (!t.prefix && !t.regex)
      return label + ": set one of 'prefix' or 'regex'";
    const bool group = t.regex && has_index_group(*t.regex);
    if (t.regex) {
      if (auto err = check_regex(*t.regex))
        return label + ": invalid regex '" + *t.regex + "' at position " +
               std::to_string(err->position) + ": " + err->message;
    }
    if (group && t.index && !t.index->empty())
      return label + ": a regex with the named group '(?<index>...)' must not also set 'index'";
    const bool ignore = t.ignore.value_or(s.defaults.ignore);
    const std::string& index = t.index ? *t.index : s.defaults.index;
    if (!ignore && !group && index.empty())
      return label + ": needs 'index' (or a regex with the named group '(?<index>...)')";
    if (t.routing) {
      if (!t.ignore_deletes.value_or(s.defaults.ignore_deletes))
        return label +
               ": 'routing' requires 'ignoreDeletes = true' (a delete cannot be routed: it has "
               "no content)";
      if (auto err = check_json_pointer(*t.routing))
        return label + ": invalid JSON pointer '" + *t.routing + "' in 'routing' at position " +
               std::to_string(err->position) + ": " + err->message;
    }
  }
  const auto& l = s.limits;
  if (l.actions < 1)
    return "elasticsearch.bulkRequestLimits.actions must be at least 1";
  if (l.bytes < 1)
    return "elasticsearch.bulkRequestLimits.bytes must be at least 1b";
  if (l.timeout.count() < 0)
    return "elasticsearch.bulkRequestLimits.timeout must not be negative";
  if (l.concurrent_requests < 1 || l.concurrent_requests > 16)
    return "elasticsearch.bulkRequestLimits.concurrentRequests must be between 1 and 16, got " +
           std::to_string(l.concurrent_requests);
  const auto& r = s.retry;
  if (r.first_delay.count() <= 0 || r.max_delay < r.first_delay)
    return "elasticsearch retry: need 0 < first delay <= max delay";
  if (r.max_attempts && *r.max_attempts < 1)
    return "elasticsearch retry: max attempts must be at least 1 (or unlimited)";
  return std::nullopt;
}

}  // namespace cbes::sink
