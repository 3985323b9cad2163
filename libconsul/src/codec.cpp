#include "consul/codec.hpp"

#include <charconv>

#include <boost/json.hpp>

#include "consul/encoding.hpp"

namespace consul {
namespace json = boost::json;
namespace {

error bad_body(std::string what) {
  return make_error(errc::invalid_response, std::move(what));
}

result<json::value> parse_json(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) {
    std::string excerpt(body.substr(0, 80));
    return bad_body("malformed JSON (" + ec.message() + "): '" + excerpt + "'");
  }
  return v;
}

// Unsigned 64-bit from a JSON number without a trip through double.
std::optional<std::uint64_t> as_u64(const json::value* v) {
  if (!v)
    return std::nullopt;
  if (v->is_uint64())
    return v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0)
    return static_cast<std::uint64_t>(v->get_int64());
  return std::nullopt;
}

std::optional<std::int64_t> as_i64(const json::value* v) {
  if (!v)
    return std::nullopt;
  if (v->is_int64())
    return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double()) {
    // A double out of a long's range (or NaN) has no integer value; casting it would be
    // undefined behaviour (found by fuzz/consul_json.cpp). 2^63 is exactly representable.
    const double d = v->get_double();
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0)
      return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

// Missing or null fields read as empty; a field of the wrong type is an error.
struct reader {
  const json::object& o;
  std::string* problem;

  const json::value* field(std::string_view k) const {
    const json::value* v = o.if_contains(k);
    return v && !v->is_null() ? v : nullptr;
  }
  void fail(std::string_view k, std::string_view want) const {
    if (problem->empty())
      *problem = "field '" + std::string(k) + "' is not " + std::string(want);
  }
  std::string str(std::string_view k) const {
    const auto* v = field(k);
    if (!v)
      return {};
    if (!v->is_string()) {
      fail(k, "a string");
      return {};
    }
    return std::string(v->get_string());
  }
  std::uint64_t u64(std::string_view k) const {
    const auto* v = field(k);
    if (!v)
      return 0;
    auto n = as_u64(v);
    if (!n) {
      fail(k, "an unsigned 64-bit integer");
      return 0;
    }
    return *n;
  }
  std::int64_t i64(std::string_view k) const {
    const auto* v = field(k);
    if (!v)
      return 0;
    auto n = as_i64(v);
    if (!n) {
      fail(k, "an integer");
      return 0;
    }
    return *n;
  }
  bool boolean(std::string_view k) const {
    const auto* v = field(k);
    if (!v)
      return false;
    if (!v->is_bool()) {
      fail(k, "a boolean");
      return false;
    }
    return v->get_bool();
  }
  std::vector<std::string> strings(std::string_view k) const {
    std::vector<std::string> out;
    const auto* v = field(k);
    if (!v)
      return out;
    if (!v->is_array()) {
      fail(k, "an array of strings");
      return out;
    }
    for (const auto& e : v->get_array()) {
      if (!e.is_string()) {
        fail(k, "an array of strings");
        return {};
      }
      out.emplace_back(e.get_string());
    }
    return out;
  }
  std::map<std::string, std::string> string_map(std::string_view k) const {
    std::map<std::string, std::string> out;
    const auto* v = field(k);
    if (!v)
      return out;
    if (!v->is_object()) {
      fail(k, "an object of strings");
      return out;
    }
    for (const auto& [name, e] : v->get_object()) {
      if (!e.is_string()) {
        fail(k, "an object of strings");
        return {};
      }
      out.emplace(std::string(name), std::string(e.get_string()));
    }
    return out;
  }
  const json::object* object(std::string_view k) const {
    const auto* v = field(k);
    if (!v)
      return nullptr;
    if (!v->is_object()) {
      fail(k, "an object");
      return nullptr;
    }
    return &v->get_object();
  }
};

template <class T, class F>
result<std::vector<T>> parse_array_of(std::string_view body, std::string_view what, F f) {
  auto v = parse_json(body);
  if (!v)
    return v.error();
  std::vector<T> out;
  if (v->is_null())
    return out;  // Go encodes a nil slice as null
  if (!v->is_array())
    return bad_body("expected a JSON array of " + std::string(what));
  for (const auto& e : v->get_array()) {
    if (!e.is_object())
      return bad_body("expected a JSON array of " + std::string(what));
    std::string problem;
    reader r{e.get_object(), &problem};
    T item = f(r);
    if (!problem.empty())
      return bad_body(std::string(what) + ": " + problem);
    out.push_back(std::move(item));
  }
  return out;
}

