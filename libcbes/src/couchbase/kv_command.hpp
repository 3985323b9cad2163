#pragma once
// The KV operations of cluster, one small request/response type each (as couchbase-cxx-client's
// cmd_* types are). cluster::impl runs every one the same way: resolve the collection, route the
// key to its vbucket's active node, send with retries, then let the command decode the answer.
// A command says only what differs:
//
//   get_command cmd;
//   cmd.encode(wire_key)            // the request, without vbucket and opaque
//   cmd.idempotent()                // may it be sent again when the first outcome is unknown?
//   cmd.decodes(status)             // statuses it decodes itself; others become cluster errors
//   cmd.decode(frame, vbucket, what) -> result<get_result>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cbes/couchbase/cluster.hpp"
#include "cbes/mcbp/collections_manifest.hpp"
#include "cbes/mcbp/dcp.hpp"
#include "cbes/mcbp/document.hpp"
#include "cbes/mcbp/frame.hpp"
#include "cbes/mcbp/frame_builder.hpp"
#include "cbes/mcbp/subdoc.hpp"
#include "cbes/mcbp/vbucket_seqnos.hpp"

namespace cbes::couchbase::detail {

// Reads change nothing, so any of them may be sent again.
struct read_command {
  bool idempotent() const noexcept { return true; }
  bool decodes(mcbp::status s) const noexcept { return s == mcbp::status::success; }
};

// Document mutations answered with a CAS and a mutation token.
struct mutation_command {
  using result_type = mutation_result;
  bool decodes(mcbp::status s) const noexcept { return s == mcbp::status::success; }
  result<mutation_result> decode(const mcbp::frame& f, std::uint16_t vbucket,
                                 const std::string& what) const;
};

struct get_command : read_command {
  using result_type = get_result;
  static constexpr std::string_view name = "get";

  mcbp::frame_builder encode(std::string wire_key) const;
  result<get_result> decode(const mcbp::frame& f, std::uint16_t vbucket,
                            const std::string& what) const;
};

struct upsert_command : mutation_command {
  static constexpr std::string_view name = "upsert";
  std::string value;
  upsert_options options;

  // A plain SET leaves the same document however often it lands; a CAS replace fails as
  // "exists" the second time.
  bool idempotent() const noexcept { return options.cas == 0; }
  mcbp::frame_builder encode(std::string wire_key) const;
};

struct remove_command : mutation_command {
  static constexpr std::string_view name = "remove";
  std::uint64_t cas = 0;

  // A repeated delete answers "not found" for a delete that succeeded.
  bool idempotent() const noexcept { return false; }
  mcbp::frame_builder encode(std::string wire_key) const;
};

struct lookup_in_command : read_command {
  using result_type = lookup_in_result;
  static constexpr std::string_view name = "lookup_in";
  std::vector<mcbp::subdoc_lookup_spec> specs;
  bool access_deleted = false;

  mcbp::frame_builder encode(std::string wire_key) const;
  // Per-path failures are results, not errors.
  bool decodes(mcbp::status s) const noexcept;
  result<lookup_in_result> decode(const mcbp::frame& f, std::uint16_t vbucket,
                                  const std::string& what) const;
};

struct mutate_in_command {
  using result_type = mutate_in_result;
  static constexpr std::string_view name = "mutate_in";
  std::vector<mcbp::subdoc_mutation_spec> specs;
  mutate_in_options options;

  // Only upserts and replaces of paths, without CAS or "add" (insert) semantics, land the same
  // way twice; counters, array pushes, deletes and dict_add do not.
  bool idempotent() const noexcept;
  mcbp::frame_builder encode(std::string wire_key) const;
  // A multi-path failure is decoded into the error naming the failing spec.
  bool decodes(mcbp::status s) const noexcept;
  result<mutate_in_result> decode(const mcbp::frame& f, std::uint16_t vbucket,
                                  const std::string& what) const;
};

// Requests about the bucket rather than a document: encoded without a key.
struct collection_id_command : read_command {
  using result_type = std::uint32_t;
  std::string path;  // "scope.collection"

  mcbp::frame_builder encode() const;
  result<std::uint32_t> decode(const mcbp::frame& f, std::uint16_t vbucket,
                               const std::string& what) const;
};

struct all_vb_seqnos_command : read_command {
  using result_type = std::vector<mcbp::vbucket_seqno>;
  std::optional<std::uint32_t> collection_id;

  mcbp::frame_builder encode() const;
  result<std::vector<mcbp::vbucket_seqno>> decode(const mcbp::frame& f, std::uint16_t vbucket,
                                                  const std::string& what) const;
};

struct failover_log_command : read_command {
  using result_type = mcbp::failover_log;

  mcbp::frame_builder encode() const;
  result<mcbp::failover_log> decode(const mcbp::frame& f, std::uint16_t vbucket,
                                    const std::string& what) const;
};

struct collections_manifest_command : read_command {
  using result_type = mcbp::collections_manifest;

  mcbp::frame_builder encode() const;
  result<mcbp::collections_manifest> decode(const mcbp::frame& f, std::uint16_t vbucket,
                                            const std::string& what) const;
};

}  // namespace cbes::couchbase::detail
