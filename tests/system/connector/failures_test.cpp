// `cbes` and the checkpoint tools given what an operator gets wrong: one line on stderr naming
// the problem, a non-zero exit, quickly — and no checkpoint moved.
#include "system/connector/harness.hpp"

#include <algorithm>
#include <csignal>
#include <functional>

#include "cbes/util/base64.hpp"
#include "support/liar.hpp"

using namespace connector_st;

namespace {

// Runs `cbes` with `o` (a server in it lies) until it ends by itself — no hang — and checks what
// any lie must come to: exit 1, one line, a peak resident size under 64 MiB. That line.
std::string cbes_against_liar(const fs::path& dir, const sandbox& sb, const config_options& o) {
  cbes::test::process p({bin("cbes"), "--config", write_config(dir, sb, o).string()});
  const auto [code, peak_kib] = cbes::test::wait_exit_sampling_peak(p, std::chrono::seconds(180));
  INFO(p.errors());
  REQUIRE(code);
  CHECK(*code == 1);
  const auto lines = cbes::test::message_lines(p.errors());
  REQUIRE(lines.size() == 1);
  CHECK(peak_kib < 64 * 1024);
  return lines[0];
}

}  // namespace

TEST_CASE(
    "cbes exits 1 with one line for a wrong password, a missing bucket and a user without DCP") {
  sandbox sb(100, {"--reader-without-dcp=reader:secret"});
  const auto dir = fresh_dir("failures");

  config_options wrong;
  wrong.couchbase_password = "not-the-password";
  auto r = run_tool({bin("cbes"), "--config", write_config(dir, sb, wrong).string()});
  INFO(r.err);
  CHECK(r.code == 1);
  auto lines = cbes::test::message_lines(r.err);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].starts_with("cbes: "));
  CHECK(lines[0].find("authentication") != std::string::npos);

  config_options missing;
  missing.bucket = "no-such-bucket";
  r = run_tool({bin("cbes"), "--config", write_config(dir, sb, missing).string()});
  INFO(r.err);
  CHECK(r.code == 1);
  lines = cbes::test::message_lines(r.err);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("no-such-bucket") != std::string::npos);

  config_options no_dcp;
  no_dcp.extra = "";
  const auto path = write_config(dir, sb, no_dcp);
  {  // the same config with the DCP-less user
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    auto text = std::regex_replace(ss.str(), std::regex("username = 'Administrator'"),
                                   "username = 'reader'");
    std::ofstream(path) << text;
    std::ofstream(dir / "secrets" / "couchbase-password.toml") << "password = 'secret'\n";
  }
  r = run_tool({bin("cbes"), "--config", path.string()});
  INFO(r.err);
  CHECK(r.code == 1);
  lines = cbes::test::message_lines(r.err);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("DCP Reader") != std::string::npos);
}

TEST_CASE("cbes exits 1 with one line when Elasticsearch cannot be reached") {
  sandbox sb(10);
  const auto dir = fresh_dir("no-es");
  config_options o;
  o.es_host = "http://127.0.0.1:1";  // nothing listens on port 1
  auto r = run_tool({bin("cbes"), "--config", write_config(dir, sb, o).string()});
  INFO(r.err);
  CHECK(r.code == 1);
  auto lines = cbes::test::message_lines(r.err);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("127.0.0.1:1") != std::string::npos);
}

