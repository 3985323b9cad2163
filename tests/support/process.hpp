#pragma once
// A child process for system tests: started with execv, stdout read line by line through a
// pipe (so a test waits for a "ready:" line — a signal, not a sleep), stderr to a file the
// test can show, and killed (SIGKILL) and reaped when the object goes away, so no test leaves a
// process behind.
//
//   cbes::test::process sandbox({bin + "cbes-sandbox", "--services=couchbase", "--kv-port=0"});
//   auto m = sandbox.wait_for(std::regex("ready: couchbase couchbase://([0-9.:]+)"));
//   REQUIRE(m);                                 // (*m)[1] is the address
//   sandbox.signal(SIGTERM);
//   CHECK(sandbox.wait_exit(std::chrono::seconds(10)) == 0);
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace cbes::test {

class process {
 public:
  struct options {
    std::vector<std::string> env{};  // extra "NAME=value" entries
    std::string working_directory{};
    // The child leads a process group of its own, and going away kills the whole group: for a
    // shell whose background jobs must not outlive a test that gave up on it (SIGKILL to the
    // shell alone runs no trap and leaves its jobs running).
    bool own_process_group = false;
  };

  explicit process(std::vector<std::string> args) : process(std::move(args), options{}) {}
  process(std::vector<std::string> args, options opts) : args_(std::move(args)) {
    static std::atomic<int> counter{0};
    const auto dir = std::filesystem::path(CBES_BINARY_DIR) / "tmp" / "process";
    std::filesystem::create_directories(dir);
    stderr_path_ =
        (dir / (std::filesystem::path(args_.at(0)).filename().string() + "-" +
                std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".stderr"))
            .string();
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0)
      throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      if (opts.own_process_group)
        ::setpgid(0, 0);
      ::dup2(fds[1], 1);
      const int err = ::open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (err >= 0)
        ::dup2(err, 2);
      if (!opts.working_directory.empty() && ::chdir(opts.working_directory.c_str()) != 0)
        ::_exit(126);
      for (auto& e : opts.env)
        ::putenv(e.data());
      std::vector<char*> argv;
      for (auto& a : args_)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(args_[0].c_str(), argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_fd_ = fds[0];
    if (opts.own_process_group) {
      ::setpgid(pid_, pid_);  // also here: no race with the child's own call
      group_ = true;
    }
  }

  ~process() {
    if (group_ && pid_ > 0) {
      // The shell may have exited while what it started still runs.
      ::kill(-pid_, SIGCONT);
      ::kill(-pid_, SIGKILL);
    }
    if (pid_ > 0 && !exit_code_) {
      ::kill(pid_, SIGCONT);
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (out_fd_ >= 0)
      ::close(out_fd_);
  }
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  pid_t pid() const { return pid_; }

  // Reads stdout until a line matches; nullopt when the process closed stdout or `limit`
  // passed first. Lines read are kept in output().
  std::optional<std::smatch> wait_for(const std::regex& re,
                                      std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      // Lines already read but not yet matched.
      while (next_line_ < lines_.size()) {
        const std::string& l = lines_[next_line_++];
        std::smatch m;
        if (std::regex_search(l, m, re)) {
          matched_ = l;  // keep the string the match points into alive
          std::smatch again;
          std::regex_search(matched_, again, re);
          return again;
        }
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !read_some(left))
        return std::nullopt;
    }
  }

  // Everything the process wrote to stdout so far (as read by wait_for), and its stderr file.
  std::string output() const {
    std::string s;
    for (const auto& l : lines_)
      s += l + "\n";
    return s;
  }
  std::string errors() const {
    std::ifstream in(stderr_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  void signal(int sig) { ::kill(pid_, sig); }

  // Waits for the exit; the exit code, 128+signal when killed, nullopt when `limit` passed.
  std::optional<int> wait_exit(std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    if (exit_code_)
      return exit_code_;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        // What it wrote last is still in the pipe: read it (bounded, in case a grandchild
        // still holds the pipe open).
        const auto drain_until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (std::chrono::steady_clock::now() < drain_until &&
               read_some(std::chrono::milliseconds(100)) && out_fd_ >= 0) {
        }
        return exit_code_;
      }
      if (std::chrono::steady_clock::now() >= deadline)
        return std::nullopt;
      // Drain stdout meanwhile so the child never blocks on a full pipe; also the wait.
      read_some(std::chrono::milliseconds(50));
    }
  }

 private:
  // Reads what is available within `limit`; false at end of file.
  bool read_some(std::chrono::milliseconds limit) {
    if (out_fd_ < 0)
      return false;
    pollfd p{out_fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(limit.count()));
    if (r <= 0)
      return true;  // nothing yet
    char buf[4096];
    const auto n = ::read(out_fd_, buf, sizeof buf);
    if (n <= 0) {
      ::close(out_fd_);
      out_fd_ = -1;
      if (!partial_.empty())
        lines_.push_back(std::move(partial_));
      partial_.clear();
      return false;
    }
    partial_.append(buf, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = partial_.find('\n')) != std::string::npos) {
      lines_.push_back(partial_.substr(0, nl));
      partial_.erase(0, nl + 1);
    }
    return true;
  }

  std::vector<std::string> args_;
  pid_t pid_ = -1;
  bool group_ = false;
  int out_fd_ = -1;
  std::string stderr_path_;
  std::string partial_;
  std::vector<std::string> lines_;
  std::size_t next_line_ = 0;
  std::string matched_;
  std::optional<int> exit_code_;
};

// The lines of a program's stderr that are not timestamped log records: what it said to the
// person who ran it (one line naming the problem, for a command that fails).
inline std::vector<std::string> message_lines(const std::string& err) {
  static const std::regex log_record("^[0-9]{4}-[0-9]{2}-[0-9]{2}T");
  std::vector<std::string> out;
  std::istringstream in(err);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && !std::regex_search(line, log_record))
      out.push_back(line);
  return out;
}

// Waits up to `limit` for `p` to exit, sampling its peak resident size (VmHWM) meanwhile: the
// exit code (nullopt: still running) and the peak in KiB. For tests that bound a process's
// memory against a server that lies.
inline std::pair<std::optional<int>, long> wait_exit_sampling_peak(
    process& p, std::chrono::milliseconds limit) {
  long peak_kib = 0;
  std::optional<int> code;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!(code = p.wait_exit(std::chrono::milliseconds(100))) &&
         std::chrono::steady_clock::now() < deadline) {
    std::ifstream status("/proc/" + std::to_string(p.pid()) + "/status");
    std::string line;
    while (std::getline(status, line))
      if (line.starts_with("VmHWM:"))
        peak_kib = std::max(peak_kib, std::stol(line.substr(6)));
  }
  return {code, peak_kib};
}

// A process run to its end: exit code (nullopt when `limit` passed first), stdout and stderr.
struct outcome {
  std::optional<int> code;
  std::string out;
  std::string err;
};

inline outcome run_to_end(std::vector<std::string> args, std::chrono::milliseconds limit) {
  process p(std::move(args));
  outcome o;
  o.code = p.wait_exit(limit);
  o.out = p.output();
  o.err = p.errors();
  return o;
}

}  // namespace cbes::test
