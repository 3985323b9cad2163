#pragma once
// The RPC endpoint document a worker holds at couchbase/cbes/<group>/rpc/<endpoint id>, and the
// edits the server and its clients make to it (the Java connector's protocol, JSON-RPC 2.0):
//
//   {"requests":  [{"jsonrpc":"2.0","id":"<id>","method":"worker.ping","params":[]}],
//    "responses": [{"jsonrpc":"2.0","id":"<id>","result":null,"timestamp":123456789}]}
//
// Clients append requests; the server answers the first request, appends the response and
// drops the request; the client that asked removes its response. Every write is a CAS on the
// ModifyIndex of the read it edits, so these are pure functions from the document read (and
// the clock, for the server) to the document to write. Requests and responses cross this API
// as JSON text. Empty text reads as {} (the server binds the key with "{}"); a missing
// "requests" or "responses" reads as an empty array. Text that is not a JSON object, or whose
// "requests"/"responses" are not arrays, is errc::invalid_document.
//
//   auto next = append_request(doc, R"({"jsonrpc":"2.0","id":"a#1::worker.ping",...})");
//   auto answer = find_response(*next_read, "a#1::worker.ping");   // nullopt: not yet
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "cbes/group/error.hpp"

namespace cbes::group {

// The empty endpoint document the server writes when it binds its key.
inline constexpr std::string_view empty_endpoint_document = "{}";

// Client: `doc` with `request` (a JSON object as text) appended to "requests".
//   auto next = append_request("{}", request);   // {"requests":[<request>]}
result<std::string> append_request(std::string_view doc, std::string_view request);

// Client: whether a request with this string id is still waiting in `doc`; a client whose
// write may have been applied before a failure (a lost response) checks this before appending
// again, so the server never runs the same request twice.
result<bool> has_request(std::string_view doc, std::string_view id);

// Client: the response whose "id" is the string `id`, as JSON text; nullopt when none is there.
result<std::optional<std::string>> find_response(std::string_view doc, std::string_view id);

// Client: `doc` without the responses whose "id" is the string `id`.
result<std::string> remove_response(std::string_view doc, std::string_view id);

// Server: the first entry of "requests" as JSON text (a string entry is given as its content,
// so JSON-RPC text stored as a string still reaches the parser); nullopt when there is none.
result<std::optional<std::string>> first_request(std::string_view doc);

// Server: the document after answering the first request with `response` (a JSON-RPC response
// object as text) at server time `now` (monotonic nanoseconds):
//   (a) responses whose "timestamp" is more than `max_age` before `now` are dropped (clients
//       that gave up never remove theirs); a response without an integer timestamp is kept,
//   (b) `response` is appended with "timestamp": now,
//   (c) the first request is dropped, and every other request with the same "id" as the
//       response (a request that was appended twice is answered once).
//   auto next = apply_response(doc, R"({"jsonrpc":"2.0","id":"x","result":true})",
//                              now, std::chrono::minutes(5));
result<std::string> apply_response(std::string_view doc, std::string_view response,
                                   std::chrono::nanoseconds now, std::chrono::nanoseconds max_age);

}  // namespace cbes::group
