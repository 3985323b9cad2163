// The Consul fake's web UI (`cbes-sandbox --services=consul`, then http://127.0.0.1:8500/ui),
// loaded in headless chromium: what each view shows of state set up over the HTTP API, the
// token prompt when ACLs are on, and a service that registers while the page is open.
//
// The page refreshes with blocking queries after a one-second pause, and chromium's virtual
// time stands still while a request is pending; so a page is taken after half a second of
// virtual time (loaded and rendered, before its first blocking query), and the refresh test
// gives it a second and a half, registering a service once the page's query is parked.
#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <future>
#include <regex>
#include <string>
#include <vector>

#include "cbes/testkit/consul_agent.hpp"
#include "cbes/testkit/http_client.hpp"
#include "support/chromium.hpp"
#include "support/process.hpp"

namespace {

using namespace std::chrono_literals;

constexpr auto page_budget = 500ms;
constexpr auto refresh_budget = 1500ms;

std::string bin(const std::string& name) {
  return std::string(CBES_BINARY_DIR) + "/bin/" + name;
}

cbes::testkit::http_result call(const std::string& base, const std::string& method,
                                const std::string& target, const std::string& body = {},
                                const std::string& token = {}) {
  cbes::testkit::http_headers headers;
  if (!token.empty())
    headers.emplace_back("X-Consul-Token", token);
  auto r = cbes::testkit::http_request(base, method, target, body, headers);
  REQUIRE(r);
  return *r;
}

void put_ok(const std::string& base, const std::string& target, const std::string& body,
            const std::string& token = {}) {
  auto r = call(base, "PUT", target, body, token);
  INFO("PUT " << target << " -> " << r);
  REQUIRE(r.status == 200);
}

const std::string config_json =
    R"({"bucket":"travel-sample","workers":["w1","w2"],"batch":{"size":500}})";

// What an AO group leaves in Consul, in small: two services with TTL checks (web passing, db
// critical, each with an output) and the group's keys, one of them in a sub-folder.
void set_up_group(const std::string& base, const std::string& token = {}) {
  put_ok(base, "/v1/agent/service/register",
         R"({"ID":"web-1","Name":"web","Address":"127.0.0.1","Port":8080,"Tags":["http","v2"],
             "Check":{"CheckID":"web-1-ttl","Name":"web heartbeat","TTL":"600s",
                      "Notes":"renewed by the worker"}})",
         token);
  put_ok(base, "/v1/agent/check/pass/web-1-ttl?note=all%20good", "", token);
  // Registered passing, then failed: a status change, so its output reaches the catalog
  // (Consul syncs output-only changes later).
  put_ok(base, "/v1/agent/service/register",
         R"({"ID":"db-1","Name":"db","Port":5432,
             "Check":{"CheckID":"db-1-ttl","Name":"db heartbeat","TTL":"600s",
                      "Status":"passing"}})",
         token);
  put_ok(base, "/v1/agent/check/fail/db-1-ttl?note=disk%20full", "", token);
  put_ok(base, "/v1/kv/couchbase/cbes/my-group/config", config_json, token);
  put_ok(base, "/v1/kv/couchbase/cbes/my-group/leader", "worker-1", token);
  put_ok(base, "/v1/kv/couchbase/cbes/my-group/members/worker-1", R"({"host":"10.0.0.5"})", token);
}

// The DOM without the page's script, whose source names every data-* attribute it may set.
std::string rendered(std::string dom) {
  const auto open = dom.find("<script>");
  const auto close = dom.find("</script>", open);
  if (open != std::string::npos && close != std::string::npos)
    dom.erase(open, close - open);
  return dom;
}

struct consul_sandbox {
  cbes::test::process proc;
  std::string url;

  explicit consul_sandbox(std::vector<std::string> extra = {})
      : proc([&] {
          std::vector<std::string> a{bin("cbes-sandbox"), "--services=consul", "--consul-port=0"};
          a.insert(a.end(), extra.begin(), extra.end());
          return a;
        }()) {
    auto m = proc.wait_for(std::regex("ready: consul (http://[0-9.]+:[0-9]+)"));
    INFO(proc.output());
    REQUIRE(m);
    url = (*m)[1];
  }

  // The page at `path` (with its #route) after its scripts ran.
  std::string dom(const std::string& path) const {
    auto d = cbes::test::chromium_dom(url + path, page_budget);
    INFO(d.error);
    REQUIRE(d);
    return rendered(d.output);
  }

  void screenshot(const std::string& path, const std::string& name) const {
    auto s = cbes::test::chromium_screenshot(url + path, name, 1280, 800, page_budget);
    INFO(s.error);
    REQUIRE(s);
  }
};

bool has(const std::string& dom, const std::string& text) {
  return dom.find(text) != std::string::npos;
}

// The markup from the element carrying `attr` to the next `end`, so that assertions about one
// service (or instance) look at its row (or card) only; "" when `attr` is missing.
std::string part_of(const std::string& dom, const std::string& attr, const std::string& end) {
  const auto at = dom.find(attr);
  if (at == std::string::npos)
    return {};
  const auto stop = dom.find(end, at);
  return dom.substr(at, stop == std::string::npos ? std::string::npos : stop - at);
}

}  // namespace

