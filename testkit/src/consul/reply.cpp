#include "reply.hpp"

#include <boost/json/serialize.hpp>

namespace cbes::testkit::consul_fake {

namespace json = boost::json;

reply json_reply(const json::value& v) {
  reply r;
  r.body = json::serialize(v);
  r.content_type = "application/json";
  return r;
}

reply indexed_reply(const json::value& v, std::uint64_t index) {
  reply r = json_reply(v);
  r.index = index;
  return r;
}

reply text(int status, std::string message) {
  reply r;
  r.status = status;
  r.body = std::move(message);
  if (!r.body.empty())
    r.content_type = "text/plain; charset=utf-8";
  return r;
}

reply empty_ok() {
  return reply{};
}

json::value string_array(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v)
    a.emplace_back(s);
  return a;
}

}  // namespace cbes::testkit::consul_fake
