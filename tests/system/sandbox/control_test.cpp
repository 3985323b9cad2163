// cbes-sandbox's control API, driven over HTTP from this process as a chaos script would: the
// listing, the refusals of bad requests, and faults that change what the fakes answer.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "cbes/couchbase/cluster.hpp"
#include "cbes/testkit/http_client.hpp"
#include "support/eventually.hpp"
#include "support/process.hpp"
#include "support/run_coroutine.hpp"

namespace {

std::string bin(const std::string& name) {
  return std::string(CBES_BINARY_DIR) + "/bin/" + name;
}

struct sandbox {
  cbes::test::process proc;
  std::string es, consul, control;

  explicit sandbox(std::vector<std::string> extra = {})
      : proc([&] {
          std::vector<std::string> a{
              bin("cbes-sandbox"), "--services=consul,couchbase,elasticsearch",
              "--consul-port=0",   "--kv-port=0",
              "--mgmt-port=0",     "--es-port=0"};
          a.insert(a.end(), extra.begin(), extra.end());
          return a;
        }()) {
    auto c = proc.wait_for(std::regex("ready: consul (http://[0-9.]+:[0-9]+)"));
    REQUIRE(c);
    consul = (*c)[1];
    REQUIRE(proc.wait_for(std::regex("ready: couchbase ")));
    auto e = proc.wait_for(std::regex("ready: elasticsearch (http://[0-9.]+:[0-9]+)"));
    REQUIRE(e);
    es = (*e)[1];
    if (!extra.empty()) {
      auto k = proc.wait_for(std::regex("ready: control (http://[0-9.]+:[0-9]+)"));
      REQUIRE(k);
      control = (*k)[1];
    }
  }

  cbes::testkit::http_result call(const std::string& method, const std::string& target) const {
    auto r = cbes::testkit::http_request(control, method, target);
    REQUIRE(r);
    return *r;
  }
};

}  // namespace

TEST_CASE("sandbox control: GET / lists the actions of every service it runs") {
  sandbox sb({"--control-port=0"});
  auto r = sb.call("GET", "/");
  CHECK(r.status == 200);
  for (const char* a : {"POST /elasticsearch/fail-requests-for", "GET  /elasticsearch/stats",
                        "POST /couchbase/failover", "POST /consul/freeze"})
    CHECK(r.body.find(a) != std::string::npos);
}

TEST_CASE("sandbox control: bad requests get one line and the right status, and change nothing") {
  sandbox sb({"--control-port=0"});
  auto missing = sb.call("POST", "/elasticsearch/fail-requests");
  CHECK(missing.status == 400);
  CHECK(missing.body.find("missing parameter 'count'") != std::string::npos);
  auto range = sb.call("POST", "/elasticsearch/fail-requests?count=2&status=200");
  CHECK(range.status == 400);
  CHECK(range.body.find("parameter 'status' must be an integer from 400 to 599") !=
        std::string::npos);
  CHECK(sb.call("POST", "/elasticsearch/block-writes?on=maybe").status == 400);
  CHECK(sb.call("POST", "/nosuch/thing").status == 404);
  CHECK(sb.call("GET", "/consul/freeze").status == 405);
  CHECK(sb.call("POST", "/elasticsearch/stats").status == 405);
  // The fake itself refuses: a single-node cluster cannot fail over its last node.
  auto last = sb.call("POST", "/couchbase/failover?node=0");
  CHECK(last.status == 409);
  CHECK(last.body.find("last node") != std::string::npos);
  // Nothing above was applied: bulk requests still succeed.
  auto bulk = cbes::testkit::http_request(sb.es, "POST", "/_bulk",
                                          "{\"index\":{\"_index\":\"i\",\"_id\":\"1\"}}\n{}\n",
                                          {{"Content-Type", "application/x-ndjson"}});
  REQUIRE(bulk);
  CHECK(bulk->status == 200);
}

