#pragma once
// Where a worker group lives in Consul's KV store, and who its members are — the Java
// connector's layout, so that Java and C++ workers and tools can share a group:
//
//   couchbase/cbes/<group>/config         the connector TOML (written by `configure`)
//   couchbase/cbes/<group>/control        JSON object, e.g. {"paused":true}; absent = {}
//   couchbase/cbes/<group>/leader         the leader's endpoint id (held by its session)
//   couchbase/cbes/<group>/rpc/<endpoint> the worker's RPC endpoint document (held by its session)
//
//   auto key = cbes::group::rpc_key("example-group", cbes::group::endpoint_id("node1", "10.0.0.5",
//                                                                             "example-group"));
//   // "couchbase/cbes/example-group/rpc/node1::10.0.0.5::example-group"
#include <string>
#include <string_view>
#include <vector>

#include "cbes/group/error.hpp"

namespace cbes::group {

// Every key of every group starts with this.
inline constexpr std::string_view key_root = "couchbase/cbes/";

//   config_key("g") == "couchbase/cbes/g/config"
std::string config_key(std::string_view group);
//   control_key("g") == "couchbase/cbes/g/control"
std::string control_key(std::string_view group);
//   leader_key("g") == "couchbase/cbes/g/leader"
std::string leader_key(std::string_view group);
// The folder of the group's RPC endpoints, with its trailing slash (list it with kv().keys()).
//   rpc_prefix("g") == "couchbase/cbes/g/rpc/"
std::string rpc_prefix(std::string_view group);
//   rpc_key("g", "n::a::s") == "couchbase/cbes/g/rpc/n::a::s"
std::string rpc_key(std::string_view group, std::string_view endpoint_id);
// Not in the Java connector's layout: where a worker that leaves gracefully records the
// vbuckets it stopped streaming ({"vbuckets":[...]}), written only after its streams ended, so
// that the leader may give them out at once instead of waiting out a vanished worker's kill
// switch. The leader deletes a record (by CAS) before it relies on it.
//   released_prefix("g") == "couchbase/cbes/g/released/"
//   released_key("g", "n::a::s") == "couchbase/cbes/g/released/n::a::s"
std::string released_prefix(std::string_view group);
std::string released_key(std::string_view group, std::string_view endpoint_id);

// A worker's identity: the agent's node name and address (/v1/agent/self, Member.Name and
// Member.Addr) and the service id it registered. Health results give the same triple
// (Node.Node, Node.Address, Service.ID), so the leader names members as they name themselves.
struct endpoint {
  std::string node;
  std::string address;
  std::string service_id;

  bool operator==(const endpoint&) const = default;
};

//   endpoint_id("node1", "10.0.0.5", "example-group") == "node1::10.0.0.5::example-group"
std::string endpoint_id(std::string_view node, std::string_view address,
                        std::string_view service_id);
inline std::string endpoint_id(const endpoint& e) {
  return endpoint_id(e.node, e.address, e.service_id);
}

// The inverse of endpoint_id: exactly three non-empty parts separated by "::" (an IPv6 address
// with "::" in it cannot be told apart and is refused), else errc::invalid_argument.
//   auto e = parse_endpoint_id("node1::10.0.0.5::g");   // e->address == "10.0.0.5"
result<endpoint> parse_endpoint_id(std::string_view id);

// The group control document. Only "paused" means anything to the connector; the other fields
// are somebody else's and survive a pause or resume (read-modify-write keeps them).
struct control_doc {
  bool paused = false;
  std::string json = "{}";  // the whole object as read ("{}" when absent or empty)
};

// Absent and empty read as {} (not paused); "paused" counts only when it is the JSON boolean
// true. Anything but a JSON object is errc::invalid_document.
//   auto c = parse_control(R"({"paused":true,"note":"x"})");   // c->paused == true
result<control_doc> parse_control(std::string_view text);

// The document to write back: `doc` with "paused" set, every other field as it was.
//   kv.put(control_key(g), with_paused(*parse_control(old), true));
std::string with_paused(const control_doc& doc, bool paused);

// The configured groups: the keys under key_root that end in "/config", with the root and the
// suffix cut off, sorted, each once. Give it the keys of kv().keys(std::string(key_root)).
//   group_names({"couchbase/cbes/b/config", "couchbase/cbes/a/config", "couchbase/cbes/a/leader"})
//   == {"a", "b"}
std::vector<std::string> group_names(const std::vector<std::string>& keys);

}  // namespace cbes::group
