// The README's copy-paste sessions, run as written — `cbes` and the checkpoint tools, and the
// Autonomous Operations quickstart: the block after `<!-- readme-session: <name> -->` goes to
// bash from the source folder, with `build/bin/` pointing at this build. They use the sandbox's
// fixed default ports (as a reader would), so each checks first that they are free, and ctest
// runs each alone (RUN_SERIAL in tests/CMakeLists.txt, which says why).
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/process.hpp"

namespace {

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string readme_text() {
  return file_text(std::string(CBES_SOURCE_DIR) + "/README.md");
}

std::string readme_block(const std::string& marker) {
  const std::string text = readme_text();
  const auto at = text.find("<!-- readme-session: " + marker + " -->");
  REQUIRE(at != std::string::npos);
  const auto start = text.find("```sh\n", at);
  REQUIRE(start != std::string::npos);
  const auto end = text.find("```\n", start + 6);
  REQUIRE(end != std::string::npos);
  return text.substr(start + 6, end - start - 6);
}

bool port_free(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  // As the servers bind (Asio sets it): connections in TIME_WAIT do not make a port taken.
  const int on = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// The block after `<!-- readme-session: <marker> -->`, with build/bin/ pointing at this build,
// run by bash from the source folder; no background job outlives it. Its stdout.
// `extra_logs` names files the session writes (shown when it fails).
std::string run_session(const std::string& marker, std::chrono::minutes limit,
                        const std::vector<std::string>& extra_logs = {}) {
  std::string block = readme_block(marker);
  block =
      std::regex_replace(block, std::regex("build/bin/"), std::string(CBES_BINARY_DIR) + "/bin/");
  const std::string script = std::string(CBES_BINARY_DIR) + "/tmp/readme-" + marker + "-session.sh";
  {
    std::ofstream f(script);
    // Each command traced on stderr with the time it started: a session that hangs shows where.
    f << "trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT\n"
      << "PS4='+ ${EPOCHREALTIME} line ${LINENO}: '\nset -x\n"
      << block;
  }
  cbes::test::process::options o;
  o.working_directory = CBES_SOURCE_DIR;
  o.own_process_group = true;  // a session given up on takes its sandbox and workers with it
  cbes::test::process session({"/bin/bash", script}, o);
  const auto code = session.wait_exit(limit);
  const std::string out = session.output();
  std::string logs;
  for (const auto& path : extra_logs)
    logs += "\n--- " + path + ":\n" + file_text(path);
  INFO(out << "\n--- stderr:\n" << session.errors() << logs);
  REQUIRE(code.has_value());
  return out;
}

}  // namespace

// A session that uses a sandbox it started in the background before the sandbox listens works
// only when the sandbox wins the race — it lost it on a loaded CI machine (`configure` found no
// Consul, and the session waited for ever for a group without a config). Every background
// sandbox is waited for, through its `ready:` lines, before the next command.
TEST_CASE("every README session waits for the sandbox it starts before using it") {
  const std::string text = readme_text();
  int sandboxes = 0;
  for (auto at = text.find("<!-- readme-session: "); at != std::string::npos;
       at = text.find("<!-- readme-session: ", at + 1)) {
    const auto name_end = text.find(" -->", at);
    const std::string marker = text.substr(at + 21, name_end - at - 21);
    std::istringstream block(readme_block(marker));
    std::string line, command;
    bool started = false;  // a background sandbox not yet waited for
    while (std::getline(block, line)) {
      if (line.empty() || line[0] == '#')
        continue;
      command += line;
      if (line.back() == '\\') {  // continued on the next line
        command.pop_back();
        continue;
      }
      INFO("session '" << marker << "': " << command);
      if (started) {
        CHECK(command.rfind("until ", 0) == 0);
        CHECK(command.find("ready: ") != std::string::npos);
        started = false;
      } else if (command.find("build/bin/cbes-sandbox ") != std::string::npos &&
                 command.find(" &") != std::string::npos) {
        CHECK(command.find("> /tmp/") != std::string::npos);  // its ready lines go to a file
        started = true;
        ++sandboxes;
      }
      command.clear();
    }
    INFO("session '" << marker << "' ends with a sandbox it never waited for");
    CHECK_FALSE(started);
  }
  CHECK(sandboxes >= 5);
}

TEST_CASE("the README's Autonomous Operations session runs as written") {
  for (int port : {8500, 8091, 9200, 11210}) {
    INFO("port " << port << " is taken: stop what listens there (a running sandbox?)");
    REQUIRE(port_free(port));
  }
  // Under ctest's 300 s, so that a hang is reported here, with the trace and the workers' logs.
  const auto out =
      run_session("ao", std::chrono::minutes(4),
                  {"/tmp/cbes-worker-1.log", "/tmp/cbes-worker-2.log", "/tmp/cbes-worker-3.log"});
  INFO(out);
  CHECK(out.find("Configuration updated for connector group 'my-ao-group'.") != std::string::npos);
  CHECK(out.find("Connector group 'my-ao-group' is now resumed.") != std::string::npos);
  // Three members with a third each, then two with half each.
  CHECK(std::regex_search(out, std::regex(R"(member 3 of 3 .*vbuckets [0-9,-]+ \(34[12]\))")));
  CHECK(std::regex_search(out, std::regex(R"(member 2 of 2 .*vbuckets [0-9,-]+ \(512\))")));
  CHECK(std::regex_search(out, std::regex(R"(\{"count":[0-9]+)")));
  CHECK(out.find("actions = 100\n") != std::string::npos);
  for (int i = 1; i <= 3; ++i) {
    const auto log = file_text("/tmp/cbes-worker-" + std::to_string(i) + ".log");
    INFO("worker " << i << ":\n" << log);
    CHECK(log.find("left group 'my-ao-group'") != std::string::npos);
  }
}

TEST_CASE("the README's cbes session runs as written") {
  for (int port : {8091, 9200, 11210, 31415}) {
    INFO("port " << port << " is taken: stop what listens there (a running sandbox?)");
    REQUIRE(port_free(port));
  }
  const auto out = run_session("connector", std::chrono::minutes(3));
  INFO(out);
  CHECK(out.find("ready: streaming 1024 of 1024 vbuckets") != std::string::npos);
  CHECK(out.find("\"ready\":true") != std::string::npos);
  CHECK(std::regex_search(out, std::regex(R"(\{"count":[0-9]+)")));
  CHECK(std::regex_search(out, std::regex("cbes_backlog(\\{[^}]*\\})? [0-9]")));
  CHECK(out.find(
            "Wrote checkpoint for connector 'example-group' to file /tmp/cbes-checkpoint.json") !=
        std::string::npos);
  CHECK(out.find("Cleared checkpoint for connector 'example-group'.") != std::string::npos);
  CHECK(out.find("Restored checkpoint for connector 'example-group' from file "
                 "/tmp/cbes-checkpoint.json") != std::string::npos);
}

TEST_CASE("the README's cbes-consul administration session runs as written") {
  for (int port : {8500, 8091, 9200, 11210, 8080}) {
    INFO("port " << port << " is taken: stop what listens there (a running sandbox?)");
    REQUIRE(port_free(port));
  }
  const auto out = run_session("admin", std::chrono::minutes(3));
  INFO(out);
  CHECK(out.find("Configuration updated for connector group 'example-group'.") !=
        std::string::npos);
  CHECK(out.find("\nexample-group\n") != std::string::npos);  // groups
  CHECK(out.find("Connector group 'example-group' is now paused.") != std::string::npos);
  CHECK(out.find("Connector group 'example-group' is now resumed.") != std::string::npos);
  CHECK(out.find("Group:   example-group") != std::string::npos);
  CHECK(out.find("Wrote checkpoint for connector 'example-group' to file /tmp/checkpoint.json") !=
        std::string::npos);
  CHECK(out.find("Checkpoint cleared.") != std::string::npos);
  CHECK(out.find("Connector caught up.") != std::string::npos);
  CHECK(out.find("Checkpoint restored.") != std::string::npos);
  // status --json once on the command line and once from the dashboard's /status.json.
  std::size_t json = 0;
  for (auto at = out.find(R"({"group":"example-group")"); at != std::string::npos;
       at = out.find(R"({"group":"example-group")", at + 1))
    ++json;
  CHECK(json == 2);
  CHECK(out.find("ready: dashboard http://127.0.0.1:8080/") != std::string::npos);
}

TEST_CASE("the README's cbes-dcp session runs as written") {
  for (int port : {8091, 11210}) {
    INFO("port " << port << " is taken: stop what listens there (a running sandbox?)");
    REQUIRE(port_free(port));
  }
  const auto out = run_session("dcp", std::chrono::minutes(2));
  INFO(out);
  CHECK(out.find(R"({"type":"snapshot","vbucket":)") != std::string::npos);
  CHECK(out.find(R"({"type":"mutation","vbucket":)") != std::string::npos);
  CHECK(std::regex_search(
      out, std::regex(R"(\{"summary":\{"mutation":[1-9][0-9]*,.*"vbuckets":8\}\})")));
}

TEST_CASE("the README's cbes-sandbox sessions run as written") {
  const auto consul = run_session("sandbox", std::chrono::minutes(1));
  CHECK(std::regex_search(consul, std::regex(R"(ready: consul http://127\.0\.0\.1:[0-9]+)")));

  for (int port : {8091, 9200, 11210}) {
    INFO("port " << port << " is taken: stop what listens there (a running sandbox?)");
    REQUIRE(port_free(port));
  }
  const auto out = run_session("control", std::chrono::minutes(2));
  INFO(out);
  CHECK(std::regex_search(out, std::regex(R"(http://127\.0\.0\.1:[0-9]+\n)")));
  CHECK(out.find("\"error\"") == std::string::npos);
  CHECK(out.find("\"requests\"") != std::string::npos);  // elasticsearch/stats
}
