#pragma once
// Internal: reading a configuration source (file or text) the same way for every loader —
// bounded file reads, `${VAR}` substitution, and the relative-path rule of load_options.hpp.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

#include "cbes/config/load_options.hpp"

namespace cbes::config::detail {

// Config files are small; a bound keeps a wrong path (a device, a log file) from eating memory.
inline constexpr std::size_t max_config_bytes = 4 * 1024 * 1024;
inline constexpr std::size_t max_password_file_bytes = 64 * 1024;

// The file's bytes, or nullopt with `why` set to a reason that never quotes the content.
std::optional<std::string> read_file(const std::filesystem::path& file, std::size_t max_bytes,
                                     std::string& why);

// The lookup to use: options.environment, else the process environment.
env_lookup environment_of(const load_options& options);

// Where relative paths point and how to say so in a message.
struct path_base {
  std::filesystem::path directory;
  std::string rule;  // e.g. "relative paths are resolved against $CBES_HOME (/opt/cbes)"

  std::filesystem::path resolve(const std::string& path) const;
};

// $CBES_HOME when set, else `fallback` (the config file's folder, or options.base_directory).
path_base path_base_for(const env_lookup& env, const std::filesystem::path& fallback,
                        std::string_view fallback_name);

// The absolute path of a file named on the command line (for "not found at <path>").
std::filesystem::path absolute_path(const std::filesystem::path& file);

}  // namespace cbes::config::detail
