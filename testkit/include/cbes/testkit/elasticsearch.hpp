#pragma once
// An Elasticsearch/OpenSearch-compatible single-node server for tests and cbes-sandbox.
//
// It serves the subset of the REST API described in shared/reference/Elasticsearch's REST API docs
// (root info, `_bulk` with the real NDJSON parser rules and per-item results, documents,
// index admin, dynamic mapping with its conflicts, `_count`, `_search`, `_refresh`,
// `_cluster/health`, basic/API-key auth, gzip request bodies) faithfully enough that the
// stock clients (python3-elasticsearch 7.17, npm @elastic/elasticsearch 8) work against it,
// plus fault injection for the sink's retry paths. It runs on its own thread; every method
// here is thread-safe.
//
//   cbes::testkit::elasticsearch es;            // ES 8 flavour, 127.0.0.1, ephemeral port
//   es.start();
//   std::string base = es.url();                // "http://127.0.0.1:41234"
//   es.fail_next_items(2, 429);                 // next 2 bulk items: es_rejected_execution
//   auto doc = es.document("idx", "1");         // source JSON as stored, or nullopt
//   es.stop();
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cbes::testkit {

// The product and major version the server pretends to be; it decides the root body, the
// X-Elastic-Product header, `_type` in responses and error type names.
enum class elasticsearch_flavor { elasticsearch_7, elasticsearch_8, opensearch_2 };

// Parses "elasticsearch-7", "elasticsearch-8" or "opensearch-2"; nullopt otherwise.
//   auto f = cbes::testkit::parse_elasticsearch_flavor("opensearch-2");
std::optional<elasticsearch_flavor> parse_elasticsearch_flavor(std::string_view name);

struct elasticsearch_options {
  std::string bind_address = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = ephemeral; see elasticsearch::port()
  // HTTPS: when both are set the server speaks TLS with these PEM files (url() says https).
  std::string tls_cert_file;
  std::string tls_key_file;
  // Mutual TLS (the PKI realm with `client_authentication: required`): clients must present a
  // certificate signed by this PEM CA, or the handshake fails; a request over such a connection
  // is authenticated by the certificate, without basic auth or an API key.
  std::string tls_client_ca_file{};
  elasticsearch_flavor flavor = elasticsearch_flavor::elasticsearch_8;
  // version.number reported by GET /; "" = 7.17.18, 8.13.4 or 2.11.1 by flavour.
  std::string version;
  std::string cluster_name = "cbes-sandbox";
  std::string node_name = "es-node-1";
  // Security: when `username` is set (basic auth) or `api_keys` is non-empty, every request
  // needs `Authorization: Basic ...` or `ApiKey <key>` (or a verified client certificate) or
  // gets 401. An API key may
  // be listed as its encoded form (base64 of "id:key") or as "id:key".
  std::string username;
  std::string password;
  std::vector<std::string> api_keys;
  // http.max_content_length: larger bodies (after gzip decoding) get 413, empty body,
  // `Connection: close`, and the connection is closed.
  std::size_t max_content_length = 100 * 1024 * 1024;
  // action.auto_create_index.
  bool auto_create_index = true;
  // index.refresh_interval for every index: search/_count see writes only after a refresh,
  // which happens at most this often when searched (ES skips refreshes of search-idle
  // shards and refreshes on the next search). 0 = every write is visible immediately.
  std::chrono::milliseconds refresh_interval{1000};
  // Acknowledge bulk items as created without storing documents or mappings (benchmarks).
  bool count_only = false;
  // Called on the server thread, with the server's lock held, for every index/create/update
  // item that succeeds, before the response is sent: the benchmarks time a write's way from
  // Couchbase to Elasticsearch's acknowledgement with it. Keep it short and non-blocking.
  //   o.on_item_acknowledged = [&](std::string_view index, std::string_view id) { ... };
  std::function<void(std::string_view index, std::string_view id)> on_item_acknowledged{};
  // ES flavours accept vendor media types compatible-with=7|8|9 (as Elasticsearch does);
  // false mirrors the real table (ES 8: 7 or 8, ES 7.17: 7 only).
  bool lenient_compatible_with = true;
};

// Counters since start (or reset_stats()).
struct elasticsearch_stats {
  std::uint64_t requests = 0;       // every HTTP request received
  std::uint64_t bulk_requests = 0;  // `_bulk` requests that reached the parser
  std::uint64_t bulk_items = 0;     // items executed (or acknowledged in count-only mode)
  std::uint64_t failed_items = 0;   // items answered with an `error`
  // index/create items whose source equalled the live document's: a replay of a write already
  // applied (what at-least-once delivery repeats after a failure or a handover)
  std::uint64_t unchanged_items = 0;
  std::uint64_t bytes_received = 0;  // request body bytes as sent (before gzip decoding)
};

class elasticsearch {
 public:
  explicit elasticsearch(elasticsearch_options options = {});
  ~elasticsearch();  // stops the server
  elasticsearch(const elasticsearch&) = delete;
  elasticsearch& operator=(const elasticsearch&) = delete;

  // Binds, starts the server thread, returns once connections are accepted. Throws
  // std::system_error when the port cannot be bound.
  void start();
  // Closes the listener and every connection. Idempotent.
  void stop();

  std::uint16_t port() const;
  std::string url() const;  // "http://127.0.0.1:<port>"

  // ---- setup ----
  // Defines an ingest pipeline (no processors run); items naming an undefined pipeline fail
  // with `pipeline with id [x] does not exist`. Also possible over HTTP:
  // PUT /_ingest/pipeline/<id>.
  //   es.add_pipeline("enrich");
  void add_pipeline(std::string id);
  void set_count_only(bool on);
  void set_max_content_length(std::size_t bytes);
  void set_auto_create_index(bool on);

  // ---- fault injection ----
  // The next n bulk items fail with `status`: 429 es_rejected_execution_exception
  // (rejected_execution_exception on OpenSearch), 503 unavailable_shards_exception, any
  // other status a generic exception of that status. Nothing is written for them.
  //   es.fail_next_items(3, 429);
  void fail_next_items(std::size_t n, int status = 429);
  // The next n `_bulk` requests (or any request when `bulk_only` is false) fail as a whole
  // with `status`: 429 coordinating-pressure rejection, 503 no-master cluster block, 500 an
  // internal error, 502/504 a proxy's plain-text page. Nothing is written.
  void fail_next_requests(std::size_t n, int status = 429, bool bulk_only = true);
  // While on, every index/create/update item fails with the disk flood-stage
  // `cluster_block_exception` (429); deletes still succeed, as the real
  // read-only-allow-delete block allows them.
  void block_writes(bool on);
  // Every response is delayed by d before it is written (0 = off).
  void delay_responses(std::chrono::milliseconds d);
  // The next n `_bulk` requests (or any request when `bulk_only` is false) get their
  // connection closed without an answer; with `apply` the request is executed first (the
  // client cannot know it succeeded), without it nothing is written.
  void drop_next_responses(std::size_t n, bool apply = true, bool bulk_only = true);
  // Connection dropped mid-response: the next n `_bulk` requests (or any request when
  // `bulk_only` is false) are executed, then answered with the status line, the headers and
  // only the first half of the body before the connection closes.
  //   es.truncate_next_responses(2);
  void truncate_next_responses(std::size_t n, bool bulk_only = true);

  // ---- inspection ----
  elasticsearch_stats stats() const;
  void reset_stats();
  // Source of a live document (realtime, as GET sees it), nullopt when absent.
  std::optional<std::string> document(std::string_view index, std::string_view id) const;
  // Live documents in an index (0 when the index does not exist).
  std::size_t document_count(std::string_view index) const;
  // Names of existing indices, sorted.
  std::vector<std::string> indices() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace cbes::testkit
