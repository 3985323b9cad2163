// `cbes` and the checkpoint tools given what an operator gets wrong: one line on stderr naming
// the problem, a non-zero exit, quickly — and no checkpoint moved.
#include "system/connector/harness.hpp"

#include <csignal>

using namespace connector_st;

namespace {

// The lines of stderr that are not log records (the log is timestamped).
std::vector<std::string> message_lines(const std::string& err) {
  std::vector<std::string> out;
  std::istringstream in(err);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && !std::regex_search(line, std::regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}T")))
      out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE(
    "cbes exits 1 with one line for a wrong password, a missing bucket and a user without DCP") {
  sandbox sb(100, {"--reader-without-dcp=reader:secret"});
  const auto dir = fresh_dir("failures");

  config_options wrong;
  wrong.couchbase_password = "not-the-password";
  auto r = run_tool({bin("cbes"), "--config", write_config(dir, sb, wrong).string()});
  INFO(r.err);
  CHECK(r.code == 1);
  auto lines = message_lines(r.err);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].starts_with("cbes: "));
  CHECK(lines[0].find("authentication") != std::string::npos);

  config_options missing;
  missing.bucket = "no-such-bucket";
  r = run_tool({bin("cbes"), "--config", write_config(dir, sb, missing).string()});
  INFO(r.err);
  CHECK(r.code == 1);
  lines = message_lines(r.err);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("no-such-bucket") != std::string::npos);

  config_options no_dcp;
  no_dcp.extra = "";
  const auto path = write_config(dir, sb, no_dcp);
  {  // the same config with the DCP-less user
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    auto text = std::regex_replace(ss.str(), std::regex("username = 'Administrator'"),
                                   "username = 'reader'");
    std::ofstream(path) << text;
    std::ofstream(dir / "secrets" / "couchbase-password.toml") << "password = 'secret'\n";
  }
  r = run_tool({bin("cbes"), "--config", path.string()});
  INFO(r.err);
  CHECK(r.code == 1);
  lines = message_lines(r.err);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("DCP Reader") != std::string::npos);
}

TEST_CASE("cbes exits 1 with one line when Elasticsearch cannot be reached") {
  sandbox sb(10);
  const auto dir = fresh_dir("no-es");
  config_options o;
  o.es_host = "http://127.0.0.1:1";  // nothing listens on port 1
  auto r = run_tool({bin("cbes"), "--config", write_config(dir, sb, o).string()});
  INFO(r.err);
  CHECK(r.code == 1);
  auto lines = message_lines(r.err);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("127.0.0.1:1") != std::string::npos);
}

TEST_CASE("a malformed config and bad arguments are refused before anything connects") {
  const auto dir = fresh_dir("bad-config");
  std::ofstream(dir / "bad.toml") << "[group]\nname = 'g'\n[metrics]\nhttpPort = 70000\n";
  auto r = run_tool({bin("cbes"), "--config", (dir / "bad.toml").string()});
  CHECK(r.code == 1);
  CHECK(r.err.find("httpPort") != std::string::npos);
  CHECK(r.err.find("bad.toml:4") != std::string::npos);

  r = run_tool({bin("cbes"), "--config", (dir / "missing.toml").string()});
  CHECK(r.code == 1);
  CHECK(r.err.find("ERROR: Config file not found at") != std::string::npos);

  r = run_tool({bin("cbes"), "--no-such-option"});
  CHECK(r.code == 2);
  CHECK(message_lines(r.err).size() == 1);
  r = run_tool({bin("cbes-checkpoint-backup"), "--config", (dir / "bad.toml").string()});
  CHECK(r.code == 2);  // --output is required
  CHECK(r.err.find("output") != std::string::npos);

  for (const char* tool :
       {"cbes", "cbes-checkpoint-backup", "cbes-checkpoint-restore", "cbes-checkpoint-clear"}) {
    r = run_tool({bin(tool), "--version"});
    CHECK(r.code == 0);
    CHECK(r.out.find(std::string(tool) + " ") == 0);
    r = run_tool({bin(tool), "--help", "--no-such-option"});
    CHECK(r.code == 0);
    CHECK(r.out.find("--config") != std::string::npos);
  }
}

TEST_CASE("every program's --version names the version and the commit it was built from") {
  // The commit is read at build time (cmake/CbesGitCommit.cmake), so it is this checkout's.
  std::string describe;
  if (std::filesystem::exists(std::filesystem::path(CBES_SOURCE_DIR) / ".git")) {
    auto git = run_tool(
        {"/usr/bin/git", "-C", CBES_SOURCE_DIR, "describe", "--always", "--tags", "--dirty"});
    REQUIRE(git.code == 0);
    describe = git.out.substr(0, git.out.find('\n'));
  }
  for (const char* tool :
       {"cbes", "cbes-consul", "cbes-checkpoint-backup", "cbes-checkpoint-restore",
        "cbes-checkpoint-clear", "cbes-dcp", "cbes-sandbox"}) {
    INFO(tool);
    auto r = run_tool({bin(tool), "--version"});
    CHECK(r.code == 0);
    const std::string expected = std::string(tool) + " " + CBES_PROJECT_VERSION +
                                 (describe.empty() ? "" : " (" + describe + ")") + "\n";
    CHECK(r.out == expected);
  }
}
