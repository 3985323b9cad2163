#pragma once
// Internal: the client's HTTP transport (Beast over TCP or TLS, keep-alive pool, timeouts,
// read retries, cancellation). Not installed.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "consul/client.hpp"

namespace consul::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

struct http_request {
  http::verb method = http::verb::get;
  std::string target;  // encoded path and query
  std::string body;
  bool json_body = false;
  bool idempotent = false;  // reads: retried within the retry deadline
  std::optional<std::chrono::milliseconds> read_timeout;  // blocking queries
};

struct http_response {
  int status = 0;
  std::string body;
  query_meta meta;
};

struct connection {
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;
  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
};

// HTTP read timeout for a blocking call: the server may hold it for wait + wait/16.
std::chrono::milliseconds blocking_read_timeout(std::chrono::milliseconds wait);

struct client_impl : std::enable_shared_from_this<client_impl> {
  client_impl(asio::any_io_executor ex, client_options o);

  asio::any_io_executor executor;
  client_options options;
  std::string host;
  std::string port;
  std::optional<asio::ssl::context> tls_context;
  std::string tls_setup_error;  // reported on each call when the CA file was unusable
  std::vector<std::unique_ptr<connection>> idle;
  bool closed = false;
  std::uint64_t next_cancel_id = 0;
  std::map<std::uint64_t, std::function<void()>> cancellers;

  // Runs a request with the retry policy; a non-2xx answer is a response, not an error.
  asio::awaitable<result<http_response>> perform(http_request req);
  void close();

  // Adds `?dc=` etc.: target = path + query built from key/values (values encoded here).
  std::string target(std::string path, std::vector<std::pair<std::string, std::string>> query,
                     bool with_dc = true) const;

  // ---- internals ----
  asio::awaitable<result<http_response>> perform_retrying(const http_request& req);
  asio::awaitable<result<http_response>> attempt(const http_request& req);
  asio::awaitable<result<std::unique_ptr<connection>>> connect();
  asio::awaitable<result<http_response>> exchange(connection& c,
                                                  const http::request<http::string_body>& req,
                                                  std::chrono::milliseconds read_timeout,
                                                  bool& nothing_received);
  std::uint64_t on_close(std::function<void()> f);
  void forget(std::uint64_t id) { cancellers.erase(id); }
};

// Non-2xx → error; applies query meta.
error http_failure(const http_response& r);

}  // namespace consul::detail
