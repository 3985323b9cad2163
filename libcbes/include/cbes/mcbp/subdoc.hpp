#pragma once
// SUBDOC_MULTI_LOOKUP (0xd0) and SUBDOC_MULTI_MUTATION (0xd1): several path operations on one
// document, e.g. the checkpoint store's xattr `cbes` read and upsert
// (the Java connector's behaviour). Xattr specs must come before body specs.
//
//   subdoc_multi_mutation_request m{key};
//   m.doc_flags = subdoc_doc_flag::mkdoc;
//   m.specs.push_back({opcode::subdoc_dict_upsert, subdoc_path_flag::xattr, "cbes", json});
//   auto bytes = m.encode().vbucket(vb).opaque(2).build();
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cbes/mcbp/document.hpp"
#include "cbes/mcbp/frame.hpp"
#include "cbes/mcbp/frame_builder.hpp"

namespace cbes::mcbp {

namespace subdoc_path_flag {
inline constexpr std::uint8_t mkdir_p = 0x01;
inline constexpr std::uint8_t xattr = 0x04;  // the path names an extended attribute
inline constexpr std::uint8_t expand_macros = 0x10;
}  // namespace subdoc_path_flag

namespace subdoc_doc_flag {
inline constexpr std::uint8_t mkdoc = 0x01;  // create the document if missing (upsert)
inline constexpr std::uint8_t add = 0x02;    // create; KeyEexists if present
inline constexpr std::uint8_t access_deleted = 0x04;
inline constexpr std::uint8_t create_as_deleted = 0x08;
inline constexpr std::uint8_t revive_document = 0x10;
}  // namespace subdoc_doc_flag

// Spec value layout: u8 opcode, u8 path flags, u16 path length, path.
struct subdoc_lookup_spec {
  opcode op = opcode::subdoc_get;  // subdoc_get, subdoc_exists, subdoc_get_count, or get (body)
  std::uint8_t flags = 0;
  std::string path;
  bool operator==(const subdoc_lookup_spec&) const = default;
};

// Extras: none, or 1 byte of doc flags.
struct subdoc_multi_lookup_request {
  std::string key;
  std::uint8_t doc_flags = 0;
  std::vector<subdoc_lookup_spec> specs;

  frame_builder encode() const;
  static result<subdoc_multi_lookup_request> decode(const frame& f);
};

struct subdoc_lookup_result {
  mcbp::status status = status::success;
  std::string value;
  bool operator==(const subdoc_lookup_result&) const = default;
};

// One result per spec (u16 status, u32 length, value) when the frame status is Success,
// SubdocSuccessDeleted or SubdocMultiPathFailure(Deleted); otherwise no results.
struct subdoc_multi_lookup_response {
  std::vector<subdoc_lookup_result> results;
  std::uint64_t cas = 0;

  frame_builder encode(status s = status::success) const;
  static result<subdoc_multi_lookup_response> decode(const frame& f);
};

// Spec value layout: u8 opcode, u8 path flags, u16 path length, u32 value length, path, value.
struct subdoc_mutation_spec {
  opcode op = opcode::subdoc_dict_upsert;
  std::uint8_t flags = 0;
  std::string path;
  std::string value;
  bool operator==(const subdoc_mutation_spec&) const = default;
};

// Extras: none, 1 (doc flags), 4 (u32 expiry) or 5 (expiry then doc flags).
struct subdoc_multi_mutation_request {
  std::string key;
  std::uint8_t doc_flags = 0;
  std::optional<std::uint32_t> expiry;
  std::vector<subdoc_mutation_spec> specs;
  std::uint64_t cas = 0;
  std::optional<durability_requirement> durability;  // FrameInfo (flexible framing)

  frame_builder encode() const;
  static result<subdoc_multi_mutation_request> decode(const frame& f);
};

struct subdoc_mutation_result {
  std::uint8_t index = 0;
  mcbp::status status = status::success;
  std::string value;
  bool operator==(const subdoc_mutation_result&) const = default;
};

// Success: results only for specs that return a value (u8 index, u16 status, u32 len, value),
// extras 0 or 16 (mutation token). SubdocMultiPathFailure(Deleted): exactly the first failing
// spec (u8 index, u16 status).
struct subdoc_multi_mutation_response {
  std::vector<subdoc_mutation_result> results;
  std::optional<mutation_token> token;
  std::uint64_t cas = 0;

  frame_builder encode(status s = status::success) const;
  static result<subdoc_multi_mutation_response> decode(const frame& f);
};

}  // namespace cbes::mcbp
