#pragma once
// cbes-sandbox as a child process (for tests that need the fake out of process: the cbes-dcp tool,
// or a producer frozen with SIGSTOP).
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <regex>
#include <string>
#include <vector>

namespace dcp_it {

// cbes-sandbox as a child process; its "ready:" line gives the connection string.
struct sandbox {
  pid_t pid = -1;
  std::string connection_string;

  explicit sandbox(int sample, std::vector<std::string> extra = {}) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      ::close(fds[1]);
      const std::string exe = std::string(CBES_BINARY_DIR) + "/bin/cbes-sandbox";
      const std::string load = "--load-sample=" + std::to_string(sample);
      std::vector<std::string> args{exe, "--services=couchbase", "--kv-port=0", "--mgmt-port=0",
                                    load};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(exe.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    FILE* in = ::fdopen(fds[0], "r");
    std::array<char, 1024> line{};
    while (std::fgets(line.data(), line.size(), in)) {
      std::smatch m;
      std::string s(line.data());
      if (std::regex_search(s, m, std::regex("ready: couchbase couchbase://([0-9.]+:[0-9]+)"))) {
        connection_string = m[1];
        break;
      }
    }
    std::fclose(in);
  }
  ~sandbox() {
    if (pid > 0) {
      ::kill(pid, SIGCONT);
      ::kill(pid, SIGTERM);
      int status = 0;
      ::waitpid(pid, &status, 0);
    }
  }
};

}  // namespace dcp_it
