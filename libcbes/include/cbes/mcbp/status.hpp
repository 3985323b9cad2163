#pragma once
// Response status codes (header bytes 6–7 of a response; kv_engine's protocol docs). A status
// converts to an error_code in the "cbes.mcbp.status" category (success == no error), so callers
// can return it as an error value.
//
//   if (f.status() == cbes::mcbp::status::not_my_vbucket) { ... value may hold a config ... }
//   boost::system::error_code ec = f.status();   // ec.message() == "NotMyVbucket (0x07)"
#include <cstdint>
#include <string_view>

#include <boost/system/error_code.hpp>

namespace cbes::mcbp {

enum class status : std::uint16_t {
  success = 0x00,
  key_enoent = 0x01,
  key_eexists = 0x02,
  e2big = 0x03,
  einval = 0x04,
  not_stored = 0x05,
  delta_badval = 0x06,
  not_my_vbucket = 0x07,
  no_bucket = 0x08,
  locked = 0x09,
  dcp_stream_not_found = 0x0a,
  opaque_no_match = 0x0b,
  ewould_throttle = 0x0c,
  econfig_only = 0x0d,
  not_locked = 0x0e,
  cas_value_invalid = 0x0f,
  auth_stale = 0x1f,
  auth_error = 0x20,
  auth_continue = 0x21,
  erange = 0x22,
  rollback = 0x23,
  eaccess = 0x24,
  not_initialized = 0x25,
  encryption_key_not_available = 0x26,
  checksum_mismatch = 0x27,
  expiry_overflow = 0x28,
  lock_expiry_overflow = 0x29,
  rate_limited_network_ingress = 0x30,
  rate_limited_network_egress = 0x31,
  rate_limited_max_connections = 0x32,
  rate_limited_max_commands = 0x33,
  scope_size_limit_exceeded = 0x35,
  bucket_size_limit_exceeded = 0x36,
  bucket_resident_ratio_too_low = 0x37,
  bucket_data_size_too_big = 0x38,
  bucket_paused = 0x50,
  cancelled = 0x51,
  unknown_frame_info = 0x80,
  unknown_command = 0x81,
  enomem = 0x82,
  not_supported = 0x83,
  einternal = 0x84,
  ebusy = 0x85,
  etmpfail = 0x86,
  xattr_einval = 0x87,
  unknown_collection = 0x88,
  no_collections_manifest = 0x89,
  cannot_apply_collections_manifest = 0x8a,
  unknown_scope = 0x8c,
  dcp_stream_id_invalid = 0x8d,
  durability_invalid_level = 0xa0,
  durability_impossible = 0xa1,
  sync_write_in_progress = 0xa2,
  sync_write_ambiguous = 0xa3,
  sync_write_recommit_in_progress = 0xa4,
  range_scan_cancelled = 0xa5,
  range_scan_more = 0xa6,
  range_scan_complete = 0xa7,
  vb_uuid_not_equal = 0xa8,
  subdoc_path_enoent = 0xc0,
  subdoc_path_mismatch = 0xc1,
  subdoc_path_einval = 0xc2,
  subdoc_path_e2big = 0xc3,
  subdoc_doc_e2deep = 0xc4,
  subdoc_value_cantinsert = 0xc5,
  subdoc_doc_not_json = 0xc6,
  subdoc_num_erange = 0xc7,
  subdoc_delta_einval = 0xc8,
  subdoc_path_eexists = 0xc9,
  subdoc_value_etoodeep = 0xca,
  subdoc_invalid_combo = 0xcb,
  subdoc_multi_path_failure = 0xcc,
  subdoc_success_deleted = 0xcd,
  subdoc_xattr_invalid_flag_combo = 0xce,
  subdoc_xattr_invalid_key_combo = 0xcf,
  subdoc_xattr_unknown_macro = 0xd0,
  subdoc_xattr_unknown_vattr = 0xd1,
  subdoc_xattr_cant_modify_vattr = 0xd2,
  subdoc_multi_path_failure_deleted = 0xd3,
  subdoc_invalid_xattr_order = 0xd4,
};

// Protocol name ("NotMyVbucket"); "Unknown" for codes not in the table.
std::string_view to_string(status s) noexcept;

// Temporary failures worth retrying after a delay (Ebusy, Etmpfail).
constexpr bool is_temporary(status s) noexcept {
  return s == status::ebusy || s == status::etmpfail;
}

const boost::system::error_category& status_category() noexcept;

inline boost::system::error_code make_error_code(status s) noexcept {
  return {static_cast<int>(s), status_category()};
}

}  // namespace cbes::mcbp

template <>
struct boost::system::is_error_code_enum<cbes::mcbp::status> : std::true_type {};