result<kv_pair> read_kv(const reader& r) {
  kv_pair p;
  p.key = r.str("Key");
  p.flags = r.u64("Flags");
  p.lock_index = r.u64("LockIndex");
  p.create_index = r.u64("CreateIndex");
  p.modify_index = r.u64("ModifyIndex");
  p.session = r.str("Session");
  if (const auto* v = r.field("Value")) {
    if (!v->is_string())
      return bad_body("KV entry: field 'Value' is not a string");
    auto bytes = base64_decode(v->get_string());
    if (!bytes)
      return bad_body("KV entry '" + p.key + "': Value is not valid base64");
    p.value = std::move(*bytes);
  }
  return p;
}

service_entry read_service(const reader& r, bool agent_shape) {
  service_entry s;
  s.id = r.str("ID");
  s.service = r.str("Service");
  s.tags = r.strings("Tags");
  s.meta = r.string_map("Meta");
  s.address = r.str("Address");
  s.port = static_cast<int>(r.i64("Port"));
  (void)agent_shape;
  return s;
}

health_check read_check(const reader& r) {
  health_check c;
  c.node = r.str("Node");
  c.check_id = r.str("CheckID");
  c.name = r.str("Name");
  c.status = r.str("Status");
  c.notes = r.str("Notes");
  c.output = r.str("Output");
  c.service_id = r.str("ServiceID");
  c.service_name = r.str("ServiceName");
  return c;
}

std::string duration_text(std::chrono::milliseconds d) {
  // The Go client sends whole milliseconds (Consul's HTTP API docs); keep the exact form.
  return format_go_duration(d);
}

const char* verb_name(txn_verb v) {
  switch (v) {
    case txn_verb::set:
      return "set";
    case txn_verb::cas:
      return "cas";
    case txn_verb::lock:
      return "lock";
    case txn_verb::unlock:
      return "unlock";
    case txn_verb::get:
      return "get";
    case txn_verb::get_tree:
      return "get-tree";
    case txn_verb::check_index:
      return "check-index";
    case txn_verb::check_session:
      return "check-session";
    case txn_verb::check_not_exists:
      return "check-not-exists";
    case txn_verb::delete_key:
      return "delete";
    case txn_verb::delete_tree:
      return "delete-tree";
    case txn_verb::delete_cas:
      return "delete-cas";
  }
  return "get";
}

}  // namespace

const char* to_string(check_status s) noexcept {
  switch (s) {
    case check_status::passing:
      return "passing";
    case check_status::warning:
      return "warning";
    case check_status::critical:
      return "critical";
  }
  return "critical";
}

std::string percent_encode(std::string_view text, bool keep_slash) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                            c == '~' || (keep_slash && c == '/');
    if (unreserved) {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

result<std::string> kv_path(std::string_view key, bool allow_empty) {
  if (!key.empty() && key.front() == '/')
    return make_error(errc::invalid_argument,
                      "Invalid key. Key must not begin with a '/': " + std::string(key));
  if (key.empty() && !allow_empty)
    return make_error(errc::invalid_argument, "Missing key name");
  return "/v1/kv/" + percent_encode(key, true);
}

std::optional<std::uint64_t> parse_uint64(std::string_view text) {
  std::uint64_t v = 0;
  if (text.empty())
    return std::nullopt;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || p != text.data() + text.size())
    return std::nullopt;
  return v;
}

query_meta parse_query_meta(std::string_view index, std::string_view known_leader,
                            std::string_view last_contact) {
  query_meta m;
  m.index = parse_uint64(index).value_or(0);
  m.known_leader = known_leader == "true";
  m.last_contact = std::chrono::milliseconds(parse_uint64(last_contact).value_or(0));
  return m;
}

std::string encode_session_create(const session_options& o) {
  json::object b;
  if (!o.name.empty())
    b["Name"] = o.name;
  if (!o.node.empty())
    b["Node"] = o.node;
  if (o.lock_delay)
    b["LockDelay"] = duration_text(*o.lock_delay);
  b["Behavior"] = o.behavior == session_behavior::release ? "release" : "delete";
  if (o.ttl.count() > 0)
    b["TTL"] = duration_text(o.ttl);
  if (o.no_checks) {
    // An explicit empty list is the only way to get a session bound to no check.
    b["Checks"] = json::array{};
    b["NodeChecks"] = json::array{};
  } else if (o.node_checks) {
    json::array a;
    for (const auto& c : *o.node_checks)
      a.emplace_back(c);
    b["NodeChecks"] = std::move(a);
  }
  if (!o.service_checks.empty()) {
    json::array a;
    for (const auto& c : o.service_checks)
      a.emplace_back(json::object{{"ID", c}});
    b["ServiceChecks"] = std::move(a);
  }
  return json::serialize(b);
}

