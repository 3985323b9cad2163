// The README's copy-paste sessions, run as written — `cbes` and the checkpoint tools, and the
// Autonomous Operations quickstart: the block after `<!-- readme-session: <name> -->` goes to
// bash from the source folder, with `build/bin/` pointing at this build. They use the sandbox's
// fixed default ports (as a reader would), so each checks first that they are free, and ctest
// runs them one at a time (RESOURCE_LOCK in tests/CMakeLists.txt).
#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/process.hpp"

namespace {

std::string readme_block(const std::string& marker) {
  std::ifstream in(std::string(CBES_SOURCE_DIR) + "/README.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
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
std::string run_session(const std::string& marker, std::chrono::minutes limit) {
  std::string block = readme_block(marker);
  block =
      std::regex_replace(block, std::regex("build/bin/"), std::string(CBES_BINARY_DIR) + "/bin/");
  const std::string script = std::string(CBES_BINARY_DIR) + "/tmp/readme-" + marker + "-session.sh";
  {
    std::ofstream f(script);
    f << "trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT\n" << block;
  }
  cbes::test::process::options o;
  o.working_directory = CBES_SOURCE_DIR;
  cbes::test::process session({"/bin/bash", script}, o);
  const auto code = session.wait_exit(limit);
  const std::string out = session.output();
  INFO(out << "\n--- stderr:\n" << session.errors());
  REQUIRE(code.has_value());
  return out;
}

}  // namespace

TEST_CASE("the README's Autonomous Operations session runs as written") {
  for (int port : {8500, 8091, 9200, 11210}) {
    INFO("port " << port << " is taken: stop what listens there (a running sandbox?)");
    REQUIRE(port_free(port));
  }
  const auto out = run_session("ao", std::chrono::minutes(5));
  INFO(out);
  CHECK(out.find("Configuration updated for connector group 'my-ao-group'.") != std::string::npos);
  CHECK(out.find("Connector group 'my-ao-group' is now resumed.") != std::string::npos);
  // Three members with a third each, then two with half each.
  CHECK(std::regex_search(out, std::regex(R"(member 3 of 3 .*vbuckets [0-9,-]+ \(34[12]\))")));
  CHECK(std::regex_search(out, std::regex(R"(member 2 of 2 .*vbuckets [0-9,-]+ \(512\))")));
  CHECK(std::regex_search(out, std::regex(R"(\{"count":[0-9]+)")));
  CHECK(out.find("actions = 100\n") != std::string::npos);
  for (int i = 1; i <= 3; ++i) {
    std::ifstream log("/tmp/cbes-worker-" + std::to_string(i) + ".log");
    std::stringstream ss;
    ss << log.rdbuf();
    INFO("worker " << i << ":\n" << ss.str());
    CHECK(ss.str().find("left group 'my-ao-group'") != std::string::npos);
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
