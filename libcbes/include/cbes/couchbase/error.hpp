#pragma once
// Errors of the Couchbase client (connection, cluster, KV): every expected failure is a value
// with a code to branch on and a one-line message that says what to do.
//
//   auto r = co_await cluster->get(coll, "doc");
//   if (!r && r.error().code == cbes::couchbase::errc::document_not_found) ...
//   if (!r) std::cerr << r.error().what() << '\n';
#include <optional>
#include <string>
#include <type_traits>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include "cbes/mcbp/status.hpp"
#include "cbes/util/error.hpp"

namespace cbes::couchbase {

// The "cbes.couchbase" category. Values are stable; never reorder.
enum class errc {
  ok = 0,
  invalid_argument = 1,   // refused client-side (bad seed list, empty key, ...)
  connection_failed,      // resolve / connect / TLS handshake / socket error
  connection_closed,      // the connection closed while the request was in flight
  timeout,                // a deadline passed (connect, bootstrap, request, retries)
  authentication_failed,  // SASL AuthError (kv_engine's protocol docs)
  no_sasl_mechanism,      // the server offers nothing we may use (PLAIN without TLS)
  bucket_not_found,       // SELECT_BUCKET KeyEnoent / Eaccess, HTTP 404
  access_denied,          // Eaccess on a command
  unknown_collection,     // UnknownCollection / UnknownScope
  document_not_found,     // KeyEnoent on a document command
  document_exists,        // KeyEexists (insert, CAS mismatch)
  path_not_found,         // a sub-document path (e.g. xattr) is absent
  temporary_failure,      // Ebusy / Etmpfail that outlived the retry timeout
  protocol_error,         // malformed frame / body / config from the server
  no_config,              // no usable bucket config (CCCP and HTTP both failed)
  server_error,           // any other non-success status (message carries the status name)
  closed,                 // the client was closed by its owner
  // A request that changes data was sent but no answer came (the connection closed, or the
  // deadline passed): the server may or may not have applied it. Never retried blindly; read
  // the document to find out (the Couchbase SDKs' ambiguous timeout / request canceled).
  ambiguous,
};

const boost::system::error_category& error_category() noexcept;
inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

// One failure: what happened (code), the server's status when a response said so, and a line
// for humans (e.g. "authentication failed for user 'x' — check couchbase.username /
// pathToPassword").
struct error {
  boost::system::error_code code;
  std::optional<mcbp::status> status;
  std::string message;

  // "couchbase: <message>" (the code's own text when the message is empty).
  std::string what() const;
  // Failures that may pass on their own: connection trouble, timeouts, temporary failures.
  // Not `ambiguous`: retrying a write whose first attempt may have landed needs a decision.
  bool transient() const noexcept;
};

error make_error(errc e, std::string message, std::optional<mcbp::status> status = {});

template <class T>
using result = boost::system::result<T, error>;

// Lets result<T>::value() throw for callers who prefer exceptions.
using util::throw_exception_from_error;

}  // namespace cbes::couchbase

template <>
struct boost::system::is_error_code_enum<cbes::couchbase::errc> : std::true_type {};
