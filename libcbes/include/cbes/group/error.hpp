#pragma once
// Errors of the worker group (Consul key layout, RPC over Consul KV): every expected failure is
// a value with a code to branch on and one line that names the problem and the fix.
//
//   auto r = co_await client.call(endpoint, "worker.ping", "[]");
//   if (!r && r.error().code == cbes::group::errc::remote_error)
//     std::cerr << r.error().rpc_code << ' ' << r.error().message << '\n';  // -32601 Method not
//     found
#include <string>
#include <type_traits>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include "cbes/util/area_error.hpp"

namespace cbes::group {

// The "cbes.group" category. Values are stable; never reorder.
enum class errc {
  ok = 0,
  invalid_argument = 1,  // a malformed endpoint id, an empty group name
  invalid_document,      // a control or endpoint document that is not the expected JSON shape
  endpoint_in_use,       // another session holds this worker's RPC endpoint key
  endpoint_absent,       // the RPC endpoint document does not exist (no worker, or it left)
  timeout,               // the RPC endpoint did not answer in time
  remote_error,          // the endpoint answered with a JSON-RPC error object
  consul_failed,         // a Consul call failed (message = libconsul's what())
  cancelled,             // the coroutine was cancelled or the Consul client closed
  streamer_failed,       // the connector could not start, add or release vbuckets
};

const boost::system::error_category& error_category() noexcept;
inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

// One failure. For errc::remote_error, rpc_code is the JSON-RPC error code the endpoint sent
// (-32601 method not found, -32603 internal error, ...), `message` its message and rpc_data its
// "data" member as JSON text (empty when absent); for every other code they are 0 and empty.
struct error {
  boost::system::error_code code;
  std::string message;
  int rpc_code = 0;
  std::string rpc_data;
  // A Consul failure that may pass by itself (no cluster leader, a 5xx, 429, a timeout, the agent
  // not answering): waiting and trying again is the fix.
  bool transient = false;

  // "group: <message>" (the code's own text when the message is empty).
  std::string what() const { return util::area_what("group", message, code); }
};

inline error make_error(errc e, std::string message) {
  return {make_error_code(e), std::move(message), 0, {}};
}

using util::throw_exception_from_error;

// What the area's operations return; value() throws std::runtime_error(what()).
template <class T>
using result = boost::system::result<T, error>;

}  // namespace cbes::group

template <>
struct boost::system::is_error_code_enum<cbes::group::errc> : std::true_type {};
