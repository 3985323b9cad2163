#include "cbes/testkit/http_client.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>

#include <optional>
#include <ostream>

namespace cbes::testkit {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string http_result::header(std::string_view name) const {
  auto v = find_header(headers, name);
  return v ? std::string(*v) : std::string();
}

std::ostream& operator<<(std::ostream& os, const http_result& r) {
  return os << r.status << " " << r.body.substr(0, 200);
}

bool http_result::has_header(std::string_view name) const {
  return find_header(headers, name).has_value();
}

namespace {

struct parsed_url {
  bool tls = false;
  std::string host;
  std::string port;
};

std::optional<parsed_url> parse_base_url(std::string_view url) {
  parsed_url out;
  if (url.starts_with("http://")) {
    url.remove_prefix(7);
  } else if (url.starts_with("https://")) {
    url.remove_prefix(8);
    out.tls = true;
  } else {
    return std::nullopt;
  }
  if (auto slash = url.find('/'); slash != std::string_view::npos)
    url = url.substr(0, slash);
  auto colon = url.rfind(':');
  if (colon == std::string_view::npos) {
    out.host = std::string(url);
    out.port = out.tls ? "443" : "80";
  } else {
    out.host = std::string(url.substr(0, colon));
    out.port = std::string(url.substr(colon + 1));
  }
  return out;
}

template <class Stream>
asio::awaitable<beast::error_code> exchange(Stream& stream, http::request<http::string_body>& req,
                                            http_result& out) {
  auto [wec, wn] = co_await http::async_write(stream, req, asio::as_tuple(asio::use_awaitable));
  (void)wn;
  if (wec)
    co_return wec;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  // A HEAD-less client: bodies of 1xx/204/304 are empty by definition.
  auto [rec, rn] =
      co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
  (void)rn;
  if (rec)
    co_return rec;
  auto& msg = parser.get();
  out.status = static_cast<int>(msg.result_int());
  for (const auto& field : msg)
    out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  out.body = std::move(msg.body());
  co_return beast::error_code{};
}

}  // namespace

boost::system::result<http_result> http_request(std::string_view base_url, std::string_view method,
                                                std::string_view target, std::string_view body,
                                                const http_headers& headers,
                                                std::chrono::milliseconds timeout) {
  auto url = parse_base_url(base_url);
  if (!url)
    return boost::system::error_code(asio::error::invalid_argument);
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, url->host + ":" + url->port);
  req.set(http::field::user_agent, "cbes-testkit");
  for (const auto& [k, v] : headers)
    req.set(k, v);
  if (!body.empty() || method == "PUT" || method == "POST") {
    req.body() = std::string(body);
    req.prepare_payload();
  }

  http_result out;
  std::optional<beast::error_code> result;
  asio::ssl::context ssl_ctx(asio::ssl::context::tls_client);
  ssl_ctx.set_verify_mode(asio::ssl::verify_none);
  // Declared last so an unfinished exchange (timeout) is destroyed before what it uses.
  asio::io_context ioc;

  auto run = [&]() -> asio::awaitable<void> {
    tcp::resolver resolver(ioc);
    auto [rec, endpoints] =
        co_await resolver.async_resolve(url->host, url->port, asio::as_tuple(asio::use_awaitable));
    if (rec) {
      result = rec;
      co_return;
    }
    tcp::socket socket(ioc);
    auto [cec, ep] =
        co_await asio::async_connect(socket, endpoints, asio::as_tuple(asio::use_awaitable));
    (void)ep;
    if (cec) {
      result = cec;
      co_return;
    }
    if (url->tls) {
      beast::ssl_stream<tcp::socket> stream(std::move(socket), ssl_ctx);
      auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client,
                                                   asio::as_tuple(asio::use_awaitable));
      if (hec) {
        result = hec;
        co_return;
      }
      result = co_await exchange(stream, req, out);
    } else {
      result = co_await exchange(socket, req, out);
    }
  };
  asio::co_spawn(ioc, run(), asio::detached);
  ioc.run_for(timeout);
  if (!result)
    return boost::system::error_code(asio::error::timed_out);
  if (*result)
    return *result;
  return out;
}

}  // namespace cbes::testkit
