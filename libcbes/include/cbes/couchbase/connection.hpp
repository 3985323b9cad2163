#pragma once
// One mcbp connection to one KV node: TCP or TLS, the bootstrap of kv_engine's protocol docs
// (HELLO → SASL → SELECT_BUCKET → GET_ERROR_MAP → GET_CLUSTER_CONFIG; no SASL with a client
// certificate), then pipelined requests
// matched to responses by opaque, each with its own deadline. Writes are queued and sent with
// gather writes; reads go through the bounded incremental mcbp::parser.
//
// Server-initiated traffic is delivered to callbacks: cluster-map pushes (0x82/0x01) to
// on_config(), and client-magic *requests* (what a DCP producer sends after DCP_OPEN) to
// on_request(), so the DCP consumer reuses this class in "send frame / receive frames" mode:
//
//   auto c = co_await connection::open(ex, opts);          // bootstrapped, bucket selected
//   auto r = co_await (*c)->execute(dcp_open_request{...}.encode(), 5s);   // DCP_OPEN
//   (*c)->on_request([&](const mcbp::frame& f) { consumer.handle(f); });  // mutations, noops
//   (*c)->send(frame_builder::response(opcode::dcp_noop).opaque(f.opaque()).build());
//
// Thread model: a connection lives on one executor; call it from coroutines and handlers
// running on that executor (an io_context run by one thread, or a strand).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "cbes/couchbase/error.hpp"
#include "cbes/couchbase/topology.hpp"
#include "cbes/mcbp/feature.hpp"
#include "cbes/mcbp/frame.hpp"
#include "cbes/mcbp/frame_builder.hpp"
#include "cbes/mcbp/parser.hpp"
#include "cbes/mcbp/sasl.hpp"
#include "cbes/version.hpp"

namespace cbes::couchbase {

struct tls_options {
  bool enabled = false;
  std::string ca_file;          // PEM; empty → the system's default trust store
  bool verify_hostname = true;  // check the certificate against server_name (or the host)
  std::string server_name;      // SNI + name to verify; empty → the host connected to
  // Client certificate (mutual TLS): a PKCS12 keystore with the certificate, its private key and
  // any intermediate certificates. With it the server authenticates the connection by the
  // certificate (it maps the certificate to a user) and no SASL step runs, as with the Couchbase
  // SDKs' CertificateAuthenticator; username and password are not used. Needs `enabled`.
  //
  //   o.tls.client_keystore = "/etc/cbes/cbes-client.p12";
  //   o.tls.client_keystore_password = secret;
  std::string client_keystore;
  std::string client_keystore_password;
};

struct connection_options {
  endpoint address;
  tls_options tls;
  std::string username;
  std::string password;
  std::string bucket;  // empty: no SELECT_BUCKET and no config (e.g. a cluster-level connection)
  std::string agent{cbes::user_agent};
  // Mechanisms we may use, any order; empty → SCRAM-SHA512/256/1, plus PLAIN over TLS.
  // The strongest one the server also offers wins.
  std::vector<mcbp::sasl_mechanism> sasl_mechanisms;
  // PLAIN sends the password in clear: only over TLS unless this is set (Java refuses it too).
  bool allow_plain_without_tls = false;
  // HELLO features; empty → xerror, select_bucket, json, xattr, snappy, mutation_seqno,
  // alt_request_support, tcp_nodelay, collections (if `collections`), duplex +
  // clustermap_change_notification (if `config_push`).
  std::vector<mcbp::feature> features;
  bool collections = true;
  bool config_push = true;
  bool fetch_error_map = true;
  std::chrono::milliseconds connect_timeout =
      std::chrono::seconds{10};  // resolve + connect + TLS handshake
  std::chrono::milliseconds bootstrap_timeout =
      std::chrono::seconds{10};  // HELLO … GET_CLUSTER_CONFIG
  std::size_t max_frame_size = mcbp::default_max_frame_size;
  // Bytes queued for the socket, at most (one frame larger than this is still sent alone). A
  // server that stops reading makes execute() wait for room until its deadline and send() end
  // the connection, so a stuck peer cannot grow our memory. Room for a largest document (20 MiB).
  std::size_t max_write_queue_bytes = 32 * 1024 * 1024;
};

class connection {
 public:
  using executor_type = boost::asio::any_io_executor;
  using clock = std::chrono::steady_clock;

