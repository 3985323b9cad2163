#pragma once
// Type rules: which index (and pipeline, routing) a Couchbase document goes to, or why it is
// skipped (the Java connector's behaviour). Rules are walked in order; the first rule
// whose prefix or regex matches the key wins.
//
//   auto rules = cbes::sink::type_rules::compile(settings);  // settings validated beforehand
//   auto m = rules->match(event);
//   if (m.kind == cbes::sink::match_kind::index) builder.add(index_action(...m.index...));
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

#include "cbes/sink/event.hpp"
#include "cbes/sink/settings.hpp"

namespace cbes::sink {

enum class match_kind {
  index,                // mutation -> `index` action
  remove,               // deletion -> `delete` action
  skip_connector_key,   // `_connector:cbes:` keys (checkpoints) are never replicated
  skip_no_rule,         // no rule matched
  skip_ignored,         // matched rule says ignore
  skip_ignored_delete,  // deletion and the matched rule says ignoreDeletes
};

struct type_match {
  match_kind kind = match_kind::skip_no_rule;
  std::size_t rule = 0;  // position of the matching rule in settings.types (when one matched)
  std::string index;
  std::optional<std::string> pipeline;
  std::optional<std::string> routing;
  // Non-empty when the rule has `routing` but it could not be resolved (the Java connector warns
  // and sends no routing).
  std::string warning;
};

// Index name from a regex `index` group: a leading '_' or '-' becomes '@', then ASCII
// lower-case, because Elasticsearch rejects such index names.
//
//   sanitize_index_name("_Default._default");  // "@default._default"
std::string sanitize_index_name(std::string_view name);

// JSON pointer evaluated on raw document content: a scalar gives its text form (string
// without quotes, integer as written, other numbers in shortest form, true/false); missing,
// null, object, array or non-JSON content give no value and a problem text for the WARN log.
//
//   resolve_routing(R"({"airlineid":"airline_137"})", "/airlineid").value;  // "airline_137"
struct routing_value {
  std::optional<std::string> value;
  std::string problem;
};
routing_value resolve_routing(std::string_view content, std::string_view pointer);

class type_rules {
 public:
  // Compiles the rules after applying typeDefaults; the error is validate()'s one-line message.
  static boost::system::result<type_rules, std::string> compile(const sink_settings& settings);

  type_rules(type_rules&&) noexcept;
  type_rules& operator=(type_rules&&) noexcept;
  ~type_rules();

  // Where this event goes. Routing is only evaluated for mutations of rules that set it.
  type_match match(const document_event& event) const;

  std::size_t size() const;

 private:
  struct rule;
  type_rules();
  std::vector<rule> rules_;
};

}  // namespace cbes::sink
