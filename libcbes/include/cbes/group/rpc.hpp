#pragma once
// RPC between the members of a worker group, over Consul KV, as the Java connector does it
// (JSON-RPC 2.0; the document format is in cbes/group/endpoint_document.hpp). Each worker
// serves its endpoint key couchbase/cbes/<group>/rpc/<endpoint id>, locked with its session so
// that Consul deletes the key when the worker dies; the leader and the CLI tools call it.
//
//   // worker
//   cbes::group::rpc_server server(consul, {.group = "g", .endpoint_id = id, .session = sid});
//   server.add("worker.status", [&](std::string) ->
//   asio::awaitable<cbes::group::result<std::string>> {
//     co_return std::string(R"({"membership":null})");
//   });
//   co_spawn(ex, server.serve(), bind_cancellation_slot(stop.slot(), detached));
//   ...
//   co_await server.unbind();   // on exit: the key goes at once, no lock-delay for a successor
//
//   // leader or CLI
//   cbes::group::rpc_client rpc(consul, "g");
//   auto status = co_await rpc.call(id, "worker.status", "[]");   // result<std::string>: JSON text
//   auto all = co_await rpc.broadcast("worker.stopped", "[]");     // endpoint id -> result
//
// JSON values never cross this header: params and results are JSON text, so users need no
// JSON library of ours. Objects here are used from one executor (that of the consul::client).
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "cbes/group/error.hpp"

namespace consul {
class client;
}

namespace cbes::group {

// JSON-RPC 2.0's error codes (the JSON-RPC 2.0 specification, "Error object").
namespace rpc_codes {
inline constexpr int parse_error = -32700;       // the request is not JSON
inline constexpr int invalid_request = -32600;   // not a JSON-RPC 2.0 request object
inline constexpr int method_not_found = -32601;  // no handler for the method
inline constexpr int invalid_params = -32602;    // the handler refused the params
inline constexpr int internal_error = -32603;    // the handler failed
}  // namespace rpc_codes

// A method: gets the request's "params" as JSON text ("[]" when it had none), returns the
// result as JSON text ("null", "true", an object, ...). An error with errc::invalid_argument
// answers -32602 "Invalid params"; errc::remote_error passes its rpc_code through; any other
// error, an exception, or a result that is not JSON answers -32603 "Internal error" with the
// message in data.detail.exception, where the Java connector puts its exception text.
//
//   server.add("worker.sleep", [&](std::string params) -> asio::awaitable<result<std::string>> {
//     if (params == "[]") co_return make_error(errc::invalid_argument, "expected [seconds]");
//     ...
//     co_return std::string("null");
//   });
using rpc_handler = std::function<boost::asio::awaitable<result<std::string>>(std::string params)>;

// Method name -> handler, and the JSON-RPC 2.0 answering rules. Starts with the two methods
// whose answer does not depend on the worker: worker.ready -> true and worker.ping -> null.
class rpc_methods {
 public:
  rpc_methods();
  // Registers (or replaces) `method`.
  void add(std::string method, rpc_handler handler);
  // The JSON-RPC response (text) to one request (text): -32700 for text that is not JSON,
  // -32600 for anything but an object with "jsonrpc":"2.0", a string "method", a string or
  // number "id" (the Java client always sends one: a request without an id could never be
  // matched to its response, so it is refused rather than run as a notification) and "params"
  // absent, an array or an object; -32601 for a method with no handler; else the handler's.
  //   auto r = co_await methods.answer(R"({"jsonrpc":"2.0","id":"1","method":"worker.ping"})");
  //   // {"jsonrpc":"2.0","id":"1","result":null}
  boost::asio::awaitable<std::string> answer(std::string request);

 private:
  std::map<std::string, rpc_handler, std::less<>> handlers_;
};

struct rpc_server_options {
  std::string group;
  std::string endpoint_id;  // "<node>::<address>::<service id>", see layout.hpp
  std::string session;      // the worker's Consul session: it locks the endpoint key
  // Long-poll length of the serve loop (Consul's default 5 m; tests use less).
  std::chrono::milliseconds wait{300000};
  // Responses no client removed are dropped this long after they were written.
  std::chrono::milliseconds response_ttl{300000};
  // Pause before binding again while the key is absent but cannot be acquired (lock-delay)
  // and after a transient Consul failure.
  std::chrono::milliseconds retry_interval{1000};
  // One line per event worth an operator's eye (garbage document, key deleted externally).
  std::function<void(std::string_view)> on_warning{};
};

// A worker's RPC endpoint: answers the requests written into its key, one at a time, in order.
class rpc_server {
 public:
  rpc_server(consul::client& consul, rpc_server_options options);
  ~rpc_server();
  rpc_server(const rpc_server&) = delete;
  rpc_server& operator=(const rpc_server&) = delete;

  // Registers (or replaces) a method; see rpc_handler.
  //   server.add("worker.stopped", stopped_handler);
  void add(std::string method, rpc_handler handler);

