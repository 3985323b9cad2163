#pragma once
// The state of the fake Consul agent: a single-node dev server's KV store, sessions, local
// services and checks, and the Raft-like indexes that blocking queries compare
// (Consul's HTTP API docs). Pure: no I/O, time is passed in. Not thread-safe;
// consul_agent serialises access with its mutex.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace cbes::testkit::consul_fake {

using ns = std::chrono::nanoseconds;
using namespace std::chrono_literals;

// Consul's HTTP API docs
inline constexpr std::size_t kv_max_value_size = 524288;
inline constexpr std::size_t txn_max_ops = 128;
inline constexpr ns session_ttl_min = 10s;
inline constexpr ns session_ttl_max = 24h;
inline constexpr ns max_lock_delay = 60s;
inline constexpr ns default_lock_delay = 15s;
inline constexpr ns min_deregister_critical_after = 1min;
inline constexpr ns reaper_period = 30s;
inline constexpr std::size_t check_output_max = 4096;

struct kv_entry {
  std::string key;
  std::uint64_t flags = 0;
  std::string value;
  std::string session;
  std::uint64_t lock_index = 0;
  std::uint64_t create_index = 0;
  std::uint64_t modify_index = 0;
};

struct session {
  std::string id;
  std::string name;
  std::string node;
  ns lock_delay = default_lock_delay;
  std::string behavior = "release";
  std::string ttl_text;  // echoed as given
  ns ttl{0};
  std::vector<std::string> node_checks;
  std::optional<std::vector<std::string>> service_checks;
  std::uint64_t create_index = 0;
  std::uint64_t modify_index = 0;
  std::optional<ns> expires_at;  // 2 x TTL after creation / last renew
};

struct service {
  std::string id;
  std::string name;
  std::vector<std::string> tags;
  std::string address;
  int port = 0;
  std::vector<std::pair<std::string, std::string>> meta;
  bool enable_tag_override = false;
  int weight_passing = 1;
  int weight_warning = 1;
  std::uint64_t create_index = 0;
  std::uint64_t modify_index = 0;
};

struct check {
  std::string id;
  std::string name;
  std::string status = "critical";
  std::string notes;
  std::string output;         // agent view (GET /v1/agent/checks)
  std::string synced_output;  // catalog view: output-only changes are not synced
  std::string last_output;    // last TTL update output, for "TTL expired (...)"
  std::string service_id;
  std::string service_name;
  std::vector<std::string> service_tags;
  std::string type;  // "ttl", "http", ... ("" for serfHealth)
  ns ttl{0};
  std::optional<ns> ttl_deadline;
  ns deregister_after{0};  // 0 = never
  std::optional<ns> critical_since;
  std::uint64_t create_index = 0;
  std::uint64_t modify_index = 0;
};

// Outcome of a write that the HTTP layer turns into a status and body.
struct op_error {
  int status;
  std::string message;
};

struct txn_op {
  std::string verb;
  std::string key;
  std::optional<std::string> value;
  std::uint64_t flags = 0;
  std::uint64_t index = 0;
  std::string session;
};

struct txn_outcome {
  std::vector<kv_entry> results;       // entries whose value must be shown
  std::vector<bool> result_has_value;  // false: render Value as null (non-get verbs)
  std::vector<std::pair<std::size_t, std::string>> errors;
};

class store {
 public:
  store(std::string node_name, std::string datacenter);

  // ---- indexes ----
  std::uint64_t current_index() const { return index_; }
  std::uint64_t kv_table_index() const;
  std::uint64_t kv_prefix_index(const std::string& prefix) const;
  std::uint64_t sessions_index() const { return sessions_index_; }
  std::uint64_t services_index() const { return services_index_; }
  std::uint64_t nodes_index() const { return nodes_index_; }
  std::uint64_t checks_index() const { return checks_index_; }
  std::uint64_t service_index(const std::string& name) const;

  // ---- KV ----
  const kv_entry* kv_get(const std::string& key) const;
  std::vector<const kv_entry*> kv_list(const std::string& prefix) const;
  enum class put_mode { set, cas, acquire, release };
  // Returns true/false as the HTTP body, or an error (Consul's 500 texts).
  std::variant<bool, op_error> kv_put(const std::string& key, std::string value,
                                      std::uint64_t flags, put_mode mode, std::uint64_t cas,
                                      const std::string& session, ns now);
  bool kv_delete(const std::string& key, bool recurse, std::optional<std::uint64_t> cas);
  txn_outcome txn(const std::vector<txn_op>& ops, ns now);

