#include "http_config.hpp"

#include "tls_setup.hpp"

#include "cbes/util/base64.hpp"
#include "cbes/version.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/pchars.hpp>

namespace cbes::couchbase::detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::size_t max_config_body = 16 * 1024 * 1024;

template <class Stream>
asio::awaitable<result<std::string>> exchange(Stream& stream, beast::tcp_stream& layer,
                                              const endpoint& manager, const std::string& target,
                                              const std::string& bucket,
                                              const std::string& username,
                                              const std::string& password,
                                              std::chrono::milliseconds timeout) {
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, manager.to_string());
  // No credentials: a client certificate authenticates the TLS connection.
  const bool basic_auth = !username.empty() || !password.empty();
  if (basic_auth)
    req.set(http::field::authorization, "Basic " + util::base64_encode(username + ":" + password));
  req.set(http::field::user_agent, cbes::user_agent);
  error_code ec;
  layer.expires_after(timeout);
  co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
  if (ec)
    co_return make_error(errc::connection_failed,
                         "HTTP request to " + manager.to_string() + " failed: " + ec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(max_config_body);
  co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
  if (ec == beast::error::timeout)
    co_return make_error(errc::timeout,
                         "HTTP " + target + " from " + manager.to_string() + " timed out");
  if (ec)
    co_return make_error(errc::connection_failed,
                         "HTTP response from " + manager.to_string() + " failed: " + ec.message());
  auto& res = parser.get();
  const auto status = res.result_int();
  if (status == 401 && !basic_auth)
    co_return make_error(errc::authentication_failed,
                         "the cluster manager at " + manager.to_string() +
                             " refused the client certificate (HTTP 401) — check "
                             "couchbase.clientCertificate");
  if (status == 401)
    co_return make_error(errc::authentication_failed,
                         "authentication failed for user '" + username +
                             "' — check couchbase.username / pathToPassword");
  if (status == 404 && !bucket.empty())
    co_return make_error(errc::bucket_not_found, "bucket '" + bucket + "' not found on " +
                                                     manager.to_string() +
                                                     " — check couchbase.bucket");
  if (status != 200)
    co_return make_error(errc::server_error, "HTTP " + std::to_string(status) + " from " +
                                                 manager.to_string() + " for " + target);
  co_return std::move(res.body());
}

}  // namespace

asio::awaitable<result<std::string>> fetch_http_config(asio::any_io_executor ex, endpoint manager,
                                                       std::string bucket, std::string username,
                                                       std::string password, tls_options tls,
                                                       std::chrono::milliseconds timeout) {
  std::string target = "/pools/default/b/" + boost::urls::encode(bucket, boost::urls::pchars);
  co_return co_await fetch_manager(std::move(ex), std::move(manager), std::move(target),
                                   std::move(bucket), std::move(username), std::move(password),
                                   std::move(tls), timeout);
}

asio::awaitable<result<std::string>> fetch_manager(asio::any_io_executor ex, endpoint manager,
                                                   std::string target, std::string bucket,
                                                   std::string username, std::string password,
                                                   tls_options tls,
                                                   std::chrono::milliseconds timeout) {
  tcp::resolver resolver(ex);
  error_code ec;
  auto endpoints = co_await resolver.async_resolve(manager.host, std::to_string(manager.port),
                                                   asio::redirect_error(asio::use_awaitable, ec));
  if (ec)
    co_return make_error(errc::connection_failed,
                         "resolve " + manager.to_string() + " failed: " + ec.message());
  beast::tcp_stream layer(ex);
  layer.expires_after(timeout);
  co_await layer.async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
  if (ec)
    co_return make_error(ec == beast::error::timeout ? errc::timeout : errc::connection_failed,
                         "connect to " + manager.to_string() + " failed: " + ec.message());
  if (!tls.enabled)
    co_return co_await exchange(layer, layer, manager, target, bucket, username, password, timeout);
  if (!tls.client_keystore.empty()) {
    username.clear();
    password.clear();
  }

  auto ctx = make_tls_context(tls);
  if (!ctx)
    co_return ctx.error();
  asio::ssl::stream<beast::tcp_stream&> stream(layer, **ctx);
  prepare_tls_stream(stream, tls, manager.host);
  co_await stream.async_handshake(asio::ssl::stream_base::client,
                                  asio::redirect_error(asio::use_awaitable, ec));
  if (ec)
    co_return make_error(errc::connection_failed,
                         "TLS handshake with " + manager.to_string() + " failed: " + ec.message());
  co_return co_await exchange(stream, layer, manager, target, bucket, username, password, timeout);
}

}  // namespace cbes::couchbase::detail
