#include "cbes/sink/http_pool.hpp"

#include "../util/pkcs12_keystore.hpp"
#include "../util/tls_verify.hpp"
#include "cbes/sink/aws_sigv4.hpp"
#include "cbes/util/base64.hpp"
#include "cbes/version.hpp"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <unordered_set>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace cbes::sink {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using clock = std::chrono::steady_clock;

constexpr std::uint16_t default_port = 9200;  // the Java connector's behaviour `hosts`
constexpr std::size_t max_idle_per_host = 32;
constexpr std::uint32_t header_limit = 64 * 1024;

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size())
    return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i])
      return false;
  return true;
}

http::verb verb_of(http_method m) {
  switch (m) {
    case http_method::get:
      return http::verb::get;
    case http_method::head:
      return http::verb::head;
    case http_method::post:
      return http::verb::post;
    case http_method::put:
      return http::verb::put;
    case http_method::del:
      return http::verb::delete_;
  }
  return http::verb::get;
}

struct connection {
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  std::size_t host = 0;
  beast::flat_buffer buffer;

  beast::tcp_stream& lowest() { return plain ? *plain : beast::get_lowest_layer(*tls); }
};

struct host_state {
  host_address address;
  std::string host_header;
  clock::time_point down_until{};
  std::chrono::milliseconds backoff{};
  std::vector<std::unique_ptr<connection>> idle;
};

bool stale_connection_error(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::ssl::error::stream_truncated;
}

}  // namespace

std::chrono::milliseconds socket_timeout(std::chrono::milliseconds bulk_timeout) {
  return std::max<std::chrono::milliseconds>(std::chrono::seconds(60),
                                             bulk_timeout + std::chrono::seconds(3));
}

std::string host_address::url() const {
  std::string out = tls ? "https://" : "http://";
  if (host.find(':') != std::string::npos)
    out += "[" + host + "]";
  else
    out += host;
  out += ':';
  out += std::to_string(port);
  return out;
}

result<host_address> parse_host(std::string_view text, bool secure_connection) {
  const std::string quoted = "elasticsearch.hosts: '" + std::string(text) + "'";
  auto fail = [&](std::string why) {
    return make_error(errc::invalid_argument, quoted + ": " + why);
  };
  std::string_view s = text;
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  while (!s.empty() && s.back() == '/')  // trailing '/' stripped
    s.remove_suffix(1);
  host_address a;
  a.tls = secure_connection;
  if (iequals_prefix(s, "https://")) {
    if (!secure_connection)
      return fail("https:// needs elasticsearch.secureConnection = true");
    s.remove_prefix(8);
  } else if (iequals_prefix(s, "http://")) {
    if (secure_connection)
      return fail("http:// conflicts with elasticsearch.secureConnection = true; use https://");
    s.remove_prefix(7);
  } else if (s.find("://") != std::string_view::npos) {
    return fail("unsupported scheme; use host, host:port, http://host:port or https://host:port");
  }
  if (s.find('/') != std::string_view::npos || s.find('?') != std::string_view::npos)
    return fail("a path is not supported; give only the host and port");
  std::string_view port_text;
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos)
      return fail("missing ']' after the IPv6 address");
    a.host = std::string(s.substr(1, close - 1));
    boost::system::error_code ec;
    asio::ip::make_address_v6(a.host, ec);
    if (ec)
      return fail("'" + a.host + "' is not an IPv6 address");
    auto rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return fail("expected ':port' after ']'");
      port_text = rest.substr(1);
      if (port_text.empty())
        return fail("empty port");
    }
  } else {
    const auto colon = s.find(':');
    if (colon != std::string_view::npos && s.find(':', colon + 1) != std::string_view::npos)
      return fail("IPv6 addresses must be written in brackets, e.g. [::1]:9200");
    a.host = std::string(s.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = s.substr(colon + 1);
      if (port_text.empty())
        return fail("empty port");
    }
    for (char c : a.host)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_'))
        return fail("invalid character '" + std::string(1, c) + "' in host name");
  }
  if (a.host.empty())
    return fail("empty host name");
  a.port = default_port;
  if (!port_text.empty()) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535)
      return fail("port must be a number in 1..65535");
    a.port = static_cast<std::uint16_t>(port);
  }
  return a;
}

std::string gzip_compress(std::string_view data) {
  z_stream zs{};
  // windowBits 15 + 16: gzip wrapper instead of zlib's (RFC 1952, what Content-Encoding wants).
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return {};
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END ? out : std::string{};
}

