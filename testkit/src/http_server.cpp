#include "cbes/testkit/http_server.hpp"

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <sstream>
#include <system_error>
#include <thread>

#include "client_certificate.hpp"

namespace cbes::testkit {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

}  // namespace

std::optional<std::string_view> find_header(const http_headers& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name))
      return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      if (i + 2 >= in.size())
        return std::nullopt;
      int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0)
        return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (plus_is_space && in[i] == '+') {
      out += ' ';
    } else {
      out += in[i];
    }
  }
  return out;
}

struct http_server::impl {
  options opts;
  handler on_request;
  std::unique_ptr<asio::io_context> ioc;
  std::unique_ptr<asio::ssl::context> ssl;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::thread thread;
  std::atomic<std::uint16_t> bound_port{0};
  // Sockets of open connections, touched only on the server thread (or after it joined),
  // so stop() can close connections whose handler is parked in a long poll.
  std::set<tcp::socket*> sockets;
  std::atomic<std::size_t> open_connections{0};
  std::mutex lifecycle;

  struct connection_guard {
    impl* self;
    tcp::socket* socket;
    connection_guard(impl* s, tcp::socket* sock) : self(s), socket(sock) {
      self->sockets.insert(socket);
      ++self->open_connections;
    }
    ~connection_guard() {
      self->sockets.erase(socket);
      --self->open_connections;
    }
    connection_guard(const connection_guard&) = delete;
    connection_guard& operator=(const connection_guard&) = delete;
  };

  template <class Stream>
  asio::awaitable<void> serve(Stream& stream, const std::string& client_cn) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(opts.body_limit);
      parser.header_limit(64 * 1024);
      auto [ec, n] = co_await http::async_read_header(stream, buffer, parser,
                                                      asio::as_tuple(asio::use_awaitable));
      (void)n;
      if (ec)
        co_return;
      // curl and others wait for "100 Continue" before sending large bodies.
      if (auto expect = parser.get()[http::field::expect]; iequals(expect, "100-continue")) {
        http::response<http::empty_body> cont{http::status::continue_, 11};
        auto [wec, wn] =
            co_await http::async_write(stream, cont, asio::as_tuple(asio::use_awaitable));
        (void)wn;
        if (wec)
          co_return;
      }
      std::tie(ec, n) =
          co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      bool keep_alive = true;
      response res;
      if (ec == http::error::body_limit) {
        res.status = 413;
        res.body = "Request body too large";
        keep_alive = false;
      } else if (ec) {
        co_return;
      } else {
        auto& msg = parser.get();
        keep_alive = msg.keep_alive();
        request req;
        req.method = std::string(msg.method_string());
        req.target = std::string(msg.target());
        for (const auto& field : msg)
          req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
        if (auto cl = parser.content_length())
          req.content_length = *cl;
        req.body = std::move(msg.body());
        req.client_cn = client_cn;
        res = co_await on_request(std::move(req));
      }
      if (res.drop)
        co_return;
      if (auto c = find_header(res.headers, "connection"); c && iequals(*c, "close"))
        res.close = true;
      if (res.close || res.truncate_body_at)
        keep_alive = false;
      http::response<http::string_body> out{static_cast<http::status>(res.status), 11};
      for (auto& [k, v] : res.headers)
        if (!iequals(k, "connection"))
          out.insert(k, v);
      out.body() = std::move(res.body);
      out.keep_alive(keep_alive);
      out.prepare_payload();
      if (res.truncate_body_at) {
        // Serialise the whole message, then send the head and only part of the body.
        std::ostringstream os;
        os << out;
        std::string wire = std::move(os).str();
        const auto head = wire.find("\r\n\r\n") + 4;
        wire.resize(std::min(wire.size(), head + *res.truncate_body_at));
        co_await asio::async_write(stream, asio::buffer(wire), asio::as_tuple(asio::use_awaitable));
        co_return;
      }
      auto [wec, wn] = co_await http::async_write(stream, out, asio::as_tuple(asio::use_awaitable));
      (void)wn;
      if (wec || !keep_alive)
        co_return;
    }
  }

  asio::awaitable<void> session(tcp::socket socket) {
    if (ssl) {
      beast::ssl_stream<tcp::socket> stream(std::move(socket), *ssl);
      connection_guard guard(this, &stream.next_layer());
      auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server,
                                                  asio::as_tuple(asio::use_awaitable));
      if (ec)
        co_return;
      const std::string client_cn = detail::verified_client_cn(stream.native_handle());
      co_await serve(stream, client_cn);
      beast::error_code ignored;
      stream.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    } else {
      connection_guard guard(this, &socket);
      const std::string no_certificate;
      co_await serve(socket, no_certificate);
      beast::error_code ignored;
      socket.shutdown(tcp::socket::shutdown_both, ignored);
    }
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor->async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor->is_open())
          co_return;
        continue;  // e.g. EMFILE: keep serving the connections we have
      }
      socket.set_option(tcp::no_delay(true));
      asio::co_spawn(*ioc, session(std::move(socket)), asio::detached);
    }
  }
};

