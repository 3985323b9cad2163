#include <catch2/catch.hpp>

#include "unit/mcbp/support.hpp"

#include "cbes/mcbp/bucket_config.hpp"
#include "cbes/mcbp/collections_manifest.hpp"

using namespace cbes::mcbp;

namespace {

// Three KV nodes, node 0 written as $HOST (the node we connected to), alternate addresses,
// a 4-vbucket map with a forward map, and members the parser must ignore.
const char* const three_node_config = R"({
 "rev": 1017, "revEpoch": 2, "name": "travel", "uuid": "4afb61e2", "bucketType": "membase",
 "nodeLocator": "vbucket", "storageBackend": "magma", "numVBuckets": 4,
 "bucketCapabilitiesVer": "",
 "bucketCapabilities": ["collections", "dcp", "xattr", "cccp"],
 "collectionsManifestUid": "a2",
 "vBucketServerMap": {
   "hashAlgorithm": "CRC", "numReplicas": 1,
   "serverList": ["$HOST:11210", "10.0.0.2:11210", "10.0.0.3:11210"],
   "vBucketMap": [[0, 1], [1, 2], [2, 0], [-1, -1]],
   "vBucketMapForward": [[1, 0], [1, 2], [2, 1], [0, -1]]
 },
 "nodes": [{"hostname": "$HOST:8091", "ports": {"direct": 11210}}],
 "nodesExt": [
   {"services": {"kv": 11210, "kvSSL": 11207, "mgmt": 8091}, "thisNode": true},
   {"services": {"kv": 11210, "mgmt": 8091}, "hostname": "10.0.0.2",
    "alternateAddresses": {"external": {"hostname": "kv2.example.com", "ports": {"kv": 21210}}}},
   {"services": {"mgmt": 8091, "n1ql": 8093}, "hostname": "$HOST"}
 ],
 "clusterCapabilitiesVer": [1, 0], "clusterCapabilities": {"n1ql": ["enhancedPreparedStatements"]}
})";

}  // namespace

TEST_CASE("bucket config parses a multi-node config, substituting $HOST") {
  const auto cfg = parse_bucket_config(three_node_config, "192.168.1.5");
  REQUIRE(cfg);
  CHECK(cfg->rev == 1017);
  CHECK(cfg->rev_epoch == 2);
  CHECK(cfg->name == "travel");
  CHECK(cfg->bucket_type == "membase");
  CHECK(cfg->node_locator == "vbucket");
  CHECK(cfg->has_capability("collections"));
  CHECK_FALSE(cfg->has_capability("durableWrite"));
  CHECK(cfg->collections_manifest_uid == 0xa2u);
  REQUIRE(cfg->nodes_ext.size() == 3);
  CHECK(cfg->nodes_ext[0].hostname == "192.168.1.5");  // no hostname → connected host
  CHECK(cfg->nodes_ext[0].this_node);
  CHECK(cfg->nodes_ext[0].service("kvSSL") == 11207);
  CHECK(cfg->nodes_ext[1].hostname == "10.0.0.2");
  CHECK(cfg->nodes_ext[2].hostname == "192.168.1.5");
  CHECK_FALSE(cfg->nodes_ext[2].service("kv"));
  const auto& alt = cfg->nodes_ext[1].alternate_addresses;
  REQUIRE(alt.count("external") == 1);
  CHECK(alt.at("external").hostname == "kv2.example.com");
  CHECK(alt.at("external").ports.at("kv") == 21210);
  REQUIRE(cfg->vbucket_server_map);
  const auto& vsm = *cfg->vbucket_server_map;
  CHECK(vsm.hash_algorithm == "CRC");
  CHECK(vsm.num_replicas == 1);
  CHECK(vsm.server_list ==
        std::vector<std::string>{"192.168.1.5:11210", "10.0.0.2:11210", "10.0.0.3:11210"});
  CHECK(cfg->num_vbuckets() == 4);
  CHECK(cfg->active_server(1) == 1u);
  CHECK_FALSE(cfg->active_server(3));  // -1: no active
  CHECK_FALSE(cfg->active_server(4));
  CHECK(vsm.vbucket_map_forward[0] == std::vector<std::int32_t>{1, 0});
}

TEST_CASE("bucket config brackets an IPv6 connected host inside host:port strings") {
  const auto cfg = parse_bucket_config(three_node_config, "::1");
  REQUIRE(cfg);
  CHECK(cfg->vbucket_server_map->server_list[0] == "[::1]:11210");
  CHECK(cfg->nodes_ext[0].hostname == "::1");
}

TEST_CASE("bucket configs compare by (revEpoch, rev)") {
  bucket_config a, b;
  a.rev_epoch = 1;
  a.rev = 100;
  b.rev_epoch = 2;
  b.rev = 1;
  CHECK(is_newer(b, a));
  CHECK_FALSE(is_newer(a, b));
  b.rev_epoch = 1;
  CHECK_FALSE(is_newer(b, a));
  b.rev = 101;
  CHECK(is_newer(b, a));
}

