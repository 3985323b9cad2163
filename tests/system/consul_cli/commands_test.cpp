// cbes-consul as a process against the fake Consul agent: the group administration commands,
// their messages and exit codes (the Java tool's, with exit 2 for usage errors).
#include "support/test_pki.hpp"
#include "system/consul_cli/harness.hpp"

#include <regex>

#include <boost/json.hpp>

using namespace consul_cli_st;
namespace json = boost::json;

namespace {

std::size_t count_lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

const std::string no_consul_config =
    "Consul config file not specified; using default Consul settings.";

}  // namespace

TEST_CASE("configure stores the raw text with variables unsubstituted, get-config writes it back") {
  consul_fixture f;
  const auto dir = fresh_dir("configure");
  config_options o;
  o.username = "${CBES_CONSUL_TEST_USER:Administrator}";
  const auto text = connector_config(dir, o);
  const auto file = write_file(dir / "connector.toml", text);

  auto r = f.run({"configure", "-i", file.string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(contains(r.out, no_consul_config));
  CHECK(contains(r.out, "Updating config for connector group 'g1'..."));
  CHECK(contains(r.out, "Configuration updated for connector group 'g1'."));
  CHECK(f.get("couchbase/cbes/g1/config") == text);

  const auto out = dir / "out" / "copy.toml";
  r = f.run({"get-config", "--group=g1", "--output", out.string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(contains(r.out, "Configuration for connector group 'g1' written to file " +
                            fs::absolute(out).lexically_normal().string()));
  CHECK(slurp(out) == text);
}

TEST_CASE("configure refuses an invalid config and writes nothing") {
  consul_fixture f;
  const auto dir = fresh_dir("configure-invalid");
  f.put("couchbase/cbes/g1/config", "old");
  auto text = connector_config(dir, {});
  const auto file = write_file(
      dir / "bad.toml", std::regex_replace(text, std::regex("bucket = 'default'"), "bucket = 42"));
  auto r = f.run({"configure", "--input=" + file.string()});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "ERROR: Connector configuration file " + file.string() + " is invalid"));
  CHECK(f.get("couchbase/cbes/g1/config") == "old");

  r = f.run({"configure", "--input", (dir / "missing.toml").string()});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "ERROR: Failed to read connector configuration file"));
}

TEST_CASE("groups lists the configured groups, one per line") {
  consul_fixture f;
  auto r = f.run({"groups"});
  REQUIRE(r.code == 0);
  CHECK(r.out == no_consul_config + "\n");
  f.put("couchbase/cbes/beta/config", "x");
  f.put("couchbase/cbes/alpha/config", "x");
  f.put("couchbase/cbes/alpha/control", "{}");
  f.put("couchbase/cbes/gamma/leader", "n::a::s");  // no config: not a group
  r = f.run({"groups"});
  REQUIRE(r.code == 0);
  CHECK(r.out == no_consul_config + "\nalpha\nbeta\n");
}

TEST_CASE("every command but configure and groups needs an existing group") {
  consul_fixture f;
  auto r = f.run({"pause", "-g", "nope"});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "ERROR: There is no configured group called 'nope'."));
  CHECK(contains(r.err, " (there are no groups yet)\n"));
  f.put("couchbase/cbes/g1/config", "x");
  f.put("couchbase/cbes/g2/config", "x");
  for (const std::string cmd : {"get-config", "resume", "status", "checkpoint-clear",
                                "checkpoint-catch-up", "checkpoint-backup", "checkpoint-restore"}) {
    std::vector<std::string> args{cmd, "--group", "nope"};
    if (cmd == "get-config" || cmd == "checkpoint-backup")
      args.insert(args.end(), {"-o", "unused"});
    if (cmd == "checkpoint-restore")
      args.insert(args.end(), {"-i", "unused"});
    r = f.run(args);
    INFO(cmd << ": " << r.err);
    CHECK(r.code == 1);
    CHECK(contains(r.err, "ERROR: There is no configured group called 'nope'."));
    CHECK(contains(r.err, "or use one of the existing groups: g1, g2\n"));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
  CHECK_FALSE(f.get("couchbase/cbes/nope/control"));
}

