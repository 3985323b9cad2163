#include "cbes/mcbp/bucket_config.hpp"

#include <algorithm>
#include <charconv>

#include "cbes/mcbp/collection_key.hpp"
#include "json_util.hpp"

namespace cbes::mcbp {

namespace json = boost::json;
using detail::as_int;
using detail::int_member;
using detail::string_member;

std::optional<std::uint16_t> node_ext::service(std::string_view name) const {
  auto it = services.find(std::string(name));
  if (it == services.end())
    return std::nullopt;
  return it->second;
}

bool bucket_config::has_capability(std::string_view c) const noexcept {
  return std::find(bucket_capabilities.begin(), bucket_capabilities.end(), c) !=
         bucket_capabilities.end();
}

std::optional<std::size_t> bucket_config::active_server(std::uint16_t vb) const noexcept {
  if (!vbucket_server_map || vb >= vbucket_server_map->vbucket_map.size())
    return std::nullopt;
  const auto& row = vbucket_server_map->vbucket_map[vb];
  if (row.empty() || row[0] < 0)
    return std::nullopt;
  return static_cast<std::size_t>(row[0]);
}

namespace {

constexpr std::string_view host_placeholder = "$HOST";

void replace_placeholder(std::string& s, std::string_view host) {
  for (auto pos = s.find(host_placeholder); pos != std::string::npos;
       pos = s.find(host_placeholder, pos + host.size()))
    s.replace(pos, host_placeholder.size(), host);
}

struct hosts {
  std::string bare;      // "::1" or "10.0.0.1"
  std::string for_port;  // "[::1]" or "10.0.0.1", to put before ":port"
};

hosts make_hosts(std::string_view connected) {
  hosts h;
  if (connected.size() >= 2 && connected.front() == '[' && connected.back() == ']')
    connected = connected.substr(1, connected.size() - 2);
  h.bare = connected;
  h.for_port = connected.find(':') != std::string_view::npos ? "[" + h.bare + "]" : h.bare;
  return h;
}

std::optional<std::map<std::string, std::uint16_t>> parse_ports(const json::value& v) {
  const auto* o = v.if_object();
  if (!o)
    return std::nullopt;
  std::map<std::string, std::uint16_t> out;
  for (const auto& [name, port] : *o) {
    const auto p = as_int(port);
    if (!p || *p < 0 || *p > 65535)
      return std::nullopt;
    out.emplace(std::string(name), static_cast<std::uint16_t>(*p));
  }
  return out;
}

std::optional<std::vector<std::vector<std::int32_t>>> parse_vbucket_map(const json::value& v,
                                                                        std::size_t servers) {
  const auto* rows = v.if_array();
  if (!rows)
    return std::nullopt;
  std::vector<std::vector<std::int32_t>> out;
  out.reserve(rows->size());
  for (const auto& row : *rows) {
    const auto* cells = row.if_array();
    if (!cells || cells->empty())
      return std::nullopt;
    std::vector<std::int32_t> r;
    for (const auto& cell : *cells) {
      const auto idx = as_int(cell);
      if (!idx || *idx < -1 || *idx >= static_cast<std::int64_t>(servers))
        return std::nullopt;
      r.push_back(static_cast<std::int32_t>(*idx));
    }
    out.push_back(std::move(r));
  }
  // Key → vbucket masks with (numVBuckets − 1): the count must be a power of two.
  if (!out.empty() && (out.size() & (out.size() - 1)) != 0)
    return std::nullopt;
  return out;
}

result<node_ext> parse_node_ext(const json::value& v, const hosts& h) {
  const auto* o = v.if_object();
  if (!o)
    return errc::bad_bucket_config;
  node_ext n;
  const auto hostname = string_member(*o, "hostname");
  if (!hostname)
    return errc::bad_bucket_config;
  // a nodesExt entry without hostname means "the host you connected to".
  n.hostname = hostname->empty() ? h.bare : std::string(*hostname);
  replace_placeholder(n.hostname, h.bare);
  if (const auto* t = o->if_contains("thisNode")) {
    if (!t->is_bool())
      return errc::bad_bucket_config;
    n.this_node = t->get_bool();
  }
  if (const auto* s = o->if_contains("services")) {
    auto ports = parse_ports(*s);
    if (!ports)
      return errc::bad_bucket_config;
    n.services = std::move(*ports);
  }
  if (const auto* alt = o->if_contains("alternateAddresses")) {
    const auto* networks = alt->if_object();
    if (!networks)
      return errc::bad_bucket_config;
    for (const auto& [network, address] : *networks) {
      const auto* a = address.if_object();
      if (!a)
        return errc::bad_bucket_config;
      alternate_address aa;
      const auto alt_host = string_member(*a, "hostname");
      if (!alt_host || alt_host->empty())
        return errc::bad_bucket_config;
      aa.hostname = *alt_host;
      if (const auto* p = a->if_contains("ports")) {
        auto ports = parse_ports(*p);
        if (!ports)
          return errc::bad_bucket_config;
        aa.ports = std::move(*ports);
      }
      n.alternate_addresses.emplace(std::string(network), std::move(aa));
    }
  }
  return n;
}

// Legacy `nodes` entries ({"hostname":"$HOST:8091","ports":{"direct":11210}}) for configs
// without nodesExt.
result<node_ext> parse_legacy_node(const json::value& v, const hosts& h) {
  const auto* o = v.if_object();
  if (!o)
    return errc::bad_bucket_config;
  const auto hostname = string_member(*o, "hostname");
  if (!hostname)
    return errc::bad_bucket_config;
  std::string host(*hostname);
  replace_placeholder(host, h.for_port);
  node_ext n;
  // "host:port", "[v6]:port" or a bare host.
  std::string port;
  if (!host.empty() && host.front() == '[') {
    const auto close = host.find(']');
    if (close == std::string::npos)
      return errc::bad_bucket_config;
    if (close + 1 < host.size()) {
      if (host[close + 1] != ':')
        return errc::bad_bucket_config;
      port = host.substr(close + 2);
    }
    host = host.substr(1, close - 1);
  } else if (const auto colon = host.find(':');
             colon != std::string::npos && colon == host.rfind(':')) {
    port = host.substr(colon + 1);
    host.erase(colon);
  }
  if (!port.empty()) {
    int mgmt = 0;
    const auto r = std::from_chars(port.data(), port.data() + port.size(), mgmt);
    if (r.ec != std::errc{} || r.ptr != port.data() + port.size() || mgmt <= 0 || mgmt > 65535)
      return errc::bad_bucket_config;
    n.services.emplace("mgmt", static_cast<std::uint16_t>(mgmt));
  }
  n.hostname = host.empty() ? h.bare : host;
  if (const auto* p = o->if_contains("ports")) {
    const auto* ports = p->if_object();
    if (!ports)
      return errc::bad_bucket_config;
    if (const auto* direct = ports->if_contains("direct")) {
      const auto d = as_int(*direct);
      if (!d || *d < 0 || *d > 65535)
        return errc::bad_bucket_config;
      n.services.emplace("kv", static_cast<std::uint16_t>(*d));
    }
  }
  return n;
}

}  // namespace

result<bucket_config> parse_bucket_config(std::string_view text, std::string_view connected_host) {
  const auto doc = detail::parse_object(text, errc::bad_bucket_config);
  if (!doc)
    return doc.error();
  const json::object& root = *doc;
  const hosts h = make_hosts(connected_host);
  bucket_config cfg;

  const auto rev = int_member(root, "rev", std::nullopt);
  const auto epoch = int_member(root, "revEpoch", 0);
  if (!rev || !epoch)
    return errc::bad_bucket_config;
  cfg.rev = *rev;
  cfg.rev_epoch = *epoch;

  const auto name = string_member(root, "name");
  const auto uuid = string_member(root, "uuid");
  const auto type = string_member(root, "bucketType");
  const auto locator = string_member(root, "nodeLocator");
  const auto manifest_uid = string_member(root, "collectionsManifestUid");
  if (!name || !uuid || !type || !locator || !manifest_uid)
    return errc::bad_bucket_config;
  cfg.name = *name;
  cfg.uuid = *uuid;
  cfg.bucket_type = *type;
  cfg.node_locator = *locator;
  if (!manifest_uid->empty()) {
    auto uid = parse_hex_id(*manifest_uid);
    if (!uid)
      return errc::bad_bucket_config;
    cfg.collections_manifest_uid = *uid;
  }

  if (const auto* caps = root.if_contains("bucketCapabilities")) {
    if (!caps->is_array())
      return errc::bad_bucket_config;
    for (const auto& c : caps->get_array()) {
      if (!c.is_string())
        return errc::bad_bucket_config;
      cfg.bucket_capabilities.emplace_back(c.get_string());
    }
  }

  if (const auto* nodes = root.if_contains("nodesExt")) {
    if (!nodes->is_array())
      return errc::bad_bucket_config;
    for (const auto& n : nodes->get_array()) {
      auto parsed = parse_node_ext(n, h);
      if (!parsed)
        return parsed.error();
      cfg.nodes_ext.push_back(std::move(*parsed));
    }
  } else if (const auto* legacy = root.if_contains("nodes")) {
    if (!legacy->is_array())
      return errc::bad_bucket_config;
    for (const auto& n : legacy->get_array()) {
      auto parsed = parse_legacy_node(n, h);
      if (!parsed)
        return parsed.error();
      cfg.nodes_ext.push_back(std::move(*parsed));
    }
  }

  if (const auto* map = root.if_contains("vBucketServerMap")) {
    const auto* m = map->if_object();
    if (!m)
      return errc::bad_bucket_config;
    vbucket_server_map vsm;
    const auto algo = string_member(*m, "hashAlgorithm");
    const auto replicas = int_member(*m, "numReplicas", 0);
    if (!algo || !replicas || *replicas < 0 || *replicas > 3)
      return errc::bad_bucket_config;
    vsm.hash_algorithm = *algo;
    vsm.num_replicas = static_cast<std::uint32_t>(*replicas);
    if (const auto* list = m->if_contains("serverList")) {
      if (!list->is_array())
        return errc::bad_bucket_config;
      for (const auto& s : list->get_array()) {
        if (!s.is_string())
          return errc::bad_bucket_config;
        std::string server(s.get_string());
        replace_placeholder(server, h.for_port);
        vsm.server_list.push_back(std::move(server));
      }
    }
    if (const auto* vbm = m->if_contains("vBucketMap")) {
      auto rows = parse_vbucket_map(*vbm, vsm.server_list.size());
      if (!rows)
        return errc::bad_bucket_config;
      vsm.vbucket_map = std::move(*rows);
    }
    if (const auto* fwd = m->if_contains("vBucketMapForward")) {
      auto rows = parse_vbucket_map(*fwd, vsm.server_list.size());
      if (!rows || rows->size() != vsm.vbucket_map.size())
        return errc::bad_bucket_config;
      vsm.vbucket_map_forward = std::move(*rows);
    }
    cfg.vbucket_server_map = std::move(vsm);
  }
  return cfg;
}

}  // namespace cbes::mcbp
