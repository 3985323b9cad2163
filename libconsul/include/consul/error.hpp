#pragma once
// Errors of libconsul: every expected failure (network, HTTP status, bad body) is a value.
//
//   auto r = co_await c.kv().get("config");
//   if (!r && r.error().code == consul::errc::no_leader)  // 500 "No cluster leader"
//     std::cerr << r.error().what() << '\n';
#include <string>
#include <string_view>
#include <type_traits>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace consul {

// The `consul` error category. Values are stable; never reorder.
enum class errc {
  ok = 0,
  connection_failed = 1,  // resolve/connect/socket error
  timeout,                // connect, write or read deadline passed
  http_status,            // any non-2xx status not covered below (message = body text)
  bad_request,            // 400/405/413: the request is wrong, retrying will not help
  not_found,              // 404 where the API has no "absent" value
  acl_denied,             // 403 "ACL not found" / "Permission denied"
  no_leader,              // 500 "No cluster leader" (Consul's HTTP API docs)
  rate_limited,           // 429
  invalid_response,       // malformed JSON or a body of unexpected shape
  invalid_argument,       // refused client-side (e.g. key starting with '/')
  session_not_found,      // 404 on session renew: the session is gone
  cancelled,              // the coroutine was cancelled or the client closed
  lock_lost,              // consul::lock: leadership ended
  tls_failed,             // TLS refused: CA not loadable, certificate not trusted, wrong host name
};

const boost::system::error_category& consul_category() noexcept;
inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), consul_category()};
}

// One failure: what went wrong (code), the HTTP status if a response arrived (0 otherwise) and
// Consul's text verbatim (e.g. `invalid session "x"`) or a description of the local failure.
struct error {
  boost::system::error_code code;
  int http_status = 0;
  std::string message;

  // One line for logs: "consul: no leader (HTTP 500): No cluster leader".
  std::string what() const;
  // True for failures that can pass on their own: connection, timeout, 5xx, 429.
  bool transient() const noexcept;
};

error make_error(errc e, std::string message, int http_status = 0);

// Maps a non-2xx answer to an error by status and body (substring matching, as a client agent
// prefixes texts with "rpc error making call: ").
error error_from_http(int status, std::string_view body);

template <class T>
using result = boost::system::result<T, error>;

// Lets result<T>::value() throw: programmer's choice of exceptions over checks.
[[noreturn]] void throw_exception_from_error(const error& e, const boost::source_location& loc);

}  // namespace consul

template <>
struct boost::system::is_error_code_enum<consul::errc> : std::true_type {};
