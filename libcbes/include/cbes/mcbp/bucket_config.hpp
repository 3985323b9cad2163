#pragma once
// The bucket config JSON of GET_CLUSTER_CONFIG, NOT_MY_VBUCKET bodies and 0x82 pushes
// (kv_engine's protocol docs), parsed into plain structs. `$HOST` and a missing nodesExt
// hostname mean "the host this connection talks to"; the parser substitutes it.
//
//   auto cfg = cbes::mcbp::parse_bucket_config(json, "10.0.0.1");
//   for (const auto& n : cfg->nodes_ext) if (auto kv = n.service("kv")) connect(n.hostname, *kv);
//   if (is_newer(*cfg, current)) apply(*cfg);
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cbes/mcbp/error.hpp"

namespace cbes::mcbp {

struct alternate_address {
  std::string hostname;
  std::map<std::string, std::uint16_t> ports;  // service name → port (only remapped ones)
};

struct node_ext {
  std::string hostname;  // never empty after parsing ($HOST / missing → connected host)
  bool this_node = false;
  std::map<std::string, std::uint16_t> services;  // "kv" → 11210, "kvSSL" → 11207, ...
  std::map<std::string, alternate_address> alternate_addresses;  // network name → address

  std::optional<std::uint16_t> service(std::string_view name) const;
};

struct vbucket_server_map {
  std::string hash_algorithm;  // "CRC"
  std::uint32_t num_replicas = 0;
  std::vector<std::string> server_list;  // "host:port", $HOST substituted
  // One row per vbucket: [active, replica1, ...], indices into server_list, -1 = none.
  std::vector<std::vector<std::int32_t>> vbucket_map;
  std::vector<std::vector<std::int32_t>> vbucket_map_forward;  // during rebalance, else empty
};

struct bucket_config {
  std::int64_t rev = 0;
  std::int64_t rev_epoch = 0;  // absent → 0
  std::string name;
  std::string uuid;
  std::string bucket_type;   // "membase" (couchbase) or "ephemeral"
  std::string node_locator;  // "vbucket"; empty for a global (bucket-less) config
  std::vector<std::string> bucket_capabilities;
  std::optional<std::uint64_t> collections_manifest_uid;  // parsed from the hex string
  std::vector<node_ext> nodes_ext;
  std::optional<mcbp::vbucket_server_map> vbucket_server_map;

  std::size_t num_vbuckets() const noexcept {
    return vbucket_server_map ? vbucket_server_map->vbucket_map.size() : 0;
  }
  bool has_capability(std::string_view c) const noexcept;
  // Index into vbucket_server_map->server_list of the active node of `vb`, or nullopt.
  std::optional<std::size_t> active_server(std::uint16_t vb) const noexcept;
};

// Parses the JSON; `connected_host` replaces `$HOST` (IPv6 literals are bracketed in
// "host:port" strings). errc::bad_json for syntax errors, errc::bad_bucket_config when `rev` is
// missing, a member has the wrong type, a port is out of range, or the vBucketMap refers to
// servers that do not exist or has a length that is not a power of two.
result<bucket_config> parse_bucket_config(std::string_view json, std::string_view connected_host);

// (revEpoch, rev) compared lexicographically.
inline bool is_newer(const bucket_config& candidate, const bucket_config& current) noexcept {
  return candidate.rev_epoch != current.rev_epoch ? candidate.rev_epoch > current.rev_epoch
                                                  : candidate.rev > current.rev;
}

}  // namespace cbes::mcbp
