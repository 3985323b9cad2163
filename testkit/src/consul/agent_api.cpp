#include "agent_impl.hpp"

namespace cbes::testkit {

json::object consul_agent::impl::meta_json(const service& s) {
  json::object m;
  for (const auto& [k, v] : s.meta)
    m[k] = v;
  return m;
}

json::object consul_agent::impl::agent_service_json(const service& s) const {
  return json::object{
      {"ID", s.id},
      {"Service", s.name},
      {"Tags", string_array(s.tags)},
      {"Meta", meta_json(s)},
      {"Port", s.port},
      {"Address", s.address},
      {"Weights", json::object{{"Passing", s.weight_passing}, {"Warning", s.weight_warning}}},
      {"EnableTagOverride", s.enable_tag_override},
      {"Datacenter", st.datacenter()}};
}

asio::awaitable<reply> consul_agent::impl::agent_self(call&) {
  co_return co_await sync([&] {
    json::object config{{"Datacenter", st.datacenter()}, {"PrimaryDatacenter", st.datacenter()},
                        {"NodeName", st.node_name()},    {"NodeID", st.node_id()},
                        {"Revision", "cbes-fake"},       {"Server", true},
                        {"Version", "1.15.4"},           {"BuildDate", "2023-06-26T15:00:00Z"}};
    json::object debug{{"Datacenter", st.datacenter()},
                       {"NodeName", st.node_name()},
                       {"SessionTTLMin", "10s"},
                       {"ACLsEnabled", !opts.acl_master_token.empty()}};
    json::object member{{"Name", st.node_name()},
                        {"Addr", "127.0.0.1"},
                        {"Port", 8301},
                        {"Tags", json::object{{"role", "consul"},
                                              {"dc", st.datacenter()},
                                              {"id", st.node_id()},
                                              {"port", "8300"},
                                              {"build", "1.15.4:cbes-fake"}}},
                        {"Status", 1}};
    return json_reply(
        json::object{{"Config", config},
                     {"DebugConfig", debug},
                     {"Coord", json::object{{"Vec", json::array{0, 0, 0, 0, 0, 0, 0, 0}},
                                            {"Error", 1.5},
                                            {"Adjustment", 0},
                                            {"Height", 1e-5}}},
                     {"Member", member},
                     {"Stats", json::object{}},
                     {"Meta", json::object{{"consul-network-segment", ""}}},
                     {"xDS", json::object{}}});
  });
}

asio::awaitable<reply> consul_agent::impl::agent_services(call&) {
  co_return co_await sync([&] {
    json::object o;
    for (const auto& [id, s] : st.services())
      o[id] = agent_service_json(s);
    return json_reply(o);
  });
}

asio::awaitable<reply> consul_agent::impl::agent_service(call& c) {
  co_return co_await sync([&] {
    auto it = st.services().find(c.rest);
    if (it == st.services().end())
      return text(404, "unknown service ID: " + c.rest);
    auto o = agent_service_json(it->second);
    o["ContentHash"] = std::to_string(it->second.modify_index);
    return json_reply(o);
  });
}

asio::awaitable<reply> consul_agent::impl::agent_checks(call&) {
  co_return co_await sync([&] {
    json::object o;
    for (const auto& [id, ch] : st.checks())
      o[id] = check_json(ch, true);
    return json_reply(o);
  });
}

// Parses one check object of a registration; throws decode_error, returns a 400 text.
std::optional<std::string> consul_agent::impl::parse_check(const json::object& o,
                                                           store::check_definition& def) {
  if (const auto* v = field(o, "CheckID"); v && v->is_string())
    def.id = std::string(v->as_string());
  else if (const auto* id = field(o, "ID"); id && id->is_string())
    def.id = std::string(id->as_string());
  if (const auto* v = field(o, "Name"); v && v->is_string())
    def.name = std::string(v->as_string());
  def.notes = get_string(o, "Notes");
  def.service_id = get_string(o, "ServiceID");
  auto status = get_string(o, "Status");
  if (!status.empty()) {
    if (!valid_status(status))
      return "Status for checks must 'passing', 'warning', 'critical'";
    def.status = status;
  }
  def.ttl = get_duration(o, "TTL").value_or(ns{0});
  def.deregister_after = get_duration(o, "DeregisterCriticalServiceAfter").value_or(ns{0});
  if (def.ttl > ns{0}) {
    def.type = "ttl";
  } else {
    static const std::vector<std::pair<std::string_view, std::string_view>> kinds = {
        {"HTTP", "http"},         {"TCP", "tcp"},           {"GRPC", "grpc"},
        {"Args", "script"},       {"ScriptArgs", "script"}, {"DockerContainerID", "docker"},
        {"AliasService", "alias"}};
    def.type.clear();
    for (const auto& [name, type] : kinds) {
      if (const auto* v = field(o, name); v && !v->is_null())
        def.type = type;
    }
    if (def.type.empty())
      return "Invalid check: TTL must be > 0 for TTL checks";
    if (def.type != "alias" && get_duration(o, "Interval").value_or(ns{0}) <= ns{0})
      return "Invalid check: Interval must be > 0 for Script, HTTP, H2PING, or TCP checks";
  }
  return std::nullopt;
}

asio::awaitable<reply> consul_agent::impl::agent_service_register(call& c) {
  auto body = parse_object(c.body, false);
  service svc;
  svc.name = get_string(body, "Name");
  if (svc.name.empty())
    co_return text(400, "Missing service name");
  svc.id = get_string(body, "ID", svc.name);
  if (svc.id.empty())
    svc.id = svc.name;
  svc.tags = get_strings(body, "Tags").value_or(std::vector<std::string>{});
  svc.address = get_string(body, "Address");
  if (svc.address == "0.0.0.0" || svc.address == "::" || svc.address == "[::]")
    co_return text(400, "Invalid service address");
  svc.port = static_cast<int>(get_int(body, "Port"));
  svc.enable_tag_override = get_bool(body, "EnableTagOverride");
  if (const auto* w = field(body, "Weights"); w && w->is_object()) {
    svc.weight_passing = static_cast<int>(get_int(w->as_object(), "Passing", 1));
    svc.weight_warning = static_cast<int>(get_int(w->as_object(), "Warning", 1));
  }
  if (const auto* m = field(body, "Meta"); m && m->is_object()) {
    const auto& meta = m->as_object();
    if (meta.size() > 64)
      co_return text(400,
                     "Invalid Service Meta: Node metadata cannot contain more than 64 "
                     "key/value pairs");
    for (const auto& kv : meta) {
      std::string k(kv.key());
      std::string v = kv.value().is_string() ? std::string(kv.value().as_string()) : "";
      std::string problem;
      if (k.empty())
        problem = "Key cannot be blank";
      else if (!std::all_of(k.begin(), k.end(), [](char ch) {
                 return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-';
               }))
        problem = "Key contains invalid characters";
      else if (k.size() > 128)
        problem = "Key is too long (limit: 128 characters)";
      else if (k.starts_with("consul-"))
        problem = "Key prefix 'consul-' is reserved for internal use";
      else if (v.size() > 512)
        problem = "Value is too long (limit: 512 characters)";
      if (!problem.empty())
        co_return text(400, "Invalid Service Meta: Couldn't load metadata pair ('" + k + "', '" +
                                v + "'): " + problem);
      svc.meta.emplace_back(k, v);
    }
  }
  std::vector<store::check_definition> defs;
  auto add = [&](const json::value& v) -> std::optional<std::string> {
    if (!v.is_object())
      return std::nullopt;
    store::check_definition def;
    if (auto err = parse_check(v.as_object(), def))
      return err;
    defs.push_back(std::move(def));
    return std::nullopt;
  };
  if (const auto* ch = field(body, "Check"); ch && ch->is_object() && !ch->as_object().empty()) {
    if (auto err = add(*ch))
      co_return text(400, *err);
  }
  if (const auto* chs = field(body, "Checks"); chs && chs->is_array()) {
    for (const auto& ch : chs->as_array()) {
      if (auto err = add(ch))
        co_return text(400, *err);
    }
  }
  bool replace = c.has("replace-existing-checks");
  std::lock_guard lock(mu);
  st.run_due(now());
  if (auto err = st.register_service(std::move(svc), std::move(defs), replace, now()))
    co_return text(err->status, err->message);
  co_return empty_ok();
}

asio::awaitable<reply> consul_agent::impl::agent_service_deregister(call& c) {
  std::lock_guard lock(mu);
  st.run_due(now());
  if (auto err = st.deregister_service(c.rest, now()))
    co_return text(err->status, err->message);
  co_return empty_ok();
}

asio::awaitable<reply> consul_agent::impl::agent_check_register(call& c) {
  auto body = parse_object(c.body, false);
  store::check_definition def;
  if (auto err = parse_check(body, def))
    co_return text(400, *err);
  if (!def.name || def.name->empty())
    co_return text(400, "Missing check name");
  std::lock_guard lock(mu);
  st.run_due(now());
  if (auto err = st.register_check(std::move(def), now()))
    co_return text(err->status, err->message);
  co_return empty_ok();
}

asio::awaitable<reply> consul_agent::impl::agent_check_deregister(call& c) {
  std::lock_guard lock(mu);
  st.run_due(now());
  if (auto err = st.deregister_check(c.rest, now()))
    co_return text(err->status, err->message);
  co_return empty_ok();
}

asio::awaitable<reply> consul_agent::impl::ttl_update(std::string id, std::string status,
                                                      std::string output) {
  std::lock_guard lock(mu);
  st.run_due(now());
  if (auto err = st.update_ttl_check(id, status, output, now()))
    co_return text(err->status, err->message);
  co_return empty_ok();
}

asio::awaitable<reply> consul_agent::impl::agent_check_pass(call& c) {
  co_return co_await ttl_update(c.rest, "passing", c.get("note").value_or(""));
}

asio::awaitable<reply> consul_agent::impl::agent_check_warn(call& c) {
  co_return co_await ttl_update(c.rest, "warning", c.get("note").value_or(""));
}

asio::awaitable<reply> consul_agent::impl::agent_check_fail(call& c) {
  co_return co_await ttl_update(c.rest, "critical", c.get("note").value_or(""));
}

asio::awaitable<reply> consul_agent::impl::agent_check_update(call& c) {
  auto body = parse_object(c.body, false);
  auto status = get_string(body, "Status");
  if (!valid_status(status))
    co_return text(400, "Invalid check status: '" + status + "'");
  co_return co_await ttl_update(c.rest, status, get_string(body, "Output"));
}

}  // namespace cbes::testkit
