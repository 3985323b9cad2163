// Runs build/bin/cbes-dcp against `cbes-sandbox --services=couchbase --load-sample=N` and checks
// the summary's count, plus the exit codes of usage errors.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <regex>
#include <string>

#include "cbes/testkit/couchbase_cluster.hpp"
#include "integration/couchbase/harness.hpp"
#include "integration/dcp/sandbox.hpp"

namespace {

const std::string bin = std::string(CBES_BINARY_DIR) + "/bin/";

// Runs a shell command; returns (exit code, stdout).
std::pair<int, std::string> sh(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::array<char, 4096> buf{};
  while (auto n = std::fread(buf.data(), 1, buf.size(), p))
    out.append(buf.data(), n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace

TEST_CASE("cbes-dcp streams a sandbox's sample until caught up and prints a summary") {
  dcp_it::sandbox sb(500);
  REQUIRE(!sb.connection_string.empty());
  const std::string pw = std::string(CBES_BINARY_DIR) + "/cbes-dcp-test-password";
  std::ofstream(pw) << "password\n";
  auto [code, out] = sh(bin + "cbes-dcp --host=" + sb.connection_string +
                        " --bucket=default --username=Administrator --password-file=" + pw +
                        " --until-caught-up --quiet 2>&1");
  INFO(out);
  CHECK(code == 0);
  CHECK(out.find("\"mutation\":500") != std::string::npos);

  auto [code2, out2] = sh(bin + "cbes-dcp --host=" + sb.connection_string +
                          " --bucket=default --username=Administrator --password-file=" + pw +
                          " --vbuckets=0-511 --until-caught-up 2>&1");
  INFO(out2);
  CHECK(code2 == 0);
  CHECK(out2.find("\"type\":\"mutation\"") != std::string::npos);
  CHECK(out2.find("\"vbuckets\":512") != std::string::npos);

  auto [code3, out3] = sh(bin + "cbes-dcp --host=" + sb.connection_string +
                          " --bucket=default --username=Administrator --password-file=/nonexistent"
                          " 2>&1");
  CHECK(code3 == 2);
  auto [code4, out4] = sh(bin + "cbes-dcp --host=" + sb.connection_string +
                          " --bucket=default --username=Administrator --password-file=" + pw +
                          " --vbuckets=7-3 2>&1");
  CHECK(code4 == 2);
  auto [code5, out5] = sh(bin + "cbes-dcp --host=" + sb.connection_string +
                          " --bucket=nosuch --username=Administrator --password-file=" + pw +
                          " --until-caught-up 2>&1");
  CHECK(code5 == 1);
}

TEST_CASE("cbes-dcp exits 1 with one line when the user lacks the Data DCP Reader role") {
  auto o = couchbase_it::fake_options(1, 8);
  o.users.push_back({"no-dcp", "secret", {}, false});
  cbes::testkit::couchbase_cluster fake(o);
  fake.start();
  fake.load_sample(20);
  const std::string pw = std::string(CBES_BINARY_DIR) + "/cbes-dcp-test-password-no-dcp";
  std::ofstream(pw) << "secret\n";
  // `timeout`: a consumer that retried forever would otherwise hang the test.
  auto [code, out] =
      sh("timeout 60 " + bin + "cbes-dcp --host=127.0.0.1:" + std::to_string(fake.kv_port()) +
         " --bucket=default --username=no-dcp --password-file=" + pw +
         " --until-caught-up --quiet 2>&1 >/dev/null");
  INFO(out);
  CHECK(code == 1);
  CHECK(out.find("Data DCP Reader role") != std::string::npos);
  CHECK(std::count(out.begin(), out.end(), '\n') == 1);
}
