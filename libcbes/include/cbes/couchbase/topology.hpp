#pragma once
// What the client routes by: the KV and manager endpoints of every node on the selected network
// (default or an alternate one, kv_engine's protocol docs `alternateAddresses`) and the vbucket
// map. A pure function of a bucket config, so routing is unit-testable without sockets.
//
//   auto net = cbes::couchbase::select_network(cfg, "auto", seed_hosts);   // "default" |
//   "external" auto topo = cbes::couchbase::make_topology(cfg, net, /*tls=*/false); auto route =
//   topo->route("doc");   // route->vbucket, route->node (index into topo->nodes)
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cbes/couchbase/error.hpp"
#include "cbes/mcbp/bucket_config.hpp"

namespace cbes::couchbase {

struct endpoint {
  std::string host;
  std::uint16_t port = 0;
  bool operator==(const endpoint&) const = default;
  std::string to_string() const;  // "host:port", IPv6 bracketed
};

// Network choice of the Java SDK (`network` setting): "default" uses the nodes' own hostnames,
// any other name the matching `alternateAddresses` entry, and "auto" picks "external" only when
// a seed host matches some node's external hostname and no node's own hostname.
//
//   select_network(cfg, "auto", {"203.0.113.7"}) == "external"
std::string select_network(const mcbp::bucket_config& config, std::string_view requested,
                           const std::vector<std::string>& seed_hosts);

struct node {
  endpoint kv;                      // port 0 when the node runs no KV service
  std::optional<endpoint> manager;  // mgmt / mgmtSSL
  bool operator==(const node&) const = default;
};

struct vbucket_route {
  std::uint16_t vbucket = 0;
  std::size_t node = 0;  // index into topology::nodes
};

struct topology {
  std::int64_t rev_epoch = 0;
  std::int64_t rev = 0;
  // The bucket's `uuid`: a new one each time a bucket of that name is created, so a checkpoint
  // backup can tell a re-created bucket from the one it was taken from.
  std::string bucket_uuid;
  std::string network;                  // "default" or an alternate network name
  std::vector<node> nodes;              // in vBucketServerMap.serverList order
  std::vector<std::int32_t> vb_active;  // vbucket → index into nodes, -1 = no active copy

  std::size_t num_vbuckets() const noexcept { return vb_active.size(); }
  // The vbucket of a key (CRC32 hash) and its active node; nullopt while the vbucket has
  // no active node (e.g. mid-failover) or the bucket has no vbucket map.
  std::optional<vbucket_route> route(std::string_view key) const;
  std::optional<std::size_t> active_node(std::uint16_t vbucket) const;
  // KV endpoints of nodes that run KV, in node order.
  std::vector<endpoint> kv_endpoints() const;
};

// Builds the topology. The server list's "host:port" entries are matched to `nodesExt` by host and
// KV port so that alternate addresses and TLS ports apply; a server-list entry without a
// matching nodesExt entry is used as is (plain KV only). errc::no_config when the config has no
// vbucket map; errc::invalid_argument when `network` names an alternate network some node lacks.
result<topology> make_topology(const mcbp::bucket_config& config, std::string_view network,
                               bool tls);

}  // namespace cbes::couchbase