  // ---- sessions ----
  struct session_request {
    std::string name;
    std::optional<std::string> node;
    ns lock_delay = default_lock_delay;
    std::string behavior = "release";
    std::string ttl_text;
    ns ttl{0};
    std::optional<std::vector<std::string>> node_checks;
    std::optional<std::vector<std::string>> checks;
    std::optional<std::vector<std::string>> service_checks;
  };
  std::variant<std::string, op_error> session_create(const session_request& req, ns now);
  void session_destroy(const std::string& id, ns now);
  const session* session_get(const std::string& id) const;
  const session* session_renew(const std::string& id, ns now);
  const std::map<std::string, session>& sessions() const { return sessions_; }

  // ---- agent / catalog ----
  struct check_definition {
    std::optional<std::string> id;
    std::optional<std::string> name;
    std::string notes;
    std::optional<std::string> status;
    std::string type = "ttl";
    ns ttl{0};
    ns deregister_after{0};
    std::string service_id;  // for /agent/check/register
  };
  std::optional<op_error> register_service(service svc, std::vector<check_definition> checks,
                                           bool replace_existing_checks, ns now);
  std::optional<op_error> deregister_service(const std::string& id, ns now);
  std::optional<op_error> register_check(check_definition def, ns now);
  std::optional<op_error> deregister_check(const std::string& id, ns now);
  // pass/warn/fail/update: 404 unknown check, 500 non-TTL check.
  std::optional<op_error> update_ttl_check(const std::string& id, const std::string& status,
                                           const std::string& output, ns now);
  void set_node_alive(bool alive, ns now);

  const std::map<std::string, service>& services() const { return services_; }
  const std::map<std::string, check>& checks() const { return checks_; }
  const check& serf_health() const { return serf_; }
  const service& consul_service() const { return consul_service_; }
  std::vector<const check*> checks_of_service(const std::string& service_id) const;

  const std::string& node_name() const { return node_name_; }
  const std::string& node_id() const { return node_id_; }
  const std::string& datacenter() const { return datacenter_; }
  std::uint64_t node_create_index() const { return node_create_index_; }
  std::uint64_t node_modify_index() const { return node_modify_index_; }

  // ---- time ----
  // Runs every timer due at or before `now` in time order: session TTL expiry, check TTL
  // expiry, and the 30 s critical-service reaper. Returns true when state changed.
  bool run_due(ns now);

  // Fault injection: restart the index counter low and renumber everything.
  void reset_index();
  // After a restart with the data kept: session TTLs and check TTLs start over from `now`
  // (Consul resets session timers when a leader takes office and restores check TTL timers).
  void restart_timers(ns now);

  std::string new_uuid();

 private:
  std::uint64_t next_index() { return ++index_; }
  bool lock_delayed(const std::string& key, ns now) const;
  void invalidate_session(const std::string& id, ns now);
  void invalidate_sessions_bound_to(const std::string& check_id, ns now);
  void touch_service(const std::string& name, std::uint64_t idx);
  void touch_all_services(std::uint64_t idx);
  void set_check_status(check& c, const std::string& status, const std::string& output, ns now);
  void remove_check(const std::string& id, ns now, std::uint64_t idx);
  std::optional<op_error> check_from_definition(const check_definition& def, check& out) const;

  std::string node_name_;
  std::string node_id_;
  std::string datacenter_;
  std::uint64_t index_ = 0;
  std::uint64_t node_create_index_ = 0;
  std::uint64_t node_modify_index_ = 0;

  std::map<std::string, kv_entry> kv_;
  std::map<std::string, std::uint64_t> tombstones_;
  std::map<std::string, ns> lock_delays_;  // key -> end of window
  std::uint64_t kv_index_ = 0;

  std::map<std::string, session> sessions_;
  std::uint64_t sessions_index_ = 0;

  std::map<std::string, service> services_;
  std::map<std::string, check> checks_;
  check serf_;
  service consul_service_;
  std::map<std::string, std::uint64_t> service_indexes_;
  std::uint64_t services_index_ = 0;
  std::uint64_t nodes_index_ = 0;
  std::uint64_t checks_index_ = 0;
  std::uint64_t extinction_index_ = 0;
  ns next_reap_ = reaper_period;
  std::uint64_t rng_state_;
};

}  // namespace cbes::testkit::consul_fake
