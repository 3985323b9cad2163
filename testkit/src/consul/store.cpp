#include "store.hpp"

#include <algorithm>
#include <cstdio>
#include <random>

namespace cbes::testkit::consul_fake {

namespace {

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool same_content(const kv_entry& a, const kv_entry& b) {
  return a.lock_index == b.lock_index && a.key == b.key && a.flags == b.flags &&
         a.value == b.value && a.session == b.session;
}

// Consul's HTTP API docs: long outputs are cut and annotated.
std::string truncate_output(const std::string& output) {
  if (output.size() <= check_output_max)
    return output;
  return output.substr(0, check_output_max) + " ... (captured " + std::to_string(check_output_max) +
         " of " + std::to_string(output.size()) + " bytes)";
}

}  // namespace

store::store(std::string node_name, std::string datacenter)
    : node_name_(std::move(node_name)), datacenter_(std::move(datacenter)) {
  std::random_device rd;
  rng_state_ = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  node_id_ = new_uuid();
  // A dev agent has applied a dozen internal Raft entries before the first user write
  // (a dev agent's bootstrap state): node at 11, serfHealth at 12, service consul at 13.
  index_ = 10;
  node_create_index_ = node_modify_index_ = nodes_index_ = next_index();
  serf_.id = "serfHealth";
  serf_.name = "Serf Health Status";
  serf_.status = "passing";
  serf_.output = serf_.synced_output = "Agent alive and reachable";
  serf_.create_index = serf_.modify_index = checks_index_ = next_index();
  consul_service_.id = "consul";
  consul_service_.name = "consul";
  consul_service_.port = 8300;
  consul_service_.create_index = consul_service_.modify_index = services_index_ = next_index();
  service_indexes_["consul"] = services_index_;
}

std::string store::new_uuid() {
  auto next = [this] {
    // splitmix64: good enough for ids, no global state
    std::uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  std::uint64_t a = next(), b = next();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

// ---------------------------------------------------------------- indexes

std::uint64_t store::kv_table_index() const {
  return kv_index_;
}

std::uint64_t store::kv_prefix_index(const std::string& prefix) const {
  if (prefix.empty())
    return kv_index_;
  std::uint64_t max = 0;
  for (auto it = kv_.lower_bound(prefix); it != kv_.end() && starts_with(it->first, prefix); ++it)
    max = std::max(max, it->second.modify_index);
  for (auto it = tombstones_.lower_bound(prefix);
       it != tombstones_.end() && starts_with(it->first, prefix); ++it)
    max = std::max(max, it->second);
  return max == 0 ? kv_index_ : max;
}

std::uint64_t store::service_index(const std::string& name) const {
  bool exists = name == "consul";
  for (const auto& [id, svc] : services_)
    exists = exists || svc.name == name;
  if (exists) {
    if (auto it = service_indexes_.find(name); it != service_indexes_.end())
      return it->second;
  }
  return extinction_index_ != 0 ? extinction_index_ : services_index_;
}

void store::touch_service(const std::string& name, std::uint64_t idx) {
  service_indexes_[name] = idx;
}

void store::touch_all_services(std::uint64_t idx) {
  service_indexes_["consul"] = idx;
  for (const auto& [id, svc] : services_)
    service_indexes_[svc.name] = idx;
}

// ---------------------------------------------------------------- KV

const kv_entry* store::kv_get(const std::string& key) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? nullptr : &it->second;
}

std::vector<const kv_entry*> store::kv_list(const std::string& prefix) const {
  std::vector<const kv_entry*> out;
  for (auto it = kv_.lower_bound(prefix); it != kv_.end() && starts_with(it->first, prefix); ++it)
    out.push_back(&it->second);
  return out;
}

bool store::lock_delayed(const std::string& key, ns now) const {
  auto it = lock_delays_.find(key);
  return it != lock_delays_.end() && now < it->second;
}

std::variant<bool, op_error> store::kv_put(const std::string& key, std::string value,
                                           std::uint64_t flags, put_mode mode, std::uint64_t cas,
                                           const std::string& session_id, ns now) {
  auto it = kv_.find(key);
  const kv_entry* existing = it == kv_.end() ? nullptr : &it->second;
  kv_entry entry;
  entry.key = key;
  entry.flags = flags;
  entry.value = std::move(value);
  switch (mode) {
    case put_mode::cas:
      if (cas == 0 && existing)
        return false;
      if (cas != 0 && (!existing || existing->modify_index != cas))
        return false;
      [[fallthrough]];
    case put_mode::set:
      // a plain set keeps the lock holder but resets LockIndex to the request's 0.
      entry.session = existing ? existing->session : std::string();
      entry.lock_index = 0;
      break;
    case put_mode::acquire:
      // lock-delay is checked before the session itself.
      if (lock_delayed(key, now))
        return false;
      if (session_id.empty())
        return op_error{500, "missing session"};
      if (!sessions_.count(session_id))
        return op_error{500, "invalid session \"" + session_id + "\""};
      if (existing && !existing->session.empty() && existing->session != session_id)
        return false;
      entry.session = session_id;
      if (!existing)
        entry.lock_index = 1;
      else if (existing->session == session_id)
        entry.lock_index = existing->lock_index;
      else
        entry.lock_index = existing->lock_index + 1;
      break;
    case put_mode::release:
      if (session_id.empty())
        return op_error{500, "missing session"};
      if (!existing || existing->session != session_id)
        return false;
      entry.session.clear();
      entry.lock_index = existing->lock_index;
      break;
  }
  // new servers skip identical writes (no index movement, no wake-ups).
  if (existing && same_content(*existing, entry))
    return true;
  auto idx = next_index();
  entry.create_index = existing ? existing->create_index : idx;
  entry.modify_index = idx;
  kv_index_ = idx;
  kv_[key] = std::move(entry);
  return true;
}

bool store::kv_delete(const std::string& key, bool recurse, std::optional<std::uint64_t> cas) {
  if (recurse) {
    std::vector<std::string> doomed;
    for (auto it = kv_.lower_bound(key); it != kv_.end() && starts_with(it->first, key); ++it)
      doomed.push_back(it->first);
    if (doomed.empty())
      return true;
    auto idx = next_index();
    for (const auto& k : doomed) {
      kv_.erase(k);
      tombstones_[k] = idx;
    }
    kv_index_ = idx;
    return true;
  }
  auto it = kv_.find(key);
  if (it == kv_.end())
    return true;  // also with ?cas on a missing key
  if (cas && it->second.modify_index != *cas)
    return false;
  auto idx = next_index();
  kv_.erase(it);
  tombstones_[key] = idx;
  kv_index_ = idx;
  return true;
}

txn_outcome store::txn(const std::vector<txn_op>& ops, ns now) {
  // All or nothing: apply to the live maps with one index, roll back on any error.
  auto saved_kv = kv_;
  auto saved_tombstones = tombstones_;
  auto saved_kv_index = kv_index_;
  const std::uint64_t idx = index_ + 1;
  bool wrote = false;
  txn_outcome out;
  auto fail = [&](std::size_t i, std::string what) { out.errors.emplace_back(i, std::move(what)); };
  auto result = [&](const kv_entry& e, bool with_value) {
    out.results.push_back(e);
    out.result_has_value.push_back(with_value);
  };
  auto write = [&](kv_entry e) -> const kv_entry& {
    auto it = kv_.find(e.key);
    e.create_index = it == kv_.end() ? idx : it->second.create_index;
    e.modify_index = idx;
    wrote = true;
    auto& slot = kv_[e.key];
    slot = std::move(e);
    return slot;
  };
  auto erase = [&](const std::string& k) {
    if (kv_.erase(k)) {
      tombstones_[k] = idx;
      wrote = true;
    }
  };
  auto quoted = [](const std::string& k) { return "\"" + k + "\""; };

  for (std::size_t i = 0; i < ops.size(); ++i) {
    const auto& op = ops[i];
    auto it = kv_.find(op.key);
    const kv_entry* existing = it == kv_.end() ? nullptr : &it->second;
    kv_entry e;
    e.key = op.key;
    e.flags = op.flags;
    e.value = op.value.value_or("");
    if (op.verb == "set" || op.verb == "cas") {
      if (op.verb == "cas" &&
          ((op.index == 0 && existing) ||
           (op.index != 0 && (!existing || existing->modify_index != op.index)))) {
        fail(i, "failed to set key " + quoted(op.key) + ", index is stale");
        continue;
      }
      e.session = existing ? existing->session : std::string();
      result(write(std::move(e)), false);
    } else if (op.verb == "lock") {
      if (lock_delayed(op.key, now)) {
        fail(i, "failed to lock key " + quoted(op.key) + " due to lock delay");
      } else if (op.session.empty()) {
        fail(i, "missing session");
      } else if (!sessions_.count(op.session)) {
        fail(i, "invalid session " + quoted(op.session));
      } else if (existing && !existing->session.empty() && existing->session != op.session) {
        fail(i, "failed to lock key " + quoted(op.key) + ", lock is already held");
      } else {
        e.session = op.session;
        e.lock_index = !existing                         ? 1
                       : existing->session == op.session ? existing->lock_index
                                                         : existing->lock_index + 1;
        result(write(std::move(e)), false);
      }
    } else if (op.verb == "unlock") {
      if (!existing || existing->session != op.session) {
        fail(i, "failed to unlock key " + quoted(op.key) +
                    ", lock isn't held, or is held by another session");
      } else {
        e.lock_index = existing->lock_index;
        result(write(std::move(e)), false);
      }
    } else if (op.verb == "get") {
      if (!existing)
        fail(i, "key " + quoted(op.key) + " doesn't exist");
      else
        result(*existing, true);
    } else if (op.verb == "get-or-empty") {
      if (existing) {
        result(*existing, true);
      } else {
        kv_entry empty;
        empty.key = op.key;
        result(empty, true);
      }
    } else if (op.verb == "get-tree") {
      for (const auto* entry : kv_list(op.key))
        result(*entry, true);
    } else if (op.verb == "check-index") {
      if (!existing)
        fail(i, "failed to check index, key " + quoted(op.key) + " doesn't exist");
      else if (existing->modify_index != op.index)
        fail(i, "failed index check for key " + quoted(op.key) + ", current modify index " +
                    std::to_string(existing->modify_index) + " != " + std::to_string(op.index));
      else
        result(*existing, false);
    } else if (op.verb == "check-session") {
      if (!existing)
        fail(i, "failed to check session, key " + quoted(op.key) + " doesn't exist");
      else if (existing->session != op.session)
        fail(i, "failed session check for key " + quoted(op.key) + ", current session " +
                    quoted(existing->session) + " != " + quoted(op.session));
      else
        result(*existing, false);
    } else if (op.verb == "check-not-exists") {
      if (existing)
        fail(i, "key " + quoted(op.key) + " exists");
    } else if (op.verb == "delete") {
      erase(op.key);
    } else if (op.verb == "delete-tree") {
      std::vector<std::string> doomed;
      for (const auto* entry : kv_list(op.key))
        doomed.push_back(entry->key);
      for (const auto& k : doomed)
        erase(k);
    } else if (op.verb == "delete-cas") {
      if (existing && existing->modify_index != op.index)
        fail(i, "failed to delete key " + quoted(op.key) + ", index is stale");
      else
        erase(op.key);
    } else {
      fail(i, "unknown KV verb " + quoted(op.verb));
    }
  }
  if (!out.errors.empty()) {
    kv_ = std::move(saved_kv);
    tombstones_ = std::move(saved_tombstones);
    kv_index_ = saved_kv_index;
    out.results.clear();
    out.result_has_value.clear();
    return out;
  }
  if (wrote) {
    index_ = idx;
    kv_index_ = idx;
  }
  return out;
}

// ---------------------------------------------------------------- sessions

std::variant<std::string, op_error> store::session_create(const session_request& req, ns now) {
  if (req.node && !req.node->empty() && *req.node != node_name_)
    return op_error{500, "Missing node registration"};
  if (req.behavior != "release" && req.behavior != "delete")
    return op_error{500, "Invalid Behavior setting '" + req.behavior + "'"};
  if (req.ttl != ns{0} && (req.ttl < session_ttl_min || req.ttl > session_ttl_max))
    return op_error{500, "Invalid Session TTL '" + std::to_string(req.ttl.count()) +
                             "', must be between [10s=24h0m0s]"};
  std::vector<std::string> node_checks;
  if (req.node_checks)
    node_checks = *req.node_checks;
  if (req.checks) {
    for (const auto& c : *req.checks) {
      if (std::find(node_checks.begin(), node_checks.end(), c) == node_checks.end())
        node_checks.push_back(c);
    }
  }
  // without NodeChecks/Checks the session is bound to serfHealth; an explicit empty
  // list means no checks at all.
  if (!req.node_checks && !req.checks)
    node_checks.push_back("serfHealth");
  auto validate = [&](const std::string& id) -> std::optional<op_error> {
    const check* c = id == serf_.id ? &serf_ : nullptr;
    if (auto it = checks_.find(id); !c && it != checks_.end())
      c = &it->second;
    if (!c)
      return op_error{500, "Missing check '" + id + "' registration"};
    if (c->status == "critical")
      return op_error{500, "Check '" + id + "' is in critical state"};
    return std::nullopt;
  };
  for (const auto& id : node_checks) {
    if (auto err = validate(id))
      return *err;
  }
  if (req.service_checks) {
    for (const auto& id : *req.service_checks) {
      if (auto err = validate(id))
        return *err;
    }
  }
  session s;
  s.id = new_uuid();
  s.name = req.name;
  s.node = node_name_;
  s.lock_delay = req.lock_delay;
  s.behavior = req.behavior;
  s.ttl_text = req.ttl_text;
  s.ttl = req.ttl;
  s.node_checks = std::move(node_checks);
  s.service_checks = req.service_checks;
  s.create_index = s.modify_index = sessions_index_ = next_index();
  if (s.ttl > ns{0})
    s.expires_at = now + 2 * s.ttl;  // invalidated ~2 x TTL after the last renew
  auto id = s.id;
  sessions_.emplace(id, std::move(s));
  return id;
}

void store::session_destroy(const std::string& id, ns now) {
  if (sessions_.count(id))
    invalidate_session(id, now);
}

const session* store::session_get(const std::string& id) const {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

const session* store::session_renew(const std::string& id, ns now) {
  auto it = sessions_.find(id);
  if (it == sessions_.end())
    return nullptr;
  if (it->second.ttl > ns{0})
    it->second.expires_at = now + 2 * it->second.ttl;
  return &it->second;
}

void store::invalidate_session(const std::string& id, ns now) {
  auto sit = sessions_.find(id);
  if (sit == sessions_.end())
    return;
  const session s = sit->second;
  sessions_.erase(sit);
  auto idx = next_index();
  sessions_index_ = idx;
  std::vector<std::string> held;
  for (const auto& [key, e] : kv_) {
    if (e.session == id)
      held.push_back(key);
  }
  for (const auto& key : held) {
    if (s.behavior == "delete") {
      kv_.erase(key);
      tombstones_[key] = idx;
    } else {
      auto& e = kv_[key];
      e.session.clear();
      e.modify_index = idx;
    }
    kv_index_ = idx;
    // invalidation (not release) starts the lock-delay window, capped at 60 s.
    if (s.lock_delay > ns{0})
      lock_delays_[key] = now + std::min(s.lock_delay, max_lock_delay);
  }
}

void store::invalidate_sessions_bound_to(const std::string& check_id, ns now) {
  std::vector<std::string> doomed;
  for (const auto& [id, s] : sessions_) {
    bool bound =
        std::find(s.node_checks.begin(), s.node_checks.end(), check_id) != s.node_checks.end();
    if (s.service_checks) {
      bound = bound || std::find(s.service_checks->begin(), s.service_checks->end(), check_id) !=
                           s.service_checks->end();
    }
    if (bound)
      doomed.push_back(id);
  }
  for (const auto& id : doomed)
    invalidate_session(id, now);
}

// ---------------------------------------------------------------- agent

std::vector<const check*> store::checks_of_service(const std::string& service_id) const {
  std::vector<const check*> out;
  for (const auto& [id, c] : checks_) {
    if (c.service_id == service_id)
      out.push_back(&c);
  }
  return out;
}

void store::set_check_status(check& c, const std::string& status, const std::string& output,
                             ns now) {
  c.output = output;
  if (status == c.status)
    return;  // output-only changes are not synced to the catalog right away
  auto idx = next_index();
  c.status = status;
  c.synced_output = output;
  c.modify_index = idx;
  checks_index_ = idx;
  c.critical_since = status == "critical" ? std::optional<ns>(now) : std::nullopt;
  if (c.service_id.empty())
    touch_all_services(idx);
  else
    touch_service(c.service_name, idx);
  if (status == "critical")
    invalidate_sessions_bound_to(c.id, now);
}

void store::remove_check(const std::string& id, ns now, std::uint64_t idx) {
  auto it = checks_.find(id);
  if (it == checks_.end())
    return;
  auto service_name = it->second.service_name;
  checks_.erase(it);
  checks_index_ = idx;
  if (!service_name.empty())
    touch_service(service_name, idx);
  invalidate_sessions_bound_to(id, now);
}

std::optional<op_error> store::register_service(service svc, std::vector<check_definition> defs,
                                                bool replace_existing_checks, ns now) {
  auto idx = next_index();
  auto existing = services_.find(svc.id);
  if (existing != services_.end() && existing->second.name != svc.name)
    touch_service(existing->second.name, idx);
  svc.create_index = existing != services_.end() ? existing->second.create_index : idx;
  svc.modify_index = idx;
  std::set<std::string> new_ids;
  for (std::size_t i = 0; i < defs.size(); ++i) {
    auto& def = defs[i];
    check c;
    // derived check IDs and names.
    c.id = def.id && !def.id->empty() ? *def.id
           : defs.size() == 1         ? "service:" + svc.id
                                      : "service:" + svc.id + ":" + std::to_string(i + 1);
    c.name = def.name && !def.name->empty() ? *def.name : "Service '" + svc.name + "' check";
    c.notes = def.notes;
    c.type = def.type;
    c.ttl = def.ttl;
    c.deregister_after = def.deregister_after > ns{0}
                             ? std::max(def.deregister_after, min_deregister_critical_after)
                             : ns{0};
    c.service_id = svc.id;
    c.service_name = svc.name;
    c.service_tags = svc.tags;
    c.status = def.status.value_or("critical");
    if (auto prev = checks_.find(c.id); prev != checks_.end()) {
      // re-registration keeps status and output so health does not flap.
      c.status = prev->second.status;
      c.output = prev->second.output;
      c.synced_output = prev->second.synced_output;
      c.last_output = prev->second.last_output;
      c.critical_since = prev->second.critical_since;
      c.create_index = prev->second.create_index;
    } else {
      c.create_index = idx;
      if (c.status == "critical")
        c.critical_since = now;
    }
    c.modify_index = idx;
    if (c.type == "ttl" && c.ttl > ns{0})
      c.ttl_deadline = now + c.ttl;
    new_ids.insert(c.id);
    checks_[c.id] = std::move(c);
  }
  if (replace_existing_checks) {
    std::vector<std::string> stale;
    for (const auto& [id, c] : checks_) {
      if (c.service_id == svc.id && !new_ids.count(id))
        stale.push_back(id);
    }
    for (const auto& id : stale)
      remove_check(id, now, idx);
  }
  // Keep ServiceName/ServiceTags of surviving checks current.
  for (auto& [id, c] : checks_) {
    if (c.service_id == svc.id) {
      c.service_name = svc.name;
      c.service_tags = svc.tags;
    }
  }
  touch_service(svc.name, idx);
  services_index_ = idx;
  checks_index_ = idx;
  services_[svc.id] = std::move(svc);
  return std::nullopt;
}

std::optional<op_error> store::deregister_service(const std::string& id, ns now) {
  auto it = services_.find(id);
  if (it == services_.end())
    return op_error{404, "Unknown service ID \"" + id +
                             "\". Ensure that the service ID is passed, not the service name."};
  auto idx = next_index();
  auto name = it->second.name;
  std::vector<std::string> doomed;
  for (const auto& [cid, c] : checks_) {
    if (c.service_id == id)
      doomed.push_back(cid);
  }
  for (const auto& cid : doomed)
    remove_check(cid, now, idx);
  services_.erase(id);
  services_index_ = idx;
  touch_service(name, idx);
  bool last = std::none_of(services_.begin(), services_.end(),
                           [&](const auto& kv) { return kv.second.name == name; });
  if (last)
    extinction_index_ = idx;
  return std::nullopt;
}

std::optional<op_error> store::register_check(check_definition def, ns now) {
  const service* svc = nullptr;
  if (!def.service_id.empty()) {
    auto it = services_.find(def.service_id);
    if (it == services_.end())
      return op_error{404, "ServiceID \"" + def.service_id + "\" does not exist"};
    svc = &it->second;
  }
  auto idx = next_index();
  check c;
  c.name = def.name.value_or("");
  c.id = def.id && !def.id->empty() ? *def.id : c.name;  // ID defaults to Name
  c.notes = def.notes;
  c.type = def.type;
  c.ttl = def.ttl;
  c.deregister_after = def.deregister_after > ns{0}
                           ? std::max(def.deregister_after, min_deregister_critical_after)
                           : ns{0};
  c.status = def.status.value_or("critical");
  if (svc) {
    c.service_id = svc->id;
    c.service_name = svc->name;
    c.service_tags = svc->tags;
  }
  if (auto prev = checks_.find(c.id); prev != checks_.end()) {
    c.create_index = prev->second.create_index;
    if (!def.status) {
      c.status = prev->second.status;
      c.output = prev->second.output;
      c.synced_output = prev->second.synced_output;
      c.critical_since = prev->second.critical_since;
    }
  } else {
    c.create_index = idx;
  }
  if (c.status == "critical" && !c.critical_since)
    c.critical_since = now;
  c.modify_index = idx;
  if (c.type == "ttl" && c.ttl > ns{0})
    c.ttl_deadline = now + c.ttl;
  checks_index_ = idx;
  if (svc)
    touch_service(svc->name, idx);
  auto id = c.id;
  bool critical = c.status == "critical";
  checks_[id] = std::move(c);
  if (critical)
    invalidate_sessions_bound_to(id, now);
  return std::nullopt;
}

std::optional<op_error> store::deregister_check(const std::string& id, ns now) {
  if (!checks_.count(id))
    return op_error{404, "Unknown check ID \"" + id +
                             "\". Ensure that the check ID is passed, not the check name."};
  remove_check(id, now, next_index());
  return std::nullopt;
}

std::optional<op_error> store::update_ttl_check(const std::string& id, const std::string& status,
                                                const std::string& output, ns now) {
  auto it = checks_.find(id);
  if (it == checks_.end())
    return op_error{404, "Unknown check ID \"" + id +
                             "\". Ensure that the check ID is passed, not the check name."};
  auto& c = it->second;
  if (c.type != "ttl")
    return op_error{500, "CheckID \"" + id + "\" does not have associated TTL"};
  auto out = truncate_output(output);
  c.last_output = out;
  if (c.ttl > ns{0})
    c.ttl_deadline = now + c.ttl;
  set_check_status(c, status, out, now);
  return std::nullopt;
}

void store::set_node_alive(bool alive, ns now) {
  set_check_status(serf_, alive ? "passing" : "critical",
                   alive ? "Agent alive and reachable" : "Agent not live or unreachable", now);
}

// ---------------------------------------------------------------- time

bool store::run_due(ns now) {
  bool changed = false;
  for (;;) {
    ns next = next_reap_;
    enum class kind { reap, session, check } what = kind::reap;
    std::string which;
    for (const auto& [id, s] : sessions_) {
      if (s.expires_at && *s.expires_at <= next) {
        next = *s.expires_at;
        what = kind::session;
        which = id;
      }
    }
    for (const auto& [id, c] : checks_) {
      if (c.ttl_deadline && *c.ttl_deadline <= next &&
          (what != kind::session || *c.ttl_deadline < next)) {
        next = *c.ttl_deadline;
        what = kind::check;
        which = id;
      }
    }
    if (next > now)
      break;
    switch (what) {
      case kind::session:
        invalidate_session(which, next);
        changed = true;
        break;
      case kind::check: {
        auto& c = checks_[which];
        c.ttl_deadline.reset();
        // the expiry output quotes the last output set by an update.
        std::string out =
            c.last_output.empty()
                ? "TTL expired"
                : "TTL expired (last output before timeout follows): " + c.last_output;
        set_check_status(c, "critical", out, next);
        changed = true;
        break;
      }
      case kind::reap: {
        next_reap_ += reaper_period;
        std::set<std::string> doomed;
        for (const auto& [id, c] : checks_) {
          if (!c.service_id.empty() && c.deregister_after > ns{0} && c.status == "critical" &&
              c.critical_since && next - *c.critical_since >= c.deregister_after)
            doomed.insert(c.service_id);
        }
        for (const auto& sid : doomed) {
          deregister_service(sid, next);
          changed = true;
        }
        break;
      }
    }
  }
  return changed;
}

void store::reset_index() {
  index_ = 1;
  node_create_index_ = node_modify_index_ = nodes_index_ = next_index();
  serf_.create_index = serf_.modify_index = next_index();
  consul_service_.create_index = consul_service_.modify_index = next_index();
  for (auto& [k, e] : kv_)
    e.create_index = e.modify_index = next_index();
  for (auto& [id, s] : sessions_)
    s.create_index = s.modify_index = next_index();
  for (auto& [id, svc] : services_)
    svc.create_index = svc.modify_index = next_index();
  for (auto& [id, c] : checks_)
    c.create_index = c.modify_index = next_index();
  tombstones_.clear();
  kv_index_ = sessions_index_ = services_index_ = checks_index_ = index_;
  for (auto& [name, idx] : service_indexes_)
    idx = index_;
  extinction_index_ = 0;
}

void store::restart_timers(ns now) {
  for (auto& [id, s] : sessions_)
    if (s.expires_at)
      s.expires_at = now + 2 * s.ttl;
  for (auto& [id, c] : checks_)
    if (c.ttl_deadline)
      c.ttl_deadline = now + c.ttl;
}

}  // namespace cbes::testkit::consul_fake