  // Takes the endpoint key for the session (PUT ?acquire=<session>, body {}). While the key is
  // absent but cannot be acquired (Consul's lock-delay after a previous holder died), retries
  // every retry_interval. errc::endpoint_in_use when another session holds it.
  //   if (auto b = co_await server.bind(); !b) std::cerr << b.error().what() << '\n';
  boost::asio::awaitable<result<void>> bind();

  // Binds if not bound, then serves until unbind() (success), cancellation (errc::cancelled),
  // a Consul failure that will not pass (errc::consul_failed) or the key is taken by another
  // session (errc::endpoint_in_use). Destroying the server does not end it: cancel it, call
  // unbind(), or close the consul::client. Per change of the key: the first request is answered and
  // the answer written with a CAS on the index read (retried on a fresh read when a client wrote
  // meanwhile, so no request runs twice); a key deleted by someone else is bound again.
  // A document that is not an endpoint document (someone wrote garbage) is reset to {} with
  // one warning: the requests in it cannot be read, and leaving it would make every client
  // call fail until its timeout, since clients cannot append to a document they cannot parse.
  //   co_spawn(ex, server.serve(), bind_cancellation_slot(stop.slot(), detached));
  boost::asio::awaitable<result<void>> serve();

  // Releases and deletes the key in one transaction (unlock, delete), so that callers see the
  // endpoint vanish and a restarted worker binds at once; "not the owner" (409) counts as done.
  // A running serve() returns (success) when it sees the deletion, instead of binding again.
  //   co_await server.unbind();
  boost::asio::awaitable<result<void>> unbind();

  // Ends serve() (success) and bind() (errc::cancelled) at their next step — after the long
  // poll in progress returns — without touching the key: for a server whose session Consul
  // already invalidated (the key went with it), replaced by one with the new session.
  void stop() noexcept;

  // The endpoint key, couchbase/cbes/<group>/rpc/<endpoint id>.
  const std::string& key() const noexcept;
  // Requests answered since construction (for tests and metrics).
  std::uint64_t answered() const noexcept;

  struct state;

 private:
  std::shared_ptr<state> state_;
};

struct rpc_client_options {
  // How often a call re-reads the key while the endpoint document does not exist yet.
  std::chrono::milliseconds absent_poll{500};
  // CAS retries: truncated exponential backoff with full jitter, from `backoff_seed` doubling
  // up to `backoff_cap`.
  std::chrono::milliseconds backoff_seed{10};
  std::chrono::milliseconds backoff_cap{1000};
};

// Calls a group's workers (the leader and the CLI tools do).
class rpc_client {
 public:
  // The Java connector's per-call timeout.
  static constexpr std::chrono::milliseconds default_timeout{15000};

  rpc_client(consul::client& consul, std::string group);
  rpc_client(consul::client& consul, std::string group, rpc_client_options options);
  ~rpc_client();
  rpc_client(const rpc_client&) = delete;
  rpc_client& operator=(const rpc_client&) = delete;

  // Calls `method` with `params` (JSON text: an array of positional arguments, or "[]") on one
  // endpoint, named by its endpoint id or its full key. Waits up to `timeout` for the endpoint
  // document to exist (errc::endpoint_absent after), appends the request by CAS (never creating
  // the document: it belongs to the worker's session), watches the key until the response is
  // there (errc::timeout, "RPC endpoint operation timed out", when the timeout passes first;
  // errc::endpoint_absent when the document is deleted meanwhile) and removes the response.
  // Returns the result as JSON text, or errc::remote_error with the JSON-RPC error.
  //   auto r = co_await rpc.call("node1::10.0.0.5::g", "worker.stopped", "[]");   // "true"
  boost::asio::awaitable<result<std::string>> call(std::string endpoint, std::string method,
                                                   std::string params);
  boost::asio::awaitable<result<std::string>> call(std::string endpoint, std::string method,
                                                   std::string params,
                                                   std::chrono::milliseconds timeout);

  // call() on every endpoint under rpc_prefix(group) at once; per endpoint id, what it gave.
  // errc::consul_failed when the endpoints cannot be listed.
  //   auto all = co_await rpc.broadcast("worker.stopped", "[]");
  //   for (auto& [id, r] : *all) if (!r || *r != "true") still_running(id);
  boost::asio::awaitable<result<std::map<std::string, result<std::string>>>> broadcast(
      std::string method, std::string params);
  boost::asio::awaitable<result<std::map<std::string, result<std::string>>>> broadcast(
      std::string method, std::string params, std::chrono::milliseconds timeout);

  // call() on several endpoints at once, each with its own params (endpoint id -> params);
  // per endpoint id, what it gave. The leader's release and grant rounds.
  //   auto r = co_await rpc.call_each("worker.release", {{a,
  //   R"([{"generation":3,"vbuckets":[7]}])"}},
  //                                   15s);
  boost::asio::awaitable<std::map<std::string, result<std::string>>> call_each(
      std::string method, std::map<std::string, std::string> params_by_endpoint,
      std::chrono::milliseconds timeout);

  // The id the next request would carry is "<process id>#<n>::<method>", where the process id
  // is a random UUID drawn once per process (as the Java client's).
  static const std::string& process_id();

  struct state;

 private:
  std::shared_ptr<state> state_;
};

}  // namespace cbes::group
