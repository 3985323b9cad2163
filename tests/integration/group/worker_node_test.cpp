// A group worker (cbes::group::worker_node with the real connector) against the fake Consul
// agent, Couchbase cluster and Elasticsearch: granted vbuckets stream into Elasticsearch, the
// worker answers for itself over the RPC protocol, stale generations are refused, the kill
// switch stops streaming when Consul goes quiet, and a graceful shutdown leaves nothing behind.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cbes/group/connector_streamer.hpp"
#include "cbes/group/worker_node.hpp"
#include "cbes/testkit/couchbase_cluster.hpp"
#include "cbes/testkit/elasticsearch.hpp"
#include "cbes/util/redaction.hpp"
#include "integration/couchbase/harness.hpp"
#include "integration/group/harness.hpp"
#include "support/eventually.hpp"

using namespace group_it;
namespace fs = std::filesystem;

namespace {

constexpr std::uint16_t vbuckets = 16;

struct fixture {
  cbes::testkit::consul_agent agent;
  cbes::testkit::couchbase_cluster couchbase{couchbase_it::fake_options(1, vbuckets)};
  cbes::testkit::elasticsearch es;
  asio::io_context io;
  std::optional<consul::client> consul;
  fs::path dir = fs::temp_directory_path() / ("cbes-node-" + std::to_string(::getpid()));

  fixture() {
    agent.start();
    couchbase.start();
    es.start();
    auto o = options_for(agent);
    o.request_timeout = 500ms;  // a frozen agent must fail heartbeats quickly
    o.retry_deadline = 200ms;
    consul.emplace(io.get_executor(), o);
    fs::create_directories(dir);
    std::ofstream(dir / "cb.toml") << "password = 'password'\n";
    std::ofstream(dir / "es.toml") << "password = ''\n";
  }
  ~fixture() {
    consul->close();
    cbes::test::drain(io);
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  // The group's connector config, as the leader sends it in worker.grant.
  std::string config() const {
    return "[group]\nname = 'node-group'\n[group.static]\nmemberNumber = 1\ntotalMembers = 1\n"
           "[logging]\nredactionLevel = 'PARTIAL'\n"
           "[couchbase]\nhosts = ['127.0.0.1:" +
           std::to_string(couchbase.kv_port(0)) +
           "=kv']\nbucket = 'default'\nusername = 'Administrator'\n"
           "pathToPassword = '" +
           (dir / "cb.toml").string() +
           "'\n"
           "[elasticsearch]\nhosts = ['" +
           es.url() + "']\npathToPassword = '" + (dir / "es.toml").string() +
           "'\n"
           "[[elasticsearch.type]]\nprefix = ''\nindex = 'docs'\n";
  }

  // A JSON string literal of `s` (the config's quotes and newlines escaped).
  static std::string quoted(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\')
        out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    return out + "\"";
  }

  std::string grant(std::uint64_t generation, const std::string& vbs) const {
    return R"([{"generation":)" + std::to_string(generation) + R"(,"vbuckets":)" + vbs +
           R"(,"config":)" + quoted(config()) + "}]";
  }

  cbes::group::worker_node_options node_options() const {
    cbes::group::worker_node_options o;
    o.member.group = "node-group";
    o.member.heartbeat = 1000ms;
    o.member.retry = 50ms;
    o.member.kill_switch = 1500ms;
    o.member.deregister_critical_service_after = std::chrono::minutes(5);
    o.rpc_wait = 5s;
    o.rpc_retry = 50ms;
    return o;
  }

  std::shared_ptr<cbes::group::worker_node> start_node() {
    auto s = std::make_shared<cbes::group::connector_streamer>(io.get_executor(), nullptr);
    auto node = run(io, cbes::group::worker_node::start(*consul, node_options(), s));
    INFO((node ? std::string() : node.error().what()));
    REQUIRE(node);
    asio::co_spawn(io, (*node)->run(), asio::detached);
    return *node;
  }

  // Documents the fake holds in vbuckets [0, upto).
  std::size_t documents_below(std::uint16_t upto) const {
    std::size_t n = 0;
    for (std::uint16_t vb = 0; vb < upto; ++vb)
      for (const auto& item : couchbase.history("default", vb))
        if (!item.key.starts_with("_connector:"))
          ++n;
    return n;
  }

  bool until(std::function<bool()> pred, std::chrono::milliseconds limit = 30s) {
    return run(io, couchbase_it::eventually(std::move(pred), limit));
  }

  cbes::group::result<std::string> call(const std::string& endpoint, const std::string& method,
                                        const std::string& params) {
    cbes::group::rpc_client rpc(*consul, "node-group");
    return run(io, rpc.call(endpoint, method, params, 20s));
  }
};

}  // namespace

TEST_CASE("worker_node: granted vbuckets stream, status, release and stale generations over RPC") {
  fixture f;
  f.couchbase.load_sample(400);
  auto node = f.start_node();
  const auto id = node->endpoint_id();
  auto granted = f.call(id, "worker.grant", f.grant(1, "[0,1,2,3,4,5,6,7]"));
  INFO((granted ? *granted : granted.error().what() + " " + granted.error().rpc_data));
  REQUIRE(granted);
  CHECK(*granted == R"({"vbuckets":[0,1,2,3,4,5,6,7]})");
  // The group's [logging] redactionLevel is in force in the worker process (it learns its
  // config from the grant, not at start).
  CHECK(cbes::util::current_redaction() == cbes::util::redaction::partial);
  const auto expected = f.documents_below(8);
  REQUIRE(expected > 0);
  REQUIRE(f.until([&] { return f.es.document_count("docs") == expected; }));
  // Once the connector has settled what Elasticsearch answered: nothing left behind, and every
  // document counted as written.
  const std::string settled =
      R"({"membership":null,"generation":1,"vbuckets":[0,1,2,3,4,5,6,7],"paused":false,)"
      R"("configDigest":")" +
      cbes::group::config_digest(f.config()) + R"(","backlog":0,"written":)" +
      std::to_string(expected) + "}";
  std::string status;
  CHECK(cbes::test::eventually(
      [&] {
        status = f.call(id, "worker.status", "[]").value();
        return status == settled;
      },
      30s, 100ms));
  CHECK(status == settled);
  CHECK(f.call(id, "worker.stopped", "[]").value() == "false");

  auto released = f.call(id, "worker.release", R"([{"generation":2,"vbuckets":[4,5,6,7]}])");
  REQUIRE(released);
  CHECK(*released == R"({"released":[4,5,6,7],"vbuckets":[0,1,2,3]})");
  auto stale = f.call(id, "worker.grant", f.grant(1, "[9]"));
  REQUIRE_FALSE(stale);
  CHECK(stale.error().rpc_code == -32602);
  CHECK(stale.error().rpc_data.find("stale generation 1") != std::string::npos);
  CHECK(f.call(id, "worker.status", "[]").value().find(R"("vbuckets":[0,1,2,3])") !=
        std::string::npos);

  run(f.io, node->shutdown());
  run(f.io, [&]() -> asio::awaitable<void> {
    auto services = co_await f.consul->agent().services();
    REQUIRE(services);
    CHECK(services->count("node-group") == 0);
    auto key = co_await f.consul->kv().get(cbes::group::rpc_key("node-group", id));
    REQUIRE(key);
    CHECK_FALSE(key->value.has_value());
    // What it streamed when it left, recorded for the leader (layout.hpp, released_key).
    auto record = co_await f.consul->kv().get(cbes::group::released_key("node-group", id));
    REQUIRE(record);
    REQUIRE(record->value.has_value());
    CHECK(record->value->value == R"({"vbuckets":[0,1,2,3]})");
  }());
}