TEST_CASE("a config without nodesExt falls back to the legacy nodes list") {
  const auto cfg =
      parse_bucket_config(R"({"rev":5,"nodes":[{"hostname":"$HOST:8091","ports":{"direct":11210}},)"
                          R"({"hostname":"[fe80::2]:9000","ports":{"direct":12000}}]})",
                          "10.1.1.1");
  REQUIRE(cfg);
  CHECK(cfg->rev_epoch == 0);
  REQUIRE(cfg->nodes_ext.size() == 2);
  CHECK(cfg->nodes_ext[0].hostname == "10.1.1.1");
  CHECK(cfg->nodes_ext[0].service("kv") == 11210);
  CHECK(cfg->nodes_ext[0].service("mgmt") == 8091);
  CHECK(cfg->nodes_ext[1].hostname == "fe80::2");
  CHECK(cfg->nodes_ext[1].service("kv") == 12000);
  CHECK_FALSE(cfg->vbucket_server_map);
}

TEST_CASE("bucket config refuses bad JSON and inconsistent members with clear errors") {
  CHECK(parse_bucket_config("{\"rev\":", "h").error() == errc::bad_json);
  CHECK(parse_bucket_config("[]", "h").error() == errc::bad_bucket_config);
  CHECK(parse_bucket_config(R"({"name":"x"})", "h").error() == errc::bad_bucket_config);
  CHECK(parse_bucket_config(R"({"rev":"1"})", "h").error() == errc::bad_bucket_config);
  // vBucketMap index beyond serverList.
  CHECK(parse_bucket_config(
            R"({"rev":1,"vBucketServerMap":{"serverList":["a:1"],"vBucketMap":[[1]]}})", "h")
            .error() == errc::bad_bucket_config);
  // 3 vbuckets: not a power of two.
  CHECK(
      parse_bucket_config(
          R"({"rev":1,"vBucketServerMap":{"serverList":["a:1"],"vBucketMap":[[0],[0],[0]]}})", "h")
          .error() == errc::bad_bucket_config);
  // Port out of range.
  CHECK(parse_bucket_config(R"({"rev":1,"nodesExt":[{"services":{"kv":70000}}]})", "h").error() ==
        errc::bad_bucket_config);
  CHECK(parse_bucket_config(R"({"rev":1,"collectionsManifestUid":"xyz"})", "h").error() ==
        errc::bad_bucket_config);
}

TEST_CASE("collections manifest parses hex uids, maxTTL and flags") {
  const auto m = parse_collections_manifest(
      R"({"uid":"a2","scopes":[{"name":"_default","uid":"0","collections":[)"
      R"({"name":"_default","uid":"0"},{"name":"brewery","uid":"1c","maxTTL":1,"history":true}]},)"
      R"({"name":"inventory","uid":"8","collections":[]},{"name":"empty","uid":"9"}]})");
  REQUIRE(m);
  CHECK(m->uid == 0xa2);
  REQUIRE(m->scopes.size() == 3);
  CHECK(m->collection_id("_default", "brewery") == 0x1cu);
  CHECK(m->collection_id("_default", "_default") == 0u);
  CHECK_FALSE(m->collection_id("inventory", "brewery"));
  CHECK(m->scope_id("inventory") == 8u);
  const auto& brewery = m->scopes[0].collections[1];
  CHECK(brewery.max_ttl == 1u);
  CHECK(brewery.history);
  CHECK_FALSE(brewery.metered);
  CHECK(m->scopes[2].collections.empty());
}

TEST_CASE("collections manifest round-trips through to_json with empty collection arrays") {
  collections_manifest m;
  m.uid = 0x1f;
  m.scopes.push_back({"_default", 0, {{"_default", 0, std::nullopt, false, false}}});
  m.scopes.push_back({"s", 8, {}});
  const auto text = to_json(m);
  CHECK(text.find(R"("uid":"1f")") != std::string::npos);
  CHECK(text.find(R"("collections":[])") != std::string::npos);
  const auto back = parse_collections_manifest(text);
  REQUIRE(back);
  CHECK(*back == m);
}

TEST_CASE("collections manifest refuses missing or malformed uids") {
  CHECK(parse_collections_manifest("nope").error() == errc::bad_json);
  CHECK(parse_collections_manifest(R"({"scopes":[]})").error() == errc::bad_collections_manifest);
  CHECK(parse_collections_manifest(R"({"uid":"0x1","scopes":[]})").error() ==
        errc::bad_collections_manifest);
  CHECK(parse_collections_manifest(R"({"uid":"1","scopes":[{"name":"s","uid":"100000000"}]})")
            .error() == errc::bad_collections_manifest);
  CHECK(parse_collections_manifest(
            R"({"uid":"1","scopes":[{"name":"s","uid":"8","collections":[{"uid":"9"}]}]})")
            .error() == errc::bad_collections_manifest);
}