TEST_CASE("consul UI: / and /ui redirect to /ui/, which serves one self-contained page") {
  consul_sandbox sb;
  auto root = call(sb.url, "GET", "/");
  CHECK(root.status == 301);
  CHECK(root.header("Location") == "/ui/");
  auto ui = call(sb.url, "GET", "/ui");
  CHECK(ui.status == 301);
  CHECK(ui.header("Location") == "/ui/");
  CHECK(call(sb.url, "GET", "/ui?token=secret").header("Location") == "/ui/?token=secret");

  auto page = call(sb.url, "GET", "/ui/");
  CHECK(page.status == 200);
  CHECK(page.header("Content-Type") == "text/html; charset=utf-8");
  CHECK(page.body.starts_with("<!doctype html>"));
  // Self-contained: nothing is loaded from elsewhere, and the browser is told so.
  CHECK_FALSE(has(page.body, "src=\"http"));
  CHECK_FALSE(has(page.body, "href=\"http"));
  CHECK(has(page.header("Content-Security-Policy"), "default-src 'self'"));
  // Deep links get the same page, which routes by itself.
  for (const char* deep : {"/ui/services/web", "/ui/dc1/kv/couchbase/cbes/", "/ui/nodes"}) {
    auto d = call(sb.url, "GET", deep);
    CHECK(d.status == 200);
    CHECK(d.body == page.body);
  }
  CHECK(call(sb.url, "PUT", "/ui/").status == 405);
  // The HTTP API is still where it was.
  CHECK(call(sb.url, "GET", "/v1/status/leader").status == 200);
  CHECK(call(sb.url, "GET", "/nope").status == 404);
}

TEST_CASE("consul UI: the services view lists every service with the state of its checks") {
  consul_sandbox sb;
  set_up_group(sb.url);
  const auto dom = sb.dom("/ui/#/services");
  CHECK(has(dom, "data-datacenter=\"dc1\""));
  const auto web = part_of(dom, "data-service=\"web\"", "</tr>");
  const auto db = part_of(dom, "data-service=\"db\"", "</tr>");
  INFO(dom);
  REQUIRE_FALSE(web.empty());
  REQUIRE_FALSE(db.empty());
  CHECK(has(dom, "data-service=\"consul\""));
  // web: its TTL check and the node's serfHealth pass; db: its TTL check is critical.
  CHECK(has(web, "data-service-status=\"passing\""));
  CHECK(has(web, "data-check-status=\"passing\" data-check-count=\"2\""));
  CHECK_FALSE(has(web, "data-check-status=\"critical\""));
  CHECK(has(web, "http"));
  CHECK(has(db, "data-service-status=\"critical\""));
  CHECK(has(db, "data-check-status=\"critical\" data-check-count=\"1\""));
  CHECK(has(db, "data-check-status=\"passing\" data-check-count=\"1\""));
  sb.screenshot("/ui/#/services", "consul-ui-services");
}

TEST_CASE("consul UI: a service's page shows its instances and every health check") {
  consul_sandbox sb;
  set_up_group(sb.url);
  const auto web = sb.dom("/ui/#/services/web");
  INFO(web);
  const auto card = part_of(web, "data-instance=\"web-1\"", "</table>");
  REQUIRE_FALSE(card.empty());
  CHECK(has(card, "127.0.0.1:8080"));
  CHECK(has(card, "v2"));
  CHECK(has(card, "data-check=\"web-1-ttl\" data-check-status=\"passing\""));
  CHECK(has(card, "web heartbeat"));
  CHECK(has(card, "all good"));
  CHECK(has(card, "renewed by the worker"));
  CHECK(has(card, "data-check=\"serfHealth\" data-check-status=\"passing\""));

  const auto db = sb.dom("/ui/#/services/db");
  INFO(db);
  CHECK(has(db, "data-service-status=\"critical\""));
  CHECK(has(db, "data-check=\"db-1-ttl\" data-check-status=\"critical\""));
  CHECK(has(db, "disk full"));
  // Without a #route, a path as Consul's own UI writes it (/ui/<dc>/services/<name>) works too.
  CHECK(has(sb.dom("/ui/dc1/services/db"), "data-check=\"db-1-ttl\""));
  sb.screenshot("/ui/#/services/db", "consul-ui-service");
}

TEST_CASE("consul UI: the nodes view shows the agent's node and its datacenter") {
  consul_sandbox sb({"--consul-node-name=ui-node-1"});
  set_up_group(sb.url);
  const auto dom = sb.dom("/ui/#/nodes");
  INFO(dom);
  const auto node = part_of(dom, "data-node=\"ui-node-1\"", "</tr>");
  REQUIRE_FALSE(node.empty());
  CHECK(has(node, "127.0.0.1"));
  CHECK(has(node, "data-node-datacenter=\"dc1\""));
  CHECK(has(node, "data-check=\"serfHealth\" data-check-status=\"passing\""));
  // The service checks on it: web's passing, db's critical.
  CHECK(has(node, "data-check-status=\"critical\" data-check-count=\"1\""));
  sb.screenshot("/ui/#/nodes", "consul-ui-nodes");
}

