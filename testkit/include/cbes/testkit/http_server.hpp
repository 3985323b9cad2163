#pragma once
// A small HTTP/1.1 server for the protocol fakes (Consul now, Elasticsearch later).
//
// It runs its own io_context on its own thread, keeps connections alive, optionally speaks
// TLS, and calls a coroutine handler per request so a handler may wait (long polls) before
// answering or drop the connection without answering (fault injection). stop() closes the
// listener and every connection, including those whose handler is still waiting.
//
//   cbes::testkit::http_server server({}, [](cbes::testkit::http_server::request req)
//       -> boost::asio::awaitable<cbes::testkit::http_server::response> {
//     co_return cbes::testkit::http_server::response{.status = 200, .body = req.target};
//   });
//   server.start();                      // 127.0.0.1, ephemeral port
//   auto port = server.port();
//   server.stop();
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cbes::testkit {

using http_headers = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive header lookup; nullopt when absent.
std::optional<std::string_view> find_header(const http_headers& headers, std::string_view name);

// Decodes %XX escapes (and '+' as a space in query strings); nullopt on a malformed escape, so
// a fake can answer 400 as the real server does.
//
//   percent_decode("a%2Fb", false);  // "a/b"
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space);

class http_server {
 public:
  struct request {
    std::string method;  // "GET", "PUT", ...
    std::string target;  // raw request target: path and query, still percent-encoded
    http_headers headers;
    std::string body;
    std::optional<std::uint64_t> content_length;  // as sent; nullopt for chunked bodies
    // The subject CN of the client certificate the TLS handshake verified (options
    // tls_client_ca_file); empty without one.
    std::string client_cn{};
  };
  struct response {
    int status = 200;
    http_headers headers;  // Content-Length is added by the server
    std::string body;
    // Close the connection without writing anything (a "dropped" request).
    bool drop = false;
    // Close the connection after this response and say so (`Connection: close`), as
    // Elasticsearch does after a 413. A handler's own `Connection: close` header means the same.
    bool close = false;
    // Connection dropped mid-response: write the status line, the headers (with the full
    // Content-Length) and only this many body bytes, then close.
    //   co_return {.status = 200, .body = json, .truncate_body_at = json.size() / 2};
    std::optional<std::size_t> truncate_body_at = std::nullopt;
  };
  using handler = std::function<boost::asio::awaitable<response>(request)>;

  struct options {
    std::string bind_address = "127.0.0.1";
    std::uint16_t port = 0;  // 0 = ephemeral
    // TLS: when both are set connections are served over TLS with these PEM files.
    std::string tls_cert_file;
    std::string tls_key_file;
    // Mutual TLS: when set (with TLS on), every client must present a certificate signed by
    // this PEM CA or the handshake fails; handlers see its CN in request::client_cn.
    std::string tls_client_ca_file{};
    // Bodies larger than this are refused with 413 before the handler runs.
    std::size_t body_limit = 16 * 1024 * 1024;
  };

  http_server(options opts, handler h);
  ~http_server();  // stops the server
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  // Binds and listens, then serves on a new thread. Throws std::system_error when the
  // address cannot be bound (e.g. port in use) or the TLS files cannot be loaded.
  void start();
  // Closes the listener and every connection, then joins the server thread. Idempotent.
  void stop();

  std::uint16_t port() const;
  bool tls() const;
  // The executor handlers run on (valid between start() and stop()); post to it to touch
  // state owned by the server thread.
  boost::asio::any_io_executor executor() const;
  // Connections currently open.
  std::size_t connection_count() const;

 private:
  void start_listening();
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace cbes::testkit
