#include "agent_impl.hpp"

namespace cbes::testkit {

json::value consul_agent::impl::session_json(const session& s) {
  json::object o;
  o["ID"] = s.id;
  o["Name"] = s.name;
  o["Node"] = s.node;
  o["LockDelay"] = s.lock_delay.count();
  o["Behavior"] = s.behavior;
  o["TTL"] = s.ttl_text;
  o["NodeChecks"] = string_array(s.node_checks);
  if (s.service_checks) {
    json::array a;
    for (const auto& id : *s.service_checks)
      a.push_back(json::object{{"ID", id}, {"Namespace", ""}});
    o["ServiceChecks"] = std::move(a);
  } else {
    o["ServiceChecks"] = nullptr;
  }
  o["CreateIndex"] = s.create_index;
  o["ModifyIndex"] = s.modify_index;
  return o;
}

asio::awaitable<reply> consul_agent::impl::session_create(call& c) {
  auto body = parse_object(c.body, true);
  store::session_request req;
  req.name = get_string(body, "Name");
  if (const auto* n = field(body, "Node"); n && n->is_string())
    req.node = std::string(n->as_string());
  req.behavior = get_string(body, "Behavior", "release");
  if (req.behavior.empty())
    req.behavior = "release";
  if (auto d = get_duration(body, "LockDelay")) {
    // numbers (and durations) below 1000 are taken as seconds.
    req.lock_delay = d->count() < 1000 ? ns{std::chrono::seconds(d->count())} : *d;
  }
  req.ttl_text = get_string(body, "TTL");
  req.node_checks = get_strings(body, "NodeChecks");
  req.checks = get_strings(body, "Checks");
  if (const auto* sc = field(body, "ServiceChecks"); sc && sc->is_array()) {
    std::vector<std::string> ids;
    for (const auto& e : sc->as_array()) {
      if (e.is_object())
        ids.push_back(get_string(e.as_object(), "ID"));
    }
    req.service_checks = std::move(ids);
  }
  std::lock_guard lock(mu);
  if (auto err = write_guard())
    co_return *err;
  if (!req.ttl_text.empty()) {
    auto d = cbes::util::parse_go_duration(req.ttl_text);
    if (!d)
      co_return text(500, "Session TTL '" + req.ttl_text + "' invalid: time: invalid duration \"" +
                              req.ttl_text + "\"");
    req.ttl = *d;
  }
  st.run_due(now());
  auto res = st.session_create(req, now());
  if (auto* err = std::get_if<op_error>(&res))
    co_return text(err->status, err->message);
  co_return json_reply(json::object{{"ID", std::get<std::string>(res)}});
}

// Writes addressed to /v1/session/<verb>/<id>; runs under `mu`.
std::optional<reply> consul_agent::impl::session_write_guard(const call& c) {
  if (auto err = write_guard())
    return err;
  if (c.rest.empty())
    return text(400, "Missing session");
  st.run_due(now());
  return std::nullopt;
}

asio::awaitable<reply> consul_agent::impl::session_destroy(call& c) {
  std::lock_guard lock(mu);
  if (auto err = session_write_guard(c))
    co_return *err;
  st.session_destroy(c.rest, now());
  co_return json_reply(true);
}

asio::awaitable<reply> consul_agent::impl::session_renew(call& c) {
  std::lock_guard lock(mu);
  if (auto err = session_write_guard(c))
    co_return *err;
  const auto* s = st.session_renew(c.rest, now());
  if (!s)
    co_return text(404, "Session id '" + c.rest + "' not found");
  co_return json_reply(json::array{session_json(*s)});
}

// The blocking session reads differ only in which sessions they list.
template <class Keep>
asio::awaitable<reply> consul_agent::impl::sessions_where(const call& c, Keep keep) {
  co_return co_await blocking(c, [&] {
    json::array a;
    for (const auto& [id, s] : st.sessions()) {
      if (keep(s))
        a.push_back(session_json(s));
    }
    return indexed_reply(a, st.sessions_index());
  });
}

asio::awaitable<reply> consul_agent::impl::session_info(call& c) {
  co_return co_await sessions_where(c, [&](const session& s) { return s.id == c.rest; });
}

asio::awaitable<reply> consul_agent::impl::session_node(call& c) {
  if (c.rest.empty())
    co_return text(400, "Missing node name");
  co_return co_await sessions_where(c, [&](const session& s) { return s.node == c.rest; });
}

asio::awaitable<reply> consul_agent::impl::session_list(call& c) {
  co_return co_await sessions_where(c, [](const session&) { return true; });
}

}  // namespace cbes::testkit
