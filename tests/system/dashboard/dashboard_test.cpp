// `cbes-consul status --serve`, the group dashboard, as a process: a real group (the AO system
// tests' sandbox and `cbes-consul run` workers, tests/system/ao/harness.hpp) read through its
// /status.json and through the page as headless chromium renders it.
#include "system/ao/harness.hpp"

#include <atomic>
#include <thread>

#include "support/chromium.hpp"

using namespace ao_st;

namespace {

const std::string grp = "--group=" + std::string(group_fixture::group);

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::size_t occurrences(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size()))
    ++n;
  return n;
}

// `cbes-consul status --serve=<at>` against a Consul agent, once it printed its ready line.
struct dashboard {
  cbes::test::process p;
  std::string url;  // http://127.0.0.1:<port>/
  std::string port;

  explicit dashboard(const std::string& consul_address, const std::string& at = "0",
                     const std::string& extra = "--serve-max-age=1s")
      : p({bin("cbes-consul"), "status", grp, "--serve=" + at, "--consul-agent=" + consul_address,
           extra}) {
    auto ready =
        p.wait_for(std::regex("^ready: dashboard (http://127\\.0\\.0\\.1:([0-9]+)/)$"), 30s);
    INFO(p.output() << p.errors());
    REQUIRE(ready);
    url = (*ready)[1];
    port = (*ready)[2];
  }

  // One request to the dashboard; `target` starts with '/'.
  cbes::testkit::http_result request(const std::string& method, const std::string& target) {
    auto r = cbes::testkit::http_request("http://127.0.0.1:" + port, method, target);
    INFO(method << ' ' << target << ": " << (r ? std::string() : r.error().message()));
    REQUIRE(r);
    return *r;
  }

  // GET /status.json, which must answer 200 with JSON.
  json::value status() {
    auto r = request("GET", "/status.json");
    INFO(r);
    REQUIRE(r.status == 200);
    CHECK(r.header("Content-Type") == "application/json");
    return json::parse(r.body);
  }

  // The page's DOM once its script has polled a few times.
  std::string dom() {
    auto d = cbes::test::chromium_dom(url);
    INFO(d.error);
    REQUIRE(d);
    return d.output;
  }
};

// `cbes-consul status --json`, parsed.
json::value status_json(group_fixture& g) {
  auto r = g.cli({"status", grp, "--json"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  return json::parse(r.out);
}

// The status with the counters that move by themselves (backlog, written) zeroed, so that two
// readings of a settled group compare equal.
json::value without_counters(json::value v) {
  for (auto& w : v.at("workers").as_array())
    for (const char* counter : {"backlog", "written"})
      if (auto* c = w.as_object().if_contains(counter))
        *c = 0;
  return v;
}

// What a user would check in `status --json`: `members` workers, each "of <members>", their
// vbucket counts adding up to 1024, and (over RPC) every vbucket streamed by exactly one.
bool settled_over(group_fixture& g, std::size_t members) {
  auto s = status_json(g);
  const auto& workers = s.at("workers").as_array();
  if (workers.size() != members)
    return false;
  std::int64_t total = 0;
  for (const auto& w : workers) {
    const auto* m = w.as_object().if_contains("membership");
    if (!m || !m->is_object() ||
        m->at("clusterSize").to_number<std::int64_t>() != static_cast<std::int64_t>(members))
      return false;
    total += w.at("vbucketCount").to_number<std::int64_t>();
  }
  return total == 1024 && g.balanced_over(members);
}

}  // namespace

TEST_CASE("dashboard: --serve with a bad value or with --json is a usage error, exit 2") {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--serve=web"},
                                                                {"--serve=65536"},
                                                                {"--serve=example.com:8080"},
                                                                {"--serve=::1:8080"},
                                                                {"--serve=0", "--json"}}) {
    std::vector<std::string> cmd{bin("cbes-consul"), "status", grp};
    cmd.insert(cmd.end(), args.begin(), args.end());
    auto r = cbes::test::run_to_end(cmd, 30s);
    INFO(args.front() << " → " << r.err);
    CHECK(r.code == 2);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.starts_with("cbes-consul status: "));
    CHECK(contains(r.err, "'--serve'"));
    CHECK(r.out.empty());
  }
}