TEST_CASE("sandbox control: injected faults change what the fakes answer, then end") {
  sandbox sb({"--control-port=0"});
  const std::string line = "{\"index\":{\"_index\":\"i\",\"_id\":\"1\"}}\n{}\n";
  const cbes::testkit::http_headers ndjson{{"Content-Type", "application/x-ndjson"}};

  SECTION("Elasticsearch: the next two bulk requests fail with 503") {
    CHECK(sb.call("POST", "/elasticsearch/fail-requests?count=2&status=503").status == 200);
    for (int i = 0; i < 2; ++i) {
      auto r = cbes::testkit::http_request(sb.es, "POST", "/_bulk", line, ndjson);
      REQUIRE(r);
      CHECK(r->status == 503);
    }
    auto ok = cbes::testkit::http_request(sb.es, "POST", "/_bulk", line, ndjson);
    REQUIRE(ok);
    CHECK(ok->status == 200);
    auto stats = sb.call("GET", "/elasticsearch/stats");
    CHECK(stats.status == 200);
    CHECK(stats.body.find("\"bulk_requests\":3") != std::string::npos);
    // The same document again is a replay: counted as unchanged.
    auto again = cbes::testkit::http_request(sb.es, "POST", "/_bulk", line, ndjson);
    REQUIRE(again);
    CHECK(again->status == 200);
    CHECK(sb.call("GET", "/elasticsearch/stats").body.find("\"unchanged_items\":1") !=
          std::string::npos);
  }
  SECTION("Elasticsearch: fail-requests-for fails every bulk request until its time is up") {
    CHECK(sb.call("POST", "/elasticsearch/fail-requests-for?seconds=1&status=503").status == 200);
    auto r = cbes::testkit::http_request(sb.es, "POST", "/_bulk", line, ndjson);
    REQUIRE(r);
    CHECK(r->status == 503);
    // The end of the fault is the signal: bulk requests answer 200 again.
    bool recovered = false;
    for (int i = 0; i < 200 && !recovered; ++i) {
      auto again = cbes::testkit::http_request(sb.es, "POST", "/_bulk", line, ndjson);
      REQUIRE(again);
      recovered = again->status == 200;
      if (!recovered)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK(recovered);
  }
  SECTION("Consul: the next request fails with 500 No cluster leader") {
    CHECK(sb.call("POST", "/consul/fail-requests?count=1").status == 200);
    auto r = cbes::testkit::http_request(sb.consul, "GET", "/v1/kv/x");
    REQUIRE(r);
    CHECK(r->status == 500);
    auto after = cbes::testkit::http_request(sb.consul, "GET", "/v1/kv/x");
    REQUIRE(after);
    CHECK(after->status == 404);
  }
  SECTION(
      "Consul: a restart refuses connections, then serves the same port with data kept or lost") {
    const bool keep = GENERATE(true, false);
    auto put = cbes::testkit::http_request(sb.consul, "PUT", "/v1/kv/kept", "v");
    REQUIRE(put);
    REQUIRE(put->status == 200);
    auto session = cbes::testkit::http_request(sb.consul, "PUT", "/v1/session/create",
                                               R"({"TTL":"10s","Behavior":"delete"})");
    REQUIRE(session);
    REQUIRE(session->status == 200);
    CHECK(sb.call("POST", std::string("/consul/restart?down_ms=60000&keep_data=") +
                              (keep ? "true" : "false"))
              .status == 200);
    // Down for a minute: the port refuses connections (no answer at all, not an HTTP error).
    CHECK_FALSE(cbes::testkit::http_request(sb.consul, "GET", "/v1/kv/kept"));
    // Back (a second restart, 0 ms down, ends the first one's wait early: start() is idempotent).
    CHECK(sb.call("POST",
                  std::string("/consul/restart?down_ms=0&keep_data=") + (keep ? "true" : "false"))
              .status == 200);
    auto kv = cbes::testkit::http_request(sb.consul, "GET", "/v1/kv/kept?raw");
    for (int i = 0; i < 200 && !kv; ++i) {  // the signal: the port answers again
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      kv = cbes::testkit::http_request(sb.consul, "GET", "/v1/kv/kept?raw");
    }
    REQUIRE(kv);
    auto sessions = cbes::testkit::http_request(sb.consul, "GET", "/v1/session/list");
    REQUIRE(sessions);
    if (keep) {
      CHECK(kv->status == 200);
      CHECK(kv->body == "v");
      CHECK(sessions->body.find("\"TTL\":\"10s\"") != std::string::npos);
    } else {
      CHECK(kv->status == 404);
      CHECK(sessions->body == "[]");
    }
  }
  SECTION("Consul: a restart while another is still down lasts its own down_ms") {
    CHECK(sb.call("POST", "/consul/restart?down_ms=100").status == 200);
    // The second outage starts after this instant, so the port cannot answer again before
    // 1.5 s from it — unless the first restart's wait (100 ms) brings the agent back early.
    const auto second = std::chrono::steady_clock::now();
    CHECK(sb.call("POST", "/consul/restart?down_ms=1500").status == 200);
    // The signal: the port answers again.
    REQUIRE(cbes::test::eventually(
        [&] { return cbes::testkit::http_request(sb.consul, "GET", "/v1/kv/x").has_value(); },
        std::chrono::seconds(10), std::chrono::milliseconds(20)));
    CHECK(std::chrono::steady_clock::now() - second >= std::chrono::milliseconds(1500));
  }
}

TEST_CASE("sandbox control: off unless asked for, and --control-port is checked") {
  cbes::test::process bad(
      {bin("cbes-sandbox"), "--services=elasticsearch", "--es-port=0", "--control-port=70000"});
  CHECK(bad.wait_exit(std::chrono::seconds(30)) == 2);
  CHECK(bad.errors().find("--control-port must be between -1 and 65535") != std::string::npos);

  cbes::test::process off({bin("cbes-sandbox"), "--services=elasticsearch", "--es-port=0"});
  REQUIRE(off.wait_for(std::regex("ready: elasticsearch")));
  off.signal(SIGTERM);
  CHECK(off.wait_exit(std::chrono::seconds(30)) == 0);
  CHECK(off.output().find("ready: control") == std::string::npos);
}

TEST_CASE("sandbox: --load-documents, --document-size and --es-count-only, the benchmarks' setup") {
  cbes::test::process bad({bin("cbes-sandbox"), "--services=couchbase", "--kv-port=0",
                           "--mgmt-port=0", "--load-documents=10", "--document-size=100"});
  CHECK(bad.wait_exit(std::chrono::seconds(30)) == 2);
  CHECK(bad.errors().find("--document-size must be between 200 and 1048576, got 100") !=
        std::string::npos);

  sandbox sb(
      {"--control-port=0", "--load-documents=2000", "--document-size=300", "--es-count-only"});
  // The documents are in the bucket, at the size asked for.
  auto kv = sb.proc.output();
  std::smatch m;
  REQUIRE(std::regex_search(kv, m, std::regex("ready: couchbase (couchbase://[0-9.:]+)")));
  boost::asio::io_context io;
  cbes::couchbase::cluster_options o;
  o.seeds = m[1];
  o.username = "Administrator";
  o.password = "password";
  o.bucket = "default";
  auto cluster = cbes::test::run(io, cbes::couchbase::cluster::connect(io.get_executor(), o));
  REQUIRE(cluster.has_value());
  for (const char* key : {"doc_0", "doc_1999"}) {
    auto d = cbes::test::run(io, (*cluster)->get({}, key));
    REQUIRE(d.has_value());
    CHECK(d->value.size() == 300);
  }
  CHECK(cbes::test::run(io, (*cluster)->get({}, "doc_2000")).error().code ==
        cbes::couchbase::errc::document_not_found);
  (*cluster)->close();
  cbes::test::drain(io);
  // Count-only: the item is acknowledged and counted, nothing is stored.
  auto bulk = cbes::testkit::http_request(
      sb.es, "POST", "/_bulk", "{\"index\":{\"_index\":\"bench\",\"_id\":\"1\"}}\n{\"a\":1}\n",
      {{"Content-Type", "application/x-ndjson"}});
  REQUIRE(bulk);
  CHECK(bulk->status == 200);
  auto doc = cbes::testkit::http_request(sb.es, "GET", "/bench/_doc/1");
  REQUIRE(doc);
  CHECK(doc->status == 404);
  auto stats = sb.call("GET", "/elasticsearch/stats");
  CHECK(stats.body.find("\"bulk_items\":1") != std::string::npos);
}
