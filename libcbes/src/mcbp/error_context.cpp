#include "cbes/mcbp/error_context.hpp"

#include <boost/json.hpp>

#include "cbes/mcbp/collection_key.hpp"

namespace cbes::mcbp {

error_context parse_error_context(std::string_view value) {
  error_context out;
  boost::system::error_code ec;
  const auto doc = boost::json::parse(value, ec);
  if (ec || !doc.is_object())
    return out;
  const auto& root = doc.get_object();
  if (const auto* e = root.if_contains("error"); e && e->is_object()) {
    if (const auto* c = e->get_object().if_contains("context"); c && c->is_string())
      out.context = c->get_string();
    if (const auto* r = e->get_object().if_contains("ref"); r && r->is_string())
      out.ref = r->get_string();
  }
  if (const auto* m = root.if_contains("manifest_uid"); m && m->is_string())
    if (auto uid = parse_hex_id(m->get_string()))
      out.manifest_uid = *uid;
  return out;
}

}  // namespace cbes::mcbp
