// The client's network selection (`network = auto|default|external`) against a fake cluster that
// advertises `alternateAddresses.external` (kv_engine's protocol docs): external hostname
// "localhost" and extra ports the fake also serves, so the listening port an operation lands on
// shows which network the client routed through.
#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include "cbes/testkit/http_client.hpp"
#include "integration/couchbase/harness.hpp"

using namespace couchbase_it;
using cb::errc;

namespace {

cbes::testkit::couchbase_cluster_options external_options(std::size_t nodes,
                                                          bool separate_ports = true) {
  auto o = fake_options(nodes);
  o.external = cbes::testkit::couchbase_external_address{"localhost", separate_ports};
  return o;
}

struct fixture {
  cbes::testkit::couchbase_cluster fake;
  asio::io_context io;
  explicit fixture(cbes::testkit::couchbase_cluster_options o) : fake(std::move(o)) {
    fake.start();
  }
  ~fixture() { drain(io); }

  // Connects with `seeds` and `network`, writes and reads back documents spread over every node.
  std::shared_ptr<const cb::topology> connect_and_write(const std::string& seeds,
                                                        const std::string& network) {
    return run(io, [&]() -> asio::awaitable<std::shared_ptr<const cb::topology>> {
      auto o = client_options(fake);
      o.seeds = seeds;
      o.network = network;
      auto c = co_await cb::cluster::connect(io.get_executor(), o);
      REQUIRE(c);
      auto topo = (*c)->current_topology();
      for (int i = 0; i < 40; ++i) {
        const std::string key = network + "-" + std::to_string(i);
        auto up = co_await (*c)->upsert({}, key, R"({"i":)" + std::to_string(i) + "}");
        INFO(key);
        REQUIRE(up);
        auto got = co_await (*c)->get({}, key);
        REQUIRE(got);
        CHECK(got->value == R"({"i":)" + std::to_string(i) + "}");
      }
      (*c)->close();
      co_return topo;
    }());
  }

  std::size_t accepted_on_default_ports() const {
    std::size_t n = 0;
    for (auto id : fake.nodes())
      n += fake.kv_connections_accepted(fake.kv_port(id));
    return n;
  }
};

}  // namespace

TEST_CASE("the fake advertises alternateAddresses.external in CCCP and manager configs") {
  fixture f(external_options(2));
  REQUIRE(f.fake.external_kv_port(0) != 0);
  REQUIRE(f.fake.external_mgmt_port(1) != 0);
  CHECK(f.fake.external_kv_port(0) != f.fake.kv_port(0));
  // Manager HTTP config, on the default and the external manager port alike.
  for (auto port : {f.fake.mgmt_port(0), f.fake.external_mgmt_port(0)}) {
    auto r = cbes::testkit::http_request(
        "http://127.0.0.1:" + std::to_string(port), "GET", "/pools/default/b/default", {},
        {{"Authorization", "Basic QWRtaW5pc3RyYXRvcjpwYXNzd29yZA=="}});
    REQUIRE(r);
    REQUIRE(r->status == 200);
    const auto cfg = boost::json::parse(r->body);
    const auto& ext = cfg.at("nodesExt").as_array();
    REQUIRE(ext.size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
      INFO(i);
      CHECK(ext[i].at("hostname") == "127.0.0.1");
      const auto& alt = ext[i].at("alternateAddresses").at("external");
      CHECK(alt.at("hostname") == "localhost");
      CHECK(alt.at("ports").at("kv") == f.fake.external_kv_port(i));
      CHECK(alt.at("ports").at("mgmt") == f.fake.external_mgmt_port(i));
    }
  }
  // CCCP: the bootstrap config of a plain connection.
  run(f.io, [&]() -> asio::awaitable<void> {
    auto c = co_await cb::connection::open(f.io.get_executor(), connection_options_for(f.fake));
    REQUIRE(c);
    const auto cfg = boost::json::parse((*c)->bootstrap_config());
    const auto& ext = cfg.at("nodesExt").as_array();
    REQUIRE(ext.size() == 2);
    CHECK(ext[1].at("alternateAddresses").at("external").at("ports").at("kv") ==
          f.fake.external_kv_port(1));
    // Concrete hostnames everywhere (no "$HOST") so the client can match serverList to nodesExt.
    CHECK(cfg.at("vBucketServerMap").at("serverList").at(0).as_string() ==
          boost::json::string("127.0.0.1:" + std::to_string(f.fake.kv_port(0))));
    (*c)->close();
  }());
}

