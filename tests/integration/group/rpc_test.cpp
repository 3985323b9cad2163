#include <catch2/catch.hpp>

#include <regex>
#include <string>
#include <vector>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/json.hpp>

#include "cbes/group/endpoint_document.hpp"
#include "integration/group/harness.hpp"

using namespace group_it;
using cbes::group::rpc_client;
using cbes::group::rpc_server;
namespace json = boost::json;

namespace {
const std::string node1 = "node1::127.0.0.1::g";
const std::string node2 = "node2::127.0.0.2::g";

asio::awaitable<cbes::group::result<std::string>> echo(std::string params) {
  co_return params;
}

json::object parse_object(const std::string& text) {
  return json::parse(text).as_object();
}

bool has_responses(const std::optional<consul::kv_pair>& p) {
  if (!p)
    return false;
  const auto doc = json::parse(p->value).as_object();
  return doc.contains("responses") && !doc.at("responses").as_array().empty();
}

bool has_requests(const std::optional<consul::kv_pair>& p) {
  if (!p || p->value.empty())
    return false;
  const auto doc = json::parse(p->value).as_object();
  return doc.contains("requests") && !doc.at("requests").as_array().empty();
}

// One KV write that must succeed. Assertions take its outcome from a named local: under GCC 12,
// REQUIRE(*co_await put(...)) ran the put twice (a second write raced the server's answer).
asio::awaitable<bool> put_ok(consul::client& c, std::string key, std::string value,
                             consul::kv_put_options o) {
  auto r = co_await c.kv().put(std::move(key), std::move(value), o);
  co_return r&&* r;
}

// The key holds an endpoint document with nothing waiting in it.
bool idle(const std::optional<consul::kv_pair>& p) {
  return p && !has_requests(p) && !has_responses(p);
}
}  // namespace

TEST_CASE("rpc round trip: the handler's result comes back and the document is left empty") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  std::optional<rpc_server> server;
  outcome served;
  run(f.io, [&]() -> asio::awaitable<void> {
    const std::string session = co_await new_session(c);
    server.emplace(c, server_options(node1, session));
    server->add("worker.echo", echo);
    served = co_await bind_and_serve(f.io, *server);
    rpc_client rpc(c, group);
    auto r = co_await rpc.call(node1, "worker.echo", R"([{"memberNumber":1,"clusterSize":2},"x"])");
    REQUIRE(r);
    CHECK(*r == R"([{"memberNumber":1,"clusterSize":2},"x"])");
    auto ready = co_await rpc.call(cbes::group::rpc_key(group, node1), "worker.ready", "[]");
    REQUIRE(ready);
    CHECK(*ready == "true");
    auto doc = co_await wait_for(c, server->key(), idle);
    CHECK(doc->session == session);  // still the worker's: clients never re-create it
    CHECK(server->answered() == 2);
  }());
  stop(f.io, c, served);
}

TEST_CASE("rpc: two clients calling one server at the same time are both answered") {
  using namespace boost::asio::experimental::awaitable_operators;
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  consul::client c1(f.io.get_executor(), options_for(f.agent));
  consul::client c2(f.io.get_executor(), options_for(f.agent));
  std::optional<rpc_server> server;
  outcome served;
  run(f.io, [&]() -> asio::awaitable<void> {
    server.emplace(c, server_options(node1, co_await new_session(c)));
    server->add("worker.echo", echo);
    served = co_await bind_and_serve(f.io, *server);
    rpc_client a(c1, group);
    rpc_client b(c2, group);
    auto [ra, rb] = co_await (a.call(node1, "worker.echo", R"(["a"])") &&
                              b.call(node1, "worker.echo", R"(["b"])"));
    REQUIRE(ra);
    REQUIRE(rb);
    CHECK(*ra == R"(["a"])");
    CHECK(*rb == R"(["b"])");
    CHECK(server->answered() == 2);
  }());
  stop(f.io, c, served);
}

