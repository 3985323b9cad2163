// libFuzzer target: configuration text (TOML) — the connector's config as `cbes` and Consul
// hand it over, and cbes-consul's Consul config. Errors are values; nothing may crash or hang.
// The process environment is never read (every ${VAR} is "1"), and relative paths resolve in a
// folder that does not exist, so a relative secret-file setting is refused rather than read.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cbes/config/connector_config.hpp"
#include "cbes/config/consul_config.hpp"

namespace config = cbes::config;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1)
    return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  config::load_options options;
  options.environment = [](std::string_view) -> std::optional<std::string> { return "1"; };
  options.base_directory = "/nonexistent/cbes-fuzz";
  if (data[0] & 1) {
    if (auto c = config::parse_connector_config(text, "fuzz.toml", options))
      static_cast<void>(config::redacted_summary(*c));
  } else {
    static_cast<void>(config::parse_consul_config(text, "consul.toml", options));
  }
  return 0;
}
