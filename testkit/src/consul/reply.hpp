#pragma once
// What an endpoint of the Consul fake answers; the agent adds Consul's headers when it writes it.
#include <boost/json/value.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "cbes/testkit/http_server.hpp"

namespace cbes::testkit::consul_fake {

struct reply {
  int status = 200;
  std::string body;
  std::string content_type;  // "" = none
  http_headers headers;
  bool meta = false;         // X-Consul-Index/KnownLeader/LastContact
  bool meta_index = true;    // read-only txn: meta without an index
  bool consistency = false;  // X-Consul-Effective-Consistency (catalog, health)
  std::uint64_t index = 0;
  bool absent = false;  // 404 "not found" result of a blocking read
  bool drop = false;
};

reply json_reply(const boost::json::value& v);
// A blocking read's answer: the body and the index it reflects (X-Consul-Index).
reply indexed_reply(const boost::json::value& v, std::uint64_t index);
reply text(int status, std::string message);
reply empty_ok();
boost::json::value string_array(const std::vector<std::string>& v);

}  // namespace cbes::testkit::consul_fake