TEST_CASE("network=external routes every KV operation through the alternate addresses") {
  fixture f(external_options(2));
  auto topo = f.connect_and_write(f.fake.connection_string(), "external");
  CHECK(topo->network == "external");
  REQUIRE(topo->nodes.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    INFO(i);
    CHECK(topo->nodes[i].kv == cb::endpoint{"localhost", f.fake.external_kv_port(i)});
    REQUIRE(topo->nodes[i].manager);
    CHECK(*topo->nodes[i].manager == cb::endpoint{"localhost", f.fake.external_mgmt_port(i)});
    CHECK(f.fake.kv_connections_accepted(f.fake.external_kv_port(i)) >= 1);
  }
  // Only the bootstrap seed connection used a default-network port.
  CHECK(f.fake.kv_connections_accepted(f.fake.kv_port(0)) <= 1);
  CHECK(f.fake.kv_connections_accepted(f.fake.kv_port(1)) == 0);
}

TEST_CASE("network=auto picks external when the seed is the external hostname") {
  fixture f(external_options(2));
  auto topo =
      f.connect_and_write("localhost:" + std::to_string(f.fake.external_kv_port(0)), "auto");
  CHECK(topo->network == "external");
  CHECK(topo->nodes[1].kv == cb::endpoint{"localhost", f.fake.external_kv_port(1)});
  CHECK(f.accepted_on_default_ports() == 0);
  CHECK(f.fake.kv_connections_accepted(f.fake.external_kv_port(1)) >= 1);
}

TEST_CASE("network=default and auto with a default seed ignore the alternate addresses") {
  fixture f(external_options(2));
  for (const std::string network : {"default", "auto"}) {
    INFO(network);
    auto topo = f.connect_and_write(f.fake.connection_string(), network);
    CHECK(topo->network == "default");
    for (std::size_t i = 0; i < 2; ++i)
      CHECK(topo->nodes[i].kv == cb::endpoint{"127.0.0.1", f.fake.kv_port(i)});
  }
  CHECK(f.fake.kv_connections_accepted(f.fake.external_kv_port(0)) == 0);
  CHECK(f.fake.kv_connections_accepted(f.fake.external_kv_port(1)) == 0);
  CHECK(f.fake.kv_connections_accepted(f.fake.kv_port(1)) >= 2);
}

TEST_CASE("HTTP bootstrap through the external manager port selects the external network") {
  fixture f(external_options(2));
  auto topo = f.connect_and_write(
      "localhost:" + std::to_string(f.fake.external_mgmt_port(0)) + "=manager", "auto");
  CHECK(topo->network == "external");
  CHECK(topo->nodes[0].kv == cb::endpoint{"localhost", f.fake.external_kv_port(0)});
  CHECK(f.accepted_on_default_ports() == 0);
}

TEST_CASE("an external network without its own ports keeps the default ports") {
  fixture f(external_options(1, false));
  CHECK(f.fake.external_kv_port(0) == 0);
  auto topo = f.connect_and_write(f.fake.connection_string(), "external");
  CHECK(topo->network == "external");
  CHECK(topo->nodes[0].kv == cb::endpoint{"localhost", f.fake.kv_port(0)});
}

TEST_CASE("network=external against a cluster without alternate addresses is a clear error") {
  fixture f(fake_options(1));
  run(f.io, [&]() -> asio::awaitable<void> {
    auto o = client_options(f.fake);
    o.network = "external";
    o.http_bootstrap = false;
    auto c = co_await cb::cluster::connect(f.io.get_executor(), o);
    REQUIRE_FALSE(c);
    CHECK_THAT(c.error().message, Catch::Contains("no alternate address"));
  }());
}