TEST_CASE("a malformed config and bad arguments are refused before anything connects") {
  const auto dir = fresh_dir("bad-config");
  std::ofstream(dir / "bad.toml") << "[group]\nname = 'g'\n[metrics]\nhttpPort = 70000\n";
  auto r = run_tool({bin("cbes"), "--config", (dir / "bad.toml").string()});
  CHECK(r.code == 1);
  CHECK(r.err.find("httpPort") != std::string::npos);
  CHECK(r.err.find("bad.toml:4") != std::string::npos);

  r = run_tool({bin("cbes"), "--config", (dir / "missing.toml").string()});
  CHECK(r.code == 1);
  CHECK(r.err.find("ERROR: Config file not found at") != std::string::npos);

  r = run_tool({bin("cbes"), "--no-such-option"});
  CHECK(r.code == 2);
  CHECK(cbes::test::message_lines(r.err).size() == 1);
  r = run_tool({bin("cbes-checkpoint-backup"), "--config", (dir / "bad.toml").string()});
  CHECK(r.code == 2);  // --output is required
  CHECK(r.err.find("output") != std::string::npos);

  for (const char* tool :
       {"cbes", "cbes-checkpoint-backup", "cbes-checkpoint-restore", "cbes-checkpoint-clear"}) {
    r = run_tool({bin(tool), "--version"});
    CHECK(r.code == 0);
    CHECK(r.out.find(std::string(tool) + " ") == 0);
    r = run_tool({bin(tool), "--help", "--no-such-option"});
    CHECK(r.code == 0);
    CHECK(r.out.find("--config") != std::string::npos);
  }
}

TEST_CASE("every program's --version names the version and the commit it was built from") {
  // The commit is read at build time (cmake/CbesGitCommit.cmake), so it is this checkout's.
  std::string describe;
  if (std::filesystem::exists(std::filesystem::path(CBES_SOURCE_DIR) / ".git")) {
    auto git = run_tool(
        {"/usr/bin/git", "-C", CBES_SOURCE_DIR, "describe", "--always", "--tags", "--dirty"});
    REQUIRE(git.code == 0);
    describe = git.out.substr(0, git.out.find('\n'));
  }
  for (const char* tool :
       {"cbes", "cbes-consul", "cbes-checkpoint-backup", "cbes-checkpoint-restore",
        "cbes-checkpoint-clear", "cbes-dcp", "cbes-sandbox"}) {
    INFO(tool);
    auto r = run_tool({bin(tool), "--version"});
    CHECK(r.code == 0);
    const std::string expected = std::string(tool) + " " + CBES_PROJECT_VERSION +
                                 (describe.empty() ? "" : " (" + describe + ")") + "\n";
    CHECK(r.out == expected);
  }
}

TEST_CASE("cbes never shows its passwords: not in its logs, metrics, /info or any endpoint") {
  const std::string cb_secret = "cb-secret-5f1d9a";
  const std::string es_secret = "es-secret-77c2e0";
  sandbox sb(200,
             {"--password=" + cb_secret, "--es-username=elastic", "--es-password=" + es_secret});
  const auto dir = fresh_dir("secrets");
  config_options o;
  o.couchbase_password = cb_secret;
  const auto path = write_config(dir, sb, o);
  {  // Elasticsearch with basic auth: a user in the config, the password in its file
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::ofstream(path) << std::regex_replace(
        ss.str(), std::regex("pathToPassword = 'secrets/elasticsearch-password.toml'"),
        "username = 'elastic'\npathToPassword = 'secrets/elasticsearch-password.toml'");
    std::ofstream(dir / "secrets" / "elasticsearch-password.toml")
        << "password = '" << es_secret << "'\n";
  }
  auto cbes = start_cbes(path);
  auto metrics = cbes->wait_for(std::regex("metrics: (http://[0-9.]+:[0-9]+)/metrics"));
  REQUIRE(metrics);
  const std::string url = (*metrics)[1];
  INFO(cbes->errors());
  REQUIRE(cbes->wait_for(std::regex("ready: streaming")));
  const cbes::testkit::http_headers auth{
      {"Authorization", "Basic " + cbes::util::base64_encode("elastic:" + es_secret)}};
  auto count = [&](const std::string& index) -> long {
    cbes::testkit::http_request(sb.es, "POST", "/" + index + "/_refresh", {}, auth);
    auto r = cbes::testkit::http_request(sb.es, "GET", "/" + index + "/_count", {}, auth);
    std::smatch m;
    return r && r->status == 200 && std::regex_search(r->body, m, std::regex("\"count\":([0-9]+)"))
               ? std::stol(m[1])
               : 0;
  };
  REQUIRE(eventually([&] { return count("airlines") + count("etc") == 200; }));
  std::string everything;
  for (const auto* target : {"/", "/info", "/health", "/ready", "/metrics", "/metrics/dropwizard",
                             "/metrics/prometheus"}) {
    auto r = cbes::testkit::http_request(url, "GET", target);
    REQUIRE(r);
    CHECK(r->status == 200);
    everything += r->body;
  }
  cbes->signal(SIGTERM);
  CHECK(cbes->wait_exit(30s) == 0);
  everything += cbes->output() + cbes->errors();
  CHECK(everything.find("<redacted>") != std::string::npos);  // the effective config was logged
  CHECK(everything.find(cb_secret) == std::string::npos);
  CHECK(everything.find(es_secret) == std::string::npos);
}

