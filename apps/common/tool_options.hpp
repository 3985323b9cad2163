#pragma once
// The command line shared by `cbes` and the `cbes-checkpoint-*` tools (the Java connector's
// common options): --config <file>, --help, --version, plus each tool's own options.
//
//   cbes::app::tool_options tool{"cbes-checkpoint-backup", "Writes the group's checkpoints..."};
//   tool.options().add_options()("output", po::value<std::string>()->required(), "...");
//   if (auto code = tool.parse(argc, argv).exit_code) return *code;   // --help, --version, usage
//   auto cfg = tool.load_config();   // prints "Reading connector configuration from <abs>"
//   if (!cfg) return 1;
//
// Usage errors exit 2 with one line naming the problem (the Java tools print the whole help
// and exit 1 — see the README's list of divergences); --help and --version exit 0 and work
// whatever else is on the command line.
#include <filesystem>
#include <optional>
#include <string>

#include <boost/program_options.hpp>

#include "cbes/config/connector_config.hpp"

namespace cbes::app {

class tool_options {
 public:
  tool_options(std::string name, std::string description);

  // Where the tool adds its own options before parse().
  boost::program_options::options_description& options() { return tool_; }

  struct parse_result {
    std::optional<int> exit_code;  // set: the tool must exit with it now
  };
  parse_result parse(int argc, char** argv);
  const boost::program_options::variables_map& values() const { return values_; }

  // The config file: --config, else $CBES_HOME/config/default-connector.toml, else
  // config/default-connector.toml below the working directory.
  std::filesystem::path config_path() const;
  // Announces and loads the config; prints every problem on stderr (nullopt then).
  std::optional<config::connector_config> load_config() const;

  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::string description_;
  boost::program_options::options_description common_;
  boost::program_options::options_description tool_;
  boost::program_options::variables_map values_;
};

// "cbes 0.1.0 (v0.1.0-12-gabcdef)" — the version and the git commit it was built from.
std::string version_line(const std::string& tool);

}  // namespace cbes::app
