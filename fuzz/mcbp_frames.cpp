// libFuzzer target: bytes from a Couchbase server. The stream parser gets the input in chunks of
// the sizes the first bytes choose (a socket delivers any split), and every frame it returns goes
// through every decoder a response or DCP message can meet.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cbes/mcbp/cluster_config.hpp"
#include "cbes/mcbp/collections_manifest.hpp"
#include "cbes/mcbp/dcp.hpp"
#include "cbes/mcbp/document.hpp"
#include "cbes/mcbp/error_context.hpp"
#include "cbes/mcbp/error_map.hpp"
#include "cbes/mcbp/frame_info.hpp"
#include "cbes/mcbp/hello.hpp"
#include "cbes/mcbp/parser.hpp"
#include "cbes/mcbp/sasl.hpp"
#include "cbes/mcbp/select_bucket.hpp"
#include "cbes/mcbp/subdoc.hpp"
#include "cbes/mcbp/vbucket_seqnos.hpp"

namespace mcbp = cbes::mcbp;

namespace {

template <class... Message>
void decode_all(const mcbp::frame& f) {
  (static_cast<void>(Message::decode(f)), ...);
}

void decode_frame(const mcbp::frame& f) {
  decode_all<mcbp::hello_request, mcbp::hello_response, mcbp::sasl_list_mechs_request,
             mcbp::sasl_list_mechs_response, mcbp::sasl_auth_request, mcbp::sasl_step_request,
             mcbp::sasl_response, mcbp::select_bucket_request, mcbp::get_error_map_request,
             mcbp::get_error_map_response, mcbp::get_cluster_config_request,
             mcbp::get_cluster_config_response, mcbp::clustermap_change_notification,
             mcbp::get_collections_manifest_request, mcbp::get_collections_manifest_response,
             mcbp::get_collection_id_request, mcbp::get_collection_id_response,
             mcbp::get_all_vb_seqnos_request, mcbp::get_all_vb_seqnos_response,
             mcbp::observe_seqno_request, mcbp::observe_seqno_response, mcbp::get_request,
             mcbp::get_response, mcbp::store_request, mcbp::remove_request, mcbp::touch_request,
             mcbp::mutation_response, mcbp::subdoc_multi_lookup_request,
             mcbp::subdoc_multi_lookup_response, mcbp::subdoc_multi_mutation_request,
             mcbp::subdoc_multi_mutation_response, mcbp::dcp_open_request,
             mcbp::dcp_control_request, mcbp::dcp_stream_request, mcbp::dcp_stream_response,
             mcbp::dcp_close_stream_request, mcbp::dcp_get_failover_log_request,
             mcbp::dcp_get_failover_log_response, mcbp::dcp_buffer_ack, mcbp::dcp_noop_request,
             mcbp::dcp_snapshot_marker, mcbp::dcp_mutation, mcbp::dcp_deletion,
             mcbp::dcp_expiration, mcbp::dcp_stream_end, mcbp::dcp_set_vbucket_state,
             mcbp::dcp_system_event, mcbp::dcp_seqno_advanced, mcbp::dcp_oso_snapshot>(f);
  static_cast<void>(mcbp::decode_dcp_message(f));
  static_cast<void>(mcbp::parse_error_context(f.value));
  static_cast<void>(mcbp::decode_frame_infos(f.framing_extras));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1)
    return 0;
  // A small limit, so that the oversized-frame refusal is reached too.
  mcbp::parser parser(1u << 16);
  const std::size_t chunk = 1 + data[0] % 64;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  while (!rest.empty()) {
    const auto n = std::min(chunk, rest.size());
    parser.feed(rest.substr(0, n));
    rest.remove_prefix(n);
    for (;;) {
      auto next = parser.next();
      if (!next || !*next)
        break;
      decode_frame(**next);
    }
  }
  // The whole input as one frame, as the codec's tests decode recorded frames.
  if (auto f = mcbp::decode_frame(std::string_view(reinterpret_cast<const char*>(data), size)))
    decode_frame(*f);
  return 0;
}
