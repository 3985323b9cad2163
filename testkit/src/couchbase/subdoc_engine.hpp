#pragma once
// Sub-document path operations on a stored document: SUBDOC_MULTI_LOOKUP / _MUTATION specs
// applied to the JSON body and to xattrs (first path component = xattr key), with the status
// codes of kv_engine's protocol docs (0xc0–0xd4), virtual xattrs `$document` / `$vbucket` and
// macro expansion (`${Mutation.CAS}`, `${Mutation.seqno}`, `${Mutation.value_crc32c}`).
#include <cstdint>
#include <string>
#include <vector>

#include "cbes/mcbp/status.hpp"
#include "cbes/mcbp/subdoc.hpp"
#include "vbucket_store.hpp"

namespace cbes::testkit::couchbase {

// What the `$document` virtual xattr reports beyond the item itself.
struct vattr_context {
  std::uint16_t vbucket = 0;
  std::uint64_t vbucket_uuid = 0;
  std::uint32_t now = 0;
};

struct lookup_outcome {
  mcbp::status status = mcbp::status::success;  // frame status (0xcc when a path failed)
  std::vector<mcbp::subdoc_lookup_result> results;
};

// `doc` may be a tombstone (access_deleted was checked by the caller).
lookup_outcome run_lookup(const item& doc, const std::vector<mcbp::subdoc_lookup_spec>& specs,
                          const vattr_context& ctx);

struct mutation_outcome {
  mcbp::status status = mcbp::status::success;  // frame status
  std::uint8_t failed_index = 0;                // with status 0xcc
  mcbp::status failed_status = mcbp::status::success;
  std::vector<mcbp::subdoc_mutation_result> results;
  bool delete_document = false;  // a whole-document DELETE spec
};

// Applies every spec to `doc` (body, json flag, xattrs updated in place) or none. Macros expand
// to `new_cas` / `new_seqno`, the values the mutation will be stored with.
mutation_outcome run_mutation(item& doc, const std::vector<mcbp::subdoc_mutation_spec>& specs,
                              std::uint64_t new_cas, std::uint64_t new_seqno);

// True when `text` is one complete JSON value (JSON datatype detection).
bool is_json(std::string_view text);

}  // namespace cbes::testkit::couchbase
