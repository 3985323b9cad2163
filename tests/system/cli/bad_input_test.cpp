// Every command-line program and every cbes-consul subcommand given what an operator gets
// wrong — missing, unknown and malformed arguments, unreadable and malformed files, servers that
// do not answer — against a live sandbox whose group is configured and checkpointed. Each case
// must end with one line on stderr naming the problem (and the fix), exit 2 (usage) or 1, no
// crash, and nothing changed in Consul or in the bucket's checkpoints.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <csignal>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "cbes/testkit/http_client.hpp"
#include "support/dead_port.hpp"
#include "support/process.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

std::string bin(const std::string& name) {
  return std::string(CBES_BINARY_DIR) + "/bin/" + name;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct bad_case {
  std::vector<std::string> args;
  int exit;             // 2: a usage error; 1: anything else
  std::string problem;  // a part of the one line it must print
};

}  // namespace

TEST_CASE("every program and subcommand refuses bad input with one line and changes nothing") {
  cbes::test::process sandbox({bin("cbes-sandbox"), "--services=consul,couchbase,elasticsearch",
                               "--consul-port=0", "--kv-port=0", "--mgmt-port=0", "--es-port=0",
                               "--control-port=-1", "--load-sample=50"});
  auto c = sandbox.wait_for(std::regex("ready: consul http://([0-9.]+:[0-9]+)"));
  REQUIRE(c);
  const std::string consul = (*c)[1];
  auto cb = sandbox.wait_for(std::regex("ready: couchbase couchbase://([0-9.]+:[0-9]+)"));
  REQUIRE(cb);
  const std::string kv = (*cb)[1];
  auto e = sandbox.wait_for(std::regex("ready: elasticsearch (http://[0-9.]+:[0-9]+)"));
  REQUIRE(e);
  const std::string es = (*e)[1];
  // Not on 127.0.0.1: a Couchbase client whose seed is refused asks port 8091 of the seed's
  // host, where a sandbox on the usual ports (a developer's) would answer (dead_port.hpp).
  const std::string dead = "127.0.0.2:" + std::to_string(cbes::test::dead_port("127.0.0.2"));

  const auto dir = fs::path(CBES_BINARY_DIR) / "tmp" / "system" /
                   ("cli-bad-input-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "a-folder");
  std::ofstream(dir / "cb-password.toml") << "password = 'password'\n";
  std::ofstream(dir / "es-password.toml") << "password = ''\n";
  std::ofstream(dir / "cb-password.txt") << "password\n";
  auto config = [&](const std::string& couchbase, const std::string& elasticsearch) {
    return "[group]\nname = 'g'\n[group.static]\nmemberNumber = 1\ntotalMembers = 1\n"
           "[metrics]\nhttpPort = -1\n"
           "[couchbase]\nhosts = ['" +
           couchbase + "=kv']\nbucket = 'default'\nusername = 'Administrator'\n" +
           "pathToPassword = '" + (dir / "cb-password.toml").string() + "'\n" +
           "[elasticsearch]\nhosts = ['" + elasticsearch + "']\npathToPassword = '" +
           (dir / "es-password.toml").string() +
           "'\n[[elasticsearch.type]]\nprefix = ''\nindex = 'i'\n";
  };
  const auto good = dir / "connector.toml";
  std::ofstream(good) << config(kv, es);
  const auto unreachable = dir / "unreachable.toml";
  std::ofstream(unreachable) << config(dead,
                                       es);  // Couchbase gone (cbes checks Elasticsearch first)
  const auto malformed_toml = dir / "malformed.toml";
  std::ofstream(malformed_toml) << "[group]\nname = 'g\n";
  const auto wrong_type = dir / "wrong-type.toml";
  std::ofstream(wrong_type) << std::regex_replace(config(kv, es), std::regex("name = 'g'"),
                                                  "name = 42");
  const auto malformed_json = dir / "malformed.json";
  std::ofstream(malformed_json) << "{\"formatVersion\": 1, \"vbuckets\": [";
  const auto foreign_json = dir / "foreign.json";
  std::ofstream(foreign_json) << "{\"hello\": \"world\"}\n";
  const auto consul_toml_bad = dir / "consul-bad.toml";
  std::ofstream(consul_toml_bad) << "[consul]\naclToken = 42\n";
  const auto not_there = (dir / "not-there.toml").string();
  const auto folder = (dir / "a-folder").string();
  const auto unwritable = "/proc/version/backup.json";

  // The state to protect: the group configured in Consul, checkpoints in the bucket.
  auto run = [](std::vector<std::string> args) { return cbes::test::run_to_end(args, 60s); };
  {
    auto o = run(
        {bin("cbes-consul"), "configure", "--input=" + good.string(), "--consul-agent=" + consul});
    INFO(o.err);
    REQUIRE(o.code == 0);
    o = run({bin("cbes-checkpoint-clear"), "--catch-up", "--config=" + good.string()});
    INFO(o.err);
    REQUIRE(o.code == 0);
  }
  auto snapshot = [&] {
    auto kvs = cbes::testkit::http_request("http://" + consul, "GET", "/v1/kv/?recurse=true");
    REQUIRE(kvs);
    const auto backup = dir / "snapshot.json";
    auto o = run({bin("cbes-checkpoint-backup"), "--config=" + good.string(),
                  "--output=" + backup.string()});
    INFO(o.err);
    REQUIRE(o.code == 0);
    auto b = json::parse(slurp(backup));
    b.as_object().erase("timestamp");  // when the backup was taken, not what it holds
    return kvs->body + "\n" + json::serialize(b);
  };
  const auto before = snapshot();

  const std::string a = "--consul-agent=" + consul;
  const std::string gone = "--consul-agent=" + dead;
  const std::string cfg = "--config=" + good.string();
  std::vector<bad_case> cases{
      // cbes
      {{"cbes", "--bogus"}, 2, "--bogus"},
      {{"cbes", "--config"}, 2, "--config"},
      {{"cbes", cfg, "extra"}, 2, "extra"},
      {{"cbes", "--config=" + not_there}, 1, "not-there.toml"},
      {{"cbes", "--config=" + folder}, 1, "a-folder"},
      {{"cbes", "--config=" + malformed_toml.string()}, 1, "malformed.toml:2"},
      {{"cbes", "--config=" + wrong_type.string()}, 1, "group.name"},
      {{"cbes", "--config=" + unreachable.string()}, 1, dead},
      // the checkpoint tools
      {{"cbes-checkpoint-backup", cfg}, 2, "--output"},
      {{"cbes-checkpoint-backup", cfg, "--output="}, 2, "--output"},
      {{"cbes-checkpoint-backup", cfg, "--output=x.json", "--bogus"}, 2, "--bogus"},
      {{"cbes-checkpoint-backup", cfg, std::string("--output=") + unwritable}, 1, unwritable},
      {{"cbes-checkpoint-backup", "--config=" + malformed_toml.string(), "--output=x.json"},
       1,
       "malformed.toml:2"},
      {{"cbes-checkpoint-backup", "--config=" + unreachable.string(), "--output=x.json"}, 1, dead},
      {{"cbes-checkpoint-restore", cfg}, 2, "--input"},
      {{"cbes-checkpoint-restore", cfg, "--input=" + not_there}, 1, "not-there.toml"},
      {{"cbes-checkpoint-restore", cfg, "--input=" + folder}, 1, "a-folder"},
      {{"cbes-checkpoint-restore", cfg, "--input=" + malformed_json.string()}, 1, "malformed.json"},
      {{"cbes-checkpoint-restore", cfg, "--input=" + foreign_json.string()}, 1, "foreign.json"},
      {{"cbes-checkpoint-restore", "--config=" + unreachable.string(),
        "--input=" + malformed_json.string()},
       1,
       ""},
      {{"cbes-checkpoint-clear", cfg, "--bogus"}, 2, "--bogus"},
      {{"cbes-checkpoint-clear", cfg, "--catch-up=yes"}, 2, "--catch-up"},
      {{"cbes-checkpoint-clear", "--config=" + not_there}, 1, "not-there.toml"},
      {{"cbes-checkpoint-clear", "--config=" + unreachable.string()}, 1, dead},
      // cbes-dcp
      {{"cbes-dcp", "--host=" + kv, "--username=Administrator",
        "--password-file=" + (dir / "cb-password.txt").string()},
       2,
       "--bucket"},
      {{"cbes-dcp", "--host=" + kv, "--bucket=default", "--username=Administrator",
        "--password-file=" + not_there},
       2,
       "not-there.toml"},
      {{"cbes-dcp", "--host=" + kv, "--bucket=default", "--username=Administrator",
        "--password-file=" + (dir / "cb-password.txt").string(), "--vbuckets=0-x"},
       2,
       "--vbuckets"},
      {{"cbes-dcp", "--host=" + kv, "--bucket=default", "--username=Administrator",
        "--password-file=" + (dir / "cb-password.txt").string(), "--from=yesterday"},
       2,
       "--from"},
      {{"cbes-dcp", "--host=" + dead, "--bucket=default", "--username=Administrator",
        "--password-file=" + (dir / "cb-password.txt").string(), "--until-caught-up"},
       1,
       dead},
      // cbes-sandbox
      {{"cbes-sandbox", "--services=nope"}, 2, "nope"},
      {{"cbes-sandbox", "--services=consul", "--consul-port=99999"}, 2, "--consul-port"},
      {{"cbes-sandbox", "--services=couchbase", "--vbuckets=7"}, 2, "--vbuckets"},
      {{"cbes-sandbox", "--bogus"}, 2, "--bogus"},
      // cbes-consul: files
      {{"cbes-consul", "configure", a, "--input=" + not_there}, 1, "not-there.toml"},
      {{"cbes-consul", "configure", a, "--input=" + folder}, 1, "a-folder"},
      {{"cbes-consul", "configure", a, "--input=" + malformed_toml.string()},
       1,
       "malformed.toml:2"},
      {{"cbes-consul", "configure", a, "--input=" + wrong_type.string()}, 1, "group.name"},
      {{"cbes-consul", "get-config", a, "-g", "g", std::string("--output=") + unwritable},
       1,
       unwritable},
      {{"cbes-consul", "checkpoint-backup", a, "-g", "g", std::string("--output=") + unwritable},
       1,
       unwritable},
      {{"cbes-consul", "checkpoint-restore", a, "-g", "g", "--input=" + not_there},
       1,
       "not-there.toml"},
      {{"cbes-consul", "checkpoint-restore", a, "-g", "g", "--input=" + malformed_json.string()},
       1,
       "malformed.json"},
      {{"cbes-consul", "checkpoint-restore", a, "-g", "g", "--input=" + foreign_json.string()},
       1,
       "foreign.json"},
      {{"cbes-consul", "groups", a, "-c", not_there}, 1, "not-there.toml"},
      {{"cbes-consul", "groups", a, "-c", consul_toml_bad.string()}, 1, "aclToken"},
      {{"cbes-consul", "pause", "-g", "no-such-group", a}, 1, "no-such-group"},
      {{"cbes-consul", "groups", "--consul-agent=http://[::1"}, 2, "--consul-agent"},
  };
  // cbes-consul: every subcommand given an unknown option, no group, and an agent that is gone.
  for (const std::string sub :
       {"run", "configure", "get-config", "groups", "pause", "resume", "status", "checkpoint-clear",
        "checkpoint-catch-up", "checkpoint-backup", "checkpoint-restore"}) {
    std::vector<std::string> complete{"cbes-consul", sub, a};
    if (sub != "configure" && sub != "groups") {
      complete.push_back("-g");
      complete.push_back("g");
    }
    if (sub == "configure" || sub == "checkpoint-restore")
      complete.push_back("--input=" + good.string());
    if (sub == "get-config" || sub == "checkpoint-backup")
      complete.push_back("--output=" + (dir / "out.any").string());
    auto with = [&](std::vector<std::string> v, const std::string& more) {
      v.push_back(more);
      return v;
    };
    cases.push_back({with(complete, "--bogus"), 2, "--bogus"});
    cases.push_back({with(complete, "stray"), 2, "stray"});
    if (sub != "configure" && sub != "groups")
      cases.push_back({{"cbes-consul", sub, a}, 2, "--group"});
    auto unreachable_args = complete;
    unreachable_args[2] = gone;
    if (sub == "checkpoint-restore")  // a valid backup, so that the agent is what fails
      unreachable_args.back() = "--input=" + (dir / "snapshot.json").string();
    if (sub != "run")  // run waits for its agent to come back (a worker outlives Consul restarts)
      cases.push_back({unreachable_args, 1, dead});
  }

  for (const auto& k : cases) {
    std::vector<std::string> args = k.args;
    args[0] = bin(args[0]);
    const auto o = cbes::test::run_to_end(args, 90s);
    std::string shown;
    for (const auto& x : k.args)
      shown += x + " ";
    INFO(shown << "\n  exit " << (o.code ? std::to_string(*o.code) : "none (timed out)")
               << "\n  stderr: " << o.err);
    if (!o.code) {
      FAIL_CHECK("it did not end within 90 s");
      continue;
    }
    CHECK(*o.code == k.exit);
    const auto lines = cbes::test::message_lines(o.err);
    CHECK(lines.size() == 1);
    if (!lines.empty())
      CHECK(lines.front().find(k.problem) != std::string::npos);
  }

  CHECK(snapshot() == before);
}