TEST_CASE("consul UI: the KV browser lists a folder and shows a key's value decoded") {
  consul_sandbox sb;
  set_up_group(sb.url);
  const auto folder = sb.dom("/ui/#/kv/couchbase/cbes/my-group/");
  {
    INFO(folder);
    CHECK(has(folder, "data-kv-key=\"couchbase/cbes/my-group/config\""));
    CHECK(has(folder, "data-kv-key=\"couchbase/cbes/my-group/leader\""));
    // A sub-folder is one entry (?keys&separator=/), not its keys.
    CHECK(has(folder, "data-kv-key=\"couchbase/cbes/my-group/members/\" data-kv-folder"));
    CHECK_FALSE(has(folder, "data-kv-key=\"couchbase/cbes/my-group/members/worker-1\""));
  }
  const auto root = sb.dom("/ui/#/kv/");
  CHECK(has(root, "data-kv-key=\"couchbase/\" data-kv-folder"));

  // The value, base64 in the API, is shown decoded and pretty-printed.
  const auto key = sb.dom("/ui/#/kv/couchbase/cbes/my-group/config");
  INFO(key);
  CHECK(has(key, "data-kv-entry=\"couchbase/cbes/my-group/config\""));
  CHECK(has(key, "data-kv-kind=\"json\""));
  CHECK(has(key, "\"bucket\": \"travel-sample\""));
  CHECK(has(key, "\n  \"batch\": {\n    \"size\": 500\n  }"));
  auto entry = call(sb.url, "GET", "/v1/kv/couchbase/cbes/my-group/config");
  REQUIRE(entry.status == 200);
  const auto modify = boost::json::parse(entry.body).as_array().at(0).at("ModifyIndex");
  CHECK(has(key, "data-kv-modify-index=\"" + boost::json::serialize(modify) + "\""));
  CHECK(has(key, "data-kv-flags=\"0\""));

  const auto text = sb.dom("/ui/#/kv/couchbase/cbes/my-group/leader");
  CHECK(has(text, "data-kv-kind=\"text\""));
  CHECK(has(text, ">worker-1</pre>"));
  CHECK(has(sb.dom("/ui/#/kv/couchbase/nope"), "data-kv-missing=\"couchbase/nope\""));

  sb.screenshot("/ui/#/kv/couchbase/cbes/my-group/", "consul-ui-kv");
  sb.screenshot("/ui/#/kv/couchbase/cbes/my-group/config", "consul-ui-kv-key");
}

TEST_CASE("consul UI: with ACLs on, the page asks for a token and shows services with one") {
  consul_sandbox sb({"--consul-acl-token=secret"});
  set_up_group(sb.url, "secret");
  // The page itself needs no token; the API does.
  CHECK(call(sb.url, "GET", "/ui/").status == 200);
  CHECK(call(sb.url, "GET", "/v1/catalog/services").status == 403);

  const auto locked = sb.dom("/ui/#/services");
  CHECK(has(locked, "data-token-prompt"));
  CHECK(has(locked, "data-token-input"));
  CHECK_FALSE(has(locked, "data-token-refused"));
  CHECK_FALSE(has(locked, "data-service=\"web\""));

  const auto wrong = sb.dom("/ui/?token=nope#/services");
  CHECK(has(wrong, "data-token-refused"));
  CHECK_FALSE(has(wrong, "data-service=\"web\""));

  const auto open = sb.dom("/ui/?token=secret#/services");
  INFO(open);
  CHECK_FALSE(has(open, "data-token-prompt"));
  CHECK(has(open, "data-service=\"web\""));
  CHECK(has(open, "data-service=\"db\""));
  CHECK(has(open, "data-forget-token"));
  sb.screenshot("/ui/#/services", "consul-ui-token");
}

TEST_CASE("consul UI: a service that registers while the page is open shows up without a reload") {
  // In process, to know when the page's blocking query is parked (consul_agent::queries_parked).
  cbes::testkit::consul_agent agent;
  agent.start();
  set_up_group(agent.url());
  const auto mark = agent.queries_parked();
  auto page = std::async(std::launch::async, [&agent] {
    return cbes::test::chromium_dom(agent.url() + "/ui/#/services", refresh_budget);
  });
  // The page rendered web and db and now waits for the catalog to change.
  REQUIRE(agent.wait_until_parked(mark + 1, 60s));
  put_ok(agent.url(), "/v1/agent/service/register",
         R"({"ID":"worker-2","Name":"cbes-worker","Port":9091,
             "Check":{"CheckID":"worker-2-ttl","Name":"worker heartbeat","TTL":"600s",
                      "Status":"passing"}})");
  const auto dom = page.get();
  INFO(dom.error);
  REQUIRE(dom);
  const auto shown = rendered(dom.output);
  INFO(shown);
  CHECK(has(shown, "data-service=\"web\""));
  const auto joined = part_of(shown, "data-service=\"cbes-worker\"", "</tr>");
  REQUIRE_FALSE(joined.empty());
  CHECK(has(joined, "data-service-status=\"passing\""));
}