TEST_CASE("rpc server answers a request written by hand in the Java client's shape") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  std::optional<rpc_server> server;
  outcome served;
  run(f.io, [&]() -> asio::awaitable<void> {
    server.emplace(c, server_options(node1, co_await new_session(c)));
    server->add("worker.status",
                [](std::string) -> asio::awaitable<cbes::group::result<std::string>> {
                  co_return std::string(R"({"membership":{"memberNumber":2,"clusterSize":3}})");
                });
    served = co_await bind_and_serve(f.io, *server);
    // What the Java client writes: the document read, with its request appended, CAS.
    auto before = co_await c.kv().get(server->key());
    REQUIRE(before);
    REQUIRE(before->value);
    CHECK(before->value->value == "{}");
    const std::string id = "3f0c1f9e-8f5d-4bb4-9a4e-5f8b0c2d7e11#12::worker.status";
    const std::string java_doc =
        "{\n  \"requests\" : [ {\n    \"jsonrpc\" : \"2.0\",\n    \"id\" : \"" + id +
        "\",\n    \"method\" : \"worker.status\",\n    \"params\" : [ ]\n"
        "  } ]\n}";
    consul::kv_put_options cas;
    cas.cas = before->value->modify_index;
    const bool request_written = co_await put_ok(c, server->key(), java_doc, cas);
    REQUIRE(request_written);
    auto after = co_await wait_for(c, server->key(), has_responses);
    const auto doc = parse_object(after->value);
    CHECK(doc.at("requests").as_array().empty());
    const auto& responses = doc.at("responses").as_array();
    REQUIRE(responses.size() == 1);
    const auto& response = responses[0].as_object();
    CHECK(response.at("jsonrpc") == "2.0");
    CHECK(response.at("id") == json::value(id));
    CHECK(response.at("result") ==
          json::parse(R"({"membership":{"memberNumber":2,"clusterSize":3}})"));
    CHECK(response.at("timestamp").is_int64());
    CHECK_FALSE(response.contains("error"));
    // An unknown method is answered with JSON-RPC's error object, as therapi does.
    consul::kv_put_options cas2;
    cas2.cas = after->modify_index;
    const std::string unknown =
        R"({"requests":[{"jsonrpc":"2.0","id":"x#1::worker.nope","method":"worker.nope","params":[]}],"responses":[]})";
    const bool unknown_written = co_await put_ok(c, server->key(), unknown, cas2);
    REQUIRE(unknown_written);
    auto failed = co_await wait_for(c, server->key(), has_responses);
    const auto error = parse_object(failed->value).at("responses").as_array()[0].as_object();
    CHECK(error.at("id") == "x#1::worker.nope");
    CHECK(error.at("error").as_object().at("code") == -32601);
    CHECK_FALSE(error.contains("result"));
  }());
  stop(f.io, c, served);
}

TEST_CASE("rpc client reads the Java server's pretty-printed responses, results and errors") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  consul::client hand(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    const std::string key = cbes::group::rpc_key(group, node1);
    consul::kv_put_options acquire;
    acquire.acquire = co_await new_session(hand);
    const bool bound = co_await put_ok(hand, key, "{}", acquire);
    REQUIRE(bound);
    rpc_client rpc(c, group);
    // The "server": answers the one request it sees the way the Java server writes its doc.
    const auto answer_as_java = [&](std::string body) -> asio::awaitable<std::string> {
      auto pending = co_await wait_for(hand, key, has_requests);
      const auto request = parse_object(pending->value).at("requests").as_array()[0].as_object();
      CHECK(request.at("jsonrpc") == "2.0");
      CHECK(request.at("params").is_array());
      const std::string id(request.at("id").as_string());
      const std::string method(request.at("method").as_string());
      CHECK(std::regex_match(id, std::regex("[0-9a-f-]{36}#[0-9]+::" + method)));
      CHECK(id.substr(0, 36) == rpc_client::process_id());
      const std::string doc =
          "{\n  \"requests\" : [ ],\n  \"responses\" : [ {\n    \"jsonrpc\" : "
          "\"2.0\",\n    \"id\" : \"" +
          id + "\",\n    " + body + ",\n    \"timestamp\" : 987654321\n  } ]\n}";
      consul::kv_put_options cas;
      cas.cas = pending->modify_index;
      const bool answered = co_await put_ok(hand, key, doc, cas);
      CHECK(answered);
      co_return id;
    };
    using namespace boost::asio::experimental::awaitable_operators;
    auto [status, id] = co_await (rpc.call(node1, "worker.status", "[]") &&
                                  answer_as_java("\"result\" : {\n  \"membership\" : null\n}"));
    REQUIRE(status);
    CHECK(json::parse(*status) == json::parse(R"({"membership":null})"));
    // The client removed its response.
    auto cleaned = co_await wait_for(hand, key, idle);
    CHECK(cleaned);

    auto [failed, id2] = co_await (
        rpc.call(node1, "worker.stopStreaming", "[]") &&
        answer_as_java(
            "\"error\" : {\n  \"code\" : -32603,\n  \"message\" : \"Internal error\",\n"
            "  \"data\" : {\"detail\" : {\"exception\" : \"java.lang.IllegalStateException: "
            "nope\", \"stackTrace\" : \"at x\"}}\n}"));
    REQUIRE_FALSE(failed);
    CHECK(failed.error().code == errc::remote_error);
    CHECK(failed.error().rpc_code == -32603);
    CHECK(failed.error().message == "Internal error");
    CHECK(
        json::parse(failed.error().rpc_data).as_object().at("detail").as_object().at("exception") ==
        "java.lang.IllegalStateException: nope");
    CHECK(id2 != id);
  }());
  cbes::test::drain(f.io);
}

