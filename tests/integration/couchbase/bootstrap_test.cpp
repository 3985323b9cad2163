#include <catch2/catch.hpp>

#include "cbes/mcbp/collection_key.hpp"
#include "integration/couchbase/harness.hpp"
#include "support/dead_port.hpp"

using namespace couchbase_it;
using cb::errc;
using cbes::mcbp::sasl_mechanism;

namespace {

struct fixture {
  cbes::testkit::couchbase_cluster fake;
  asio::io_context io;
  explicit fixture(std::size_t nodes = 1) : fake(fake_options(nodes)) { fake.start(); }
  ~fixture() { drain(io); }
};

}  // namespace

TEST_CASE("a connection bootstraps with each SCRAM mechanism the client allows") {
  fixture f;
  for (auto m :
       {sasl_mechanism::scram_sha1, sasl_mechanism::scram_sha256, sasl_mechanism::scram_sha512}) {
    INFO(cbes::mcbp::to_string(m));
    run(f.io, [&]() -> asio::awaitable<void> {
      auto o = connection_options_for(f.fake);
      o.sasl_mechanisms = {m};
      auto c = co_await cb::connection::open(f.io.get_executor(), o);
      REQUIRE(c);
      CHECK((*c)->mechanism() == m);
      CHECK((*c)->is_open());
      CHECK((*c)->bootstrap_config().find("vBucketServerMap") != std::string::npos);
      CHECK((*c)->has_feature(cbes::mcbp::feature::select_bucket));
      (*c)->close();
      CHECK_FALSE((*c)->is_open());
    }());
  }
}

TEST_CASE("the strongest offered SCRAM mechanism is chosen by default") {
  fixture f;
  run(f.io, [&]() -> asio::awaitable<void> {
    auto c = co_await cb::connection::open(f.io.get_executor(), connection_options_for(f.fake));
    REQUIRE(c);
    CHECK((*c)->mechanism() == sasl_mechanism::scram_sha512);
  }());
}

TEST_CASE("PLAIN is refused on plain TCP unless explicitly allowed") {
  fixture f;
  run(f.io, [&]() -> asio::awaitable<void> {
    auto o = connection_options_for(f.fake);
    o.sasl_mechanisms = {sasl_mechanism::plain};
    auto refused = co_await cb::connection::open(f.io.get_executor(), o);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == errc::no_sasl_mechanism);
    CHECK(refused.error().message.find("TLS") != std::string::npos);

    o.allow_plain_without_tls = true;
    auto allowed = co_await cb::connection::open(f.io.get_executor(), o);
    REQUIRE(allowed);
    CHECK((*allowed)->mechanism() == sasl_mechanism::plain);
  }());
}

TEST_CASE("a wrong password gives the one-line authentication error for every mechanism") {
  fixture f;
  for (auto m : {sasl_mechanism::plain, sasl_mechanism::scram_sha1, sasl_mechanism::scram_sha512}) {
    run(f.io, [&]() -> asio::awaitable<void> {
      auto o = client_options(f.fake);
      o.password = "wrong";
      o.sasl_mechanisms = {m};
      o.allow_plain_without_tls = true;
      auto c = co_await cb::cluster::connect(f.io.get_executor(), o);
      REQUIRE_FALSE(c);
      CHECK(c.error().code == errc::authentication_failed);
      CHECK(c.error().message ==
            "authentication failed for user 'Administrator' — check couchbase.username / "
            "pathToPassword");
    }());
  }
}

TEST_CASE("an unknown user is an authentication failure too") {
  fixture f;
  run(f.io, [&]() -> asio::awaitable<void> {
    auto o = client_options(f.fake);
    o.username = "nobody";
    auto c = co_await cb::cluster::connect(f.io.get_executor(), o);
    REQUIRE_FALSE(c);
    CHECK(c.error().code == errc::authentication_failed);
    CHECK(c.error().message.find("'nobody'") != std::string::npos);
  }());
}

TEST_CASE("an unknown bucket gives a clear bucket error") {
  fixture f;
  run(f.io, [&]() -> asio::awaitable<void> {
    auto o = client_options(f.fake);
    o.bucket = "nosuchbucket";
    auto c = co_await cb::cluster::connect(f.io.get_executor(), o);
    REQUIRE_FALSE(c);
    CHECK(c.error().code == errc::bucket_not_found);
    CHECK(c.error().message.find("'nosuchbucket'") != std::string::npos);
    CHECK(c.error().message.find("couchbase.bucket") != std::string::npos);
  }());
}

TEST_CASE("a refused seed is skipped and the next seed bootstraps") {
  fixture f;
  run(f.io, [&]() -> asio::awaitable<void> {
    const auto dead = cbes::test::dead_port();
    auto o = client_options(f.fake);
    o.seeds = "127.0.0.1:" + std::to_string(dead) +
              "=kv,127.0.0.1:" + std::to_string(f.fake.kv_port()) + "=kv";
    auto c = co_await cb::cluster::connect(f.io.get_executor(), o);
    REQUIRE(c);
    CHECK((*c)->current_topology()->num_vbuckets() == 64);
  }());
}

TEST_CASE("no reachable seed gives one error naming every seed") {
  fixture f;
  run(f.io, [&]() -> asio::awaitable<void> {
    asio::ip::tcp::acceptor a(f.io, {asio::ip::make_address("127.0.0.1"), 0});
    const auto dead = std::to_string(a.local_endpoint().port());
    a.close();
    auto o = client_options(f.fake);
    o.seeds = "127.0.0.1:" + dead + "=kv,127.0.0.1:" + dead + "=manager";
    auto c = co_await cb::cluster::connect(f.io.get_executor(), o);
    REQUIRE_FALSE(c);
    CHECK(c.error().code == errc::connection_failed);
    CHECK(c.error().message.find("127.0.0.1:" + dead) != std::string::npos);
    CHECK(c.error().message.find("http://127.0.0.1:" + dead) != std::string::npos);
  }());
}

