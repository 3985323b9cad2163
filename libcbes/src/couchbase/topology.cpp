#include "cbes/couchbase/topology.hpp"

#include <algorithm>

#include "cbes/couchbase/seed.hpp"
#include "cbes/util/crc32.hpp"

namespace cbes::couchbase {
namespace {

// "host:port" / "[v6]:port" of a serverList entry.
std::optional<endpoint> split_host_port(std::string_view s) {
  std::string_view host, port;
  if (s.starts_with("[")) {
    auto close = s.find("]:");
    if (close == std::string_view::npos)
      return std::nullopt;
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos)
      return std::nullopt;
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9')
      return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > 65535)
      return std::nullopt;
  }
  if (port.empty() || value == 0)
    return std::nullopt;
  return endpoint{std::string(host), static_cast<std::uint16_t>(value)};
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

std::string endpoint::to_string() const {
  return format_host_port(host, port);
}

std::string select_network(const mcbp::bucket_config& config, std::string_view requested,
                           const std::vector<std::string>& seed_hosts) {
  if (requested != "auto" && !requested.empty())
    return std::string(requested);
  // The Java SDK's heuristic: stay on the default network if we reached a node by its own
  // name; switch to "external" only if a seed is some node's external hostname.
  for (const auto& n : config.nodes_ext)
    if (contains(seed_hosts, n.hostname))
      return "default";
  for (const auto& n : config.nodes_ext) {
    auto ext = n.alternate_addresses.find("external");
    if (ext != n.alternate_addresses.end() && contains(seed_hosts, ext->second.hostname))
      return "external";
  }
  return "default";
}

std::optional<std::size_t> topology::active_node(std::uint16_t vbucket) const {
  if (vbucket >= vb_active.size())
    return std::nullopt;
  const auto idx = vb_active[vbucket];
  if (idx < 0 || static_cast<std::size_t>(idx) >= nodes.size())
    return std::nullopt;
  return static_cast<std::size_t>(idx);
}

std::optional<vbucket_route> topology::route(std::string_view key) const {
  if (vb_active.empty())
    return std::nullopt;
  const auto vb = util::vbucket_for_key(key, vb_active.size());
  auto n = active_node(vb);
  if (!n)
    return std::nullopt;
  return vbucket_route{vb, *n};
}

std::vector<endpoint> topology::kv_endpoints() const {
  std::vector<endpoint> out;
  for (const auto& n : nodes)
    if (n.kv.port != 0)
      out.push_back(n.kv);
  return out;
}

result<topology> make_topology(const mcbp::bucket_config& config, std::string_view network,
                               bool tls) {
  if (!config.vbucket_server_map || config.vbucket_server_map->vbucket_map.empty())
    return make_error(errc::no_config, "bucket config rev " + std::to_string(config.rev) +
                                           " has no vbucket map (not a Couchbase bucket?)");
  const auto& map = *config.vbucket_server_map;
  topology t;
  t.rev_epoch = config.rev_epoch;
  t.rev = config.rev;
  t.bucket_uuid = config.uuid;
  t.network = network.empty() || network == "auto" ? "default" : std::string(network);
  const bool alternate = t.network != "default";
  const char* kv_service = tls ? "kvSSL" : "kv";
  const char* mgmt_service = tls ? "mgmtSSL" : "mgmt";

  for (const auto& server : map.server_list) {
    auto plain = split_host_port(server);
    if (!plain)
      return make_error(errc::protocol_error,
                        "bucket config serverList entry '" + server + "' is not host:port");
    const mcbp::node_ext* ext = nullptr;
    for (const auto& n : config.nodes_ext)
      if (n.hostname == plain->host && n.service("kv") == plain->port)
        ext = &n;
    node out;
    if (!ext) {
      if (tls || alternate)
        return make_error(errc::protocol_error, "bucket config has no nodesExt entry for '" +
                                                    server +
                                                    "' (needed for TLS / alternate "
                                                    "addresses)");
      out.kv = *plain;
      t.nodes.push_back(std::move(out));
      continue;
    }
    std::string host = ext->hostname;
    auto port_of = [&](const char* service) -> std::optional<std::uint16_t> {
      return ext->service(service);
    };
    std::optional<std::uint16_t> kv = port_of(kv_service), mgmt = port_of(mgmt_service);
    if (alternate) {
      auto alt = ext->alternate_addresses.find(t.network);
      if (alt == ext->alternate_addresses.end())
        return make_error(errc::invalid_argument, "node '" + ext->hostname +
                                                      "' has no alternate address for network '" +
                                                      t.network + "' — check couchbase.network");
      if (!alt->second.hostname.empty())
        host = alt->second.hostname;
      // Ports absent from the alternate entry keep their default-network values.
      if (auto p = alt->second.ports.find(kv_service); p != alt->second.ports.end())
        kv = p->second;
      if (auto p = alt->second.ports.find(mgmt_service); p != alt->second.ports.end())
        mgmt = p->second;
    }
    if (!kv)
      return make_error(errc::protocol_error,
                        "node '" + ext->hostname + "' lists no '" + kv_service + "' port");
    out.kv = endpoint{host, *kv};
    if (mgmt)
      out.manager = endpoint{host, *mgmt};
    t.nodes.push_back(std::move(out));
  }
  t.vb_active.reserve(map.vbucket_map.size());
  for (const auto& row : map.vbucket_map)
    t.vb_active.push_back(row.empty() ? -1 : row.front());
  return t;
}

}  // namespace cbes::couchbase