std::string encode_service_registration(const service_registration& r) {
  json::object b;
  b["Name"] = r.name;
  if (!r.id.empty())
    b["ID"] = r.id;
  json::array tags;
  for (const auto& t : r.tags)
    tags.emplace_back(t);
  b["Tags"] = std::move(tags);
  json::object meta;
  for (const auto& [k, v] : r.meta)
    meta[k] = v;
  b["Meta"] = std::move(meta);
  if (!r.address.empty())
    b["Address"] = r.address;
  b["Port"] = r.port;
  if (r.check) {
    json::object c;
    if (!r.check->id.empty())
      c["CheckID"] = r.check->id;
    if (!r.check->name.empty())
      c["Name"] = r.check->name;
    c["TTL"] = duration_text(r.check->ttl);
    if (!r.check->notes.empty())
      c["Notes"] = r.check->notes;
    if (r.check->status)
      c["Status"] = to_string(*r.check->status);
    if (r.check->deregister_critical_service_after.count() > 0)
      c["DeregisterCriticalServiceAfter"] =
          duration_text(r.check->deregister_critical_service_after);
    b["Check"] = std::move(c);
  }
  return json::serialize(b);
}

std::string encode_check_update(check_status status, std::string_view output) {
  return json::serialize(json::object{{"Status", to_string(status)}, {"Output", output}});
}

std::string encode_txn(const std::vector<txn_op>& ops) {
  json::array a;
  for (const auto& op : ops) {
    json::object kv;
    kv["Verb"] = verb_name(op.verb);
    kv["Key"] = op.key;
    switch (op.verb) {
      case txn_verb::set:
      case txn_verb::cas:
      case txn_verb::lock:
      case txn_verb::unlock:
        kv["Value"] = base64_encode(op.value);
        kv["Flags"] = op.flags;
        break;
      default:
        break;
    }
    if (op.verb == txn_verb::cas || op.verb == txn_verb::check_index ||
        op.verb == txn_verb::delete_cas)
      kv["Index"] = op.index;
    if (!op.session.empty())
      kv["Session"] = op.session;
    a.emplace_back(json::object{{"KV", std::move(kv)}});
  }
  return json::serialize(a);
}

result<std::vector<kv_pair>> parse_kv_pairs(std::string_view body) {
  auto v = parse_json(body);
  if (!v)
    return v.error();
  std::vector<kv_pair> out;
  if (v->is_null())
    return out;
  if (!v->is_array())
    return bad_body("expected a JSON array of KV entries");
  for (const auto& e : v->get_array()) {
    if (!e.is_object())
      return bad_body("expected a JSON array of KV entries");
    std::string problem;
    reader r{e.get_object(), &problem};
    auto p = read_kv(r);
    if (!p)
      return p.error();
    if (!problem.empty())
      return bad_body("KV entry: " + problem);
    out.push_back(std::move(*p));
  }
  return out;
}

result<std::vector<std::string>> parse_string_array(std::string_view body) {
  auto v = parse_json(body);
  if (!v)
    return v.error();
  std::vector<std::string> out;
  if (v->is_null())
    return out;
  if (!v->is_array())
    return bad_body("expected a JSON array of strings");
  for (const auto& e : v->get_array()) {
    if (!e.is_string())
      return bad_body("expected a JSON array of strings");
    out.emplace_back(e.get_string());
  }
  return out;
}

result<bool> parse_bool(std::string_view body) {
  auto v = parse_json(body);
  if (!v)
    return v.error();
  if (!v->is_bool())
    return bad_body("expected true or false, got '" + std::string(body.substr(0, 80)) + "'");
  return v->get_bool();
}

result<std::string> parse_json_string(std::string_view body) {
  auto v = parse_json(body);
  if (!v)
    return v.error();
  if (!v->is_string())
    return bad_body("expected a JSON string");
  return std::string(v->get_string());
}

result<std::string> parse_session_id(std::string_view body) {
  auto v = parse_json(body);
  if (!v)
    return v.error();
  const json::object* o = v->if_object();
  const json::value* id = o ? o->if_contains("ID") : nullptr;
  if (!id || !id->is_string() || id->get_string().empty())
    return bad_body("expected {\"ID\":\"<session id>\"}");
  return std::string(id->get_string());
}

