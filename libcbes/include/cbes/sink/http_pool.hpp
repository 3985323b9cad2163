#pragma once
// HTTP/1.1 client for Elasticsearch / OpenSearch: keep-alive connections to a list of hosts,
// round-robin with back-off for hosts that failed, basic or API-key auth, TLS with a CA file,
// hostname verification and an optional client certificate, optional gzip request bodies, a
// deadline per request (Elasticsearch's REST API docs; the Java connector's behaviour
// `[elasticsearch]`). Not thread-safe: use it from one thread (or a strand) of its executor.
//
//   cbes::sink::connection_settings cs{.hosts = {"https://es1:9200", "es2"},
//                                      .username = "elastic", .password = "secret",
//                                      .secure_connection = true, .ca_file = "ca.pem"};
//   auto pool = cbes::sink::http_pool::create(io.get_executor(), cs);
//   auto r = co_await (*pool)->request(cbes::sink::http_method::get, "/", {});
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "cbes/sink/error.hpp"

namespace cbes::sink {

// `[elasticsearch]` connection settings (the Java connector's behaviour) plus knobs the Java
// connector hard-codes (timeouts, host back-off), so tests can shorten them.
struct connection_settings {
  // `host`, `host:port`, `http://host:port`, `https://host:port`, `[::1]:9200`; default port 9200.
  std::vector<std::string> hosts{"127.0.0.1"};
  std::string username{};  // basic auth when non-empty (and no api_key or client_keystore)
  std::string password{};
  // Elastic Cloud: sent as `Authorization: ApiKey <api_key>` instead of basic auth.
  std::string api_key{};
  bool secure_connection = false;
  std::string ca_file{};  // PEM; empty = the system's trusted CAs
  bool hostname_verification = true;
  // Client certificate (mutual TLS, `[elasticsearch.clientCertificate]`): a PKCS12 keystore with
  // the certificate, its key and any intermediates. It authenticates the requests (Elasticsearch's
  // PKI realm), so no basic-auth header is sent. Needs secure_connection.
  std::string client_keystore{};
  std::string client_keystore_password{};
  // Amazon OpenSearch Service (`[elasticsearch.aws] region`): every request is signed with AWS
  // SigV4 (service "es") using the credentials of load_aws_credentials(); no basic auth. Needs
  // secure_connection.
  std::string aws_region{};
  bool gzip_requests = false;  // Elasticsearch's REST API docs: worth it off-box, not on loopback
  std::chrono::milliseconds connect_timeout{5000};  // connect 5 s
  // Whole-request deadline; nullopt = max(60 s, bulk timeout + 3 s), see socket_timeout().
  std::optional<std::chrono::milliseconds> request_timeout{};
  // A host whose connection failed is skipped for first..max (doubling) while others work.
  std::chrono::milliseconds host_backoff_first{1000};
  std::chrono::milliseconds host_backoff_max{30000};
  std::size_t max_response_bytes = 256 * 1024 * 1024;
};

// The per-request deadline the Java connector uses: max(60 s, bulk timeout + 3 s).
//
//   socket_timeout(std::chrono::minutes(1));  // 63 s
std::chrono::milliseconds socket_timeout(std::chrono::milliseconds bulk_timeout);

// One parsed entry of `elasticsearch.hosts`.
struct host_address {
  bool tls = false;
  std::string host;  // name or IP literal, without brackets
  std::uint16_t port = 9200;

  // "http://host:port" / "https://[v6]:port".
  std::string url() const;
};

// Parses one host string; the error is one line naming the setting and the bad part.
//
//   parse_host("https://es.local", true);  // {tls, "es.local", 9200}
//   parse_host("es:99999", false);         // error "elasticsearch.hosts: 'es:99999': port ..."
result<host_address> parse_host(std::string_view text, bool secure_connection);

enum class http_method { get, head, post, put, del };

struct http_response {
  unsigned status = 0;
  std::string body;
  std::string content_type;
  std::string elastic_product;  // `X-Elastic-Product` header, "" when absent
};

class http_pool {
 public:
  // Validates the hosts and loads the CA file and the client keystore; nothing is connected yet.
  // Errors (invalid_argument) name the setting to fix.
  static result<std::unique_ptr<http_pool>> create(boost::asio::any_io_executor executor,
                                                   connection_settings settings);
  ~http_pool();
  http_pool(const http_pool&) = delete;
  http_pool& operator=(const http_pool&) = delete;

  // One request on a kept-alive connection (a new one when none is idle). A stale idle
  // connection that the server already closed is retried once on a fresh one. Any HTTP status
  // is a value; only transport failures are errors.
  //
  //   auto r = co_await pool.request(http_method::post, "/_bulk", body, "application/x-ndjson");
  boost::asio::awaitable<result<http_response>> request(
      http_method method, std::string target, std::string body,
      std::string_view content_type = "application/json",
      std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  // Sends `GET /` to one particular host (the version sniff asks every host). A body over 1 MiB
  // ends it with an error ("body limit exceeded"), whatever max_response_bytes says.
  boost::asio::awaitable<result<http_response>> request_host(std::size_t host, http_method method,
                                                             std::string target);

  // Closes every connection; pending requests end with errc::closed. Idempotent.
  void close();

  const std::vector<host_address>& hosts() const;
  const connection_settings& settings() const;
  std::size_t idle_connections() const;
  std::uint64_t connections_opened() const;
  // Times a host was marked failed (connection refused or lost) and skipped for a back-off:
  // the Java connector's `cbes.es.conn.fail`.
  std::uint64_t hosts_marked_down() const;

 private:
  struct impl;
  explicit http_pool(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

// gzip (RFC 1952) of `data` at the default level; used for `Content-Encoding: gzip` bodies.
std::string gzip_compress(std::string_view data);

}  // namespace cbes::sink
