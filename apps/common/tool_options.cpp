#include "tool_options.hpp"

#include <cstdlib>
#include <iostream>

#include "cbes/version.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace cbes::app {

tool_options::tool_options(std::string name, std::string description)
    : name_(std::move(name)),
      description_(std::move(description)),
      common_("Common options"),
      tool_("Options") {
  common_.add_options()("config", po::value<std::string>()->value_name("<file>"),
                        "connector configuration (default: $CBES_HOME/config/"
                        "default-connector.toml, else config/default-connector.toml)")(
      "help", "print this help and exit")("version", "print the version and exit");
}

std::string version_line(const std::string& tool) {
  std::string line = tool + " " + std::string(cbes::version);
  if (!cbes::git_commit().empty())
    line += " (" + std::string(cbes::git_commit()) + ")";
  return line;
}

tool_options::parse_result tool_options::parse(int argc, char** argv) {
  // --help / --version win over everything else, even missing required options (Java too).
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cout << "Usage: " << name_ << " [options]\n" << description_ << "\n\n";
      if (!tool_.options().empty())
        std::cout << tool_ << '\n';
      std::cout << common_ << '\n';
      return {0};
    }
    if (a == "--version") {
      std::cout << version_line(name_) << '\n';
      return {0};
    }
  }
  po::options_description all;
  all.add(common_).add(tool_);
  try {
    auto parsed = po::command_line_parser(argc, argv).options(all).run();
    // None of these tools takes a positional argument: a stray word is a mistake (a value
    // meant for an option, a space after '='), not something to ignore.
    for (const auto& o : parsed.options)
      if (o.position_key >= 0) {
        std::cerr << name_ << ": unexpected argument '" << o.value.front() << "' (see " << name_
                  << " --help)\n";
        return {2};
      }
    po::store(parsed, values_);
    po::notify(values_);
  } catch (const po::error& e) {
    std::cerr << name_ << ": " << e.what() << " (see " << name_ << " --help)\n";
    return {2};
  }
  return {};
}

fs::path tool_options::config_path() const {
  if (values_.count("config"))
    return fs::absolute(values_["config"].as<std::string>());
  if (const char* home = std::getenv("CBES_HOME"); home && *home)
    return fs::absolute(fs::path(home) / "config" / "default-connector.toml");
  return fs::absolute(fs::path("config") / "default-connector.toml");
}

std::optional<config::connector_config> tool_options::load_config() const {
  const auto path = config_path().lexically_normal();
  std::cout << "Reading connector configuration from " << path.string() << std::endl;
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    std::cerr << "ERROR: Config file not found at " << path.string()
              << " (pass the file with --config <file>, or set CBES_HOME to the folder that "
                 "holds config/default-connector.toml)\n";
    return std::nullopt;
  }
  auto cfg = config::load_connector_config(path, {});
  if (!cfg) {
    for (const auto& p : cfg.error().problems)
      std::cerr << name_ << ": " << p << '\n';
    return std::nullopt;
  }
  return std::move(*cfg);
}

}  // namespace cbes::app
