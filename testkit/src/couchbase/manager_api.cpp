#include "manager_api.hpp"

#include "cbes/util/base64.hpp"

#include <boost/json.hpp>

#include <mutex>

namespace cbes::testkit::couchbase {

namespace json = boost::json;

namespace {

http_server::response json_response(int status, const json::value& v) {
  return {status, {{"Content-Type", "application/json"}}, json::serialize(v), false};
}

http_server::response text_response(int status, std::string body) {
  return {status, {{"Content-Type", "text/plain"}}, std::move(body), false};
}

// Basic auth against the cluster's users; the user name on success.
std::optional<std::string> authenticate(const cluster_state& state,
                                        const http_server::request& req) {
  auto header = find_header(req.headers, "Authorization");
  if (!header || !header->starts_with("Basic "))
    return std::nullopt;
  auto decoded = util::base64_decode(header->substr(6)).value_or(std::string());
  auto colon = decoded.find(':');
  if (colon == std::string::npos)
    return std::nullopt;
  auto it = state.users.find(std::string_view(decoded).substr(0, colon));
  if (it == state.users.end() || it->second.password != decoded.substr(colon + 1))
    return std::nullopt;
  return it->first;
}

}  // namespace

http_server::response manager_response(cluster_state& state, std::size_t node,
                                       const http_server::request& req) {
  std::lock_guard lock(state.mutex);
  std::string path = req.target.substr(0, req.target.find('?'));
  if (req.method != "GET")
    return text_response(405, "Method Not Allowed");
  auto user = authenticate(state, req);
  if (!user) {
    auto r = text_response(401, "");
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"Couchbase Server Admin / REST\"");
    return r;
  }
  const auto& host = state.options().bind_address;
  auto active = state.active_nodes();
  if (path == "/pools") {
    return json_response(
        200, json::object{
                 {"isAdminCreds", true},
                 {"isROAdminCreds", false},
                 {"isEnterprise", true},
                 {"allowedServices", json::array{"kv"}},
                 {"pools", json::array{json::object{{"name", "default"},
                                                    {"uri", "/pools/default"},
                                                    {"streamingUri", "/poolsStreaming/default"}}}},
                 {"implementationVersion", state.options().version},
                 {"uuid", "cbes-fake-cluster"}});
  }
  if (path == "/pools/default") {
    json::array nodes;
    for (auto id : active) {
      const auto& n = state.nodes[id];
      json::object o{{"hostname", host + ":" + std::to_string(n.mgmt_port)},
                     {"ports", json::object{{"direct", n.kv_port}}},
                     {"services", json::array{"kv"}},
                     {"status", "healthy"},
                     {"clusterMembership", "active"},
                     {"version", state.options().version}};
      if (id == node)
        o["thisNode"] = true;
      nodes.push_back(std::move(o));
    }
    return json_response(200,
                         json::object{{"name", "default"},
                                      {"nodes", std::move(nodes)},
                                      {"buckets", json::object{{"uri", "/pools/default/buckets"}}},
                                      {"rebalanceStatus", "none"},
                                      {"balanced", true},
                                      {"rev", state.rev}});
  }
  if (path == "/pools/default/nodeServices") {
    json::value cfg = json::parse(state.global_config_json(node));
    auto& ext = cfg.as_object()["nodesExt"].as_array();
    for (auto& e : ext)
      e.as_object()["hostname"] = host;
    return json_response(200, cfg);
  }
  auto bucket_json = [&](const bucket_state& b) {
    return json::parse(state.bucket_config_json(b, host, node));
  };
  if (path == "/pools/default/buckets") {
    json::array out;
    for (const auto& [name, b] : state.buckets)
      if (state.users.at(*user).may_access(name))
        out.push_back(bucket_json(b));
    return json_response(200, out);
  }
  for (std::string_view prefix : {"/pools/default/buckets/", "/pools/default/b/"}) {
    if (!path.starts_with(prefix))
      continue;
    std::string name = path.substr(prefix.size());
    auto* b = state.find_bucket(name);
    if (!b || !state.users.at(*user).may_access(name))
      return text_response(404, "Requested resource not found.\r\n");
    return json_response(200, bucket_json(*b));
  }
  return text_response(404, "Not found.");
}

}  // namespace cbes::testkit::couchbase