TEST_CASE("dashboard: a running group's members, vbucket map, leader and pause state") {
  group_fixture g;
  REQUIRE(g.configure(g.config_text()).code == 0);
  REQUIRE(g.cli({"pause", grp}).code == 0);  // the three start together, as in the README
  for (const std::string id : {"", "second", "third"})
    g.start_worker(id);
  AO_REQUIRE(g, eventually([&] { return g.statuses().size() == 3; }));
  REQUIRE(g.cli({"resume", grp}).code == 0);
  AO_REQUIRE(g, eventually([&] { return settled_over(g, 3); }));
  g.write_every_vbucket("before");
  AO_REQUIRE(g, eventually([&] { return g.count() == 1024; }));
  const auto leader = g.leader();
  REQUIRE_FALSE(leader.empty());

  dashboard d(g.consul_address());

  // /status.json is what `status --json` prints.
  const auto printed = status_json(g);
  const auto served = d.status();
  CHECK(without_counters(served) == without_counters(printed));
  CHECK(std::string(served.at("leader").as_string()) == leader);
  // Each streaming worker reports its written counter; together they wrote every document.
  std::uint64_t written = 0;
  for (const auto& w : served.at("workers").as_array()) {
    INFO(w);
    REQUIRE(w.as_object().contains("written"));
    written += w.at("written").to_number<std::uint64_t>();
  }
  CHECK(written >= 1024);

  // The page: one card per member with its vbucket count, the whole map owned once, the leader.
  const auto dom = d.dom();
  INFO(dom);
  CHECK(occurrences(dom, "<div class=\"member\"") == 3);
  for (const auto& w : printed.at("workers").as_array()) {
    const std::string id(w.at("endpoint").as_string());
    const auto count = w.at("vbucketCount").to_number<std::int64_t>();
    CHECK(contains(
        dom, "data-member=\"" + id + "\" data-vbucket-count=\"" + std::to_string(count) + "\""));
  }
  CHECK(contains(
      dom, R"(id="map" data-cells="1024" data-owned="1024" data-unowned="0" data-conflicts="0")"));
  CHECK(occurrences(dom, "<div class=\"cell\"") == 1024);
  const auto streams = g.statuses();
  for (const auto& [id, s] : streams)
    if (!s.vbuckets.empty())
      CHECK(contains(dom, "title=\"vb " + std::to_string(s.vbuckets.front()) + " → " + id + "\""));
  CHECK(contains(dom, "data-group=\"" + std::string(group_fixture::group) + "\""));
  CHECK(contains(dom, "data-leader=\"" + leader + "\""));
  CHECK(contains(dom, "data-paused=\"false\""));
  CHECK(contains(dom, ">RUNNING<"));
  CHECK_FALSE(contains(dom, "data-error="));

  // Throughput, while documents arrive. Headless chromium runs the page's clock virtually: its
  // one-second polls come milliseconds apart, so this dashboard reads the group on every
  // request (the hidden --serve-max-age=0s) and the page gets several distinct readings, whose
  // X-Read-At times are real. The writer is the only user of the fixture meanwhile, and this
  // thread makes no assertion until it has joined (Catch2 is not thread-safe).
  dashboard live(g.consul_address(), "0", "--serve-max-age=0s");
  std::atomic<bool> done{false};
  std::thread writer([&] {
    try {
      for (int round = 0; !done; ++round)
        g.write_every_vbucket("live-" + std::to_string(round));
    } catch (...) {  // a failed write fails the count below
    }
  });
  auto moving = cbes::test::chromium_dom(live.url);
  // The screenshot for people (README, issues): build/screenshots/dashboard.png.
  auto shot = cbes::test::chromium_screenshot(live.url, "dashboard");
  done = true;
  writer.join();
  INFO(moving.error << shot.error);
  REQUIRE(moving);
  CHECK(shot);
  AO_REQUIRE(g, eventually([&] { return g.count() >= 2048; }));
  for (const auto& w : printed.at("workers").as_array()) {
    const std::string id(w.at("endpoint").as_string());
    INFO(id);
    // A number once two readings came, documents per second (not "–").
    CHECK(std::regex_search(
        moving.output,
        std::regex("data-member=\"" + std::regex_replace(id, std::regex("[.]"), "\\.") +
                   "\"[^>]*data-throughput=\"[0-9]+\\.[0-9]\"")));
  }
  // Some of those documents showed as a rate above zero.
  CHECK(std::regex_search(moving.output, std::regex("data-throughput=\"[0-9]*[1-9][0-9]*\\.")));

  // Paused: the page says so, and the map empties as the workers release everything.
  REQUIRE(g.cli({"pause", grp}).code == 0);
  AO_REQUIRE(g, eventually([&] {
               auto s = d.status();
               if (!s.at("paused").as_bool())
                 return false;
               for (const auto& w : s.at("workers").as_array())
                 if (w.at("vbucketCount").to_number<std::int64_t>() != 0)
                   return false;
               return true;
             }));
  const auto paused = d.dom();
  INFO(paused);
  CHECK(contains(paused, "data-paused=\"true\""));
  CHECK(contains(paused, ">PAUSED<"));
  CHECK(contains(paused, R"(data-owned="0" data-unowned="1024" data-conflicts="0")"));
  CHECK(occurrences(paused, "<div class=\"member\"") == 3);

  d.p.signal(SIGTERM);
  CHECK(d.p.wait_exit(10s) == 0);
  live.p.signal(SIGTERM);
  CHECK(live.p.wait_exit(10s) == 0);
}

