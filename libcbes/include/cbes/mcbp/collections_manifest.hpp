#pragma once
// GET_COLLECTIONS_MANIFEST (0xba) and GET_COLLECTION_ID (0xbb) (kv_engine's protocol docs):
// the manifest JSON (uids as lowercase hex strings) parsed into structs, and back.
//
//   auto m = cbes::mcbp::parse_collections_manifest(json);
//   if (auto cid = m->collection_id("inventory", "airline")) ...
//   auto bytes = get_collection_id_request{"inventory.airline"}.encode().opaque(5).build();
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cbes/mcbp/frame.hpp"
#include "cbes/mcbp/frame_builder.hpp"

namespace cbes::mcbp {

struct collection_info {
  std::string name;
  std::uint32_t uid = 0;
  std::optional<std::uint32_t> max_ttl;  // seconds ("maxTTL")
  bool history = false;
  bool metered = false;
  bool operator==(const collection_info&) const = default;
};

struct scope_info {
  std::string name;
  std::uint32_t uid = 0;
  std::vector<collection_info> collections;
  bool operator==(const scope_info&) const = default;
};

struct collections_manifest {
  std::uint64_t uid = 0;
  std::vector<scope_info> scopes;

  std::optional<std::uint32_t> collection_id(std::string_view scope,
                                             std::string_view collection) const;
  std::optional<std::uint32_t> scope_id(std::string_view scope) const;
  bool operator==(const collections_manifest&) const = default;
};

// errc::bad_json / errc::bad_collections_manifest (missing uid/name, uid not hex or out of range,
// collections not an array). Unknown members are ignored.
result<collections_manifest> parse_collections_manifest(std::string_view json);

// Compact JSON in the server's shape; empty scopes get `"collections":[]` (Java NPEs otherwise).
std::string to_json(const collections_manifest& m);

struct get_collections_manifest_request {
  frame_builder encode() const;
  static result<get_collections_manifest_request> decode(const frame& f);
};

struct get_collections_manifest_response {
  std::string json;

  frame_builder encode(status s = status::success) const;
  static result<get_collections_manifest_response> decode(const frame& f);
};

// The path "scope.collection" travels in the value (servers also accept it in the key; the
// decoder takes either).
struct get_collection_id_request {
  std::string path;

  frame_builder encode() const;
  static result<get_collection_id_request> decode(const frame& f);
};

// Extras 12: u64 manifest uid, u32 collection id.
struct get_collection_id_response {
  std::uint64_t manifest_uid = 0;
  std::uint32_t collection_id = 0;

  frame_builder encode(status s = status::success) const;
  static result<get_collection_id_response> decode(const frame& f);
};

}  // namespace cbes::mcbp
