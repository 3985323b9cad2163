#pragma once
// Errors of the Elasticsearch sink's I/O side (HTTP pool, version sniff, bulk loop): every
// expected failure is a value with a code to branch on and one line that says what to do.
//
//   auto r = co_await pool.request(cbes::sink::http_method::get, "/", {});
//   if (!r && r.error().code == cbes::sink::errc::timeout) ...
//   if (!r) std::cerr << r.error().what() << '\n';  // "elasticsearch: ..."
#include <string>
#include <type_traits>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include "cbes/util/area_error.hpp"

namespace cbes::sink {

// The "cbes.sink" category. Values are stable; never reorder.
enum class errc {
  ok = 0,
  invalid_argument = 1,   // bad settings (host string, CA file, ...): fix the configuration
  connection_failed,      // resolve / connect / TLS handshake / socket error
  connection_closed,      // the server closed the connection before answering
  timeout,                // connect or request deadline passed
  bad_response,           // the server's answer is not what the protocol says
  authentication_failed,  // 401 / 403: the credential settings are wrong or lack privileges
  unsupported_server,     // too old an Elasticsearch / OpenSearch (the Java connector's behaviour)
  bulk_failed,            // a bulk request failed for good (fatal verdict or retries exhausted)
  closed,                 // the sink / pool was stopped by its owner
};

const boost::system::error_category& error_category() noexcept;
inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

// "elasticsearch: <message>" in what(); see util::area_error.
constexpr const char* area_label(errc) noexcept {
  return "elasticsearch";
}
// Failures that may pass on their own: connection trouble, timeouts, odd responses.
bool area_transient(const boost::system::error_code& code, errc) noexcept;

using error = util::area_error<errc>;
inline error make_error(errc e, std::string message) {
  return util::make_area_error(e, std::move(message));
}

// What the sink's calls return; value() throws std::runtime_error(what()).
template <class T>
using result = boost::system::result<T, error>;

}  // namespace cbes::sink

template <>
struct boost::system::is_error_code_enum<cbes::sink::errc> : std::true_type {};
