#include <catch2/catch.hpp>

#include "integration/testkit/consul/fixture.hpp"

using namespace consul_agent_test;
namespace json = boost::json;

TEST_CASE("service register with lowercase keys derives ID and a critical TTL check") {
  agent_fixture f;
  auto r = f.call("PUT", "/v1/agent/service/register",
                  R"({"name":"web","port":8080,"tags":["a"],"check":{"ttl":"10s"}})");
  CHECK(r.status == 200);
  CHECK(r.body.empty());
  CHECK_FALSE(r.has_header("Content-Type"));
  auto svc = f.json("GET", "/v1/agent/services").at("web").as_object();
  CHECK(svc.at("Service") == "web");
  CHECK(svc.at("Port") == 8080);
  CHECK(svc.at("Tags") == json::array{"a"});
  CHECK(svc.at("Meta").as_object().empty());
  auto checks = f.json("GET", "/v1/agent/checks").as_object();
  CHECK_FALSE(checks.contains("serfHealth"));
  auto c = checks.at("service:web").as_object();
  CHECK(c.at("Status") == "critical");
  CHECK(c.at("Name") == "Service 'web' check");
  CHECK(c.at("Type") == "ttl");
  CHECK(c.at("ServiceID") == "web");
}

TEST_CASE("several service checks get numbered ids") {
  agent_fixture f;
  f.call(
      "PUT", "/v1/agent/service/register",
      R"({"Name":"api","ID":"api1","Check":{"TTL":"10s"},"Checks":[{"TTL":"10s"},{"CheckID":"own","TTL":"5s"}]})");
  auto checks = f.json("GET", "/v1/agent/checks").as_object();
  CHECK(checks.contains("service:api1:1"));
  CHECK(checks.contains("service:api1:2"));
  CHECK(checks.contains("own"));
}

TEST_CASE("service register validates name, address, meta and check status") {
  agent_fixture f;
  auto n = f.call("PUT", "/v1/agent/service/register", R"({"Port":1})");
  CHECK(n.status == 400);
  CHECK(n.body == "Missing service name");
  CHECK(f.call("PUT", "/v1/agent/service/register", R"({"Name":"a","Address":"0.0.0.0"})").body ==
        "Invalid service address");
  auto m = f.call("PUT", "/v1/agent/service/register", R"({"Name":"a","Meta":{"consul-x":"1"}})");
  CHECK(m.status == 400);
  CHECK(m.body.starts_with("Invalid Service Meta: "));
  auto s = f.call("PUT", "/v1/agent/service/register",
                  R"({"Name":"a","Check":{"TTL":"10s","Status":"bad"}})");
  CHECK(s.status == 400);
  CHECK(s.body == "Status for checks must 'passing', 'warning', 'critical'");
  auto j = f.call("PUT", "/v1/agent/service/register", "[1,2");
  CHECK(j.status == 400);
  CHECK(j.body.starts_with("Request decode failed: "));
}

TEST_CASE("snake_case aliases are accepted for agent fields") {
  agent_fixture f;
  f.call(
      "PUT", "/v1/agent/service/register",
      R"({"name":"w","enable_tag_override":true,"check":{"check_id":"cid","ttl":"10s","deregister_critical_service_after":"90s"}})");
  CHECK(f.json("GET", "/v1/agent/services").at("w").at("EnableTagOverride") == true);
  CHECK(f.json("GET", "/v1/agent/checks").as_object().contains("cid"));
}

TEST_CASE("ttl pass warn fail set status and output, GET is 405") {
  agent_fixture f;
  f.call("PUT", "/v1/agent/service/register", R"({"Name":"web","Check":{"TTL":"10s"}})");
  CHECK(f.call("PUT", "/v1/agent/check/pass/service:web?note=all%20good").status == 200);
  auto c = f.json("GET", "/v1/agent/checks").at("service:web");
  CHECK(c.at("Status") == "passing");
  CHECK(c.at("Output") == "all good");
  f.call("PUT", "/v1/agent/check/warn/service%3Aweb");
  CHECK(f.json("GET", "/v1/agent/checks").at("service:web").at("Status") == "warning");
  auto get = f.call("GET", "/v1/agent/check/pass/service:web");
  CHECK(get.status == 405);
  CHECK(get.header("Allow") == "OPTIONS,PUT");
  CHECK(f.call("GET", "/v1/agent/service/deregister/web").status == 405);
}