struct http_pool::impl {
  asio::any_io_executor executor;
  connection_settings settings;
  std::vector<host_address> addresses;
  std::vector<host_state> hosts;
  std::optional<asio::ssl::context> tls_context;
  std::string authorization;
  std::size_t next_host = 0;
  std::uint64_t opened = 0;
  std::uint64_t marked_down = 0;       // hosts_marked_down()
  std::optional<aws_credentials> aws;  // SigV4 signing (Amazon OpenSearch Service)
  bool closed = false;
  std::unordered_set<connection*> busy;

  // Round-robin over hosts that are not backing off; when all are, the one that recovers first.
  std::size_t pick_host() {
    const auto now = clock::now();
    for (std::size_t i = 0; i < hosts.size(); ++i) {
      const std::size_t h = (next_host + i) % hosts.size();
      if (hosts[h].down_until <= now) {
        next_host = (h + 1) % hosts.size();
        return h;
      }
    }
    std::size_t best = 0;
    for (std::size_t h = 1; h < hosts.size(); ++h)
      if (hosts[h].down_until < hosts[best].down_until)
        best = h;
    return best;
  }

  void mark_down(std::size_t h) {
    ++marked_down;
    auto& s = hosts[h];
    s.backoff = s.backoff.count() == 0 ? settings.host_backoff_first
                                       : std::min(s.backoff * 2, settings.host_backoff_max);
    s.down_until = clock::now() + s.backoff;
    s.idle.clear();
  }
  void mark_up(std::size_t h) {
    hosts[h].backoff = {};
    hosts[h].down_until = {};
  }

  error transport_error(const boost::system::error_code& ec, std::string_view step,
                        std::size_t h) const {
    const std::string where = std::string(step) + " " + hosts[h].address.url();
    if (closed)
      return make_error(errc::closed, "connection pool closed");
    if (ec == beast::error::timeout)
      return make_error(errc::timeout, where + " timed out");
    if (stale_connection_error(ec))
      return make_error(errc::connection_closed,
                        where + ": connection closed by the server (" + ec.message() + ")");
    return make_error(errc::connection_failed,
                      where + ": " + ec.message() + (peer_alert(ec) ? alert_hint() : ""));
  }

  // The server ended the TLS session with an alert (in TLS 1.3 a refused client certificate
  // arrives only with the first read), as opposed to our own verification of its certificate.
  static bool peer_alert(const boost::system::error_code& ec) {
    return ec.category() == asio::error::get_ssl_category() &&
           ec.message().find("alert") != std::string::npos;
  }
  std::string alert_hint() const {
    return settings.client_keystore.empty()
               ? " (the server refused the TLS session; does it require a client certificate? "
                 "see elasticsearch.clientCertificate)"
               : " (the server refused the TLS session; does it trust the CA of "
                 "elasticsearch.clientCertificate?)";
  }

  asio::awaitable<result<std::unique_ptr<connection>>> connect(std::size_t h) {
    auto& host = hosts[h];
    boost::system::error_code ec;
    tcp::resolver resolver(executor);
    auto endpoints =
        co_await resolver.async_resolve(host.address.host, std::to_string(host.address.port),
                                        asio::redirect_error(asio::use_awaitable, ec));
    if (ec || closed)
      co_return transport_error(ec, "resolving", h);
    auto c = std::make_unique<connection>();
    c->host = h;
    if (tls_context)
      c->tls.emplace(executor, *tls_context);
    else
      c->plain.emplace(executor);
    busy.insert(c.get());
    struct unbusy {
      impl* self;
      connection* c;
      ~unbusy() { self->busy.erase(c); }
    } guard{this, c.get()};
    c->lowest().expires_after(settings.connect_timeout);
    co_await c->lowest().async_connect(endpoints, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || closed)
      co_return transport_error(ec, "connecting to", h);
    c->lowest().socket().set_option(tcp::no_delay(true), ec);
    if (c->tls) {
      const std::string& name = host.address.host;
      boost::system::error_code not_ip;
      asio::ip::make_address(name, not_ip);
      // SNI only for host names (RFC 6066 §3); SSL_set_tlsext_host_name is a macro with a C cast.
      if (not_ip)
        SSL_ctrl(c->tls->native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 static_cast<void*>(const_cast<char*>(name.c_str())));
      if (settings.hostname_verification)
        c->tls->set_verify_callback(asio::ssl::host_name_verification(name));
      c->lowest().expires_after(settings.connect_timeout);
      co_await c->tls->async_handshake(asio::ssl::stream_base::client,
                                       asio::redirect_error(asio::use_awaitable, ec));
      if (ec || closed) {
        auto e = transport_error(ec, "TLS handshake with", h);
        if (!closed && e.code != errc::timeout && !peer_alert(ec))
          e.message += " (check elasticsearch.pathToCaCertificate and the host name)";
        // A certificate the CA did not sign is a settings problem: no retry fixes it.
        if (!closed && util::certificate_rejected(ec))
          e.code = errc::invalid_argument;
        co_return e;
      }
    }
    ++opened;
    co_return c;
  }

