// Connection bootstrap against the fake cluster (kv_engine's protocol docs): HELLO, SASL,
// SELECT_BUCKET, error map, cluster config, manager HTTP.
#include <boost/json.hpp>

#include "cbes/mcbp/bucket_config.hpp"
#include "cbes/mcbp/cluster_config.hpp"
#include "cbes/mcbp/error_map.hpp"
#include "cbes/testkit/http_client.hpp"
#include "kv_client.hpp"

using namespace cbfake_test;

TEST_CASE("HELLO echoes the supported features in request order and drops the rest") {
  couchbase_cluster cluster;
  cluster.start();
  kv_client c{cluster.kv_port()};
  auto r = c.hello({feature::collections, feature::tracing, feature::xerror,
                    feature::unordered_execution, feature::json, feature::xerror});
  CHECK(r.features == std::vector<feature>{feature::collections, feature::xerror, feature::json});
}

TEST_CASE("HELLO with cluster map notifications but without duplex is refused") {
  couchbase_cluster cluster;
  cluster.start();
  kv_client c{cluster.kv_port()};
  auto f = c.call(hello_request{"x", {feature::clustermap_change_notification}}.encode());
  CHECK(f.view().status() == status::einval);
}

TEST_CASE("SASL_LIST_MECHS offers SCRAM strongest first and PLAIN") {
  couchbase_cluster cluster;
  cluster.start();
  kv_client c{cluster.kv_port()};
  auto f = c.call(sasl_list_mechs_request{}.encode());
  CHECK(f.view().value == "SCRAM-SHA512 SCRAM-SHA256 SCRAM-SHA1 PLAIN");
}

TEST_CASE("every SASL mechanism authenticates with the right password") {
  couchbase_cluster cluster;
  cluster.start();
  for (auto m : {sasl_mechanism::scram_sha1, sasl_mechanism::scram_sha256,
                 sasl_mechanism::scram_sha512, sasl_mechanism::plain}) {
    INFO(to_string(m));
    kv_client c{cluster.kv_port()};
    c.hello();
    CHECK(c.authenticate(m, "Administrator", "password") == status::success);
    CHECK(c.select_bucket("default") == status::success);
  }
}

TEST_CASE("a wrong password or an unknown user gets AuthError") {
  couchbase_cluster cluster;
  cluster.start();
  for (auto m : {sasl_mechanism::scram_sha1, sasl_mechanism::scram_sha256,
                 sasl_mechanism::scram_sha512, sasl_mechanism::plain}) {
    INFO(to_string(m));
    kv_client c{cluster.kv_port()};
    c.hello();
    CHECK(c.authenticate(m, "Administrator", "wrong") == status::auth_error);
    CHECK(c.authenticate(m, "nobody", "password") == status::auth_error);
  }
}

TEST_CASE("commands before authentication get Eaccess") {
  couchbase_cluster cluster;
  cluster.start();
  kv_client c{cluster.kv_port()};
  c.hello();
  CHECK(c.select_bucket("default") == status::eaccess);
}

TEST_CASE("SELECT_BUCKET: unknown bucket is KeyEnoent, a bucket without access is Eaccess") {
  couchbase_cluster_options o;
  o.users.push_back({"reader", "secret", {"default"}});
  o.buckets.push_back({"other", 64, 0});
  couchbase_cluster cluster{o};
  cluster.start();
  kv_client c{cluster.kv_port()};
  c.hello();
  REQUIRE(c.authenticate(sasl_mechanism::scram_sha256, "reader", "secret") == status::success);
  // A user without access cannot learn whether a bucket exists.
  CHECK(c.select_bucket("nope") == status::eaccess);
  CHECK(c.select_bucket("other") == status::eaccess);
  CHECK(c.select_bucket("default") == status::success);

  kv_client admin{cluster.kv_port()};
  admin.hello();
  REQUIRE(admin.authenticate(sasl_mechanism::plain, "Administrator", "password") ==
          status::success);
  CHECK(admin.select_bucket("nope") == status::key_enoent);
  CHECK(admin.select_bucket("other") == status::success);
}

TEST_CASE("without XERROR a no-bucket error closes the connection") {
  couchbase_cluster cluster;
  cluster.start();
  kv_client c{cluster.kv_port()};
  c.hello({feature::json});
  REQUIRE(c.authenticate(sasl_mechanism::scram_sha1, "Administrator", "password") ==
          status::success);
  c.send_raw(frame_builder::request(opcode::get).key("k").opaque(1).build());
  CHECK_FALSE(c.read_frame());
}

