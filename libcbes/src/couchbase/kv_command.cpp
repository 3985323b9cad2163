#include "kv_command.hpp"

#include <algorithm>

#include "cbes/mcbp/collections_manifest.hpp"
#include "cbes/mcbp/datatype.hpp"
#include "cbes/mcbp/snappy.hpp"

namespace cbes::couchbase::detail {
namespace {

error bad_response(const std::string& what, const boost::system::error_code& ec) {
  return make_error(errc::protocol_error, what + ": bad response: " + ec.message());
}

bool is_multi_path_failure(mcbp::status s) noexcept {
  return s == mcbp::status::subdoc_multi_path_failure ||
         s == mcbp::status::subdoc_multi_path_failure_deleted;
}

}  // namespace

// ---- get ----------------------------------------------------------------------------------

mcbp::frame_builder get_command::encode(std::string wire_key) const {
  return mcbp::get_request{std::move(wire_key)}.encode();
}

result<get_result> get_command::decode(const mcbp::frame& f, std::uint16_t,
                                       const std::string& what) const {
  auto doc = mcbp::get_response::decode(f);
  if (!doc)
    return bad_response(what, doc.error());
  auto value = mcbp::inflate_value(doc->datatype, doc->value, mcbp::default_max_frame_size);
  if (!value)
    return make_error(errc::protocol_error, what + ": bad value: " + value.error().message());
  return get_result{std::move(*value), doc->flags,
                    static_cast<std::uint8_t>(doc->datatype & ~mcbp::datatype::snappy), doc->cas};
}

// ---- upsert / remove ----------------------------------------------------------------------

result<mutation_result> mutation_command::decode(const mcbp::frame& f, std::uint16_t vbucket,
                                                 const std::string& what) const {
  auto m = mcbp::mutation_response::decode(f);
  if (!m)
    return bad_response(what, m.error());
  return mutation_result{m->cas, m->token, vbucket};
}

mcbp::frame_builder upsert_command::encode(std::string wire_key) const {
  mcbp::store_request s;
  s.operation = options.cas != 0 ? mcbp::store_operation::replace : mcbp::store_operation::set;
  s.key = std::move(wire_key);
  s.value = value;
  s.flags = options.flags;
  s.expiry = options.expiry;
  s.datatype = options.datatype;
  s.cas = options.cas;
  return s.encode();
}

mcbp::frame_builder remove_command::encode(std::string wire_key) const {
  return mcbp::remove_request{std::move(wire_key), cas}.encode();
}

// ---- sub-document -------------------------------------------------------------------------

mcbp::frame_builder lookup_in_command::encode(std::string wire_key) const {
  mcbp::subdoc_multi_lookup_request q;
  q.key = std::move(wire_key);
  q.specs = specs;
  if (access_deleted)
    q.doc_flags = mcbp::subdoc_doc_flag::access_deleted;
  return q.encode();
}

bool lookup_in_command::decodes(mcbp::status s) const noexcept {
  return s == mcbp::status::success || s == mcbp::status::subdoc_success_deleted ||
         is_multi_path_failure(s);
}

result<lookup_in_result> lookup_in_command::decode(const mcbp::frame& f, std::uint16_t,
                                                   const std::string& what) const {
  auto d = mcbp::subdoc_multi_lookup_response::decode(f);
  if (!d)
    return bad_response(what, d.error());
  if (d->results.size() != specs.size())
    return make_error(errc::protocol_error, what + ": " + std::to_string(d->results.size()) +
                                                " results for " + std::to_string(specs.size()) +
                                                " specs");
  const auto s = f.status();
  return lookup_in_result{std::move(d->results), f.cas(),
                          s == mcbp::status::subdoc_success_deleted ||
                              s == mcbp::status::subdoc_multi_path_failure_deleted};
}

bool mutate_in_command::idempotent() const noexcept {
  if (options.cas != 0 || (options.doc_flags & mcbp::subdoc_doc_flag::add) != 0)
    return false;
  return std::all_of(specs.begin(), specs.end(), [](const mcbp::subdoc_mutation_spec& s) {
    return s.op == mcbp::opcode::subdoc_dict_upsert || s.op == mcbp::opcode::subdoc_replace;
  });
}

mcbp::frame_builder mutate_in_command::encode(std::string wire_key) const {
  mcbp::subdoc_multi_mutation_request q;
  q.key = std::move(wire_key);
  q.specs = specs;
  q.doc_flags = options.doc_flags;
  q.expiry = options.expiry;
  q.cas = options.cas;
  return q.encode();
}

bool mutate_in_command::decodes(mcbp::status s) const noexcept {
  return s == mcbp::status::success || is_multi_path_failure(s);
}

result<mutate_in_result> mutate_in_command::decode(const mcbp::frame& f, std::uint16_t,
                                                   const std::string& what) const {
  auto d = mcbp::subdoc_multi_mutation_response::decode(f);
  if (!is_multi_path_failure(f.status())) {
    if (!d)
      return bad_response(what, d.error());
    return mutate_in_result{std::move(d->results), f.cas(), d->token};
  }
  if (!d || d->results.empty())
    return make_error(errc::protocol_error, what + ": bad multi-path failure response");
  const auto& bad = d->results.front();
  const std::string spec_path = bad.index < specs.size() ? specs[bad.index].path : "?";
  return make_error(
      bad.status == mcbp::status::subdoc_path_enoent ? errc::path_not_found : errc::server_error,
      what + ": path '" + spec_path + "' (spec " + std::to_string(bad.index) +
          ") failed: " + std::string(mcbp::to_string(bad.status)),
      bad.status);
}

// ---- bucket-level reads --------------------------------------------------------------------

mcbp::frame_builder collection_id_command::encode() const {
  return mcbp::get_collection_id_request{path}.encode();
}

result<std::uint32_t> collection_id_command::decode(const mcbp::frame& f, std::uint16_t,
                                                    const std::string& what) const {
  auto d = mcbp::get_collection_id_response::decode(f);
  if (!d)
    return bad_response(what, d.error());
  return d->collection_id;
}

mcbp::frame_builder all_vb_seqnos_command::encode() const {
  mcbp::get_all_vb_seqnos_request q;
  // The Java connector asks every node for the seqnos of its active vbuckets only.
  q.state = mcbp::vbucket_state::active;
  q.collection_id = collection_id;
  return q.encode();
}

result<std::vector<mcbp::vbucket_seqno>> all_vb_seqnos_command::decode(
    const mcbp::frame& f, std::uint16_t, const std::string& what) const {
  auto d = mcbp::get_all_vb_seqnos_response::decode(f);
  if (!d)
    return bad_response(what, d.error());
  return std::move(d->entries);
}

mcbp::frame_builder failover_log_command::encode() const {
  return mcbp::frame_builder::request(mcbp::opcode::get_failover_log);
}

result<mcbp::failover_log> failover_log_command::decode(const mcbp::frame& f, std::uint16_t,
                                                        const std::string& what) const {
  auto log = mcbp::decode_failover_log(f.value);
  if (!log)
    return make_error(errc::protocol_error, what + ": a failover log of " +
                                                std::to_string(f.value.size()) +
                                                " bytes is not a multiple of 16");
  return std::move(*log);
}

mcbp::frame_builder collections_manifest_command::encode() const {
  return mcbp::get_collections_manifest_request{}.encode();
}

result<mcbp::collections_manifest> collections_manifest_command::decode(
    const mcbp::frame& f, std::uint16_t, const std::string& what) const {
  auto resp = mcbp::get_collections_manifest_response::decode(f);
  if (!resp)
    return make_error(errc::protocol_error, what + ": " + resp.error().message());
  auto manifest = mcbp::parse_collections_manifest(resp->json);
  if (!manifest)
    return make_error(errc::protocol_error, what + ": the collections manifest does not parse (" +
                                                manifest.error().message() + ")");
  return std::move(*manifest);
}

}  // namespace cbes::couchbase::detail
