#pragma once
// Pure, socket-free codecs for Consul's HTTP API: URL pieces, request bodies and response
// bodies. The client is built on them; tests drive them byte by byte.
//
//   auto path = consul::kv_path("web/a b");          // "/v1/kv/web/a%20b"
//   auto pairs = consul::parse_kv_pairs(body);        // result<std::vector<kv_pair>>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "consul/error.hpp"
#include "consul/types.hpp"

namespace consul {

// Percent-encodes everything except RFC 3986 unreserved characters and, when keep_slash,
// '/' (Consul's HTTP API docs: the server decodes before routing).
std::string percent_encode(std::string_view text, bool keep_slash);

// "/v1/kv/<encoded key>". A key starting with '/' is refused as the Go client does;
// an empty key is refused unless allow_empty (prefix reads).
result<std::string> kv_path(std::string_view key, bool allow_empty = false);

// Exact unsigned 64-bit decimal (X-Consul-Index, Flags); nullopt on anything else.
std::optional<std::uint64_t> parse_uint64(std::string_view text);

// X-Consul-Index / KnownLeader / LastContact header values (absent = empty views).
query_meta parse_query_meta(std::string_view index, std::string_view known_leader,
                            std::string_view last_contact);

// ---- request bodies ----
std::string encode_session_create(const session_options& o);
std::string encode_service_registration(const service_registration& r);
std::string encode_check_update(check_status status, std::string_view output);
std::string encode_txn(const std::vector<txn_op>& ops);

// ---- response bodies (malformed or unexpected JSON gives errc::invalid_response) ----
result<std::vector<kv_pair>> parse_kv_pairs(std::string_view body);
result<std::vector<std::string>> parse_string_array(std::string_view body);
result<bool> parse_bool(std::string_view body);
result<std::string> parse_json_string(std::string_view body);
result<std::string> parse_session_id(std::string_view body);  // {"ID":"..."}
result<std::vector<session_info>> parse_sessions(std::string_view body);
result<agent_self> parse_agent_self(std::string_view body);
result<std::map<std::string, service_entry>> parse_agent_services(std::string_view body);
result<std::map<std::string, health_check>> parse_agent_checks(std::string_view body);
result<std::vector<health_entry>> parse_health_service(std::string_view body);
result<std::map<std::string, std::vector<std::string>>> parse_catalog_services(
    std::string_view body);
// 200 → committed results; 409 → committed == false with every failed op.
result<txn_result> parse_txn_response(int status, std::string_view body);

}  // namespace consul