TEST_CASE("GET_ERROR_MAP returns a version 2 map with retry attributes") {
  couchbase_cluster cluster;
  cluster.start();
  kv_client c{cluster.kv_port()};
  c.hello();
  auto f = c.call(get_error_map_request{2}.encode());
  REQUIRE(f.view().status() == status::success);
  auto map = parse_error_map(f.view().value);
  REQUIRE(map);
  CHECK(map->version == 2);
  REQUIRE(map->find(0x86));
  CHECK(map->find(0x86)->has_attribute("temp"));
  REQUIRE(map->find(0x07));
  CHECK(map->find(0x07)->has_attribute("fetch-config"));
}

TEST_CASE("VERSION answers the configured server version") {
  couchbase_cluster cluster;
  cluster.start();
  kv_client c{cluster.kv_port()};
  auto f = c.call(frame_builder::request(opcode::version));
  CHECK(f.view().value == "7.6.2-3721-enterprise");
}

TEST_CASE("GET_CLUSTER_CONFIG before SELECT_BUCKET is the global config, after it the bucket's") {
  couchbase_cluster_options o;
  o.nodes = 2;
  o.buckets = {{"default", 64, 1}};
  couchbase_cluster cluster{o};
  cluster.start();
  kv_client c{cluster.kv_port(1)};
  c.hello();
  REQUIRE(c.authenticate(sasl_mechanism::scram_sha512, "Administrator", "password") ==
          status::success);
  auto global = c.call(get_cluster_config_request{}.encode());
  REQUIRE(global.view().status() == status::success);
  auto g = boost::json::parse(global.view().value).as_object();
  CHECK_FALSE(g.contains("nodeLocator"));
  CHECK(g.at("nodesExt").as_array().size() == 2);

  REQUIRE(c.select_bucket("default") == status::success);
  auto f = c.call(get_cluster_config_request{}.encode());
  REQUIRE(f.view().status() == status::success);
  CHECK(f.view().datatype() == 0x01);
  CHECK(f.view().value.find("$HOST") != std::string_view::npos);
  auto cfg = parse_bucket_config(f.view().value, "127.0.0.1");
  REQUIRE(cfg);
  CHECK(cfg->node_locator == "vbucket");
  CHECK(cfg->num_vbuckets() == 64);
  REQUIRE(cfg->nodes_ext.size() == 2);
  CHECK(cfg->nodes_ext[0].service("kv") == cluster.kv_port(0));
  CHECK(cfg->nodes_ext[1].service("kv") == cluster.kv_port(1));
  CHECK(cfg->nodes_ext[1].service("mgmt") == cluster.mgmt_port(1));
  CHECK(cfg->nodes_ext[1].this_node);
  CHECK(cfg->vbucket_server_map->server_list[0] ==
        "127.0.0.1:" + std::to_string(cluster.kv_port(0)));
  CHECK(cfg->vbucket_server_map->vbucket_map[0] == std::vector<std::int32_t>{0, 1});
  CHECK(cfg->vbucket_server_map->vbucket_map[1] == std::vector<std::int32_t>{1, 0});
  CHECK(cfg->has_capability("collections"));
}

TEST_CASE("the manager port serves the terse bucket config behind basic auth") {
  couchbase_cluster cluster;
  cluster.start();
  auto denied = cbes::testkit::http_request(cluster.mgmt_url(), "GET", "/pools/default/b/default");
  REQUIRE(denied);
  CHECK(denied->status == 401);
  cbes::testkit::http_headers auth{{"Authorization", "Basic QWRtaW5pc3RyYXRvcjpwYXNzd29yZA=="}};
  auto r =
      cbes::testkit::http_request(cluster.mgmt_url(), "GET", "/pools/default/b/default", {}, auth);
  REQUIRE(r);
  REQUIRE(r->status == 200);
  auto cfg = parse_bucket_config(r->body, "127.0.0.1");
  REQUIRE(cfg);
  CHECK(cfg->num_vbuckets() == 1024);
  CHECK(cfg->nodes_ext.at(0).hostname == "127.0.0.1");
  auto pools = cbes::testkit::http_request(cluster.mgmt_url(), "GET", "/pools/default", {}, auth);
  REQUIRE(pools);
  auto nodes = boost::json::parse(pools->body).at("nodes").as_array();
  CHECK(nodes.at(0).at("ports").at("direct").as_int64() == cluster.kv_port());
  auto missing =
      cbes::testkit::http_request(cluster.mgmt_url(), "GET", "/pools/default/b/nope", {}, auth);
  REQUIRE(missing);
  CHECK(missing->status == 404);
}
