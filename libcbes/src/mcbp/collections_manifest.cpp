#include "cbes/mcbp/collections_manifest.hpp"

#include "body.hpp"
#include "bytes.hpp"
#include "cbes/mcbp/collection_key.hpp"
#include "json_util.hpp"

namespace cbes::mcbp {

namespace json = boost::json;

std::optional<std::uint32_t> collections_manifest::collection_id(
    std::string_view scope, std::string_view collection) const {
  for (const auto& s : scopes)
    if (s.name == scope)
      for (const auto& c : s.collections)
        if (c.name == collection)
          return c.uid;
  return std::nullopt;
}

std::optional<std::uint32_t> collections_manifest::scope_id(std::string_view scope) const {
  for (const auto& s : scopes)
    if (s.name == scope)
      return s.uid;
  return std::nullopt;
}

namespace {

std::optional<std::uint64_t> hex_member(const json::object& o, std::string_view key,
                                        std::uint64_t max) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string())
    return std::nullopt;
  auto id = parse_hex_id(v->get_string());
  if (!id || *id > max)
    return std::nullopt;
  return *id;
}

std::optional<std::string> name_member(const json::object& o) {
  const auto* v = o.if_contains("name");
  if (!v || !v->is_string() || v->get_string().empty())
    return std::nullopt;
  return std::string(v->get_string());
}

bool true_flag(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

}  // namespace

result<collections_manifest> parse_collections_manifest(std::string_view text) {
  const auto doc = detail::parse_object(text, errc::bad_collections_manifest);
  if (!doc)
    return doc.error();
  const json::object& root = *doc;
  collections_manifest m;
  const auto uid = hex_member(root, "uid", UINT64_MAX);
  const auto* scopes = root.if_contains("scopes");
  if (!uid || !scopes || !scopes->is_array())
    return errc::bad_collections_manifest;
  m.uid = *uid;
  for (const auto& sv : scopes->get_array()) {
    const auto* so = sv.if_object();
    if (!so)
      return errc::bad_collections_manifest;
    scope_info s;
    auto sname = name_member(*so);
    auto suid = hex_member(*so, "uid", UINT32_MAX);
    if (!sname || !suid)
      return errc::bad_collections_manifest;
    s.name = std::move(*sname);
    s.uid = static_cast<std::uint32_t>(*suid);
    if (const auto* cols = so->if_contains("collections")) {
      if (!cols->is_array())
        return errc::bad_collections_manifest;
      for (const auto& cv : cols->get_array()) {
        const auto* co = cv.if_object();
        if (!co)
          return errc::bad_collections_manifest;
        collection_info c;
        auto cname = name_member(*co);
        auto cuid = hex_member(*co, "uid", UINT32_MAX);
        if (!cname || !cuid)
          return errc::bad_collections_manifest;
        c.name = std::move(*cname);
        c.uid = static_cast<std::uint32_t>(*cuid);
        if (const auto* ttl = co->if_contains("maxTTL")) {
          const auto t = detail::as_int(*ttl);
          if (!t || *t < 0 || *t > UINT32_MAX)
            return errc::bad_collections_manifest;
          c.max_ttl = static_cast<std::uint32_t>(*t);
        }
        c.history = true_flag(*co, "history");
        c.metered = true_flag(*co, "metered");
        s.collections.push_back(std::move(c));
      }
    }
    m.scopes.push_back(std::move(s));
  }
  return m;
}

std::string to_json(const collections_manifest& m) {
  json::object root;
  root["uid"] = format_hex_id(m.uid);
  json::array scopes;
  for (const auto& s : m.scopes) {
    json::object so;
    so["name"] = s.name;
    so["uid"] = format_hex_id(s.uid);
    json::array cols;
    for (const auto& c : s.collections) {
      json::object co;
      co["name"] = c.name;
      co["uid"] = format_hex_id(c.uid);
      if (c.max_ttl)
        co["maxTTL"] = *c.max_ttl;
      if (c.history)
        co["history"] = true;
      if (c.metered)
        co["metered"] = true;
      cols.push_back(std::move(co));
    }
    so["collections"] = std::move(cols);
    scopes.push_back(std::move(so));
  }
  root["scopes"] = std::move(scopes);
  return json::serialize(root);
}

frame_builder get_collections_manifest_request::encode() const {
  return frame_builder::request(opcode::get_collections_manifest);
}

result<get_collections_manifest_request> get_collections_manifest_request::decode(const frame& f) {
  if (auto ec =
          detail::expect_bare(f, opcode::get_collections_manifest, detail::direction::request))
    return ec;
  if (!f.value.empty())
    return errc::bad_value;
  return get_collections_manifest_request{};
}

frame_builder get_collections_manifest_response::encode(status s) const {
  return frame_builder::response(opcode::get_collections_manifest, s).datatype(0x01).value(json);
}

result<get_collections_manifest_response> get_collections_manifest_response::decode(
    const frame& f) {
  if (auto ec =
          detail::expect_bare(f, opcode::get_collections_manifest, detail::direction::response))
    return ec;
  return get_collections_manifest_response{std::string(f.value)};
}

frame_builder get_collection_id_request::encode() const {
  return frame_builder::request(opcode::get_collection_id).value(path);
}

result<get_collection_id_request> get_collection_id_request::decode(const frame& f) {
  if (auto ec = detail::expect(f, opcode::get_collection_id, detail::direction::request))
    return ec;
  if (!f.extras.empty())
    return errc::bad_extras;
  if (!f.key.empty() && !f.value.empty())
    return errc::bad_value;
  const std::string_view path = f.key.empty() ? f.value : f.key;
  if (path.empty())
    return errc::bad_value;
  return get_collection_id_request{std::string(path)};
}

frame_builder get_collection_id_response::encode(status s) const {
  auto b = frame_builder::response(opcode::get_collection_id, s);
  if (s == status::success) {
    std::string extras;
    detail::put_u64(extras, manifest_uid);
    detail::put_u32(extras, collection_id);
    b.extras(extras);
  }
  return b;
}

result<get_collection_id_response> get_collection_id_response::decode(const frame& f) {
  if (auto ec = detail::expect(f, opcode::get_collection_id, detail::direction::response))
    return ec;
  if (f.extras.size() != 12)
    return errc::bad_extras;
  return get_collection_id_response{detail::load_u64(f.extras, 0), detail::load_u32(f.extras, 8)};
}

}  // namespace cbes::mcbp