result<std::vector<session_info>> parse_sessions(std::string_view body) {
  return parse_array_of<session_info>(body, "sessions", [](const reader& r) {
    session_info s;
    s.id = r.str("ID");
    s.name = r.str("Name");
    s.node = r.str("Node");
    s.lock_delay = std::chrono::nanoseconds(r.i64("LockDelay"));
    s.behavior =
        r.str("Behavior") == "delete" ? session_behavior::delete_keys : session_behavior::release;
    s.ttl = r.str("TTL");
    if (!s.ttl.empty())
      s.ttl_duration = parse_go_duration(s.ttl).value_or(std::chrono::nanoseconds{0});
    s.node_checks = r.field("NodeChecks") ? r.strings("NodeChecks") : r.strings("Checks");
    if (const auto* sc = r.field("ServiceChecks"); sc && sc->is_array()) {
      for (const auto& c : sc->get_array())
        if (const auto* o = c.if_object())
          if (const auto* id = o->if_contains("ID"); id && id->is_string())
            s.service_checks.emplace_back(id->get_string());
    }
    s.create_index = r.u64("CreateIndex");
    s.modify_index = r.u64("ModifyIndex");
    return s;
  });
}

result<agent_self> parse_agent_self(std::string_view body) {
  auto v = parse_json(body);
  if (!v)
    return v.error();
  if (!v->is_object())
    return bad_body("agent/self: expected a JSON object");
  std::string problem;
  reader top{v->get_object(), &problem};
  const json::object* config = top.object("Config");
  if (!config)
    return bad_body("agent/self: missing 'Config'");
  reader c{*config, &problem};
  agent_self s;
  s.node_name = c.str("NodeName");
  s.datacenter = c.str("Datacenter");
  s.version = c.str("Version");
  if (const json::object* member = top.object("Member"))
    s.member_address = reader{*member, &problem}.str("Addr");
  if (!problem.empty())
    return bad_body("agent/self: " + problem);
  return s;
}

result<std::map<std::string, service_entry>> parse_agent_services(std::string_view body) {
  auto v = parse_json(body);
  if (!v)
    return v.error();
  if (!v->is_object())
    return bad_body("agent/services: expected a JSON object");
  std::map<std::string, service_entry> out;
  for (const auto& [id, e] : v->get_object()) {
    if (!e.is_object())
      return bad_body("agent/services: entry is not an object");
    std::string problem;
    out.emplace(std::string(id), read_service(reader{e.get_object(), &problem}, true));
    if (!problem.empty())
      return bad_body("agent/services: " + problem);
  }
  return out;
}

result<std::map<std::string, health_check>> parse_agent_checks(std::string_view body) {
  auto v = parse_json(body);
  if (!v)
    return v.error();
  if (!v->is_object())
    return bad_body("agent/checks: expected a JSON object");
  std::map<std::string, health_check> out;
  for (const auto& [id, e] : v->get_object()) {
    if (!e.is_object())
      return bad_body("agent/checks: entry is not an object");
    std::string problem;
    out.emplace(std::string(id), read_check(reader{e.get_object(), &problem}));
    if (!problem.empty())
      return bad_body("agent/checks: " + problem);
  }
  return out;
}

result<std::vector<health_entry>> parse_health_service(std::string_view body) {
  auto v = parse_json(body);
  if (!v)
    return v.error();
  std::vector<health_entry> out;
  if (v->is_null())
    return out;
  if (!v->is_array())
    return bad_body("health/service: expected a JSON array");
  for (const auto& e : v->get_array()) {
    if (!e.is_object())
      return bad_body("health/service: entry is not an object");
    std::string problem;
    reader r{e.get_object(), &problem};
    health_entry h;
    if (const auto* n = r.object("Node")) {
      reader nr{*n, &problem};
      h.node.id = nr.str("ID");
      h.node.node = nr.str("Node");
      h.node.address = nr.str("Address");
      h.node.datacenter = nr.str("Datacenter");
    }
    if (const auto* s = r.object("Service"))
      h.service = read_service(reader{*s, &problem}, false);
    if (const auto* checks = r.field("Checks")) {
      if (!checks->is_array())
        return bad_body("health/service: 'Checks' is not an array");
      for (const auto& c : checks->get_array()) {
        if (!c.is_object())
          return bad_body("health/service: check is not an object");
        h.checks.push_back(read_check(reader{c.get_object(), &problem}));
      }
    }
    if (!problem.empty())
      return bad_body("health/service: " + problem);
    out.push_back(std::move(h));
  }
  return out;
}