  // Connects and bootstraps. Errors: connection_failed ("connect to host:port: Connection
  // refused", "TLS handshake with host:port failed: ..."), timeout, authentication_failed (also a
  // client certificate the server refused: it closes the connection at once), no_sasl_mechanism,
  // bucket_not_found, protocol_error, invalid_argument (CA file or keystore unusable, a client
  // certificate without TLS).
  //
  //   connection_options o;   // a named object (CONTRIBUTING.md, GCC 12 rule 2)
  //   o.address = {"127.0.0.1", 11210}; o.username = "u"; o.password = pw; o.bucket = "b";
  //   auto c = co_await connection::open(ex, o);
  static boost::asio::awaitable<result<std::shared_ptr<connection>>> open(
      executor_type ex, connection_options options);

  ~connection();
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // Sends one request (the opaque is assigned here) and waits for the response with the same
  // opaque, at most `timeout`. Any status comes back as a frame. Errors: timeout (also when the
  // write queue stayed full), and when the connection ends: `ambiguous` if the request had been
  // written to the socket (the server may have acted on it), else the reason the connection
  // ended (connection_closed, closed, protocol_error) — the request was not sent.
  //
  //   auto r = co_await c->execute(mcbp::get_request{key}.encode().vbucket(vb), 2s);
  //   if (r && r->view().status() == mcbp::status::success) ...
  boost::asio::awaitable<result<mcbp::owned_frame>> execute(mcbp::frame_builder request,
                                                            clock::duration timeout);

  // Queues raw frame bytes without waiting for anything (DCP buffer acks, noop replies). Past
  // max_write_queue_bytes the server is not reading: the connection ends (connection_closed).
  //
  //   c->send(frame_builder::response(opcode::dcp_noop).opaque(o).build());
  void send(std::string bytes);

  // An opaque no pending request uses, for requests whose answers arrive through on_request()
  // (e.g. a DCP stream: its messages carry the STREAM_REQ opaque).
  std::uint32_t next_opaque() noexcept;

  // Client-magic requests from the server (0x80 / 0x08 — DCP messages) and server-initiated
  // requests other than config pushes. Views are valid during the call only.
  //
  //   c->on_request([](const mcbp::frame& f) { if (f.opcode() == opcode::dcp_noop) ... });
  void on_request(std::function<void(const mcbp::frame&)> handler);

  // Config JSON pushed by the server (already inflated); the handler decides whether it is newer.
  //
  //   c->on_config([&](std::string json) { cluster.apply(json, c->address().host); });
  void on_config(std::function<void(std::string json)> handler);

  // Called once when the connection ends for any reason other than close().
  //
  //   c->on_close([](const error& e) { log(e.what()); });
  void on_close(std::function<void(const error&)> handler);

  // The config fetched at bootstrap (GET_CLUSTER_CONFIG), empty if none.
  const std::string& bootstrap_config() const noexcept;
  // Features the server agreed to in HELLO.
  bool has_feature(mcbp::feature f) const noexcept;
  // The SASL mechanism that authenticated this connection (meaningless when
  // certificate_authenticated()).
  mcbp::sasl_mechanism mechanism() const noexcept;
  // Authenticated by the client certificate (tls.client_keystore), without SASL.
  bool certificate_authenticated() const noexcept;
  const endpoint& address() const noexcept;
  const executor_type& get_executor() const noexcept;
  bool is_open() const noexcept;
  // Bytes queued or being written to the socket (bounded by max_write_queue_bytes).
  std::size_t queued_bytes() const noexcept;
  // When bytes last arrived from the server (the time of connecting before any did). A liveness
  // check uses this rather than the time a frame was handled: a busy application that handles
  // a burst of frames late must not take the server for dead while its bytes keep arriving.
  //
  //   if (clock::now() - c->last_received() > 2 * noop_interval) c->close();
  clock::time_point last_received() const noexcept;

  // Cancels pending requests (errc::closed) and closes the socket. Idempotent.
  void close();

 private:
  struct impl;
  explicit connection(std::shared_ptr<impl> p);
  std::shared_ptr<impl> impl_;
};

}  // namespace cbes::couchbase
