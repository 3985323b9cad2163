#include "agent_impl.hpp"

namespace cbes::testkit {

asio::awaitable<reply> consul_agent::impl::status_leader(call&) {
  std::lock_guard lock(mu);
  co_return json_reply(json::string(leader_lost ? "" : "127.0.0.1:8300"));
}

asio::awaitable<reply> consul_agent::impl::status_peers(call&) {
  co_return json_reply(json::array{"127.0.0.1:8300"});
}

asio::awaitable<reply> consul_agent::impl::acl_token_self(call& c) {
  if (opts.acl_master_token.empty())
    co_return text(401, "ACL support disabled");
  (void)c;
  co_return json_reply(json::object{
      {"AccessorID", "00000000-0000-0000-0000-000000000001"},
      {"SecretID", opts.acl_master_token},
      {"Description", "Bootstrap Token (Global Management)"},
      {"Policies", json::array{json::object{{"ID", "00000000-0000-0000-0000-000000000001"},
                                            {"Name", "global-management"}}}},
      {"Local", false},
      {"CreateTime", "2024-01-01T00:00:00Z"},
      {"Hash", "Zm9v"},
      {"CreateIndex", 12},
      {"ModifyIndex", 12}});
}

}  // namespace cbes::testkit