  template <class Stream>
  asio::awaitable<boost::system::error_code> exchange(Stream& stream, connection& c,
                                                      http::request<http::string_body>& req,
                                                      http::response_parser<http::string_body>& p,
                                                      std::chrono::milliseconds timeout) {
    boost::system::error_code ec;
    c.lowest().expires_after(timeout);
    co_await http::async_write(stream, req, asio::redirect_error(asio::use_awaitable, ec));
    if (ec)
      co_return ec;
    if (req.method() == http::verb::head)
      p.skip(true);
    co_await http::async_read(stream, c.buffer, p, asio::redirect_error(asio::use_awaitable, ec));
    co_return ec;
  }

  asio::awaitable<result<http_response>> send(std::size_t forced_host, bool use_forced,
                                              http_method method, std::string target,
                                              std::string body, std::string_view content_type,
                                              std::chrono::milliseconds timeout,
                                              std::size_t body_limit) {
    http::request<http::string_body> req{verb_of(method), target, 11};
    req.set(http::field::user_agent, cbes::user_agent);
    req.set(http::field::accept, "application/json");
    if (!authorization.empty())
      req.set(http::field::authorization, authorization);
    if (!body.empty() || method == http_method::post || method == http_method::put) {
      req.set(http::field::content_type, content_type);
      if (settings.gzip_requests && !body.empty()) {
        req.set(http::field::content_encoding, "gzip");
        body = gzip_compress(body);
      }
      req.body() = std::move(body);
    }
    req.keep_alive(true);
    req.prepare_payload();

    // A connection failure moves on to the next host (each at most once per request).
    const std::size_t tries = use_forced ? 1 : hosts.size();
    std::optional<error> last;
    for (std::size_t t = 0; t < tries; ++t) {
      if (closed)
        co_return make_error(errc::closed, "connection pool closed");
      const std::size_t h = use_forced ? forced_host : pick_host();
      req.set(http::field::host, hosts[h].host_header);
      if (aws) {
        // Signed per attempt: the host and the time are part of the signature.
        const auto verb = req.method_string();
        const auto path = req.target();
        const sigv4_request signing{.method = {verb.data(), verb.size()},
                                    .host = hosts[h].host_header,
                                    .target = {path.data(), path.size()},
                                    .payload = req.body()};
        for (auto& [name, value] :
             sigv4_sign(signing, *aws, settings.aws_region, "es", std::chrono::system_clock::now()))
          req.set(name, value);
      }
      bool fresh_retry_allowed = true;
      for (;;) {
        std::unique_ptr<connection> c;
        bool reused = false;
        if (!hosts[h].idle.empty()) {
          c = std::move(hosts[h].idle.back());
          hosts[h].idle.pop_back();
          reused = true;
        } else {
          auto made = co_await connect(h);
          if (!made) {
            if (made.error().code != errc::closed)
              mark_down(h);
            last = made.error();
            break;
          }
          c = std::move(*made);
        }
        http::response_parser<http::string_body> parser;
        parser.header_limit(header_limit);
        parser.body_limit(body_limit);
        busy.insert(c.get());
        boost::system::error_code ec = c->plain
                                           ? co_await exchange(*c->plain, *c, req, parser, timeout)
                                           : co_await exchange(*c->tls, *c, req, parser, timeout);
        busy.erase(c.get());
        if (closed)
          co_return make_error(errc::closed, "connection pool closed");
        if (ec) {
          // A kept-alive connection the server closed meanwhile fails on first use; that says
          // nothing about the host, so try once more on a fresh connection.
          if (reused && fresh_retry_allowed && stale_connection_error(ec)) {
            fresh_retry_allowed = false;
            continue;
          }
          auto e = transport_error(ec, "request to", h);
          if (e.code != errc::timeout)
            mark_down(h);
          co_return e;  // the request may have reached the server: no silent resend here
        }
        mark_up(h);
        auto& res = parser.get();
        http_response out;
        out.status = res.result_int();
        out.content_type = std::string(res[http::field::content_type]);
        out.elastic_product = std::string(res["X-Elastic-Product"]);
        out.body = std::move(res.body());
        if (res.keep_alive() && hosts[h].idle.size() < max_idle_per_host) {
          c->buffer.consume(c->buffer.size());
          hosts[h].idle.push_back(std::move(c));
        }
        co_return out;
      }
    }
    co_return *last;
  }
};

