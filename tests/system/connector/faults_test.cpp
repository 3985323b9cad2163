// `cbes` against `cbes-sandbox` while the sandbox's control API injects faults from outside:
// Elasticsearch answering 503 for 30 s, and a Couchbase node failing over with a rollback.
// Neither loses a document the bucket still has, and the metrics say what happened.
#include "system/connector/harness.hpp"

#include <csignal>

using namespace connector_st;

namespace {

// The value of a Prometheus counter (the first series of `name`), 0 when absent.
double prometheus_value(const std::string& metrics_url, const std::string& name) {
  auto r = cbes::testkit::http_request(metrics_url, "GET", "/metrics/prometheus");
  if (!r || r->status != 200)
    return 0;
  std::smatch m;
  if (std::regex_search(r->body, m, std::regex("\n" + name + "(\\{[^}]*\\})? ([0-9.eE+-]+)")))
    return std::stod(m[2]);
  return 0;
}

// The metrics base URL `cbes` printed ("metrics: http://127.0.0.1:<port>/metrics").
std::string metrics_base(cbes::test::process& cbes) {
  auto m = cbes.wait_for(std::regex("metrics: (http://[0-9.]+:[0-9]+)/metrics"));
  REQUIRE(m);
  return (*m)[1];
}

}  // namespace

TEST_CASE("cbes loses nothing while Elasticsearch answers 503 for 30 seconds") {
  sandbox sb(2000, {"--control-port=0"});
  // Every _bulk request fails from the start; cbes connects (the version check is not a bulk)
  // and retries with back-off until the fault ends.
  sb.inject("/elasticsearch/fail-requests-for?seconds=30&status=503");
  const auto dir = fresh_dir("es-503");
  // A dead host first: the client marks it failed (cbes.es.conn.fail) and uses the live one.
  config_options o;
  o.es_host = "http://127.0.0.1:1', '" + sb.es;
  auto cbes = start_cbes(write_config(dir, sb, o));
  INFO(cbes->errors());
  const auto metrics = metrics_base(*cbes);
  REQUIRE(cbes->wait_for(std::regex("ready: streaming")));
  // The mechanism: bulk requests are refused and retried while nothing is indexed.
  REQUIRE(eventually([&] { return prometheus_value(metrics, "cbes_bulk_retry_total") >= 2; }));
  CHECK(sb.count("airlines") + sb.count("etc") == 0);

  // Writes made during the outage travel too.
  couchbase_client cb(sb);
  for (int i = 0; i < 20; ++i)
    REQUIRE(cb.run(cb.cluster->upsert({}, "outage_" + std::to_string(i), R"({"during":true})"))
                .has_value());
  REQUIRE(cb.run(cb.cluster->upsert({}, "airline_1", R"({"type":"airline","name":"Later"})"))
              .has_value());

  CHECK(eventually([&] { return sb.count("airlines") + sb.count("etc") == 2000 + 20; }, 180s));
  CHECK(eventually([&] {
    auto d = sb.document("airlines", "airline_1");
    return d && d->find("Later") != std::string::npos;
  }));

  // The per-batch timers and the common tags of the Java connector's metrics.
  CHECK(prometheus_value(metrics, "cbes_retry_delay_seconds_sum") > 0);
  CHECK(prometheus_value(metrics, "cbes_new_index_req_seconds_count") >= 2000);
  CHECK(prometheus_value(metrics, "cbes_bulk_index_per_doc_seconds_count") >= 1);
  CHECK(prometheus_value(metrics, "cbes_es_conn_fail_total") >= 1);
  auto text = cbes::testkit::http_request(metrics, "GET", "/metrics/prometheus");
  REQUIRE(text);
  CHECK(text->body.find("bucket=\"default\"") != std::string::npos);
  CHECK(text->body.find("clusterUuid=\"cbes-fake-cluster\"") != std::string::npos);
  cbes->signal(SIGTERM);
  CHECK(cbes->wait_exit(30s) == 0);
}

TEST_CASE("cbes loses nothing the bucket still has when a node fails over with a rollback") {
  sandbox sb(2000, {"--control-port=0", "--nodes=2", "--replicas=1"});
  const auto dir = fresh_dir("failover");
  auto cbes = start_cbes(write_config(dir, sb, {}));
  INFO(cbes->errors());
  REQUIRE(cbes->wait_for(std::regex("ready: streaming")));
  REQUIRE(eventually([&] { return sb.count("airlines") + sb.count("etc") == 2000; }));

  // Writes node 0 never replicates reach Elasticsearch; then node 0 fails over and the
  // replicas, which lack them, become active: the consumers of its vbuckets roll back.
  couchbase_client cb(sb);
  sb.inject("/couchbase/pause-replication?on=true");
  for (int i = 0; i < 50; ++i)
    REQUIRE(cb.run(cb.cluster->upsert({}, "lost_" + std::to_string(i), R"({"lost":true})"))
                .has_value());
  REQUIRE(eventually([&] { return sb.count("etc") + sb.count("airlines") == 2050; }));
  sb.inject("/couchbase/failover?node=0&lose_unreplicated=true");
  sb.inject("/couchbase/pause-replication?on=false");

  // Writes after the failover, including updates of sample documents, all arrive.
  for (int i = 0; i < 50; ++i)
    REQUIRE(cb.run(cb.cluster->upsert({}, "after_" + std::to_string(i), R"({"after":true})"))
                .has_value());
  REQUIRE(cb.run(cb.cluster->upsert({}, "airline_1", R"({"type":"airline","name":"Failed over"})"))
              .has_value());
  CHECK(
      eventually([&] { return cbes->errors().find("rolled back to seqno") != std::string::npos; }));
  // Elasticsearch keeps what the bucket lost (as the Java connector does: a rollback re-streams,
  // it does not delete), and has everything the bucket still holds.
  CHECK(eventually([&] { return sb.count("etc") + sb.count("airlines") == 2100; }));
  CHECK(eventually([&] {
    auto d = sb.document("airlines", "airline_1");
    return d && d->find("Failed over") != std::string::npos;
  }));
  for (int i = 0; i < 50; ++i)
    CHECK(sb.document("etc", "after_" + std::to_string(i)).has_value());
  cbes->signal(SIGTERM);
  CHECK(cbes->wait_exit(30s) == 0);
}