TEST_CASE("pause and resume keep the control document's other fields") {
  consul_fixture f;
  f.put("couchbase/cbes/g1/config", "x");
  f.put("couchbase/cbes/g1/control", R"({"other":1})");
  auto r = f.run({"pause", "-g", "g1"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(contains(r.out, "Attempting to pause connector group: g1"));
  CHECK(contains(r.out, "Connector group 'g1' is now paused."));
  auto control = json::parse(*f.get("couchbase/cbes/g1/control"));
  CHECK(control == json::parse(R"({"paused":true,"other":1})"));

  r = f.run({"resume", "--group", "g1"});
  REQUIRE(r.code == 0);
  CHECK(contains(r.out, "Attempting to resume connector group: g1"));
  CHECK(contains(r.out, "Connector group 'g1' is now resumed."));
  control = json::parse(*f.get("couchbase/cbes/g1/control"));
  CHECK(control == json::parse(R"({"paused":false,"other":1})"));
}

TEST_CASE("pause returns only once every worker says it stopped") {
  consul_fixture f;
  f.put("couchbase/cbes/g1/config", "x");
  std::atomic<int> asked{0};
  fake_worker w1(f.address, "g1", "node1::127.0.0.1::g1",
                 {{"worker.stopped", [&] { return ++asked >= 3 ? "true" : "false"; }}});
  fake_worker w2(f.address, "g1", "node2::127.0.0.1::g1",
                 {{"worker.stopped", [] { return std::string("true"); }}});
  auto r = f.run({"pause", "-g", "g1", "--pause-interval=100ms"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(asked >= 3);  // it asked again after the "false" answers
  CHECK(w2.calls() >= 3);
  CHECK(contains(r.out, "Connector group 'g1' is now paused."));
  CHECK(json::parse(*f.get("couchbase/cbes/g1/control")) == json::parse(R"({"paused":true})"));
}

TEST_CASE("pause fails with the Java message when the workers never stop") {
  consul_fixture f;
  f.put("couchbase/cbes/g1/config", "x");
  fake_worker w(f.address, "g1", "node1::127.0.0.1::g1",
                {{"worker.stopped", [] { return std::string("false"); }}});
  auto r = f.run({"pause", "-g", "g1", "--pause-timeout=1s", "--pause-interval=200ms"});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "ERROR: Pause failed; timed out waiting for cluster to quiesce."));
  CHECK_FALSE(contains(r.out, "is now paused"));
  CHECK(w.calls() >= 2);
}

TEST_CASE("status shows the leader, pause state and each worker's answer") {
  consul_fixture f;
  f.put("couchbase/cbes/g1/config", "x");
  f.put("couchbase/cbes/g1/control", R"({"paused":false})");
  f.put("couchbase/cbes/g1/leader", "node1::127.0.0.1::g1");
  std::string vbs;
  for (int vb = 0; vb < 342; ++vb)
    vbs += (vb ? "," : "") + std::to_string(vb);
  const std::string cbes_answer = R"({"membership":{"memberNumber":1,"clusterSize":2},)"
                                  R"("generation":7,"vbuckets":[)" +
                                  vbs + R"(,1000],"paused":false})";
  fake_worker w1(f.address, "g1", "node1::127.0.0.1::g1",
                 {{"worker.status", [&] { return cbes_answer; }}});
  fake_worker w2(f.address, "g1", "node2::127.0.0.1::g1",
                 {{"worker.status", [] { return std::string(R"({"membership":null})"); }}});

  auto r = f.run({"status", "-g", "g1"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(contains(r.out, "Group:   g1\n"));
  CHECK(contains(r.out, "Leader:  node1::127.0.0.1::g1\n"));
  CHECK(contains(r.out, "Paused:  false\n"));
  CHECK(contains(r.out, "Workers: 2\n"));
  CHECK(contains(r.out,
                 "  node1::127.0.0.1::g1  member 1 of 2  generation 7  paused false  "
                 "vbuckets 0-341,1000 (343)\n"));
  CHECK(contains(r.out, "  node2::127.0.0.1::g1  idle\n"));

  r = f.run({"status", "-g", "g1", "--json"});
  REQUIRE(r.code == 0);
  CHECK(count_lines(r.out) == 1);  // nothing but the JSON object on stdout
  CHECK(contains(r.err, no_consul_config));
  const auto doc = json::parse(r.out);
  CHECK(doc == json::parse(R"({"group":"g1","leader":"node1::127.0.0.1::g1","paused":false,
    "workers":[{"endpoint":"node1::127.0.0.1::g1","membership":{"memberNumber":1,"clusterSize":2},
                "generation":7,"vbuckets":["0-341","1000"],"vbucketCount":343,"paused":false},
               {"endpoint":"node2::127.0.0.1::g1","membership":null}]})"));
}

TEST_CASE("status of a group without leader or workers") {
  consul_fixture f;
  f.put("couchbase/cbes/g1/config", "x");
  f.put("couchbase/cbes/g1/control", R"({"paused":true})");
  auto r = f.run({"status", "-g", "g1", "--json"});
  REQUIRE(r.code == 0);
  CHECK(r.out == R"({"group":"g1","leader":null,"paused":true,"workers":[]})"
                 "\n");
  r = f.run({"status", "-g", "g1"});
  REQUIRE(r.code == 0);
  CHECK(contains(r.out, "Leader:  none\nPaused:  true\nWorkers: 0\n"));
}

TEST_CASE("an unreachable agent gives the Java message and exit 1") {
  cbes::testkit::consul_agent gone;
  gone.start();
  const auto address = "127.0.0.1:" + std::to_string(gone.port());
  gone.stop();
  for (const std::string cmd : {"groups", "pause"}) {
    auto r = consul_fixture::run_raw({cli(), cmd, "-g", "g1", "-a", address});
    if (cmd == "groups")
      r = consul_fixture::run_raw({cli(), cmd, "-a", address});
    INFO(r.err);
    CHECK(r.code == 1);
    CHECK(contains(r.err, "ERROR: Failed to connect to Consul at " + address + " ; "));
  }
}

TEST_CASE("the ACL token of consul.toml goes with every call") {
  cbes::testkit::consul_agent_options ao;
  ao.acl_master_token = "s3cret";
  consul_fixture f(ao);
  const auto dir = fresh_dir("acl");
  const auto toml = write_file(dir / "consul.toml", "[consul]\naclToken = 's3cret'\n");
  auto r = f.run({"groups", "-c", toml.string()});
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK_FALSE(contains(r.out, no_consul_config));
  r = f.run({"groups"});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "ERROR: Consul request failed"));
}

TEST_CASE("usage errors exit 2 with one line naming the problem") {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
      {{"pause"}, "the option '--group' is required but missing"},
      {{"pause", "-g"}, "the required argument for option '--group' is missing"},
      {{"pause", "-g", "g", "--bogus"}, "unrecognised option '--bogus'"},
      {{"pause", "-g", "g", "extra"}, "unexpected argument 'extra'"},
      {{"pause", "--group="}, "'--group' should follow immediately after the equal sign"},
      {{"pause", "-g", ""}, "the option '--group' needs a non-empty value"},
      {{"pause", "-g", "g", "--pause-timeout=soon"}, "needs a positive duration"},
      {{"configure"}, "the option '--input' is required but missing"},
      {{"get-config", "-g", "g"}, "the option '--output' is required but missing"},
      {{"checkpoint-backup", "-g", "g"}, "the option '--output' is required but missing"},
      {{"checkpoint-restore", "-g", "g"}, "the option '--input' is required but missing"},
      {{"groups", "--json"}, "unrecognised option '--json'"},
      {{"status", "-g", "g", "--serve=web"}, "the option '--serve' needs [HOST:]PORT"},
      {{"status", "-g", "g", "--serve=0", "--json"}, "'--serve' and '--json' cannot be used"},
      {{"pause", "-g", "g", "--serve=0"}, "unrecognised option '--serve=0'"},
      {{"frobnicate"}, "unknown subcommand 'frobnicate'"},
      {{"--bogus"}, "unknown option '--bogus'"},
      {{"run"}, "the option '--group' is required but missing"},
      {{"run", "-g", "g", "--debounce=soon"}, "needs a positive duration"},
      {{"run", "-g", "g", "--grace-period=-5s"}, "'--grace-period' needs a duration"},
      {{"run", "-g", "g", "--service-id="}, "'--service-id' should follow immediately"},
  };
  for (const auto& [args, message] : cases) {
    std::vector<std::string> a{cli()};
    a.insert(a.end(), args.begin(), args.end());
    auto r = consul_fixture::run_raw(a);
    INFO(args.front() << " → " << r.err);
    CHECK(r.code == 2);
    CHECK(count_lines(r.err) == 1);
    CHECK(contains(r.err, message));
    CHECK(r.out.empty());
  }
}

TEST_CASE("without a subcommand it lists them, --help and --version exit 0") {
  auto r = consul_fixture::run_raw({cli()});
  CHECK(r.code == 2);
  for (const auto& name :
       {"run", "configure", "get-config", "groups", "pause", "resume", "status", "checkpoint-clear",
        "checkpoint-catch-up", "checkpoint-backup", "checkpoint-restore"})
    CHECK(contains(r.err, std::string("\n  ") + name + " "));
  r = consul_fixture::run_raw({cli(), "--help"});
  CHECK(r.code == 0);
  CHECK(contains(r.out, "checkpoint-restore"));
  r = consul_fixture::run_raw({cli(), "-V"});
  CHECK(r.code == 0);
  CHECK(r.out.starts_with("cbes-consul " CBES_PROJECT_VERSION));
  r = consul_fixture::run_raw({cli(), "pause", "--help"});
  CHECK(r.code == 0);
  CHECK(contains(r.out, "--group"));
}

TEST_CASE("an https agent: the CA of consul.toml verifies it, a wrong CA or host name is refused") {
  cbes::test::pki p("consul-cli");
  cbes::testkit::consul_agent_options ao;
  ao.tls_cert_file = p.file("server.pem");
  ao.tls_key_file = p.file("server.key");
  cbes::testkit::consul_agent agent(ao);
  agent.start();
  const auto dir = fresh_dir("tls");
  const auto port = std::to_string(agent.port());
  auto toml = [&](const std::string& ca, bool verify_host) {
    static int n = 0;
    return write_file(dir / ("consul-" + std::to_string(n++) + ".toml"),
                      "[consul]\npathToCaCertificate = '" + ca +
                          "'\nhostnameVerification = " + (verify_host ? "true" : "false") + "\n")
        .string();
  };
  auto groups = [&](const std::string& agent_address, const std::string& consul_toml) {
    return consul_fixture::run_raw(
        {cli(), "groups", "--consul-agent=" + agent_address, "-c", consul_toml});
  };

  auto r = groups("https://localhost:" + port, toml(p.file("ca.pem"), true));
  INFO(r.err);
  CHECK(r.code == 0);
  // The certificate names localhost and 127.0.0.1, not other.example: with the address as the
  // name checked, a certificate for another name is refused...
  cbes::testkit::consul_agent_options other = ao;
  other.tls_cert_file = p.file("other-name.pem");
  cbes::testkit::consul_agent wrong_name(other);
  wrong_name.start();
  const auto wrong_port = std::to_string(wrong_name.port());
  r = groups("https://127.0.0.1:" + wrong_port, toml(p.file("ca.pem"), true));
  CHECK(r.code == 1);
  CHECK(count_lines(r.err) == 1);
  CHECK(contains(r.err, "ERROR: Failed to connect to Consul at 127.0.0.1:" + wrong_port));
  CHECK(contains(r.err, "TLS handshake"));
  // ... unless hostnameVerification = false.
  r = groups("https://127.0.0.1:" + wrong_port, toml(p.file("ca.pem"), false));
  INFO(r.err);
  CHECK(r.code == 0);
  // Another CA: refused.
  r = groups("https://localhost:" + port, toml(p.file("other-ca.pem"), true));
  CHECK(r.code == 1);
  CHECK(count_lines(r.err) == 1);
  CHECK(contains(r.err, "TLS handshake"));
  // Plain http to a TLS port: a clear failure, not a hang.
  r = groups("localhost:" + port, toml(p.file("ca.pem"), true));
  CHECK(r.code == 1);
  CHECK(count_lines(r.err) == 1);
  // A CA file that does not exist: named.
  r = groups("https://localhost:" + port, toml((dir / "no-ca.pem").string(), true));
  CHECK(r.code == 1);
  CHECK(contains(r.err, "no-ca.pem"));
  CHECK(count_lines(r.err) == 1);
}