http_pool::http_pool(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
http_pool::~http_pool() {
  close();
}

result<std::unique_ptr<http_pool>> http_pool::create(asio::any_io_executor executor,
                                                     connection_settings settings) {
  auto p = std::make_unique<impl>();
  p->executor = std::move(executor);
  if (settings.hosts.empty())
    return make_error(errc::invalid_argument, "elasticsearch.hosts: at least one host is required");
  for (const auto& text : settings.hosts) {
    auto a = parse_host(text, settings.secure_connection);
    if (!a)
      return a.error();
    host_state s;
    s.address = *a;
    const bool default_port_for_scheme = a->port == (a->tls ? 443 : 80);
    s.host_header = a->host.find(':') != std::string::npos ? "[" + a->host + "]" : a->host;
    if (!default_port_for_scheme)
      s.host_header += ":" + std::to_string(a->port);
    p->addresses.push_back(*a);
    p->hosts.push_back(std::move(s));
  }
  if (settings.secure_connection) {
    p->tls_context.emplace(asio::ssl::context::tls_client);
    boost::system::error_code ec;
    if (!settings.ca_file.empty())
      p->tls_context->load_verify_file(settings.ca_file, ec);
    else
      p->tls_context->set_default_verify_paths(ec);
    if (ec)
      return make_error(errc::invalid_argument, "elasticsearch.pathToCaCertificate: cannot load '" +
                                                    settings.ca_file + "': " + ec.message());
    p->tls_context->set_verify_mode(asio::ssl::verify_peer);
    if (!settings.client_keystore.empty()) {
      auto loaded = util::detail::use_pkcs12_keystore(*p->tls_context, settings.client_keystore,
                                                      settings.client_keystore_password,
                                                      "elasticsearch.clientCertificate");
      if (!loaded)
        return make_error(errc::invalid_argument, loaded.error());
    }
  } else if (!settings.client_keystore.empty()) {
    return make_error(errc::invalid_argument,
                      "elasticsearch.clientCertificate: a client certificate needs "
                      "elasticsearch.secureConnection = true and https:// hosts");
  }
  if (!settings.aws_region.empty()) {
    if (!settings.secure_connection)
      return make_error(errc::invalid_argument,
                        "elasticsearch.aws: Amazon OpenSearch Service needs "
                        "elasticsearch.secureConnection = true");
    auto creds = load_aws_credentials();
    if (!creds)
      return creds.error();
    p->aws = std::move(*creds);
  }
  // The Elastic Cloud API key replaces basic auth; a client certificate or SigV4 makes it
  // unnecessary.
  if (p->aws)
    p->authorization.clear();
  else if (!settings.api_key.empty())
    p->authorization = "ApiKey " + settings.api_key;
  else if (!settings.username.empty() && settings.client_keystore.empty())
    p->authorization = "Basic " + util::base64_encode(settings.username + ":" + settings.password);
  p->settings = std::move(settings);
  return std::unique_ptr<http_pool>(new http_pool(std::move(p)));
}

asio::awaitable<result<http_response>> http_pool::request(
    http_method method, std::string target, std::string body, std::string_view content_type,
    std::optional<std::chrono::milliseconds> timeout) {
  const auto t = timeout.value_or(
      impl_->settings.request_timeout.value_or(socket_timeout(std::chrono::minutes(1))));
  co_return co_await impl_->send(0, false, method, std::move(target), std::move(body), content_type,
                                 t, impl_->settings.max_response_bytes);
}

asio::awaitable<result<http_response>> http_pool::request_host(std::size_t host, http_method method,
                                                               std::string target) {
  if (host >= impl_->hosts.size())
    co_return make_error(errc::invalid_argument, "no host #" + std::to_string(host));
  const auto t = impl_->settings.request_timeout.value_or(socket_timeout(std::chrono::minutes(1)));
  // A root document is well under 1 KiB: a server sending more than 1 MiB is not Elasticsearch,
  // and reading up to the bulk limit for it cost the process half a gigabyte.
  constexpr std::size_t root_document_limit = 1024 * 1024;
  co_return co_await impl_->send(host, true, method, std::move(target), {}, "application/json", t,
                                 std::min(root_document_limit, impl_->settings.max_response_bytes));
}

void http_pool::close() {
  if (!impl_ || impl_->closed)
    return;
  impl_->closed = true;
  for (auto& h : impl_->hosts)
    h.idle.clear();
  for (auto* c : impl_->busy) {
    boost::system::error_code ignored;
    c->lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    c->lowest().cancel();
    c->lowest().socket().close(ignored);
  }
}

const std::vector<host_address>& http_pool::hosts() const {
  return impl_->addresses;
}
const connection_settings& http_pool::settings() const {
  return impl_->settings;
}
std::size_t http_pool::idle_connections() const {
  std::size_t n = 0;
  for (const auto& h : impl_->hosts)
    n += h.idle.size();
  return n;
}
std::uint64_t http_pool::connections_opened() const {
  return impl_->opened;
}
std::uint64_t http_pool::hosts_marked_down() const {
  return impl_->marked_down;
}

}  // namespace cbes::sink
