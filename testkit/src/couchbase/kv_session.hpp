#pragma once
// One client connection to a fake data node's KV port (plain TCP or TLS): reads frames with
// the sans-I/O mcbp parser, answers them in request order (kv_engine's protocol docs) and
// pushes cluster map changes to duplex clients. Lives on the cluster's I/O thread.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "cbes/mcbp/feature.hpp"
#include "cbes/mcbp/frame.hpp"
#include "cbes/mcbp/scram.hpp"
#include "cluster_state.hpp"
#include "dcp_producer.hpp"

namespace cbes::testkit::couchbase {

class kv_session;

// What every session of one cluster shares; touched only on the I/O thread except the atomics.
struct server_context {
  cluster_state& state;
  std::atomic<std::int64_t> delay_ms{0};
  std::set<std::shared_ptr<kv_session>> sessions;
  dcp_settings dcp;  // I/O thread only
};

class kv_session : public std::enable_shared_from_this<kv_session> {
 public:
  kv_session(server_context& ctx, std::size_t node, boost::asio::ip::tcp::socket socket,
             boost::asio::ssl::context* tls);

  void start();
  void close();
  std::size_t node() const noexcept { return node_; }
  const std::string& bucket() const noexcept { return bucket_; }
  // Pushes the selected bucket's config when the client negotiated Duplex +
  // ClustermapChangeNotification and has not seen this revision yet.
  void notify_config();
  // The DCP producer of this connection after DCP_OPEN, else nullptr.
  dcp_producer* dcp() noexcept { return dcp_.get(); }
  // Closes the connection once everything queued so far was written.
  void close_when_flushed();

 private:
  friend class dcp_producer;

  boost::asio::awaitable<void> run();
  // After the TLS handshake: a verified client certificate names the user (its CN). False when
  // it names no user: the connection is to be closed.
  bool authenticate_certificate();
  boost::asio::awaitable<void> write_loop();
  boost::asio::awaitable<std::size_t> read_some(char* data, std::size_t size);
  void enqueue(std::string bytes);

  // The response bytes for one request (empty: no response); `close_after_` may be set.
  std::string handle(const mcbp::frame& f);
  std::string handle_locked(const mcbp::frame& f);
  std::string handle_hello(const mcbp::frame& f);
  std::string handle_sasl(const mcbp::frame& f);
  std::string handle_select_bucket(const mcbp::frame& f);
  std::string handle_cluster_config(const mcbp::frame& f);
  std::string handle_collection_id(const mcbp::frame& f, bucket_state& b);
  std::string handle_all_vb_seqnos(const mcbp::frame& f, bucket_state& b);
  std::string handle_observe_seqno(const mcbp::frame& f, bucket_state& b);
  std::string handle_failover_log(const mcbp::frame& f, bucket_state& b);
  std::string handle_document(const mcbp::frame& f, bucket_state& b);
  std::string handle_get(const mcbp::frame& f, bucket_state& b, std::uint16_t vb,
                         const doc_key& id);
  std::string handle_store(const mcbp::frame& f, bucket_state& b, std::uint16_t vb,
                           const doc_key& id);
  std::string handle_remove(const mcbp::frame& f, bucket_state& b, std::uint16_t vb,
                            const doc_key& id);
  std::string handle_touch(const mcbp::frame& f, bucket_state& b, std::uint16_t vb,
                           const doc_key& id);
  std::string handle_lookup_in(const mcbp::frame& f, bucket_state& b, std::uint16_t vb,
                               const doc_key& id);
  std::string handle_mutate_in(const mcbp::frame& f, bucket_state& b, std::uint16_t vb,
                               const doc_key& id);

  // Error response; with XERROR a JSON context, without it the remapping / disconnects kv_engine
  // does for clients without XERROR.
  std::string error(const mcbp::frame& f, mcbp::status s, std::string_view context = {});
  std::string not_my_vbucket(const mcbp::frame& f, const bucket_state& b);
  std::string unknown_collection(const mcbp::frame& f, const bucket_state& b,
                                 mcbp::status s = mcbp::status::unknown_collection);
  std::string mutation_done(const mcbp::frame& f, const bucket_state& b, std::uint16_t vb,
                            const item& stored);
  bool has(mcbp::feature x) const { return features_.count(x) != 0; }
  std::string value_out(const item& doc, std::string_view body, std::uint8_t& datatype) const;
  // The GET-family answer (GET, GET_AND_TOUCH) with `doc`'s flags, CAS and value, under the
  // request's opcode and opaque.
  std::string document_found(const mcbp::frame& f, const item& doc) const;

  server_context& ctx_;
  std::size_t node_;
  boost::asio::ip::tcp::socket socket_;
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>> tls_;
  boost::asio::ip::tcp::socket& lowest() { return tls_ ? tls_->next_layer() : socket_; }
  boost::asio::steady_timer wake_;
  std::deque<std::string> outbox_;
  bool closed_ = false;
  bool close_after_ = false;

  std::set<mcbp::feature> features_;
  std::string user_;               // authenticated user, empty before SASL succeeded
  bool certificate_user_ = false;  // user_ from the client certificate: no SASL
  std::string bucket_;
  std::optional<mcbp::scram_server> scram_;
  std::int64_t pushed_rev_ = 0;
  std::size_t outbox_bytes_ = 0;
  bool close_when_flushed_ = false;
  std::unique_ptr<dcp_producer> dcp_;
};

}  // namespace cbes::testkit::couchbase
