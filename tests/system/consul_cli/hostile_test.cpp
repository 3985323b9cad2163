// Whole `cbes-consul` processes — a worker (`run`) and an administration command (`groups`) —
// against a lying Consul agent (raw sockets, none of our HTTP code on its side; libconsul alone
// is in tests/integration/consul/hostile_test.cpp). They must neither grow without bound nor
// hang: a body past the limit ends both with one line and exit 1 (a malformed answer is not an
// outage, so `run` does not wait for it); an agent that goes silent is an outage — `run`
// says so and waits, and still stops at once on SIGTERM.
#include "system/consul_cli/harness.hpp"

#include <csignal>
#include <regex>

#include "support/eventually.hpp"
#include "support/liar.hpp"

using namespace consul_cli_st;
using cbes::test::liar;

namespace {

// `cbes-consul run` with short timings: each attempt to join gives up after 5 s of silence.
std::vector<std::string> run_args(const liar& l) {
  return {cli(), "run", "--group=g", "--consul-agent=" + l.address(), "--heartbeat-interval=2s"};
}

}  // namespace

TEST_CASE("cbes-consul against a Consul that sends an endless body: one line, exit 1, bounded") {
  liar l([](liar::conn& c) { c.endless_chunked_response(); });
  for (const auto& args :
       {run_args(l), std::vector<std::string>{cli(), "groups", "--consul-agent=" + l.address()}}) {
    cbes::test::process p(args);
    const auto [code, peak_kib] = cbes::test::wait_exit_sampling_peak(p, 120s);
    INFO(args[1] << ":\n" << p.errors());
    REQUIRE(code);  // it ended by itself: no hang
    CHECK(*code == 1);
    const auto lines = cbes::test::message_lines(p.errors());
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].find("malformed HTTP response") != std::string::npos);
    // libconsul reads a body up to its 64 MiB limit, never more (a recurse of a big KV tree
    // needs room). While the body's string grows, the old and the new copy are both resident
    // for a moment: the peak is up to twice the limit plus the program (70 to 130 MiB
    // measured, depending on how the chunks arrive); an unbounded reader would take gigabytes
    // before the liar stops.
    CHECK(peak_kib < (2 * 64 + 32) * 1024);
  }
  CHECK(l.wait_hung_up(10s));
}

TEST_CASE("cbes-consul run against a Consul that answers headers, then nothing: waits, stops") {
  liar l([](liar::conn& c) { c.headers_then_silence(); });
  cbes::test::process p(run_args(l));
  // A silent agent is an outage: the worker says why it waits, and tries again.
  REQUIRE(cbes::test::eventually(
      [&] {
        return std::regex_search(p.errors(),
                                 std::regex("cannot join yet \\(.*\\); trying again in [0-9]+ ms"));
      },
      60s));
  CHECK(l.connections() >= 1);
  p.signal(SIGTERM);
  const auto [code, peak_kib] = cbes::test::wait_exit_sampling_peak(p, 30s);
  INFO(p.errors());
  REQUIRE(code);
  CHECK(*code == 0);
  CHECK(p.errors().find("stopped before joining the group") != std::string::npos);
  CHECK(peak_kib < 64 * 1024);
}