result<std::map<std::string, std::vector<std::string>>> parse_catalog_services(
    std::string_view body) {
  auto v = parse_json(body);
  if (!v)
    return v.error();
  if (!v->is_object())
    return bad_body("catalog/services: expected a JSON object");
  std::map<std::string, std::vector<std::string>> out;
  std::string problem;
  reader r{v->get_object(), &problem};
  for (const auto& [name, tags] : v->get_object())
    out.emplace(std::string(name), r.strings(name));
  if (!problem.empty())
    return bad_body("catalog/services: " + problem);
  return out;
}

result<txn_result> parse_txn_response(int status, std::string_view body) {
  auto v = parse_json(body);
  if (!v)
    return v.error();
  if (!v->is_object())
    return bad_body("txn: expected a JSON object");
  const json::object& o = v->get_object();
  txn_result out;
  out.committed = status == 200;
  if (const auto* results = o.if_contains("Results"); results && !results->is_null()) {
    if (!results->is_array())
      return bad_body("txn: 'Results' is not an array");
    for (const auto& e : results->get_array()) {
      const auto* eo = e.if_object();
      const auto* kv = eo ? eo->if_contains("KV") : nullptr;
      if (!kv)
        continue;  // Node/Service/Check results are not used by libconsul
      if (!kv->is_object())
        return bad_body("txn: result 'KV' is not an object");
      std::string problem;
      auto p = read_kv(reader{kv->get_object(), &problem});
      if (!p)
        return p.error();
      if (!problem.empty())
        return bad_body("txn: " + problem);
      out.results.push_back(std::move(*p));
    }
  }
  if (const auto* errors = o.if_contains("Errors"); errors && !errors->is_null()) {
    if (!errors->is_array())
      return bad_body("txn: 'Errors' is not an array");
    for (const auto& e : errors->get_array()) {
      if (!e.is_object())
        return bad_body("txn: error entry is not an object");
      std::string problem;
      reader r{e.get_object(), &problem};
      out.errors.push_back({static_cast<std::size_t>(r.u64("OpIndex")), r.str("What")});
      if (!problem.empty())
        return bad_body("txn: " + problem);
    }
  }
  if (!out.committed && out.errors.empty())
    return bad_body("txn: HTTP " + std::to_string(status) + " without 'Errors'");
  return out;
}

// ---- txn_op builders ----
txn_op txn_op::set(std::string key, std::string value, std::uint64_t flags) {
  return {txn_verb::set, std::move(key), std::move(value), flags, 0, {}};
}
txn_op txn_op::cas(std::string key, std::string value, std::uint64_t index) {
  return {txn_verb::cas, std::move(key), std::move(value), 0, index, {}};
}
txn_op txn_op::lock(std::string key, std::string value, std::string session) {
  return {txn_verb::lock, std::move(key), std::move(value), 0, 0, std::move(session)};
}
txn_op txn_op::unlock(std::string key, std::string value, std::string session) {
  return {txn_verb::unlock, std::move(key), std::move(value), 0, 0, std::move(session)};
}
txn_op txn_op::get(std::string key) {
  return {txn_verb::get, std::move(key), {}, 0, 0, {}};
}
txn_op txn_op::get_tree(std::string prefix) {
  return {txn_verb::get_tree, std::move(prefix), {}, 0, 0, {}};
}
txn_op txn_op::check_index(std::string key, std::uint64_t index) {
  return {txn_verb::check_index, std::move(key), {}, 0, index, {}};
}
txn_op txn_op::check_session(std::string key, std::string session) {
  return {txn_verb::check_session, std::move(key), {}, 0, 0, std::move(session)};
}
txn_op txn_op::check_not_exists(std::string key) {
  return {txn_verb::check_not_exists, std::move(key), {}, 0, 0, {}};
}
txn_op txn_op::remove(std::string key) {
  return {txn_verb::delete_key, std::move(key), {}, 0, 0, {}};
}
txn_op txn_op::remove_tree(std::string prefix) {
  return {txn_verb::delete_tree, std::move(prefix), {}, 0, 0, {}};
}
txn_op txn_op::remove_cas(std::string key, std::uint64_t index) {
  return {txn_verb::delete_cas, std::move(key), {}, 0, index, {}};
}

}  // namespace consul
