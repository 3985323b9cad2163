#pragma once
// How a configuration file is read: where `${VAR}` values and $CBES_HOME come from, and what
// relative paths (password files, certificates) are relative to.
//
// Relative-path rule: against $CBES_HOME when it is set (the Java connector's install layout —
// `$CBES_HOME/config/…` and `$CBES_HOME/secrets/…`, so a Java config's `secrets/x.toml` works
// unchanged), otherwise against the folder of the config file (so a config and its secrets can
// be moved together and do not depend on the working directory). Text that does not come from a
// file (parse_*(), e.g. a config stored in Consul) uses `base_directory` instead of that folder.
//
//   cbes::config::load_options o;
//   o.environment = cbes::config::map_environment({{"CBES_HOME", "/opt/cbes"}});
//   auto cfg = cbes::config::load_connector_config("/opt/cbes/config/default-connector.toml", o);
#include <filesystem>

#include "cbes/config/env.hpp"

namespace cbes::config {

struct load_options {
  // Empty: the process environment.
  env_lookup environment{};
  // For parse_*() without $CBES_HOME; empty: the current directory. load_*() use the file's folder.
  std::filesystem::path base_directory{};
};

}  // namespace cbes::config
