// cbes-consul's pure parts: the command line and the status report.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
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

TEST_CASE("vbucket ranges are sorted runs") {
  CHECK(vbucket_ranges({}) == "");
  CHECK(vbucket_ranges({5}) == "5");
  CHECK(vbucket_ranges({3, 0, 1, 2, 5, 7, 8}) == "0-3,5,7-8");
  CHECK(vbucket_ranges({1, 1, 2}) == "1-2");
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
  CHECK(w.vbuckets == std::vector<std::int64_t>{2, 1});
  CHECK(w.paused == true);
  w = parse_worker_status("e", "true");
  CHECK(w.error);
}

TEST_CASE("status report, text and JSON") {
  group_status s;
  s.group = "g";
  worker_status a;
  a.endpoint = "a::1::g";
  a.member = true;
  a.member_number = 1;
  a.cluster_size = 1;
  a.vbuckets = std::vector<std::int64_t>{0, 1, 2};
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
