#include <catch2/catch.hpp>

#include <string>
#include <type_traits>
#include <utility>

#include "cbes/couchbase/cluster.hpp"
#include "cbes/couchbase/topology.hpp"
#include "cbes/mcbp/dcp.hpp"
#include "cbes/util/crc32.hpp"
#include "unit/couchbase/result_printer.hpp"

using namespace cbes;
using couchbase::endpoint;
using couchbase::errc;

namespace {

// Two nodes, 4 vbuckets: vb 0,1 on node 0, vb 2 on node 1, vb 3 without an active copy.
// Node b has an "external" alternate address with a remapped KV port only.
const char* const two_nodes = R"({
  "rev": 7, "revEpoch": 2, "name": "b", "nodeLocator": "vbucket",
  "vBucketServerMap": {"hashAlgorithm": "CRC", "numReplicas": 1,
    "serverList": ["$HOST:11210", "10.0.0.2:11310"],
    "vBucketMap": [[0, 1], [0, 1], [1, 0], [-1, 0]]},
  "nodesExt": [
    {"services": {"kv": 11210, "kvSSL": 11207, "mgmt": 8091, "mgmtSSL": 18091}, "thisNode": true,
     "alternateAddresses": {"external": {"hostname": "a.example.com",
                                         "ports": {"kv": 21210, "kvSSL": 21207, "mgmt": 28091}}}},
    {"hostname": "10.0.0.2", "services": {"kv": 11310, "kvSSL": 11307, "mgmt": 9091},
     "alternateAddresses": {"external": {"hostname": "b.example.com", "ports": {"kv": 31210}}}}
  ]})";

mcbp::bucket_config parse(const char* json, const char* host = "10.0.0.1") {
  auto c = mcbp::parse_bucket_config(json, host);
  REQUIRE(c);
  return *c;
}

}  // namespace

TEST_CASE("the default network uses the nodes' own hostnames and ports with $HOST substituted") {
  auto t = couchbase::make_topology(parse(two_nodes), "default", false);
  REQUIRE(t);
  REQUIRE(t->nodes.size() == 2);
  CHECK(t->nodes[0].kv == endpoint{"10.0.0.1", 11210});
  CHECK(t->nodes[0].manager == endpoint{"10.0.0.1", 8091});
  CHECK(t->nodes[1].kv == endpoint{"10.0.0.2", 11310});
  CHECK(t->rev == 7);
  CHECK(t->rev_epoch == 2);
  CHECK(t->network == "default");
}

TEST_CASE("TLS switches to the kvSSL and mgmtSSL ports") {
  auto t = couchbase::make_topology(parse(two_nodes), "default", true);
  REQUIRE(t);
  CHECK(t->nodes[0].kv == endpoint{"10.0.0.1", 11207});
  CHECK(t->nodes[0].manager == endpoint{"10.0.0.1", 18091});
  CHECK(t->nodes[1].kv == endpoint{"10.0.0.2", 11307});
  CHECK_FALSE(t->nodes[1].manager);  // no mgmtSSL listed
}

TEST_CASE("an alternate network uses its hostnames and remapped ports and keeps the others") {
  auto t = couchbase::make_topology(parse(two_nodes), "external", false);
  REQUIRE(t);
  CHECK(t->nodes[0].kv == endpoint{"a.example.com", 21210});
  CHECK(t->nodes[0].manager == endpoint{"a.example.com", 28091});
  CHECK(t->nodes[1].kv == endpoint{"b.example.com", 31210});
  CHECK(t->nodes[1].manager == endpoint{"b.example.com", 9091});  // not remapped: default port
  auto tls = couchbase::make_topology(parse(two_nodes), "external", true);
  REQUIRE(tls);
  CHECK(tls->nodes[0].kv == endpoint{"a.example.com", 21207});
  CHECK(tls->nodes[1].kv == endpoint{"b.example.com", 11307});
}

TEST_CASE("an unknown network name is an error naming the setting") {
  auto t = couchbase::make_topology(parse(two_nodes), "dmz", false);
  REQUIRE_FALSE(t);
  CHECK(t.error().code == errc::invalid_argument);
  CHECK(t.error().message.find("couchbase.network") != std::string::npos);
}

