#include "cbes/config/env.hpp"

#include <cstdlib>

namespace cbes::config {

env_lookup process_environment() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr)
      return std::nullopt;
    return std::string(v);
  };
}

env_lookup map_environment(std::map<std::string, std::string, std::less<>> variables) {
  return [vars = std::move(variables)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end())
      return std::nullopt;
    return it->second;
  };
}

std::string substitute_env(std::string_view text, const env_lookup& env) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto open = text.find("${", pos);
    if (open == std::string_view::npos)
      break;
    const auto close = text.find('}', open + 2);
    if (close == std::string_view::npos)
      break;
    out.append(text.substr(pos, open - pos));
    const auto inner = text.substr(open + 2, close - open - 2);
    const auto colon = inner.find(':');
    const auto name = inner.substr(0, colon);
    std::optional<std::string> value;
    if (!name.empty() && env)
      value = env(name);
    if (value)
      out += *value;
    else if (colon != std::string_view::npos && !name.empty())
      out.append(inner.substr(colon + 1));
    else
      out.append(text.substr(open, close - open + 1));  // left verbatim, like the Java connector
    pos = close + 1;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace cbes::config
