#pragma once
// Plain data exchanged with Consul (Consul's HTTP API docs). No JSON types leak out: values
// are bytes (std::string), indexes and flags unsigned 64-bit.
//
//   consul::kv_pair p = ...;            // from kv().get()
//   if (p.session.empty()) { ... }      // nobody holds the lock
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace consul {

// ---- blocking queries ----
enum class consistency { default_mode, stale, consistent };

// Read options. index > 0 makes the call a blocking query that returns once the result index
// is greater than `index` or `wait` passes (0 = Consul's default 5 min; clamped to 10 min).
struct query_options {
  std::uint64_t index = 0;
  std::chrono::milliseconds wait{0};
  consistency mode = consistency::default_mode;
};

// The X-Consul-* headers of a read, present on 404 answers too.
struct query_meta {
  std::uint64_t index = 0;
  bool known_leader = false;
  std::chrono::milliseconds last_contact{0};
};

// A read's value with its meta.
template <class T>
struct response {
  T value;
  query_meta meta;
};

// ---- KV ----
struct kv_pair {
  std::string key;
  std::string value;  // raw bytes; `Value: null` reads as empty
  std::uint64_t flags = 0;
  std::uint64_t lock_index = 0;
  std::uint64_t create_index = 0;
  std::uint64_t modify_index = 0;
  std::string session;  // empty when the key is not locked
};

struct kv_put_options {
  std::uint64_t flags = 0;
  std::optional<std::uint64_t> cas;  // 0 = create only; N = only if ModifyIndex == N
  std::string acquire;               // session id: lock the key
  std::string release;               // session id: unlock the key
};

struct kv_delete_options {
  std::optional<std::uint64_t> cas;
  bool recurse = false;
};

// ---- sessions ----
enum class session_behavior { release, delete_keys };

struct session_options {
  std::string name;
  std::string node;                                     // empty = the agent's node
  std::optional<std::chrono::milliseconds> lock_delay;  // unset = Consul's 15 s
  session_behavior behavior = session_behavior::release;
  std::chrono::milliseconds ttl{0};                     // 0 = no TTL; else within [10 s, 24 h]
  std::optional<std::vector<std::string>> node_checks;  // unset = ["serfHealth"]
  std::vector<std::string> service_checks;              // check ids bound to the session
  bool no_checks = false;  // send "Checks": [] — a session bound to no health check at all
};

struct session_info {
  std::string id;
  std::string name;
  std::string node;
  std::chrono::nanoseconds lock_delay{0};
  session_behavior behavior = session_behavior::release;
  std::string ttl;  // as Consul echoes it, e.g. "15s"; empty = none
  std::chrono::nanoseconds ttl_duration{0};
  std::vector<std::string> node_checks;
  std::vector<std::string> service_checks;
  std::uint64_t create_index = 0;
  std::uint64_t modify_index = 0;
};

// ---- agent, health, catalog ----
enum class check_status { passing, warning, critical };
const char* to_string(check_status s) noexcept;

struct ttl_check {
  std::string id;    // empty = "service:<service id>"
  std::string name;  // empty = "Service '<name>' check"
  std::chrono::milliseconds ttl{10000};
  std::string notes;
  std::optional<check_status> status;  // initial status; unset = critical
  std::chrono::milliseconds deregister_critical_service_after{0};  // 0 = never (min 1 m)
};

struct service_registration {
  std::string id;  // empty = name
  std::string name;
  std::vector<std::string> tags;
  std::map<std::string, std::string> meta;
  std::string address;
  int port = 0;
  std::optional<ttl_check> check;
  bool replace_existing_checks = false;
};

struct agent_self {
  std::string node_name;
  std::string datacenter;
  std::string version;
  std::string member_address;
};

struct service_entry {
  std::string id;
  std::string service;
  std::vector<std::string> tags;
  std::map<std::string, std::string> meta;
  std::string address;  // may be empty: fall back to the node address
  int port = 0;
};

struct health_check {
  std::string node;
  std::string check_id;
  std::string name;
  std::string status;  // "passing" | "warning" | "critical"
  std::string notes;
  std::string output;
  std::string service_id;
  std::string service_name;
};

struct node_entry {
  std::string id;
  std::string node;
  std::string address;
  std::string datacenter;
};

struct health_entry {
  node_entry node;
  service_entry service;
  std::vector<health_check> checks;  // service checks and the node's checks
};

struct health_options {
  bool passing = false;
  std::vector<std::string> tags;  // instances must carry all of them
};

// ---- transactions ----
enum class txn_verb {
  set,
  cas,
  lock,
  unlock,
  get,
  get_tree,
  check_index,
  check_session,
  check_not_exists,
  delete_key,
  delete_tree,
  delete_cas,
};

struct txn_op {
  txn_verb verb = txn_verb::get;
  std::string key;
  std::string value;
  std::uint64_t flags = 0;
  std::uint64_t index = 0;
  std::string session;

  static txn_op set(std::string key, std::string value, std::uint64_t flags = 0);
  static txn_op cas(std::string key, std::string value, std::uint64_t index);
  static txn_op lock(std::string key, std::string value, std::string session);
  static txn_op unlock(std::string key, std::string value, std::string session);
  static txn_op get(std::string key);
  static txn_op get_tree(std::string prefix);
  static txn_op check_index(std::string key, std::uint64_t index);
  static txn_op check_session(std::string key, std::string session);
  static txn_op check_not_exists(std::string key);
  static txn_op remove(std::string key);
  static txn_op remove_tree(std::string prefix);
  static txn_op remove_cas(std::string key, std::uint64_t index);
};

struct txn_error {
  std::size_t op_index = 0;
  std::string what;  // Consul's text, e.g. `failed to lock key "k", lock is already held`
};

// committed == false (HTTP 409): nothing was applied and `errors` lists every failing op.
struct txn_result {
  bool committed = false;
  std::vector<kv_pair> results;
  std::vector<txn_error> errors;
};

}  // namespace consul