TEST_CASE("network auto stays on default when a seed is a node's own hostname") {
  auto cfg = parse(two_nodes);
  CHECK(couchbase::select_network(cfg, "auto", {"10.0.0.2"}) == "default");
  CHECK(couchbase::select_network(cfg, "auto", {"10.0.0.1"}) == "default");
}

TEST_CASE("network auto picks external when a seed is a node's external hostname") {
  auto cfg = parse(two_nodes);
  CHECK(couchbase::select_network(cfg, "auto", {"b.example.com"}) == "external");
  CHECK(couchbase::select_network(cfg, "auto", {"unknown.host"}) == "default");
}

TEST_CASE("an explicit network wins over the heuristic") {
  auto cfg = parse(two_nodes);
  CHECK(couchbase::select_network(cfg, "external", {"10.0.0.1"}) == "external");
  CHECK(couchbase::select_network(cfg, "default", {"b.example.com"}) == "default");
}

TEST_CASE("a key routes to its CRC32 vbucket and that vbucket's active node") {
  auto t = couchbase::make_topology(parse(two_nodes), "default", false);
  REQUIRE(t);
  int seen[4] = {0, 0, 0, 0};
  for (int i = 0; i < 200; ++i) {
    const std::string key = "doc-" + std::to_string(i);
    const auto vb = util::vbucket_for_key(key, 4);
    ++seen[vb];
    auto r = t->route(key);
    if (vb == 3) {
      CHECK_FALSE(r);  // no active copy: the caller must wait for a new config
      continue;
    }
    REQUIRE(r);
    CHECK(r->vbucket == vb);
    CHECK(r->node == (vb == 2 ? 1u : 0u));
  }
  for (int n : seen)
    CHECK(n > 0);  // the sample exercised every vbucket
}

TEST_CASE("active_node refuses vbuckets outside the map") {
  auto t = couchbase::make_topology(parse(two_nodes), "default", false);
  REQUIRE(t);
  CHECK(t->active_node(0) == 0u);
  CHECK(t->active_node(2) == 1u);
  CHECK_FALSE(t->active_node(3));
  CHECK_FALSE(t->active_node(4));
  CHECK(t->kv_endpoints().size() == 2);
}

TEST_CASE("a config without a vbucket map gives no topology") {
  auto cfg = parse(R"({"rev": 1, "nodesExt": [{"services": {"mgmt": 8091}}]})");
  auto t = couchbase::make_topology(cfg, "default", false);
  REQUIRE_FALSE(t);
  CHECK(t.error().code == errc::no_config);
}

TEST_CASE("server list entries without nodesExt still route on the default network") {
  auto cfg = parse(R"({"rev": 1, "vBucketServerMap": {"serverList": ["h:1"],
                       "vBucketMap": [[0], [0]]}})");
  auto t = couchbase::make_topology(cfg, "default", false);
  REQUIRE(t);
  CHECK(t->nodes[0].kv == endpoint{"h", 1});
  CHECK_FALSE(couchbase::make_topology(cfg, "default", true));  // TLS port unknown
}

TEST_CASE("the cluster's failover log is the mcbp failover log, decoded newest first") {
  // One type for a failover log across the codec, the cluster and the DCP consumer.
  static_assert(std::is_same_v<decltype(std::declval<couchbase::cluster&>().failover_log(0)),
                               boost::asio::awaitable<couchbase::result<mcbp::failover_log>>>);
  std::string v(32, '\0');
  v[7] = 1;    // uuid 1
  v[15] = 10;  // seqno 10
  v[23] = 2;
  v[31] = 0;
  auto log = mcbp::decode_failover_log(v);
  REQUIRE(log);
  REQUIRE(log->size() == 2);
  CHECK(log->at(0) == mcbp::failover_entry{1, 10});
  CHECK(log->at(1) == mcbp::failover_entry{2, 0});
  CHECK_FALSE(mcbp::decode_failover_log(std::string(17, '\0')));
}
