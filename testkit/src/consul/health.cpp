#include "agent_impl.hpp"

namespace cbes::testkit {

bool consul_agent::impl::valid_status(const std::string& s) {
  return s == "passing" || s == "warning" || s == "critical";
}

json::object consul_agent::impl::check_json(const check& c, bool agent_view) const {
  return json::object{{"Node", st.node_name()},
                      {"CheckID", c.id},
                      {"Name", c.name},
                      {"Status", c.status},
                      {"Notes", c.notes},
                      {"Output", agent_view ? c.output : c.synced_output},
                      {"ServiceID", c.service_id},
                      {"ServiceName", c.service_name},
                      {"ServiceTags", string_array(c.service_tags)},
                      {"Type", c.type},
                      {"Interval", ""},
                      {"Timeout", ""},
                      {"ExposedPort", 0},
                      {"Definition", json::object{}},
                      {"CreateIndex", agent_view ? 0 : c.create_index},
                      {"ModifyIndex", agent_view ? 0 : c.modify_index}};
}

asio::awaitable<reply> consul_agent::impl::health_service(call& c) {
  if (c.rest.empty())
    co_return text(400, "Missing service name");
  bool passing = false;
  if (auto p = c.get("passing")) {
    // the only flag parsed as a bool (Go strconv.ParseBool), empty = true.
    static const std::set<std::string> yes = {"", "1", "t", "T", "true", "TRUE", "True"};
    static const std::set<std::string> no = {"0", "f", "F", "false", "FALSE", "False"};
    if (yes.count(*p))
      passing = true;
    else if (!no.count(*p))
      co_return text(400, "Invalid value for ?passing");
  }
  co_return co_await blocking(c, [&] {
    json::array a;
    for (const auto* s : tagged_instances(c)) {
      json::array checks;
      bool all_passing = true;
      for (const auto* ch : st.checks_of_service(s->id)) {
        all_passing = all_passing && ch->status == "passing";
        checks.push_back(check_json(*ch, false));
      }
      all_passing = all_passing && st.serf_health().status == "passing";
      checks.push_back(check_json(st.serf_health(), false));
      if (passing && !all_passing)
        continue;
      json::object svc{
          {"ID", s->id},
          {"Service", s->name},
          {"Tags", string_array(s->tags)},
          {"Address", s->address},
          {"Meta", meta_json(*s)},
          {"Port", s->port},
          {"Weights", json::object{{"Passing", s->weight_passing}, {"Warning", s->weight_warning}}},
          {"EnableTagOverride", s->enable_tag_override},
          {"Proxy",
           json::object{{"Mode", ""}, {"MeshGateway", json::object{}}, {"Expose", json::object{}}}},
          {"Connect", json::object{}},
          {"CreateIndex", s->create_index},
          {"ModifyIndex", s->modify_index}};
      a.push_back(json::object{{"Node", node_json()}, {"Service", svc}, {"Checks", checks}});
    }
    reply r = json_reply(a);
    r.index = st.service_index(c.rest);
    r.consistency = true;
    return r;
  });
}

asio::awaitable<reply> consul_agent::impl::health_checks(call& c) {
  if (c.rest.empty())
    co_return text(400, "Missing service name");
  co_return co_await blocking(c, [&] {
    json::array a;
    for (const auto& [id, ch] : st.checks()) {
      if (ch.service_name == c.rest)
        a.push_back(check_json(ch, false));
    }
    return indexed_reply(a, st.service_index(c.rest));
  });
}

asio::awaitable<reply> consul_agent::impl::health_node(call& c) {
  if (c.rest.empty())
    co_return text(400, "Missing node name");
  co_return co_await blocking(c, [&] {
    json::array a;
    if (c.rest == st.node_name()) {
      a.push_back(check_json(st.serf_health(), false));
      for (const auto& [id, ch] : st.checks())
        a.push_back(check_json(ch, false));
    }
    return indexed_reply(a, st.checks_index());
  });
}

asio::awaitable<reply> consul_agent::impl::health_state(call& c) {
  if (c.rest != "any" && !valid_status(c.rest))
    co_return text(400, "Invalid state: " + c.rest);
  co_return co_await blocking(c, [&] {
    json::array a;
    auto add = [&](const check& ch) {
      if (c.rest == "any" || ch.status == c.rest)
        a.push_back(check_json(ch, false));
    };
    add(st.serf_health());
    for (const auto& [id, ch] : st.checks())
      add(ch);
    return indexed_reply(a, st.checks_index());
  });
}

}  // namespace cbes::testkit
