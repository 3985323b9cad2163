#pragma once
// `${VAR}` and `${VAR:default}` in configuration text, replaced before the TOML is parsed (the
// Java connector's rule, applied to the connector config, consul.toml and password files alike).
// A variable that is not set and has no default is left as written, so the error that follows
// names it.
//
//   auto env = cbes::config::map_environment({{"ES_HOST", "es1"}});
//   cbes::config::substitute_env("hosts = ['${ES_HOST}', '${X:es2}', '${Y}']", env);
//   // "hosts = ['es1', 'es2', '${Y}']"
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace cbes::config {

// Returns the variable's value, or nullopt when it is not set.
using env_lookup = std::function<std::optional<std::string>(std::string_view name)>;

// The process environment (getenv).
env_lookup process_environment();

// A fixed environment, for tests and for embedding programs that keep their own.
env_lookup map_environment(std::map<std::string, std::string, std::less<>> variables);

// Replaces every `${NAME}` / `${NAME:default}`; the default runs to the first `}` and may be
// empty. There is no escape: a literal `${` that must survive needs a variable that is unset.
std::string substitute_env(std::string_view text, const env_lookup& env);

}  // namespace cbes::config