TEST_CASE("bootstrap falls back to the manager's HTTP config when only a manager seed is given") {
  fixture f(2);
  run(f.io, [&]() -> asio::awaitable<void> {
    auto o = client_options(f.fake);
    o.seeds = "127.0.0.1:" + std::to_string(f.fake.mgmt_port()) + "=manager";
    auto c = co_await cb::cluster::connect(f.io.get_executor(), o);
    REQUIRE(c);
    auto topo = (*c)->current_topology();
    REQUIRE(topo->nodes.size() == 2);
    CHECK(topo->nodes[0].kv.port == f.fake.kv_port(0));
    CHECK(topo->nodes[1].kv.port == f.fake.kv_port(1));
    auto awaited1 = co_await (*c)->upsert({}, "via-http", R"({"ok":true})");
    REQUIRE(awaited1);
    CHECK(f.fake.get("default", "via-http"));
  }());
}

TEST_CASE("HTTP bootstrap reports wrong credentials as an authentication failure") {
  fixture f;
  run(f.io, [&]() -> asio::awaitable<void> {
    auto o = client_options(f.fake);
    o.seeds = "127.0.0.1:" + std::to_string(f.fake.mgmt_port()) + "=manager";
    o.password = "wrong";
    auto c = co_await cb::cluster::connect(f.io.get_executor(), o);
    REQUIRE_FALSE(c);
    CHECK(c.error().code == errc::authentication_failed);
  }());
}

TEST_CASE("bad seed lists are refused before any connection") {
  fixture f;
  run(f.io, [&]() -> asio::awaitable<void> {
    auto o = client_options(f.fake);
    o.seeds = "127.0.0.1:notaport";
    auto c = co_await cb::cluster::connect(f.io.get_executor(), o);
    REQUIRE_FALSE(c);
    CHECK(c.error().code == errc::invalid_argument);
  }());
}

TEST_CASE("pipelined requests on one connection each get their own response") {
  fixture f;
  f.fake.upsert("default", "p", "v");
  run(f.io, [&]() -> asio::awaitable<void> {
    auto c = co_await cb::connection::open(f.io.get_executor(), connection_options_for(f.fake));
    REQUIRE(c);
    auto conn = *c;
    const auto vb = f.fake.vbucket_of("default", "p");
    int done = 0, ok = 0;
    for (int i = 0; i < 50; ++i) {
      asio::co_spawn(
          f.io,
          [&, i]() -> asio::awaitable<void> {
            // Alternate a hit and a miss so mixed-up opaques would show as wrong statuses.
            const std::string key = i % 2 ? "p" : "missing";
            const std::string wire = conn->has_feature(cbes::mcbp::feature::collections)
                                         ? cbes::mcbp::encode_collection_key(0, key)
                                         : key;
            auto b = cbes::mcbp::get_request{wire}.encode().vbucket(
                i % 2 ? vb : f.fake.vbucket_of("default", "missing"));
            auto r = co_await conn->execute(std::move(b), 20s);
            if (r && r->view().status() ==
                         (i % 2 ? cbes::mcbp::status::success : cbes::mcbp::status::key_enoent))
              ++ok;
            ++done;
          },
          asio::detached);
    }
    auto awaited2 = co_await eventually([&] { return done == 50; });
    CHECK(awaited2);
    CHECK(ok == 50);
  }());
}

TEST_CASE("a request without an answer times out and later requests still work") {
  fixture f;
  run(f.io, [&]() -> asio::awaitable<void> {
    auto c = co_await cb::connection::open(f.io.get_executor(), connection_options_for(f.fake));
    REQUIRE(c);
    f.fake.delay_responses(2000ms);
    auto slow =
        co_await (*c)->execute(cbes::mcbp::frame_builder::request(cbes::mcbp::opcode::noop), 50ms);
    REQUIRE_FALSE(slow);
    CHECK(slow.error().code == errc::timeout);
    f.fake.delay_responses(0ms);
    auto fine =
        co_await (*c)->execute(cbes::mcbp::frame_builder::request(cbes::mcbp::opcode::noop), 30s);
    REQUIRE(fine);
    CHECK(fine->view().status() == cbes::mcbp::status::success);
  }());
}

TEST_CASE("a dropped connection fails pending requests and reports the close") {
  fixture f;
  run(f.io, [&]() -> asio::awaitable<void> {
    auto c = co_await cb::connection::open(f.io.get_executor(), connection_options_for(f.fake));
    REQUIRE(c);
    bool closed = false;
    (*c)->on_close([&](const cb::error& e) {
      closed = true;
      CHECK(e.code == errc::connection_closed);
    });
    f.fake.drop_connections();
    auto awaited3 = co_await eventually([&] { return closed; });
    CHECK(awaited3);
    CHECK_FALSE((*c)->is_open());
    auto r =
        co_await (*c)->execute(cbes::mcbp::frame_builder::request(cbes::mcbp::opcode::noop), 1s);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::connection_closed);
  }());
}

TEST_CASE("cluster_uuid() reads the uuid of the cluster manager's GET /pools") {
  fixture f(2);
  run(f.io, [&]() -> asio::awaitable<void> {
    auto c = co_await cb::cluster::connect(f.io.get_executor(), client_options(f.fake));
    REQUIRE(c);
    auto uuid = co_await (*c)->cluster_uuid();
    REQUIRE(uuid);
    CHECK(*uuid == "cbes-fake-cluster");  // the fake's /pools answer
    (*c)->close();
  }());
}
