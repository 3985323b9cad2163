#pragma once
// `consul.toml`, the Consul settings of `cbes-consul` (the Java connector's behaviour): a single
// `[consul]` table; unknown tables and keys are errors.
//
//   auto c = cbes::config::load_consul_config("config/consul.toml", {});
//   if (!c) { std::cerr << c.error().what() << '\n'; return 1; }
//   client_options.token = c->acl_token.reveal();
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "cbes/config/error.hpp"
#include "cbes/config/load_options.hpp"
#include "cbes/config/secret.hpp"

namespace cbes::config {

// Consul's smallest `DeregisterCriticalServiceAfter` (Consul's HTTP API docs: the reaper ignores
// shorter values).
inline constexpr std::chrono::seconds minimum_deregister_critical_service_after{60};

struct consul_config {
  // `aclToken`: sent as X-Consul-Token when non-empty.
  secret acl_token{};
  // `deregisterServiceOnGracefulShutdown`.
  bool deregister_service_on_graceful_shutdown = true;
  // `deregisterCriticalServiceAfter`, sent to Consul in whole seconds. Default 168h: the value the
  // Java connector documents and ships (its code default, 72h, disagrees with its own docs).
  std::chrono::seconds deregister_critical_service_after = std::chrono::hours(168);
  // `pathToCaCertificate` (cbes only): PEM CA for an https:// agent; empty = the system's CAs.
  // Relative to the working directory; must exist.
  std::filesystem::path ca_certificate{};
  // `hostnameVerification` (cbes only): the agent's certificate must name its host.
  bool hostname_verification = true;
  std::vector<std::string> warnings{};
};

// Reads, substitutes `${VAR}` and validates a consul.toml file.
result<consul_config> load_consul_config(const std::filesystem::path& file,
                                         const load_options& options);

// The same for text already in memory; `origin` names it in messages.
//
//   auto c = parse_consul_config("[consul]\naclToken = 'abc'\n", "consul.toml", {});
result<consul_config> parse_consul_config(std::string_view text, std::string_view origin,
                                          const load_options& options);

}  // namespace cbes::config
