// cbes-consul's pure parts: the command line and the status report.
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "commands.hpp"

using namespace cbes::consul_cli;

namespace {

struct parsed {
  parse_outcome outcome;
  std::string out;
  std::string err;
};

parsed parse(std::vector<std::string> args) {
  args.insert(args.begin(), "cbes-consul");
  std::vector<const char*> argv;
  for (const auto& a : args)
    argv.push_back(a.c_str());
  std::ostringstream out, err;
  parsed p{parse_command_line(static_cast<int>(argv.size()), argv.data(), out, err), "", ""};
  p.out = out.str();
  p.err = err.str();
  return p;
}

// A worker that is member 1 of 1 and streams `vbuckets`.
worker_status sole_member(std::string endpoint, std::vector<std::uint16_t> vbuckets) {
  worker_status w;
  w.endpoint = std::move(endpoint);
  w.member = true;
  w.member_number = 1;
  w.cluster_size = 1;
  w.vbuckets = std::move(vbuckets);
  return w;
}

}  // namespace

TEST_CASE("the Java spellings and the short options give the same command") {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"get-config", "--group=g", "--output=f", "--consul-agent=h:1", "--consul-config=c"},
           {"get-config", "--group", "g", "--output", "f", "--consul-agent", "h:1",
            "--consul-config", "c"},
           {"get-config", "-g", "g", "-o", "f", "-a", "h:1", "-c", "c"},
           {"get-config", "-gg", "-of", "-ah:1", "-cc"}}) {
    auto p = parse(args);
    INFO(p.err);
    REQUIRE(p.outcome.command);
    CHECK(p.outcome.command->command == "get-config");
    CHECK(p.outcome.command->group == "g");
    CHECK(p.outcome.command->output == "f");
    CHECK(p.outcome.command->agent == "h:1");
    CHECK(p.outcome.command->consul_config == "c");
  }
}

TEST_CASE("defaults: localhost:8500, no consul.toml, the Java pause timing") {
  auto p = parse({"pause", "-g", "g"});
  REQUIRE(p.outcome.command);
  CHECK(p.outcome.command->agent == "localhost:8500");
  CHECK_FALSE(p.outcome.command->consul_config);
  CHECK(p.outcome.command->pause_timeout == std::chrono::seconds(30));
  CHECK(p.outcome.command->pause_interval == std::chrono::seconds(2));
  p = parse({"pause", "-g", "g", "--pause-timeout=1m", "--pause-interval", "250ms"});
  REQUIRE(p.outcome.command);
  CHECK(p.outcome.command->pause_timeout == std::chrono::minutes(1));
  CHECK(p.outcome.command->pause_interval == std::chrono::milliseconds(250));
}

TEST_CASE("options are not abbreviated and belong to their subcommand") {
  CHECK(parse({"pause", "--gro", "g"}).outcome.exit_code == 2);
  CHECK(parse({"resume", "-g", "g", "--pause-timeout=1s"}).outcome.exit_code == 2);
  CHECK(parse({"status", "-g", "g", "--json"}).outcome.command->json);
  CHECK(parse({"groups", "-g", "g"}).outcome.exit_code == 2);
}

TEST_CASE("status --serve takes PORT or HOST:PORT, HOST 127.0.0.1 by default") {
  auto p = parse({"status", "-g", "g", "--serve=8080"});
  INFO(p.err);
  REQUIRE(p.outcome.command);
  CHECK(p.outcome.command->serve == serve_address{"127.0.0.1", 8080});
  CHECK_FALSE(p.outcome.command->json);
  p = parse({"status", "-g", "g", "--serve", "0.0.0.0:0"});
  REQUIRE(p.outcome.command);
  CHECK(p.outcome.command->serve == serve_address{"0.0.0.0", 0});
  CHECK_FALSE(parse({"status", "-g", "g"}).outcome.command->serve);

  CHECK(parse_serve_address("0") == serve_address{"127.0.0.1", 0});
  CHECK(parse_serve_address("65535") == serve_address{"127.0.0.1", 65535});
  CHECK(parse_serve_address("localhost:80") == serve_address{"127.0.0.1", 80});
  CHECK(parse_serve_address("[::1]:9000") == serve_address{"::1", 9000});
  CHECK(parse_serve_address("[::]:0") == serve_address{"::", 0});
  CHECK(parse_serve_address("10.1.2.3:443") == serve_address{"10.1.2.3", 443});
  for (const char* bad :
       {"", "x", "65536", "123456", "-1", "80x", ":80", "host.example:80", "10.1.2:80", "::1:80",
        "[::1]", "[::1]80", "[10.0.0.1]:80", "127.0.0.1:", "[::1]:", "1.2.3.4:80:90", " 80"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(parse_serve_address(bad));
  }
}

TEST_CASE("status --serve: a bad value or --json with it is one usage line, exit 2") {
  for (const auto& [args, message] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"status", "-g", "g", "--serve=web"},
            "cbes-consul status: the option '--serve' needs [HOST:]PORT such as 8080 or "
            "127.0.0.1:8080 (HOST an IP address, PORT 0-65535), not 'web'\n"},
           {{"status", "-g", "g", "--serve=99999"}, "not '99999'"},
           {{"status", "-g", "g", "--serve=0", "--json"},
            "the options '--serve' and '--json' cannot be used together"},
           {{"status", "-g", "g", "--json", "--serve=8080"},
            "the options '--serve' and '--json' cannot be used together"},
           {{"status", "-g", "g", "--serve"}, "the required argument for option '--serve'"},
           {{"pause", "-g", "g", "--serve=0"}, "unrecognised option '--serve=0'"}}) {
    auto p = parse(args);
    INFO(p.err);
    CHECK(p.outcome.exit_code == 2);
    CHECK_FALSE(p.outcome.command);
    CHECK(std::count(p.err.begin(), p.err.end(), '\n') == 1);
    CHECK(p.err.find(message) != std::string::npos);
    CHECK(p.out.empty());
  }
}