TEST_CASE(
    "rpc call to an endpoint whose document never appears: endpoint document does not exist") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    rpc_client rpc(c, group);
    auto r = co_await rpc.call(node2, "worker.ping", "[]", 300ms);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::endpoint_absent);
    CHECK_THAT(r.error().message, Catch::Contains("endpoint document does not exist"));
    // Never created by the caller: the document belongs to the worker's session.
    auto doc = co_await c.kv().get(cbes::group::rpc_key(group, node2));
    CHECK_FALSE(doc->value);
  }());
}

TEST_CASE(
    "rpc call whose server's session is destroyed mid-call: endpoint document does not exist") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  consul::client caller(f.io.get_executor(), options_for(f.agent));
  std::optional<rpc_server> server;
  outcome served;
  run(f.io, [&]() -> asio::awaitable<void> {
    const std::string session = co_await new_session(c);
    server.emplace(c, server_options(node1, session));
    // The worker dies while handling the call: Consul deletes the keys its session held.
    server->add("worker.die",
                [&c, &session](std::string) -> asio::awaitable<cbes::group::result<std::string>> {
                  auto destroyed = co_await c.session().destroy(session);
                  REQUIRE(destroyed);
                  co_return std::string("null");
                });
    served = co_await bind_and_serve(f.io, *server);
    rpc_client rpc(caller, group);
    auto r = co_await rpc.call(node1, "worker.die", "[]", 10s);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::endpoint_absent);
    CHECK_THAT(r.error().message, Catch::Contains("endpoint document does not exist"));
  }());
  stop(f.io, c, served);
}

TEST_CASE("rpc call nobody answers ends with RPC endpoint operation timed out") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    const std::string key = cbes::group::rpc_key(group, node1);
    consul::kv_put_options acquire;
    acquire.acquire = co_await new_session(c);
    const bool bound = co_await put_ok(c, key, "{}", acquire);  // bound, but nobody serves it
    REQUIRE(bound);
    rpc_client rpc(c, group);
    const auto start = std::chrono::steady_clock::now();
    auto r = co_await rpc.call(node1, "worker.ping", "[]", 400ms);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::timeout);
    CHECK_THAT(r.error().message, Catch::Contains("RPC endpoint operation timed out"));
    CHECK(std::chrono::steady_clock::now() - start >= 400ms);
  }());
}

TEST_CASE("rpc server drops responses older than the maximum age when it writes") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  std::optional<rpc_server> server;
  outcome served;
  run(f.io, [&]() -> asio::awaitable<void> {
    auto o = server_options(node1, co_await new_session(c));
    o.response_ttl = 1min;
    server.emplace(c, o);
    REQUIRE(co_await server->bind());
    // Left behind by clients that gave up: one written long ago by the server's monotonic
    // clock, one written "now" (this process shares the server's clock).
    const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::steady_clock::now().time_since_epoch());
    const auto fresh = std::to_string(now.count());
    const auto stale = std::to_string((now - 2min).count());
    const std::string leftovers =
        R"({"requests":[],"responses":[{"jsonrpc":"2.0","id":"stale","result":null,"timestamp":)" +
        stale + R"(},{"jsonrpc":"2.0","id":"fresh","result":null,"timestamp":)" + fresh + "}]}";
    const bool leftovers_written =
        co_await put_ok(c, server->key(), leftovers, consul::kv_put_options());
    REQUIRE(leftovers_written);
    served = spawn_serve(f.io, *server);
    rpc_client rpc(c, group);
    REQUIRE(co_await rpc.call(node1, "worker.ping", "[]"));
    auto doc = co_await c.kv().get(server->key());
    const auto responses = parse_object(doc->value->value).at("responses").as_array();
    REQUIRE(responses.size() == 1);
    CHECK(responses[0].as_object().at("id") == "fresh");
  }());
  stop(f.io, c, served);
}

TEST_CASE("rpc bind fails with endpoint already in use while another session holds the key") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  run(f.io, [&]() -> asio::awaitable<void> {
    const std::string key = cbes::group::rpc_key(group, node1);
    consul::kv_put_options acquire;
    acquire.acquire = co_await new_session(c);
    const bool held = co_await put_ok(c, key, "{}", acquire);
    REQUIRE(held);
    rpc_server server(c, server_options(node1, co_await new_session(c)));
    auto b = co_await server.bind();
    REQUIRE_FALSE(b);
    CHECK(b.error().code == errc::endpoint_in_use);
    CHECK_THAT(b.error().message, Catch::Contains("has not expired yet"));
    CHECK_THAT(b.error().message, Catch::Contains("--service-id"));
    auto s = co_await server.serve();
    REQUIRE_FALSE(s);
    CHECK(s.error().code == errc::endpoint_in_use);
  }());
}

