// Protocol names of the mcbp enums, for logs and error messages.
#include "cbes/mcbp/feature.hpp"
#include "cbes/mcbp/magic.hpp"
#include "cbes/mcbp/opcode.hpp"
#include "cbes/mcbp/status.hpp"

#include <cstdio>
#include <string>

#include "cbes/util/error.hpp"

namespace cbes::mcbp {

std::string_view to_string(opcode v) noexcept {
  switch (v) {
    case opcode::get:
      return "GET";
    case opcode::set:
      return "SET";
    case opcode::add:
      return "ADD";
    case opcode::replace:
      return "REPLACE";
    case opcode::remove:
      return "DELETE";
    case opcode::increment:
      return "INCREMENT";
    case opcode::decrement:
      return "DECREMENT";
    case opcode::quit:
      return "QUIT";
    case opcode::flush:
      return "FLUSH";
    case opcode::getq:
      return "GETQ";
    case opcode::noop:
      return "NOOP";
    case opcode::version:
      return "VERSION";
    case opcode::getk:
      return "GETK";
    case opcode::getkq:
      return "GETKQ";
    case opcode::append:
      return "APPEND";
    case opcode::prepend:
      return "PREPEND";
    case opcode::stat:
      return "STAT";
    case opcode::touch:
      return "TOUCH";
    case opcode::get_and_touch:
      return "GET_AND_TOUCH";
    case opcode::hello:
      return "HELLO";
    case opcode::sasl_list_mechs:
      return "SASL_LIST_MECHS";
    case opcode::sasl_auth:
      return "SASL_AUTH";
    case opcode::sasl_step:
      return "SASL_STEP";
    case opcode::get_all_vb_seqnos:
      return "GET_ALL_VB_SEQNOS";
    case opcode::dcp_open:
      return "DCP_OPEN";
    case opcode::dcp_add_stream:
      return "DCP_ADD_STREAM";
    case opcode::dcp_close_stream:
      return "DCP_CLOSE_STREAM";
    case opcode::dcp_stream_req:
      return "DCP_STREAM_REQ";
    case opcode::dcp_get_failover_log:
      return "DCP_GET_FAILOVER_LOG";
    case opcode::dcp_stream_end:
      return "DCP_STREAM_END";
    case opcode::dcp_snapshot_marker:
      return "DCP_SNAPSHOT_MARKER";
    case opcode::dcp_mutation:
      return "DCP_MUTATION";
    case opcode::dcp_deletion:
      return "DCP_DELETION";
    case opcode::dcp_expiration:
      return "DCP_EXPIRATION";
    case opcode::dcp_flush:
      return "DCP_FLUSH";
    case opcode::dcp_set_vbucket_state:
      return "DCP_SET_VBUCKET_STATE";
    case opcode::dcp_noop:
      return "DCP_NOOP";
    case opcode::dcp_buffer_acknowledgement:
      return "DCP_BUFFER_ACKNOWLEDGEMENT";
    case opcode::dcp_control:
      return "DCP_CONTROL";
    case opcode::dcp_system_event:
      return "DCP_SYSTEM_EVENT";
    case opcode::dcp_prepare:
      return "DCP_PREPARE";
    case opcode::dcp_seqno_acknowledged:
      return "DCP_SEQNO_ACKNOWLEDGED";
    case opcode::dcp_commit:
      return "DCP_COMMIT";
    case opcode::dcp_abort:
      return "DCP_ABORT";
    case opcode::dcp_seqno_advanced:
      return "DCP_SEQNO_ADVANCED";
    case opcode::dcp_oso_snapshot:
      return "DCP_OSO_SNAPSHOT";
    case opcode::get_replica:
      return "GET_REPLICA";
    case opcode::select_bucket:
      return "SELECT_BUCKET";
    case opcode::observe_seqno:
      return "OBSERVE_SEQNO";
    case opcode::observe:
      return "OBSERVE";
    case opcode::get_locked:
      return "GET_LOCKED";
    case opcode::unlock_key:
      return "UNLOCK_KEY";
    case opcode::get_failover_log:
      return "GET_FAILOVER_LOG";
    case opcode::get_meta:
      return "GET_META";
    case opcode::get_cluster_config:
      return "GET_CLUSTER_CONFIG";
    case opcode::get_random_key:
      return "GET_RANDOM_KEY";
    case opcode::get_collections_manifest:
      return "GET_COLLECTIONS_MANIFEST";
    case opcode::get_collection_id:
      return "GET_COLLECTION_ID";
    case opcode::get_scope_id:
      return "GET_SCOPE_ID";
    case opcode::subdoc_get:
      return "SUBDOC_GET";
    case opcode::subdoc_exists:
      return "SUBDOC_EXISTS";
    case opcode::subdoc_dict_add:
      return "SUBDOC_DICT_ADD";
    case opcode::subdoc_dict_upsert:
      return "SUBDOC_DICT_UPSERT";
    case opcode::subdoc_delete:
      return "SUBDOC_DELETE";
    case opcode::subdoc_replace:
      return "SUBDOC_REPLACE";
    case opcode::subdoc_array_push_last:
      return "SUBDOC_ARRAY_PUSH_LAST";
    case opcode::subdoc_array_push_first:
      return "SUBDOC_ARRAY_PUSH_FIRST";
    case opcode::subdoc_array_insert:
      return "SUBDOC_ARRAY_INSERT";
    case opcode::subdoc_array_add_unique:
      return "SUBDOC_ARRAY_ADD_UNIQUE";
    case opcode::subdoc_counter:
      return "SUBDOC_COUNTER";
    case opcode::subdoc_multi_lookup:
      return "SUBDOC_MULTI_LOOKUP";
    case opcode::subdoc_multi_mutation:
      return "SUBDOC_MULTI_MUTATION";
    case opcode::subdoc_get_count:
      return "SUBDOC_GET_COUNT";
    case opcode::subdoc_replace_body_with_xattr:
      return "SUBDOC_REPLACE_BODY_WITH_XATTR";
    case opcode::get_error_map:
      return "GET_ERROR_MAP";
  }
  return "UNKNOWN";
}

std::string_view to_string(server_opcode v) noexcept {
  switch (v) {
    case server_opcode::clustermap_change_notification:
      return "ClustermapChangeNotification";
    case server_opcode::authenticate:
      return "Authenticate";
    case server_opcode::active_external_users:
      return "ActiveExternalUsers";
  }
  return "Unknown";
}

std::string_view to_string(status v) noexcept {
  switch (v) {
    case status::success:
      return "Success";
    case status::key_enoent:
      return "KeyEnoent";
    case status::key_eexists:
      return "KeyEexists";
    case status::e2big:
      return "E2big";
    case status::einval:
      return "Einval";
    case status::not_stored:
      return "NotStored";
    case status::delta_badval:
      return "DeltaBadval";
    case status::not_my_vbucket:
      return "NotMyVbucket";
    case status::no_bucket:
      return "NoBucket";
    case status::locked:
      return "Locked";
    case status::dcp_stream_not_found:
      return "DcpStreamNotFound";
    case status::opaque_no_match:
      return "OpaqueNoMatch";
    case status::ewould_throttle:
      return "EwouldThrottle";
    case status::econfig_only:
      return "EconfigOnly";
    case status::not_locked:
      return "NotLocked";
    case status::cas_value_invalid:
      return "CasValueInvalid";
    case status::auth_stale:
      return "AuthStale";
    case status::auth_error:
      return "AuthError";
    case status::auth_continue:
      return "AuthContinue";
    case status::erange:
      return "Erange";
    case status::rollback:
      return "Rollback";
    case status::eaccess:
      return "Eaccess";
    case status::not_initialized:
      return "NotInitialized";
    case status::encryption_key_not_available:
      return "EncryptionKeyNotAvailable";
    case status::checksum_mismatch:
      return "ChecksumMismatch";
    case status::expiry_overflow:
      return "ExpiryOverflow";
    case status::lock_expiry_overflow:
      return "LockExpiryOverflow";
    case status::rate_limited_network_ingress:
      return "RateLimitedNetworkIngress";
    case status::rate_limited_network_egress:
      return "RateLimitedNetworkEgress";
    case status::rate_limited_max_connections:
      return "RateLimitedMaxConnections";
    case status::rate_limited_max_commands:
      return "RateLimitedMaxCommands";
    case status::scope_size_limit_exceeded:
      return "ScopeSizeLimitExceeded";
    case status::bucket_size_limit_exceeded:
      return "BucketSizeLimitExceeded";
    case status::bucket_resident_ratio_too_low:
      return "BucketResidentRatioTooLow";
    case status::bucket_data_size_too_big:
      return "BucketDataSizeTooBig";
    case status::bucket_paused:
      return "BucketPaused";
    case status::cancelled:
      return "Cancelled";
    case status::unknown_frame_info:
      return "UnknownFrameInfo";
    case status::unknown_command:
      return "UnknownCommand";
    case status::enomem:
      return "Enomem";
    case status::not_supported:
      return "NotSupported";
    case status::einternal:
      return "Einternal";
    case status::ebusy:
      return "Ebusy";
    case status::etmpfail:
      return "Etmpfail";
    case status::xattr_einval:
      return "XattrEinval";
    case status::unknown_collection:
      return "UnknownCollection";
    case status::no_collections_manifest:
      return "NoCollectionsManifest";
    case status::cannot_apply_collections_manifest:
      return "CannotApplyCollectionsManifest";
    case status::unknown_scope:
      return "UnknownScope";
    case status::dcp_stream_id_invalid:
      return "DcpStreamIdInvalid";
    case status::durability_invalid_level:
      return "DurabilityInvalidLevel";
    case status::durability_impossible:
      return "DurabilityImpossible";
    case status::sync_write_in_progress:
      return "SyncWriteInProgress";
    case status::sync_write_ambiguous:
      return "SyncWriteAmbiguous";
    case status::sync_write_recommit_in_progress:
      return "SyncWriteRecommitInProgress";
    case status::range_scan_cancelled:
      return "RangeScanCancelled";
    case status::range_scan_more:
      return "RangeScanMore";
    case status::range_scan_complete:
      return "RangeScanComplete";
    case status::vb_uuid_not_equal:
      return "VbUuidNotEqual";
    case status::subdoc_path_enoent:
      return "SubdocPathEnoent";
    case status::subdoc_path_mismatch:
      return "SubdocPathMismatch";
    case status::subdoc_path_einval:
      return "SubdocPathEinval";
    case status::subdoc_path_e2big:
      return "SubdocPathE2big";
    case status::subdoc_doc_e2deep:
      return "SubdocDocE2deep";
    case status::subdoc_value_cantinsert:
      return "SubdocValueCantinsert";
    case status::subdoc_doc_not_json:
      return "SubdocDocNotJson";
    case status::subdoc_num_erange:
      return "SubdocNumErange";
    case status::subdoc_delta_einval:
      return "SubdocDeltaEinval";
    case status::subdoc_path_eexists:
      return "SubdocPathEexists";
    case status::subdoc_value_etoodeep:
      return "SubdocValueEtoodeep";
    case status::subdoc_invalid_combo:
      return "SubdocInvalidCombo";
    case status::subdoc_multi_path_failure:
      return "SubdocMultiPathFailure";
    case status::subdoc_success_deleted:
      return "SubdocSuccessDeleted";
    case status::subdoc_xattr_invalid_flag_combo:
      return "SubdocXattrInvalidFlagCombo";
    case status::subdoc_xattr_invalid_key_combo:
      return "SubdocXattrInvalidKeyCombo";
    case status::subdoc_xattr_unknown_macro:
      return "SubdocXattrUnknownMacro";
    case status::subdoc_xattr_unknown_vattr:
      return "SubdocXattrUnknownVattr";
    case status::subdoc_xattr_cant_modify_vattr:
      return "SubdocXattrCantModifyVattr";
    case status::subdoc_multi_path_failure_deleted:
      return "SubdocMultiPathFailureDeleted";
    case status::subdoc_invalid_xattr_order:
      return "SubdocInvalidXattrOrder";
  }
  return "Unknown";
}

std::string_view to_string(feature v) noexcept {
  switch (v) {
    case feature::datatype:
      return "Datatype";
    case feature::tls:
      return "Tls";
    case feature::tcp_nodelay:
      return "TcpNodelay";
    case feature::mutation_seqno:
      return "MutationSeqno";
    case feature::tcp_delay:
      return "TcpDelay";
    case feature::xattr:
      return "Xattr";
    case feature::xerror:
      return "Xerror";
    case feature::select_bucket:
      return "SelectBucket";
    case feature::collections_prototype:
      return "CollectionsPrototype";
    case feature::snappy:
      return "Snappy";
    case feature::json:
      return "Json";
    case feature::duplex:
      return "Duplex";
    case feature::clustermap_change_notification:
      return "ClustermapChangeNotification";
    case feature::unordered_execution:
      return "UnorderedExecution";
    case feature::tracing:
      return "Tracing";
    case feature::alt_request_support:
      return "AltRequestSupport";
    case feature::sync_replication:
      return "SyncReplication";
    case feature::collections:
      return "Collections";
    case feature::snappy_everywhere:
      return "SnappyEverywhere";
    case feature::preserve_ttl:
      return "PreserveTtl";
    case feature::vattr:
      return "Vattr";
    case feature::pitr:
      return "Pitr";
    case feature::subdoc_create_as_deleted:
      return "SubdocCreateAsDeleted";
    case feature::subdoc_document_macro_support:
      return "SubdocDocumentMacroSupport";
    case feature::subdoc_replace_body_with_xattr:
      return "SubdocReplaceBodyWithXattr";
    case feature::report_unit_usage:
      return "ReportUnitUsage";
    case feature::non_blocking_throttling_mode:
      return "NonBlockingThrottlingMode";
    case feature::subdoc_replica_read:
      return "SubdocReplicaRead";
    case feature::get_cluster_config_with_known_version:
      return "GetClusterConfigWithKnownVersion";
    case feature::dedupe_not_my_vbucket_clustermap:
      return "DedupeNotMyVbucketClustermap";
    case feature::clustermap_change_notification_brief:
      return "ClustermapChangeNotificationBrief";
  }
  return "Unknown";
}

std::optional<magic> to_magic(std::uint8_t byte) noexcept {
  switch (byte) {
    case 0x80:
    case 0x81:
    case 0x08:
    case 0x18:
    case 0x82:
    case 0x83:
      return static_cast<magic>(byte);
    default:
      return std::nullopt;
  }
}

std::string_view to_string(magic m) noexcept {
  switch (m) {
    case magic::client_request:
      return "ClientRequest";
    case magic::client_response:
      return "ClientResponse";
    case magic::alt_client_request:
      return "AltClientRequest";
    case magic::alt_client_response:
      return "AltClientResponse";
    case magic::server_request:
      return "ServerRequest";
    case magic::server_response:
      return "ServerResponse";
  }
  return "Unknown";
}

namespace {

std::string describe_status(int ev) {
  char code[16];
  std::snprintf(code, sizeof code, "0x%02x", static_cast<unsigned>(ev));
  return std::string(to_string(static_cast<status>(ev))) + " (" + code + ")";
}

}  // namespace

const boost::system::error_category& status_category() noexcept {
  static const util::named_error_category category{"cbes.mcbp.status", describe_status};
  return category;
}

}  // namespace cbes::mcbp
