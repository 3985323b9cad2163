// libFuzzer target: what Consul answers and what other workers write into Consul KV — every
// libconsul response parser, Go durations and base64, and cbes::group's endpoint IDs, control
// document and RPC endpoint documents (JSON-RPC requests and responses appended by others).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cbes/group/endpoint_document.hpp"
#include "cbes/group/layout.hpp"
#include "consul/codec.hpp"
#include "consul/encoding.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1)
    return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 8) {
    case 0:
      static_cast<void>(consul::parse_kv_pairs(body));
      static_cast<void>(consul::parse_string_array(body));
      static_cast<void>(consul::parse_bool(body));
      static_cast<void>(consul::parse_json_string(body));
      break;
    case 1:
      static_cast<void>(consul::parse_session_id(body));
      static_cast<void>(consul::parse_sessions(body));
      break;
    case 2:
      static_cast<void>(consul::parse_agent_self(body));
      static_cast<void>(consul::parse_agent_services(body));
      static_cast<void>(consul::parse_agent_checks(body));
      break;
    case 3:
      static_cast<void>(consul::parse_health_service(body));
      static_cast<void>(consul::parse_catalog_services(body));
      break;
    case 4:
      static_cast<void>(consul::parse_txn_response(200, body));
      static_cast<void>(consul::parse_txn_response(409, body));
      break;
    case 5:
      static_cast<void>(consul::parse_go_duration(body));
      static_cast<void>(consul::base64_decode(body));
      static_cast<void>(consul::parse_uint64(body));
      static_cast<void>(consul::parse_query_meta(body, body, body));
      break;
    case 6:
      static_cast<void>(cbes::group::parse_endpoint_id(body));
      static_cast<void>(cbes::group::parse_control(body));
      break;
    default: {
      // An endpoint document as found in KV, with a request and a response applied to it.
      static_cast<void>(cbes::group::first_request(body));
      static_cast<void>(cbes::group::has_request(body, "1"));
      static_cast<void>(cbes::group::find_response(body, "1"));
      static_cast<void>(cbes::group::remove_response(body, "1"));
      static_cast<void>(cbes::group::append_request(
          body, R"({"jsonrpc":"2.0","id":"2","method":"worker.ping"})"));
      static_cast<void>(cbes::group::apply_response(
          body, R"({"jsonrpc":"2.0","id":"1","result":true})",
          std::chrono::nanoseconds(1'000'000'000), std::chrono::minutes(5)));
      break;
    }
  }
  return 0;
}