TEST_CASE("rpc server resets a garbage endpoint document with one warning and keeps answering") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  std::optional<rpc_server> server;
  outcome served;
  std::vector<std::string> warnings;
  run(f.io, [&]() -> asio::awaitable<void> {
    auto o = server_options(node1, co_await new_session(c));
    o.on_warning = [&warnings](std::string_view line) { warnings.emplace_back(line); };
    server.emplace(c, o);
    served = co_await bind_and_serve(f.io, *server);
    auto written = co_await c.kv().put(server->key(), "this is not json {");
    REQUIRE(written);
    REQUIRE(*written);
    const std::function<bool(const std::optional<consul::kv_pair>&)> emptied =
        [](const std::optional<consul::kv_pair>& p) { return p && p->value == "{}"; };
    auto reset = co_await wait_for(c, server->key(), emptied);
    CHECK_FALSE(reset->session.empty());  // the reset keeps the worker's lock
    rpc_client rpc(c, group);
    auto r = co_await rpc.call(node1, "worker.ready", "[]");
    REQUIRE(r);
    CHECK(*r == "true");
    for (const auto& w : warnings)
      UNSCOPED_INFO(w);
    REQUIRE(warnings.size() == 1);
    CHECK_THAT(warnings[0], Catch::Contains("not a JSON object"));
  }());
  stop(f.io, c, served);
}

TEST_CASE("rpc call survives a burst of Consul 500 answers (reads and CAS writes retried)") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  consul::client caller(f.io.get_executor(), options_for(f.agent));
  std::optional<rpc_server> server;
  outcome served;
  run(f.io, [&]() -> asio::awaitable<void> {
    server.emplace(c, server_options(node1, co_await new_session(c)));
    server->add("worker.echo", echo);
    served = co_await bind_and_serve(f.io, *server);
    rpc_client rpc(caller, group);
    for (int burst = 1; burst <= 4; ++burst) {
      f.agent.fail_next_requests(burst, 500);
      auto r = co_await rpc.call(node1, "worker.echo", "[" + std::to_string(burst) + "]");
      REQUIRE(r);
      CHECK(*r == "[" + std::to_string(burst) + "]");
    }
  }());
  stop(f.io, c, served);
}

TEST_CASE("rpc unbind deletes the endpoint key and ends serve") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  std::optional<rpc_server> server;
  outcome served;
  run(f.io, [&]() -> asio::awaitable<void> {
    server.emplace(c, server_options(node1, co_await new_session(c)));
    served = co_await bind_and_serve(f.io, *server);
    rpc_client rpc(c, group);
    REQUIRE(co_await rpc.call(node1, "worker.ping", "[]"));  // serving
    REQUIRE(co_await server->unbind());
    auto doc = co_await c.kv().get(server->key());
    CHECK_FALSE(doc->value);
    // Not the owner any more: 409, ignored.
    CHECK(co_await server->unbind());
  }());
  f.io.restart();
  for (int i = 0; i < 300 && !*served; ++i)
    f.io.run_one_for(100ms);
  REQUIRE(*served);
  CHECK(**served);
  c.close();
  cbes::test::drain(f.io);
}

TEST_CASE("rpc broadcast calls every endpoint of the group and keys the results by endpoint id") {
  agent_fixture f;
  consul::client c(f.io.get_executor(), options_for(f.agent));
  std::optional<rpc_server> one;
  std::optional<rpc_server> two;
  outcome served_one;
  outcome served_two;
  run(f.io, [&]() -> asio::awaitable<void> {
    one.emplace(c, server_options(node1, co_await new_session(c)));
    two.emplace(c, server_options(node2, co_await new_session(c)));
    two->add("worker.stopped",
             [](std::string) -> asio::awaitable<cbes::group::result<std::string>> {
               co_return std::string("false");
             });
    one->add("worker.stopped",
             [](std::string) -> asio::awaitable<cbes::group::result<std::string>> {
               co_return std::string("true");
             });
    served_one = co_await bind_and_serve(f.io, *one);
    served_two = co_await bind_and_serve(f.io, *two);
    rpc_client rpc(c, group);
    auto all = co_await rpc.broadcast("worker.stopped", "[]");
    REQUIRE(all);
    REQUIRE(all->size() == 2);
    CHECK(*all->at(node1) == "true");
    CHECK(*all->at(node2) == "false");
    REQUIRE(co_await two->unbind());
    auto fewer = co_await rpc.broadcast("worker.ready", "[]");
    REQUIRE(fewer);
    CHECK(fewer->size() == 1);
    CHECK(fewer->count(node1) == 1);
  }());
  stop(f.io, c, served_one);
  REQUIRE(*served_two);
}
