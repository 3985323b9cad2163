#pragma once
// A scratch folder with the two password files a minimal connector config names, and helpers
// to parse config text against it with a fixed (empty unless given) environment.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>

#include "cbes/config/connector_config.hpp"
#include "result_printer.hpp"

namespace cbes::config::test {

class scratch_dir {
 public:
  scratch_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "cbes-config-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
    write("cb.toml", "password = 'cb-secret'\n");
    write("es.toml", "password = 'es-secret'\n");
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }

  std::filesystem::path write(const std::filesystem::path& name, std::string_view content) const {
    const auto p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

 private:
  std::filesystem::path path_;
};

// The smallest valid config: required keys only.
inline constexpr std::string_view minimal_config = R"([group]
name = 'g'
[group.static]
memberNumber = 1
totalMembers = 1
[couchbase]
hosts = ['127.0.0.1']
pathToPassword = 'cb.toml'
[elasticsearch]
hosts = ['127.0.0.1']
pathToPassword = 'es.toml'
[[elasticsearch.type]]
prefix = ''
index = 'etc'
)";

struct config_env {
  scratch_dir dir;
  std::map<std::string, std::string, std::less<>> variables;

  load_options options() const {
    load_options o;
    o.environment = map_environment(variables);
    o.base_directory = dir.path();
    return o;
  }
  result<connector_config> parse(std::string_view text) const {
    return parse_connector_config(text, "test.toml", options());
  }
};

// The minimal config with `extra` appended (TOML lets a later table header add keys).
inline std::string with(std::string_view extra) {
  return std::string(minimal_config) + std::string(extra);
}

// The minimal config with one line replaced.
inline std::string replacing(std::string_view line, std::string_view by) {
  std::string s(minimal_config);
  const auto at = s.find(line);
  if (at == std::string::npos)
    throw std::logic_error("line not in minimal_config: " + std::string(line));
  s.replace(at, line.size(), by);
  return s;
}

template <class R>
std::string problems(const R& r) {
  return r ? std::string("(no error)") : r.error().what();
}

}  // namespace cbes::config::test

namespace cbes::config::test {

// The minimal config with `keys` added to [couchbase] / [elasticsearch].
inline std::string in_couchbase(std::string_view keys) {
  return replacing("pathToPassword = 'cb.toml'\n",
                   "pathToPassword = 'cb.toml'\n" + std::string(keys));
}
inline std::string in_elasticsearch(std::string_view keys) {
  return replacing("pathToPassword = 'es.toml'\n",
                   "pathToPassword = 'es.toml'\n" + std::string(keys));
}

}  // namespace cbes::config::test