TEST_CASE("a worker's vbuckets are kept sorted, once each, and only vbucket numbers") {
  auto w = parse_worker_status(
      "e", R"({"membership":null,"vbuckets":[3,0,1,2,5,7,8,1,-1,65536,"9",65535]})");
  CHECK(w.vbuckets == std::vector<std::uint16_t>{0, 1, 2, 3, 5, 7, 8, 65535});
}

TEST_CASE("a worker streaming nothing: \"none\" in text, no ranges in JSON") {
  group_status s;
  s.group = "g";
  s.workers = {sole_member("a::1::g", {})};
  CHECK(status_text(s) ==
        "Group:   g\nLeader:  none\nPaused:  false\nWorkers: 1\n"
        "  a::1::g  member 1 of 1  vbuckets none (0)\n");
  CHECK(status_json(s) ==
        R"({"group":"g","leader":null,"paused":false,"workers":[)"
        R"({"endpoint":"a::1::g","membership":{"memberNumber":1,"clusterSize":1},)"
        R"("vbuckets":[],"vbucketCount":0}]})");
}

TEST_CASE("worker.status answers: the Java shape, the cbes additions, garbage") {
  auto w = parse_worker_status("e", R"({"membership":null})");
  CHECK_FALSE(w.error);
  CHECK_FALSE(w.member);
  CHECK_FALSE(w.generation);
  CHECK_FALSE(w.vbuckets);
  w = parse_worker_status("e", R"({"membership":{"memberNumber":2,"clusterSize":3},)"
                               R"("generation":4,"vbuckets":[2,1],"paused":true})");
  CHECK(w.member);
  CHECK(w.member_number == 2);
  CHECK(w.cluster_size == 3);
  CHECK(w.generation == 4);
  CHECK(w.vbuckets == std::vector<std::uint16_t>{1, 2});
  CHECK(w.paused == true);
  CHECK_FALSE(w.backlog);
  CHECK_FALSE(w.written);
  w = parse_worker_status("e", R"({"membership":null,"backlog":12,"written":34567})");
  CHECK(w.backlog == 12);
  CHECK(w.written == 34567);
  w = parse_worker_status("e", R"({"membership":null,"written":"many"})");
  CHECK_FALSE(w.error);
  CHECK_FALSE(w.written);  // the wrong type is ignored
  w = parse_worker_status("e", "true");
  CHECK(w.error);
}

TEST_CASE("status report, text and JSON") {
  group_status s;
  s.group = "g";
  auto a = sole_member("a::1::g", {0, 1, 2});
  worker_status b;
  b.endpoint = "b::2::g";
  b.error = "group: RPC endpoint operation timed out";
  s.workers = {a, b};
  CHECK(status_text(s) ==
        "Group:   g\nLeader:  none\nPaused:  false\nWorkers: 2\n"
        "  a::1::g  member 1 of 1  vbuckets 0-2 (3)\n"
        "  b::2::g  error: group: RPC endpoint operation timed out\n");
  CHECK(status_json(s) ==
        R"({"group":"g","leader":null,"paused":false,"workers":[)"
        R"({"endpoint":"a::1::g","membership":{"memberNumber":1,"clusterSize":1},)"
        R"("vbuckets":["0-2"],"vbucketCount":3},)"
        R"({"endpoint":"b::2::g","error":"group: RPC endpoint operation timed out"}]})");
}

TEST_CASE("status report shows the backlog and the written counter, text and JSON") {
  group_status s;
  s.group = "g";
  s.leader = "a::1::g";
  auto a = sole_member("a::1::g", {0, 1});
  a.generation = 5;
  a.paused = false;
  a.backlog = 3;
  a.written = 1500;
  s.workers = {a};
  CHECK(status_text(s) ==
        "Group:   g\nLeader:  a::1::g\nPaused:  false\nWorkers: 1\n"
        "  a::1::g  member 1 of 1  generation 5  paused false  vbuckets 0-1 (2)  backlog 3  "
        "written 1500\n");
  CHECK(status_json(s) ==
        R"({"group":"g","leader":"a::1::g","paused":false,"workers":[)"
        R"({"endpoint":"a::1::g","membership":{"memberNumber":1,"clusterSize":1},)"
        R"("generation":5,"vbuckets":["0-1"],"vbucketCount":2,"paused":false,)"
        R"("backlog":3,"written":1500}]})");
}
