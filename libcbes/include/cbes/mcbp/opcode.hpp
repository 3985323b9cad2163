#pragma once
// Opcodes (header byte 1). Client-initiated ones (magic 0x80/0x81/0x08/0x18) per
// kv_engine's protocol docs plus the document and sub-document commands of the memcached binary
// protocol; server-initiated ones (magic 0x82/0x83) are a separate table.
//
//   auto bytes = frame_builder::request(cbes::mcbp::opcode::get).key("doc").build();
//   std::cout << to_string(cbes::mcbp::opcode::dcp_mutation);  // "DCP_MUTATION"
#include <cstdint>
#include <string_view>

namespace cbes::mcbp {

enum class opcode : std::uint8_t {
  get = 0x00,
  set = 0x01,
  add = 0x02,
  replace = 0x03,
  remove = 0x04,  // DELETE
  increment = 0x05,
  decrement = 0x06,
  quit = 0x07,
  flush = 0x08,
  getq = 0x09,
  noop = 0x0a,
  version = 0x0b,
  getk = 0x0c,
  getkq = 0x0d,
  append = 0x0e,
  prepend = 0x0f,
  stat = 0x10,
  touch = 0x1c,
  get_and_touch = 0x1d,
  hello = 0x1f,
  sasl_list_mechs = 0x20,
  sasl_auth = 0x21,
  sasl_step = 0x22,
  get_all_vb_seqnos = 0x48,
  dcp_open = 0x50,
  dcp_add_stream = 0x51,
  dcp_close_stream = 0x52,
  dcp_stream_req = 0x53,
  dcp_get_failover_log = 0x54,
  dcp_stream_end = 0x55,
  dcp_snapshot_marker = 0x56,
  dcp_mutation = 0x57,
  dcp_deletion = 0x58,
  dcp_expiration = 0x59,
  dcp_flush = 0x5a,
  dcp_set_vbucket_state = 0x5b,
  dcp_noop = 0x5c,
  dcp_buffer_acknowledgement = 0x5d,
  dcp_control = 0x5e,
  dcp_system_event = 0x5f,
  dcp_prepare = 0x60,
  dcp_seqno_acknowledged = 0x61,
  dcp_commit = 0x62,
  dcp_abort = 0x63,
  dcp_seqno_advanced = 0x64,
  dcp_oso_snapshot = 0x65,
  get_replica = 0x83,
  select_bucket = 0x89,
  observe_seqno = 0x91,
  observe = 0x92,
  get_locked = 0x94,
  unlock_key = 0x95,
  get_failover_log = 0x96,
  get_meta = 0xa0,
  get_cluster_config = 0xb5,
  get_random_key = 0xb6,
  get_collections_manifest = 0xba,
  get_collection_id = 0xbb,
  get_scope_id = 0xbc,
  subdoc_get = 0xc5,
  subdoc_exists = 0xc6,
  subdoc_dict_add = 0xc7,
  subdoc_dict_upsert = 0xc8,
  subdoc_delete = 0xc9,
  subdoc_replace = 0xca,
  subdoc_array_push_last = 0xcb,
  subdoc_array_push_first = 0xcc,
  subdoc_array_insert = 0xcd,
  subdoc_array_add_unique = 0xce,
  subdoc_counter = 0xcf,
  subdoc_multi_lookup = 0xd0,
  subdoc_multi_mutation = 0xd1,
  subdoc_get_count = 0xd2,
  subdoc_replace_body_with_xattr = 0xd3,
  get_error_map = 0xfe,
};

// Server-initiated requests (duplex, magic 0x82).
enum class server_opcode : std::uint8_t {
  clustermap_change_notification = 0x01,
  authenticate = 0x02,
  active_external_users = 0x03,
};

// Upper-case protocol name ("SASL_AUTH"), or "UNKNOWN" for an opcode not in the table.
std::string_view to_string(opcode op) noexcept;
std::string_view to_string(server_opcode op) noexcept;

// True for the DCP opcodes 0x50–0x65 (kv_engine's validators treat them as a group).
constexpr bool is_dcp(opcode op) noexcept {
  return static_cast<std::uint8_t>(op) >= 0x50 && static_cast<std::uint8_t>(op) <= 0x65;
}

}  // namespace cbes::mcbp
