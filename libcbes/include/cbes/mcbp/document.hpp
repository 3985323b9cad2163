#pragma once
// Whole-document commands of the memcached binary protocol: GET (0x00), SET/ADD/REPLACE
// (0x01–0x03), DELETE (0x04), TOUCH (0x1c) and GET_AND_TOUCH (0x1d). Keys are wire keys: prefix
// them with encode_collection_key() on collection-aware connections.
//
//   auto get = get_request{encode_collection_key(8, "doc")};
//   auto bytes = get.encode().vbucket(vb).opaque(1).build();
//   auto doc = get_response::decode(f);  // doc->flags, doc->value, doc->datatype, doc->cas
//   auto put = store_request{store_operation::set, key, R"({"a":1})"};
//   put.datatype = datatype::json;
//   // A server answers with the request's opcode: GET_AND_TOUCH gets a GET_AND_TOUCH response.
//   auto reply = get_response{flags, value}.encode(request.opcode()).opaque(request.opaque());
#include <cstdint>
#include <optional>
#include <string>

#include "cbes/mcbp/frame.hpp"
#include "cbes/mcbp/frame_builder.hpp"

namespace cbes::mcbp {

// Extras of mutation responses once HELLO MutationSeqno was acked: u64 vbucket uuid, u64 seqno.
struct mutation_token {
  std::uint64_t vbucket_uuid = 0;
  std::uint64_t seqno = 0;
  bool operator==(const mutation_token&) const = default;
};

struct get_request {
  std::string key;

  frame_builder encode() const;
  static result<get_request> decode(const frame& f);
};

// The response of the GET family (GET, GET_AND_TOUCH, GET_LOCKED, GET_REPLICA), which share one
// body. Extras 4: u32 user flags; CAS and datatype from the header.
struct get_response {
  std::uint32_t flags = 0;
  std::string value;
  std::uint8_t datatype = 0;
  std::uint64_t cas = 0;

  // `op` is the request's opcode: servers echo it, and clients (the Couchbase SDKs among them)
  // drop or abort on a response whose opcode differs from the request they sent.
  frame_builder encode(opcode op, status s = status::success) const;
  // Success responses need 4 bytes of extras; error responses may carry only an error body.
  static result<get_response> decode(const frame& f);
};

enum class store_operation : std::uint8_t {
  set = 0x01,      // upsert
  add = 0x02,      // insert; KeyEexists when present
  replace = 0x03,  // KeyEnoent when absent; CAS-checked when cas != 0
};

// Extras 8: u32 flags, u32 expiry.
struct store_request {
  store_operation operation = store_operation::set;
  std::string key;
  std::string value;
  std::uint32_t flags = 0;
  std::uint32_t expiry = 0;
  std::uint8_t datatype = 0;
  std::uint64_t cas = 0;

  frame_builder encode() const;
  static result<store_request> decode(const frame& f);
};

struct mutation_response {
  std::uint64_t cas = 0;
  std::optional<mutation_token> token;

  frame_builder encode(opcode op, status s = status::success) const;
  // For SET/ADD/REPLACE/DELETE/SUBDOC_MULTI_MUTATION-style responses; extras 0 or 16.
  static result<mutation_response> decode(const frame& f);
};

struct remove_request {
  std::string key;
  std::uint64_t cas = 0;

  frame_builder encode() const;
  static result<remove_request> decode(const frame& f);
};

// Extras 4: u32 expiry (0 = never, ≤ 30 days relative, else absolute unix seconds).
struct touch_request {
  std::string key;
  std::uint32_t expiry = 0;

  frame_builder encode() const;
  static result<touch_request> decode(const frame& f);
};

}  // namespace cbes::mcbp
