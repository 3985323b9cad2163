#include "errors.hpp"

#include <boost/json.hpp>

#include <string>

namespace cbes::testkit::es {

namespace json = boost::json;

json::object error_cause(std::string_view type, std::string_view reason) {
  json::object o;
  o["type"] = type;
  o["reason"] = reason;
  return o;
}

json::object error_body(json::object cause, int status) {
  json::object root_cause;
  for (const auto& kv : cause) {
    if (kv.key() != "caused_by")
      root_cause[kv.key()] = kv.value();
  }
  json::object error;
  error["root_cause"] = json::array{root_cause};
  for (auto& kv : cause)
    error[kv.key()] = kv.value();
  json::object body;
  body["error"] = std::move(error);
  body["status"] = status;
  return body;
}

json::object index_not_found(std::string_view index, std::string_view reason) {
  std::string text =
      reason.empty() ? "no such index [" + std::string(index) + "]" : std::string(reason);
  auto o = error_cause("index_not_found_exception", text);
  o["resource.type"] = "index_or_alias";
  o["resource.id"] = index;
  o["index_uuid"] = "_na_";
  o["index"] = index;
  return o;
}

}  // namespace cbes::testkit::es
