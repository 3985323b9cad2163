#include "agent_impl.hpp"

namespace cbes::testkit {

json::object consul_agent::impl::node_json() const {
  json::object tagged{{"lan", "127.0.0.1"},
                      {"lan_ipv4", "127.0.0.1"},
                      {"wan", "127.0.0.1"},
                      {"wan_ipv4", "127.0.0.1"}};
  return json::object{{"ID", st.node_id()},
                      {"Node", st.node_name()},
                      {"Address", "127.0.0.1"},
                      {"Datacenter", st.datacenter()},
                      {"TaggedAddresses", tagged},
                      {"Meta", json::object{{"consul-network-segment", ""}}},
                      {"CreateIndex", st.node_create_index()},
                      {"ModifyIndex", st.node_modify_index()}};
}

// The instances of the service named in the path that carry every ?tag= (health and catalog
// answer the same set); the agent's own "consul" service is one of them.
std::vector<const service*> consul_agent::impl::tagged_instances(const call& c) const {
  const auto tags = c.all("tag");
  std::vector<const service*> out;
  if (c.rest == "consul")
    out.push_back(&st.consul_service());
  for (const auto& [id, s] : st.services()) {
    if (s.name == c.rest)
      out.push_back(&s);
  }
  std::erase_if(out, [&](const service* s) {
    return !std::all_of(tags.begin(), tags.end(), [&](const std::string& t) {
      return std::find(s->tags.begin(), s->tags.end(), t) != s->tags.end();
    });
  });
  return out;
}

asio::awaitable<reply> consul_agent::impl::catalog_services(call& c) {
  co_return co_await blocking(c, [&] {
    std::map<std::string, std::set<std::string>> names;
    names["consul"];
    for (const auto& [id, s] : st.services())
      names[s.name].insert(s.tags.begin(), s.tags.end());
    json::object o;
    for (const auto& [name, tags] : names)
      o[name] = string_array({tags.begin(), tags.end()});
    reply r = json_reply(o);
    r.index = st.services_index();
    r.consistency = true;
    return r;
  });
}

asio::awaitable<reply> consul_agent::impl::catalog_service(call& c) {
  if (c.rest.empty())
    co_return text(400, "Missing service name");
  co_return co_await blocking(c, [&] {
    json::array a;
    for (const auto* s : tagged_instances(c)) {
      auto node = node_json();
      a.push_back(json::object{{"ID", st.node_id()},
                               {"Node", st.node_name()},
                               {"Address", "127.0.0.1"},
                               {"Datacenter", st.datacenter()},
                               {"TaggedAddresses", node["TaggedAddresses"]},
                               {"NodeMeta", node["Meta"]},
                               {"ServiceKind", ""},
                               {"ServiceID", s->id},
                               {"ServiceName", s->name},
                               {"ServiceTags", string_array(s->tags)},
                               {"ServiceAddress", s->address},
                               {"ServiceWeights", json::object{{"Passing", s->weight_passing},
                                                               {"Warning", s->weight_warning}}},
                               {"ServiceMeta", meta_json(*s)},
                               {"ServicePort", s->port},
                               {"ServiceEnableTagOverride", s->enable_tag_override},
                               {"ServiceProxy", json::object{}},
                               {"ServiceConnect", json::object{}},
                               {"CreateIndex", s->create_index},
                               {"ModifyIndex", s->modify_index}});
    }
    reply r = json_reply(a);
    r.index = st.service_index(c.rest);
    r.consistency = true;
    return r;
  });
}

asio::awaitable<reply> consul_agent::impl::catalog_nodes(call& c) {
  co_return co_await blocking(c, [&] {
    reply r = json_reply(json::array{node_json()});
    r.index = st.nodes_index();
    r.consistency = true;
    return r;
  });
}

}  // namespace cbes::testkit