// A whole `cbes` process against a lying Elasticsearch (raw sockets, none of our HTTP code on its
// side; the clients alone are in tests/integration/sink/hostile_test.cpp): it must neither grow
// without bound nor hang, and end as for an unreachable Elasticsearch.
TEST_CASE("cbes against a lying Elasticsearch: bounded memory, no hang, one line and exit 1") {
  sandbox sb(10);
  const auto dir = fresh_dir("hostile-es");
  std::function<void(cbes::test::liar::conn&)> script;
  SECTION("an endless chunked body") {
    script = [](cbes::test::liar::conn& c) { c.endless_chunked_response(); };
  }
  SECTION("headers, then silence") {
    script = [](cbes::test::liar::conn& c) { c.headers_then_silence(); };
  }
  cbes::test::liar l(script);
  config_options o;
  o.es_host = "http://" + l.address();
  // The root document is read up to 1 MiB (bulk responses up to 256 MiB): an unbounded reader
  // takes gigabytes in these 30 s, and reading up to the bulk limit took 550 MB.
  CHECK(cbes_against_liar(dir, sb, o).find(l.address()) != std::string::npos);
  CHECK(l.connections() >= 1);
}

// A whole `cbes` process against a lying Couchbase KV service (raw sockets, none of our mcbp
// code on its side; the connection alone is in tests/integration/couchbase/hostile_test.cpp):
// a frame announcing a 4 GiB body, a truncated frame then silence, a flood of frames nobody
// asked for. Each ends as a failed bootstrap does — one line, exit 1 — without buffering what
// was promised or hanging.
TEST_CASE("cbes against a lying Couchbase: bounded memory, no hang, one line and exit 1") {
  sandbox sb(10);  // its Elasticsearch; the liar is the Couchbase
  const auto dir = fresh_dir("hostile-couchbase");
  using cbes::test::liar;
  std::function<void(liar::conn&)> script;
  SECTION("a body length of 4 GiB") {
    script = [](liar::conn& c) {
      auto [op, opaque] = c.read_mcbp_request();
      c.write(liar::mcbp_response_header(op, 0xfffffff0U, opaque));
      c.stay_silent();
    };
  }
  SECTION("a truncated frame, then silence") {
    script = [](liar::conn& c) {
      auto [op, opaque] = c.read_mcbp_request();
      c.write(liar::mcbp_response_header(op, 100, opaque) + "only ten b");
      c.stay_silent();
    };
  }
  SECTION("a flood of frames nobody asked for") {
    script = [](liar::conn& c) { c.flood_unsolicited_mcbp_frames(); };
  }
  // Not on 127.0.0.1: when the seed fails, cbes also asks for the config over HTTP on port 8091
  // of the seed's host, where a README session's sandbox may be running.
  liar l(script, "127.0.0.2");
  config_options o;
  o.couchbase_host = l.address();
  CHECK(cbes_against_liar(dir, sb, o).starts_with("cbes: couchbase: could not bootstrap"));
  CHECK(l.connections() >= 1);
  CHECK(l.wait_hung_up(10s));  // the liar's connection was closed, not left open
}