TEST_CASE("dashboard: 404 and 405, a port in use, and a Consul that fails and comes back") {
  group_fixture g;
  REQUIRE(g.configure(g.config_text()).code == 0);
  dashboard d(g.consul_address());

  auto page = d.request("GET", "/");
  CHECK(page.status == 200);
  CHECK(page.header("Content-Type") == "text/html; charset=utf-8");
  CHECK(page.body.starts_with("<!DOCTYPE html>"));
  const auto empty = d.status();
  CHECK(empty == json::parse(R"({"group":")" + std::string(group_fixture::group) +
                             R"(","leader":null,"paused":false,"workers":[]})"));
  // Only the page and its data: the metrics server's routes are not there.
  for (const char* target : {"/metrics", "/health", "/index.html", "/status.json/x", "/status"}) {
    auto r = d.request("GET", target);
    INFO(target);
    CHECK(r.status == 404);
  }
  for (const char* method : {"POST", "PUT", "DELETE"})
    for (const char* target : {"/", "/status.json"}) {
      auto r = d.request(method, target);
      INFO(method << ' ' << target);
      CHECK(r.status == 405);
      CHECK(r.header("Allow") == "GET, HEAD");
    }

  // A second dashboard on the same port: one line, exit 1, never ready.
  auto taken = cbes::test::run_to_end({bin("cbes-consul"), "status", grp, "--serve=" + d.port,
                                       "--consul-agent=" + g.consul_address()},
                                      30s);
  INFO(taken.out << taken.err);
  CHECK(taken.code == 1);
  CHECK(std::count(taken.err.begin(), taken.err.end(), '\n') == 1);
  CHECK(taken.err.starts_with("ERROR: Cannot serve the dashboard on 127.0.0.1:" + d.port + " ; "));
  CHECK_FALSE(contains(taken.out, "ready:"));

  // Consul without a leader: 502 with the reason, and the page's banner says it.
  g.control("POST", "/consul/lose-leader");
  REQUIRE(eventually([&] { return d.request("GET", "/status.json").status == 502; }, 60s));
  auto failed = d.request("GET", "/status.json");
  INFO(failed);
  CHECK(failed.header("Content-Type") == "application/json");
  const auto error = json::parse(failed.body);
  REQUIRE(error.is_object());
  CHECK_FALSE(error.at("error").as_string().empty());
  auto dom = d.dom();
  CHECK(contains(dom, "id=\"banner\""));
  CHECK(contains(dom, "class=\"show\""));
  CHECK(contains(dom, "data-error=\""));
  CHECK(contains(dom, "Cannot read the group's status"));

  // Consul answers again: so does the dashboard, and the banner goes.
  g.control("POST", "/consul/lose-leader?lost=false");
  REQUIRE(eventually([&] { return d.request("GET", "/status.json").status == 200; }, 60s));
  dom = d.dom();
  CHECK_FALSE(contains(dom, "data-error="));
  CHECK(contains(dom, "data-paused=\"false\""));

  d.p.signal(SIGINT);
  CHECK(d.p.wait_exit(10s) == 0);
}
