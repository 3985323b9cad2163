#include "cbes/group/layout.hpp"

#include <algorithm>

#include <boost/json.hpp>

namespace cbes::group {
namespace json = boost::json;

namespace {

std::string group_key(std::string_view group, std::string_view leaf) {
  std::string key(key_root);
  key += group;
  key += '/';
  key += leaf;
  return key;
}

constexpr std::string_view separator = "::";
constexpr std::string_view config_suffix = "/config";

}  // namespace

std::string config_key(std::string_view group) {
  return group_key(group, "config");
}

std::string control_key(std::string_view group) {
  return group_key(group, "control");
}

std::string leader_key(std::string_view group) {
  return group_key(group, "leader");
}

std::string rpc_prefix(std::string_view group) {
  return group_key(group, "rpc/");
}

std::string rpc_key(std::string_view group, std::string_view endpoint_id) {
  std::string key = rpc_prefix(group);
  key += endpoint_id;
  return key;
}

std::string released_prefix(std::string_view group) {
  return group_key(group, "released/");
}

std::string released_key(std::string_view group, std::string_view endpoint_id) {
  std::string key = released_prefix(group);
  key += endpoint_id;
  return key;
}

std::string endpoint_id(std::string_view node, std::string_view address,
                        std::string_view service_id) {
  std::string id(node);
  id += separator;
  id += address;
  id += separator;
  id += service_id;
  return id;
}

result<endpoint> parse_endpoint_id(std::string_view id) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const auto at = id.find(separator, start);
    parts.emplace_back(id.substr(start, at == std::string_view::npos ? id.npos : at - start));
    if (at == std::string_view::npos)
      break;
    start = at + separator.size();
  }
  const bool empty_part =
      std::any_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); });
  if (parts.size() != 3 || empty_part)
    return make_error(errc::invalid_argument, "malformed endpoint id '" + std::string(id) +
                                                  "': expected <node>::<address>::<service id>");
  return endpoint{std::move(parts[0]), std::move(parts[1]), std::move(parts[2])};
}

result<control_doc> parse_control(std::string_view text) {
  control_doc doc;
  if (text.empty())
    return doc;
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec || !v.is_object())
    return make_error(errc::invalid_document,
                      "the group control document is not a JSON object: " + std::string(text));
  const auto* paused = v.as_object().if_contains("paused");
  doc.paused = paused != nullptr && paused->is_bool() && paused->as_bool();
  doc.json = std::string(text);
  return doc;
}

std::string with_paused(const control_doc& doc, bool paused) {
  boost::system::error_code ec;
  json::value v = json::parse(doc.json, ec);
  if (ec || !v.is_object())
    v = json::object();
  v.as_object()["paused"] = paused;
  return json::serialize(v);
}

std::vector<std::string> group_names(const std::vector<std::string>& keys) {
  std::vector<std::string> names;
  for (const auto& key : keys) {
    const std::string_view k(key);
    if (k.size() <= key_root.size() + config_suffix.size() || !k.starts_with(key_root) ||
        !k.ends_with(config_suffix))
      continue;
    names.emplace_back(
        k.substr(key_root.size(), k.size() - key_root.size() - config_suffix.size()));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace cbes::group
