#pragma once
// HELLO feature codes (cb::mcbp::Feature; kv_engine's protocol docs).
//
//   hello_request req{"cbes/0.1", {feature::xerror, feature::select_bucket, feature::collections}};
#include <cstdint>
#include <string_view>

namespace cbes::mcbp {

enum class feature : std::uint16_t {
  datatype = 0x01,  // retired, ignored by servers; Java still sends it
  tls = 0x02,
  tcp_nodelay = 0x03,
  mutation_seqno = 0x04,
  tcp_delay = 0x05,
  xattr = 0x06,
  xerror = 0x07,
  select_bucket = 0x08,
  collections_prototype = 0x09,
  snappy = 0x0a,
  json = 0x0b,
  duplex = 0x0c,
  clustermap_change_notification = 0x0d,
  unordered_execution = 0x0e,
  tracing = 0x0f,
  alt_request_support = 0x10,
  sync_replication = 0x11,
  collections = 0x12,
  snappy_everywhere = 0x13,
  preserve_ttl = 0x14,
  vattr = 0x15,
  pitr = 0x16,
  subdoc_create_as_deleted = 0x17,
  subdoc_document_macro_support = 0x18,
  subdoc_replace_body_with_xattr = 0x19,
  report_unit_usage = 0x1a,
  non_blocking_throttling_mode = 0x1b,
  subdoc_replica_read = 0x1c,
  get_cluster_config_with_known_version = 0x1d,
  dedupe_not_my_vbucket_clustermap = 0x1e,
  clustermap_change_notification_brief = 0x1f,
};

// Protocol-ish name ("Collections"); "Unknown" for codes not in the table.
std::string_view to_string(feature f) noexcept;

}  // namespace cbes::mcbp
