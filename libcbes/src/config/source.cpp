#include "source.hpp"

#include <fstream>
#include <sstream>
#include <system_error>

namespace cbes::config::detail {

std::optional<std::string> read_file(const std::filesystem::path& file, std::size_t max_bytes,
                                     std::string& why) {
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (ec || !std::filesystem::exists(status)) {
    why = "the file does not exist";
    return std::nullopt;
  }
  if (!std::filesystem::is_regular_file(status)) {
    why = "it is not a regular file";
    return std::nullopt;
  }
  const auto size = std::filesystem::file_size(file, ec);
  if (!ec && size > max_bytes) {
    why = "it is larger than " + std::to_string(max_bytes) + " bytes";
    return std::nullopt;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    why = "it cannot be opened (check its permissions)";
    return std::nullopt;
  }
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) {
    why = "reading it failed";
    return std::nullopt;
  }
  std::string text = std::move(out).str();
  if (text.size() > max_bytes) {
    why = "it is larger than " + std::to_string(max_bytes) + " bytes";
    return std::nullopt;
  }
  return text;
}

env_lookup environment_of(const load_options& options) {
  return options.environment ? options.environment : process_environment();
}

std::filesystem::path path_base::resolve(const std::string& path) const {
  std::filesystem::path p(path);
  if (p.is_relative())
    p = directory / p;
  return p.lexically_normal();
}

path_base path_base_for(const env_lookup& env, const std::filesystem::path& fallback,
                        std::string_view fallback_name) {
  if (auto home = env("CBES_HOME"); home && !home->empty()) {
    auto dir = absolute_path(*home);
    return {dir, "relative paths are resolved against $CBES_HOME (" + dir.string() + ")"};
  }
  auto dir = absolute_path(fallback.empty() ? std::filesystem::path(".") : fallback);
  return {dir, "relative paths are resolved against " + std::string(fallback_name) + " (" +
                   dir.string() + ") because $CBES_HOME is not set"};
}

std::filesystem::path absolute_path(const std::filesystem::path& file) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(file, ec);
  return (ec ? file : abs).lexically_normal();
}

}  // namespace cbes::config::detail
