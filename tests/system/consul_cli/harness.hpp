#pragma once
// What the cbes-consul system tests share: the in-process fake Consul agent, `cbes-consul` run
// as a child process against it, direct KV reads and writes, fake workers serving the RPC
// protocol (cbes::group::rpc_server on a thread of their own), and connector configs.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "cbes/group/layout.hpp"
#include "cbes/group/rpc.hpp"
#include "cbes/testkit/consul_agent.hpp"
#include "consul/client.hpp"
#include "support/process.hpp"
#include "support/run_coroutine.hpp"
#include "unit/consul/result_printer.hpp"
#include "unit/group/result_printer.hpp"

namespace consul_cli_st {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline std::string cli() {
  return std::string(CBES_BINARY_DIR) + "/bin/cbes-consul";
}

// A fresh folder under the build tree for one test's files.
inline fs::path fresh_dir(const std::string& name) {
  static int counter = 0;
  auto dir =
      fs::path(CBES_BINARY_DIR) / "tmp" / "system" /
      ("consul-cli-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(dir);
  fs::create_directories(dir / "secrets");
  return dir;
}

inline std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A finished run of cbes-consul: exit code (nullopt when it did not end in time), stdout, stderr.
using cbes::test::outcome;

// The fake agent, a client of it for the test's own reads and writes, and cbes-consul runs.
struct consul_fixture {
  explicit consul_fixture(cbes::testkit::consul_agent_options o = {}) : agent(std::move(o)) {
    agent.start();
    address = "127.0.0.1:" + std::to_string(agent.port());
    consul::client_options co;
    co.address = address;
    co.token = token_for_test;
    client.emplace(io.get_executor(), co);
  }
  ~consul_fixture() {
    client->close();
    cbes::test::drain(io);
  }

  // cbes-consul <args...> -a <this agent>, to its end.
  outcome run(std::vector<std::string> args, std::chrono::milliseconds limit = 60s) {
    args.insert(args.begin(), cli());
    args.push_back("--consul-agent=" + address);
    return run_raw(std::move(args), limit);
  }
  static outcome run_raw(std::vector<std::string> args, std::chrono::milliseconds limit = 60s) {
    return cbes::test::run_to_end(std::move(args), limit);
  }

  std::optional<std::string> get(const std::string& key) {
    consul::query_options q;
    auto r = cbes::test::run(io, client->kv().get(key, q));
    REQUIRE(r);
    if (!r->value)
      return std::nullopt;
    return r->value->value;
  }
  void put(const std::string& key, const std::string& value) {
    auto r = cbes::test::run(io, client->kv().put(key, value));
    REQUIRE(r);
    REQUIRE(*r);
  }

  cbes::testkit::consul_agent agent;
  std::string address;
  std::string token_for_test;
  asio::io_context io;
  std::optional<consul::client> client;
};

// A worker as far as the RPC protocol goes: binds couchbase/cbes/<group>/rpc/<endpoint> with a
// session of its own and answers the methods the test gives it, on its own thread (the test's
// thread blocks on the cbes-consul process meanwhile).
class fake_worker {
 public:
  using handler = std::function<std::string()>;

  fake_worker(const std::string& address, std::string group, std::string endpoint,
              std::map<std::string, handler> methods)
      : work_(asio::make_work_guard(io_)) {
    consul::client_options co;
    co.address = address;
    client_.emplace(io_.get_executor(), co);
    consul::session_options so;
    so.name = "couchbase:cbes:fake-worker";
    so.behavior = consul::session_behavior::delete_keys;
    so.lock_delay = 0ms;
    auto session = cbes::test::run(io_, client_->session().create(so));
    REQUIRE(session);
    cbes::group::rpc_server_options o;
    o.group = std::move(group);
    o.endpoint_id = std::move(endpoint);
    o.session = *session;
    o.wait = 10s;
    o.retry_interval = 50ms;
    server_.emplace(*client_, o);
    for (auto& [name, h] : methods) {
      server_->add(name, [this, h](std::string) { return answer(&calls_, h); });
    }
    auto bound = cbes::test::run(io_, server_->bind());
    REQUIRE(bound);
    asio::co_spawn(io_, server_->serve(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~fake_worker() {
    asio::co_spawn(io_, shutdown(), asio::detached);
    thread_.join();
  }
  fake_worker(const fake_worker&) = delete;
  fake_worker& operator=(const fake_worker&) = delete;

  // Requests answered so far.
  int calls() const { return calls_.load(); }

 private:
  static asio::awaitable<cbes::group::result<std::string>> answer(std::atomic<int>* calls,
                                                                  handler h) {
    ++*calls;
    co_return h();
  }
  // The endpoint key goes (as when a worker stops gracefully), then the thread ends.
  asio::awaitable<void> shutdown() {
    co_await server_->unbind();
    client_->close();
    work_.reset();
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::optional<consul::client> client_;
  std::optional<cbes::group::rpc_server> server_;
  std::atomic<int> calls_{0};
  std::thread thread_;
};

struct config_options {
  std::string group = "g1";
  std::string kv = "127.0.0.1:11210";  // the Couchbase KV address
  std::string username = "Administrator";
};

// A valid connector config for `o` with its secrets in `dir` (absolute paths, so it can be read
// from any working directory); returns its text.
inline std::string connector_config(const fs::path& dir, const config_options& o) {
  std::ofstream(dir / "secrets" / "couchbase-password.toml") << "password = 'password'\n";
  std::ofstream(dir / "secrets" / "elasticsearch-password.toml") << "password = ''\n";
  std::ostringstream f;
  f << "[group]\nname = '" << o.group << "'\n"
    << "[group.static]\nmemberNumber = 1\ntotalMembers = 1\n"
    << "[couchbase]\nhosts = ['" << o.kv << "=kv']\nbucket = 'default'\n"
    << "username = '" << o.username << "'\n"
    << "pathToPassword = '" << (dir / "secrets" / "couchbase-password.toml").string() << "'\n"
    << "[elasticsearch]\nhosts = ['http://127.0.0.1:9']\n"
    << "pathToPassword = '" << (dir / "secrets" / "elasticsearch-password.toml").string() << "'\n"
    << "[[elasticsearch.type]]\nprefix = ''\nindex = 'etc'\n";
  return f.str();
}

inline fs::path write_file(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

}  // namespace consul_cli_st