TEST_CASE("worker_node: the kill switch stops streaming when Consul stops answering") {
  fixture f;
  f.couchbase.load_sample(50);
  auto node = f.start_node();
  REQUIRE(f.call(node->endpoint_id(), "worker.grant", f.grant(1, "[0,1,2,3]")));
  CHECK(f.call(node->endpoint_id(), "worker.stopped", "[]").value() == "false");
  f.agent.freeze(true);
  // No heartbeat can succeed: within the kill switch (1.5 s) the worker stops on its own.
  REQUIRE(f.until([&] { return node->service().paused(); }, 10s));
  CHECK_FALSE(node->presence().alive());
  CHECK(node->service().status_json().find(R"("vbuckets":[])") != std::string::npos);
  f.agent.freeze(false);
  REQUIRE(f.until([&] { return node->presence().alive(); }, 10s));
  run(f.io, node->shutdown());
}

TEST_CASE("worker_node: a session destroyed under it ends nothing: it joins again and binds anew") {
  fixture f;
  std::vector<std::string> lines;
  auto options = f.node_options();
  // The old server is still trying to bind its key again (lock-delay) when the member has
  // joined again: the node replaces it mid-way.
  options.member.lock_delay = 3s;
  options.member.log = [&](std::string_view level, std::string_view line) {
    lines.push_back(std::string(level) + ": " + std::string(line));
  };
  auto started = run(
      f.io, cbes::group::worker_node::start(
                *f.consul, options,
                std::make_shared<cbes::group::connector_streamer>(f.io.get_executor(), nullptr)));
  REQUIRE(started);
  auto node = *started;
  bool ended = false;
  std::string why;
  asio::co_spawn(f.io, node->run(), [&](std::exception_ptr, cbes::group::result<void> r) {
    ended = true;
    why = r ? "ended without an error" : r.error().what();
  });
  const auto id = node->endpoint_id();
  const auto key = cbes::group::rpc_key("node-group", id);
  std::string first_session;
  bool rebound = false;
  run(f.io, [&]() -> asio::awaitable<void> {
    auto bound = co_await f.consul->kv().get(key);
    REQUIRE(bound);
    REQUIRE(bound->value.has_value());
    first_session = bound->value->session;
    REQUIRE_FALSE(first_session.empty());
    // The endpoint key goes with its session (behaviour delete) at once, so the endpoint's
    // serve() ends before the member's next heartbeat finds the session gone.
    auto destroyed = co_await f.consul->session().destroy(first_session);
    REQUIRE(destroyed);
    std::uint64_t index = 0;
    for (int i = 0; i < 20 && !rebound; ++i) {
      consul::query_options q;
      q.index = index;
      q.wait = 2s;
      auto k = co_await f.consul->kv().get(key, q);
      REQUIRE(k);
      index = k->meta.index;
      rebound = k->value && !k->value->session.empty() && k->value->session != first_session;
    }
  }());
  CHECK(rebound);
  INFO(why);
  for (const auto& l : lines)
    UNSCOPED_INFO(l);
  CHECK_FALSE(ended);
  auto status = f.call(id, "worker.status", "[]");
  CHECK(status);
  run(f.io, node->shutdown());
}
