#pragma once
// Seed nodes of a Couchbase connection string: `host`, `host:port`, `host:port=kv|manager`,
// separated by commas (optionally with a `couchbase://` / `couchbases://` scheme, as the Java
// connector's `couchbase.hosts` accepts). A seed is where bootstrap starts; the bucket config
// then names every node.
//
//   auto seeds = cbes::couchbase::parse_seeds("10.0.0.1,10.0.0.2:11210=kv,cb:8091=manager", false);
//   // seeds->at(0) == {"10.0.0.1", 11210, seed_kind::kv}; at(2).kind == seed_kind::manager
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cbes/couchbase/error.hpp"

namespace cbes::couchbase {

// Default ports of Couchbase Server (kv_engine's protocol docs: KV 11210, TLS 11207; the
// cluster manager answers HTTP on 8091, HTTPS on 18091).
inline constexpr std::uint16_t default_kv_port = 11210;
inline constexpr std::uint16_t default_kv_tls_port = 11207;
inline constexpr std::uint16_t default_manager_port = 8091;
inline constexpr std::uint16_t default_manager_tls_port = 18091;

enum class seed_kind { kv, manager };

struct seed {
  std::string host;  // IPv6 without brackets
  std::uint16_t port = 0;
  seed_kind kind = seed_kind::kv;
  bool operator==(const seed&) const = default;
};

// Parses a comma-separated seed list. A bare host gets the KV port (TLS or not); a port without
// `=kind` is a manager port when it is 8091/18091, else a KV port (the Java SDK's guess). A
// `couchbases://` scheme forces `tls`. errc::invalid_argument with the offending entry otherwise.
result<std::vector<seed>> parse_seeds(std::string_view list, bool tls);

// "host:port" with IPv6 literals bracketed.
std::string format_host_port(std::string_view host, std::uint16_t port);

}  // namespace cbes::couchbase