http_server::http_server(options opts, handler h) : impl_(std::make_unique<impl>()) {
  impl_->opts = std::move(opts);
  impl_->on_request = std::move(h);
}

http_server::~http_server() {
  stop();
}

void http_server::start() {
  try {
    start_listening();
  } catch (const boost::system::system_error& e) {
    // The header promises std::system_error (e.g. EADDRINUSE) to callers.
    impl_->acceptor.reset();
    impl_->ioc.reset();
    impl_->ssl.reset();
    throw std::system_error(std::error_code(e.code()), e.what());
  }
}

void http_server::start_listening() {
  std::lock_guard lock(impl_->lifecycle);
  auto& s = *impl_;
  if (s.thread.joinable())
    return;
  s.ioc = std::make_unique<asio::io_context>(1);
  if (!s.opts.tls_cert_file.empty() && !s.opts.tls_key_file.empty()) {
    s.ssl = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    s.ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3);
    s.ssl->use_certificate_chain_file(s.opts.tls_cert_file);
    s.ssl->use_private_key_file(s.opts.tls_key_file, asio::ssl::context::pem);
    if (!s.opts.tls_client_ca_file.empty())
      detail::verify_client_certificates(*s.ssl, s.opts.tls_client_ca_file, true);
  }
  auto address = asio::ip::make_address(s.opts.bind_address);
  s.acceptor = std::make_unique<tcp::acceptor>(*s.ioc);
  tcp::endpoint ep(address, s.opts.port);
  s.acceptor->open(ep.protocol());
  s.acceptor->set_option(tcp::acceptor::reuse_address(true));
  s.acceptor->bind(ep);  // throws system_error (EADDRINUSE) for the caller to report
  s.acceptor->listen(asio::socket_base::max_listen_connections);
  s.bound_port = s.acceptor->local_endpoint().port();
  asio::co_spawn(*s.ioc, s.accept_loop(), asio::detached);
  s.thread = std::thread([ioc = s.ioc.get()] { ioc->run(); });
}

void http_server::stop() {
  std::lock_guard lock(impl_->lifecycle);
  auto& s = *impl_;
  if (!s.thread.joinable())
    return;
  s.ioc->stop();
  s.thread.join();
  // The server thread is gone: closing here is race-free. Destroying the io_context then
  // destroys every suspended session coroutine (and with it their sockets).
  beast::error_code ignored;
  s.acceptor->close(ignored);
  for (auto* socket : s.sockets)
    socket->close(ignored);
  s.acceptor.reset();
  s.ioc.reset();
  s.ssl.reset();
}

std::uint16_t http_server::port() const {
  return impl_->bound_port;
}

bool http_server::tls() const {
  return !impl_->opts.tls_cert_file.empty() && !impl_->opts.tls_key_file.empty();
}

boost::asio::any_io_executor http_server::executor() const {
  return impl_->ioc->get_executor();
}

std::size_t http_server::connection_count() const {
  return impl_->open_connections;
}

}  // namespace cbes::testkit