TEST_CASE("ttl update takes status and output from JSON and truncates long output") {
  agent_fixture f;
  f.call("PUT", "/v1/agent/service/register", R"({"Name":"web","Check":{"TTL":"10s"}})");
  std::string out(5000, 'x');
  auto r = f.call("PUT", "/v1/agent/check/update/service:web",
                  R"({"Status":"passing","Output":")" + out + "\"}");
  CHECK(r.status == 200);
  auto got =
      std::string(f.json("GET", "/v1/agent/checks").at("service:web").at("Output").as_string());
  CHECK(got == std::string(4096, 'x') + " ... (captured 4096 of 5000 bytes)");
  auto bad = f.call("PUT", "/v1/agent/check/update/service:web", R"({"Status":"meh"})");
  CHECK(bad.status == 400);
  CHECK(bad.body == "Invalid check status: 'meh'");
}

TEST_CASE("ttl updates of unknown or non-TTL checks fail with the exact texts") {
  agent_fixture f;
  auto r = f.call("PUT", "/v1/agent/check/pass/nope");
  CHECK(r.status == 404);
  CHECK(r.body ==
        "Unknown check ID \"nope\". Ensure that the check ID is passed, not the check name.");
  f.call("PUT", "/v1/agent/check/register",
         R"({"Name":"h","HTTP":"http://127.0.0.1:1/","Interval":"10s"})");
  auto n = f.call("PUT", "/v1/agent/check/pass/h");
  CHECK(n.status == 500);
  CHECK(n.body == "CheckID \"h\" does not have associated TTL");
}

TEST_CASE("a ttl check expires to critical with the TTL expired output") {
  agent_fixture f(agent_fixture::manual());
  f.call("PUT", "/v1/agent/service/register", R"({"Name":"web","Check":{"TTL":"10s"}})");
  f.call("PUT", "/v1/agent/check/pass/service:web");
  f.agent.advance(11s);
  auto c = f.json("GET", "/v1/agent/checks").at("service:web");
  CHECK(c.at("Status") == "critical");
  CHECK(c.at("Output") == "TTL expired");
  f.call("PUT", "/v1/agent/check/pass/service:web?note=last%20words");
  f.agent.advance(9s);
  CHECK(f.json("GET", "/v1/agent/checks").at("service:web").at("Status") == "passing");
  f.agent.advance(2s);
  CHECK(f.json("GET", "/v1/agent/checks").at("service:web").at("Output") ==
        "TTL expired (last output before timeout follows): last words");
}

TEST_CASE("re-registration keeps check status and replace-existing-checks removes old checks") {
  agent_fixture f;
  f.call("PUT", "/v1/agent/service/register",
         R"({"Name":"web","Checks":[{"CheckID":"a","TTL":"30s"},{"CheckID":"b","TTL":"30s"}]})");
  f.call("PUT", "/v1/agent/check/pass/a");
  f.call("PUT", "/v1/agent/service/register",
         R"({"Name":"web","Checks":[{"CheckID":"a","TTL":"30s"}]})");
  auto checks = f.json("GET", "/v1/agent/checks").as_object();
  CHECK(checks.at("a").at("Status") == "passing");
  CHECK(checks.contains("b"));
  f.call("PUT", "/v1/agent/service/register?replace-existing-checks",
         R"({"Name":"web","Checks":[{"CheckID":"a","TTL":"30s"}]})");
  checks = f.json("GET", "/v1/agent/checks").as_object();
  CHECK(checks.at("a").at("Status") == "passing");
  CHECK_FALSE(checks.contains("b"));
}

TEST_CASE("the reaper deregisters a service critical longer than DeregisterCriticalServiceAfter") {
  agent_fixture f(agent_fixture::manual());
  // 10s is raised to the 1m minimum; the reaper runs every 30 s.
  f.call("PUT", "/v1/agent/service/register",
         R"({"Name":"web","Check":{"TTL":"1h","DeregisterCriticalServiceAfter":"10s"}})");
  f.agent.advance(59s);
  CHECK(f.json("GET", "/v1/agent/services").as_object().contains("web"));
  f.agent.advance(31s);
  CHECK_FALSE(f.json("GET", "/v1/agent/services").as_object().contains("web"));
}

TEST_CASE("deregister of an unknown service is 404 with the exact text") {
  agent_fixture f;
  auto r = f.call("PUT", "/v1/agent/service/deregister/ghost");
  CHECK(r.status == 404);
  CHECK(
      r.body ==
      "Unknown service ID \"ghost\". Ensure that the service ID is passed, not the service name.");
  f.call("PUT", "/v1/agent/service/register", R"({"Name":"web","Check":{"TTL":"10s"}})");
  CHECK(f.call("PUT", "/v1/agent/service/deregister/web").status == 200);
  CHECK(f.json("GET", "/v1/agent/checks").as_object().empty());
}

TEST_CASE("check register defaults the ID to the name and rejects unknown services") {
  agent_fixture f;
  auto bad =
      f.call("PUT", "/v1/agent/check/register", R"({"Name":"c","ServiceID":"ghost","TTL":"10s"})");
  CHECK(bad.status == 404);
  CHECK(bad.body == "ServiceID \"ghost\" does not exist");
  CHECK(f.call("PUT", "/v1/agent/check/register", R"({"Name":"mem","TTL":"10s"})").status == 200);
  CHECK(f.json("GET", "/v1/agent/checks").as_object().contains("mem"));
  CHECK(f.call("PUT", "/v1/agent/check/deregister/mem").status == 200);
  CHECK(f.call("PUT", "/v1/agent/check/deregister/mem").status == 404);
}

TEST_CASE("health service includes serfHealth, filters passing and tags, never null") {
  agent_fixture f;
  CHECK(f.call("GET", "/v1/health/service/none").body == "[]");
  f.call("PUT", "/v1/agent/service/register",
         R"({"Name":"web","ID":"w1","Tags":["a","b"],"Check":{"TTL":"30s"}})");
  f.call("PUT", "/v1/agent/service/register",
         R"({"Name":"web","ID":"w2","Tags":["a"],"Check":{"TTL":"30s"}})");
  f.call("PUT", "/v1/agent/check/pass/service:w1");
  f.call("PUT", "/v1/agent/check/warn/service:w2");
  auto all = f.json("GET", "/v1/health/service/web").as_array();
  REQUIRE(all.size() == 2);
  auto checks = all[0].at("Checks").as_array();
  CHECK(std::any_of(checks.begin(), checks.end(),
                    [](const json::value& c) { return c.at("CheckID") == "serfHealth"; }));
  CHECK(all[0].at("Service").at("Address") == "");
  CHECK(all[0].at("Node").at("Address") == "127.0.0.1");
  auto passing = f.json("GET", "/v1/health/service/web?passing").as_array();
  REQUIRE(passing.size() == 1);
  CHECK(passing[0].at("Service").at("ID") == "w1");
  CHECK(f.json("GET", "/v1/health/service/web?passing=false").as_array().size() == 2);
  CHECK(f.json("GET", "/v1/health/service/web?tag=a&tag=b").as_array().size() == 1);
  auto bad = f.call("GET", "/v1/health/service/web?passing=maybe");
  CHECK(bad.status == 400);
  CHECK(bad.body == "Invalid value for ?passing");
  f.agent.kill_node();
  CHECK(f.json("GET", "/v1/health/service/web?passing").as_array().empty());
}

TEST_CASE("catalog always lists the consul service and the node") {
  agent_fixture f;
  f.call("PUT", "/v1/agent/service/register", R"({"Name":"web","Tags":["x"]})");
  auto services = f.json("GET", "/v1/catalog/services").as_object();
  CHECK(services.at("consul") == json::array{});
  CHECK(services.at("web") == json::array{"x"});
  auto nodes = f.json("GET", "/v1/catalog/nodes").as_array();
  REQUIRE(nodes.size() == 1);
  CHECK(nodes[0].at("Node") == "cbes-sandbox");
  CHECK(nodes[0].at("Meta").at("consul-network-segment") == "");
  auto consul = f.json("GET", "/v1/catalog/service/consul").as_array();
  REQUIRE(consul.size() == 1);
  CHECK(consul[0].at("ServicePort") == 8300);
  auto node_checks = f.json("GET", "/v1/health/node/cbes-sandbox").as_array();
  CHECK(node_checks[0].at("CheckID") == "serfHealth");
  CHECK(node_checks[0].at("Output") == "Agent alive and reachable");
}

TEST_CASE("agent self reports node name and datacenter") {
  agent_fixture f;
  auto self = f.json("GET", "/v1/agent/self");
  CHECK(self.at("Config").at("NodeName") == "cbes-sandbox");
  CHECK(self.at("Config").at("Datacenter") == "dc1");
  CHECK(self.at("Member").at("Addr") == "127.0.0.1");
}
