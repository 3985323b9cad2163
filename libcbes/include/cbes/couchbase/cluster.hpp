#pragma once
// A Couchbase bucket as a whole: bootstrap from seed nodes (KV/CCCP first, HTTP
// `/pools/default/b/<bucket>` as fallback), the vbucket map, routing of each key to its active
// node, config refresh (NOT_MY_VBUCKET bodies, server pushes, polling; newer (epoch, rev) only,
// kv_engine's protocol docs) and the KV operations the connector needs. Temporary failures
// (Etmpfail, Ebusy), NOT_MY_VBUCKET and requests never sent are retried until the operation
// timeout. A request sent on a connection that then closed is retried only when sending it twice
// is harmless (reads, plain upserts); otherwise (remove, CAS upsert, most mutate_in) the
// operation fails with errc::ambiguous, as does one sent without an answer by the deadline.
//
//   cluster_options o;
//   o.seeds = "cb1.local,cb2.local"; o.username = "cbes"; o.password = pw; o.bucket = "meta";
//   auto c = co_await cluster::connect(ex, o);
//   if (!c) { std::cerr << c.error().what() << '\n'; co_return; }
//   auto doc = co_await (*c)->get({"_default", "_default"}, "airline_10");
//
// Thread model: like connection, one executor (one thread or a strand).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "cbes/couchbase/connection.hpp"
#include "cbes/couchbase/error.hpp"
#include "cbes/couchbase/topology.hpp"
#include "cbes/mcbp/collections_manifest.hpp"
#include "cbes/mcbp/dcp.hpp"
#include "cbes/mcbp/document.hpp"
#include "cbes/mcbp/sasl.hpp"
#include "cbes/mcbp/subdoc.hpp"
#include "cbes/mcbp/vbucket_seqnos.hpp"
#include "cbes/version.hpp"

namespace cbes::couchbase {

struct cluster_options {
  std::string seeds = "127.0.0.1";  // parse_seeds() syntax
  tls_options tls;                  // tls.enabled switches every port to its TLS variant
  // Unused with tls.client_keystore: the certificate authenticates every connection.
  std::string username;
  std::string password;
  std::string bucket;
  std::string network = "auto";  // auto | default | external | <alternate network name>
  std::vector<mcbp::sasl_mechanism> sasl_mechanisms;  // empty → strongest offered
  bool allow_plain_without_tls = false;
  bool http_bootstrap = true;  // fall back to the manager's HTTP config when CCCP fails
  bool config_push = true;     // ask for Duplex + ClustermapChangeNotification
  std::string agent{cbes::user_agent};
  std::chrono::milliseconds connect_timeout = std::chrono::seconds{10};
  std::chrono::milliseconds bootstrap_timeout = std::chrono::seconds{15};
  // One KV operation including all its retries (Java SDK default kvTimeout is 2.5 s; the
  // connector's metadata writes deserve more patience).
  std::chrono::milliseconds operation_timeout = std::chrono::seconds{10};
  // Polling interval when the server does not push configs (Java: configRefreshInterval 2 s).
  std::chrono::milliseconds config_poll_interval = std::chrono::milliseconds{2500};
};

// Scope and collection names; the default collection needs no lookup.
//
//   co_await c->get({}, "k");                          // _default._default
//   co_await c->get({"inventory", "airline"}, "k");
//
// Not an aggregate on purpose, so that `{}` can be passed straight to a coroutine; option
// structs are passed as named objects (CONTRIBUTING.md, GCC 12 rule 2).
struct collection {
  collection() = default;
  collection(std::string scope_name, std::string collection_name)
      : scope(std::move(scope_name)), name(std::move(collection_name)) {}

  std::string scope = "_default";
  std::string name = "_default";
  bool is_default() const noexcept { return scope == "_default" && name == "_default"; }
  std::string path() const { return scope + "." + name; }
};

struct get_result {
  std::string value;  // inflated (never Snappy)
  std::uint32_t flags = 0;
  std::uint8_t datatype = 0;  // without the Snappy bit
  std::uint64_t cas = 0;
};

struct mutation_result {
  std::uint64_t cas = 0;
  std::optional<mcbp::mutation_token> token;
  std::uint16_t vbucket = 0;
};

struct upsert_options {
  std::uint32_t flags = 0;
  std::uint32_t expiry = 0;
  std::uint8_t datatype = 0x01;  // JSON
  std::uint64_t cas = 0;         // != 0: replace only if unchanged
};

struct lookup_in_result {
  std::vector<mcbp::subdoc_lookup_result> fields;  // one per spec, in spec order
  std::uint64_t cas = 0;
  bool deleted = false;  // the document is a tombstone (access_deleted)
};

struct mutate_in_options {
  std::uint8_t doc_flags = 0;  // mcbp::subdoc_doc_flag::mkdoc to create the document
  std::optional<std::uint32_t> expiry;
  std::uint64_t cas = 0;
};

struct mutate_in_result {
  std::vector<mcbp::subdoc_mutation_result> fields;
  std::uint64_t cas = 0;
  std::optional<mcbp::mutation_token> token;
};

// What the cluster has done so far (cluster::counters()): how configs arrived, how many
// connections were opened and are open now.
struct cluster_counters {
  std::uint64_t configs_pushed = 0;               // applied from a server push
  std::uint64_t configs_from_not_my_vbucket = 0;  // applied from a NOT_MY_VBUCKET body
  std::uint64_t configs_fetched = 0;              // applied from GET_CLUSTER_CONFIG or HTTP
  std::uint64_t config_polls = 0;                 // polling rounds run
  std::uint64_t connections_opened = 0;           // KV connections opened, bootstrap included
  std::size_t open_connections = 0;               // KV connections open now
};

class cluster {
 public:
  using executor_type = boost::asio::any_io_executor;

  // Bootstraps: parses the seeds, gets a config from the first KV seed that answers (or over
  // HTTP), picks the network, and keeps the connection. Definitive failures (authentication,
  // unknown bucket, bad seeds) return at once with their one-line error; others are collected
  // per seed into the message.
  //
  //   auto c = co_await cluster::connect(ex, opts);
  static boost::asio::awaitable<result<std::shared_ptr<cluster>>> connect(executor_type ex,
                                                                          cluster_options options);

  ~cluster();
  cluster(const cluster&) = delete;
  cluster& operator=(const cluster&) = delete;

  //   auto r = co_await c->get({}, "doc");   // errc::document_not_found when absent
  boost::asio::awaitable<result<get_result>> get(collection coll, std::string key);

  //   co_await c->upsert({}, "doc", R"({"a":1})");
  boost::asio::awaitable<result<mutation_result>> upsert(collection coll, std::string key,
                                                         std::string value,
                                                         upsert_options options = {});

  //   co_await c->remove({}, "doc");          // errc::document_not_found when absent
  boost::asio::awaitable<result<mutation_result>> remove(collection coll, std::string key,
                                                         std::uint64_t cas = 0);

  // Sub-document lookup (SUBDOC_MULTI_LOOKUP); per-path statuses are in the result.
  //
  //   auto r = co_await c->lookup_in(meta, "cbes::checkpoint::0",
  //                                  {{mcbp::opcode::subdoc_get, mcbp::subdoc_path_flag::xattr,
  //                                  "cbes"}});
  boost::asio::awaitable<result<lookup_in_result>> lookup_in(
      collection coll, std::string key, std::vector<mcbp::subdoc_lookup_spec> specs,
      bool access_deleted = false);

  // Sub-document mutation (SUBDOC_MULTI_MUTATION). A failing path → errc::path_not_found /
  // server_error naming the spec index.
  //
  //   co_await c->mutate_in(meta, key, {{mcbp::opcode::subdoc_dict_upsert,
  //                                      mcbp::subdoc_path_flag::xattr, "cbes", json}},
  //                         {.doc_flags = mcbp::subdoc_doc_flag::mkdoc});
  boost::asio::awaitable<result<mutate_in_result>> mutate_in(
      collection coll, std::string key, std::vector<mcbp::subdoc_mutation_spec> specs,
      mutate_in_options options = {});

  // The checkpoint store's two calls (the Java connector's behaviour): the xattr `path` of a
  // document (nullopt when the document or the xattr is absent) …
  //
  //   auto cp = co_await c->lookup_xattr(meta, key, "cbes");
  boost::asio::awaitable<result<std::optional<std::string>>> lookup_xattr(collection coll,
                                                                          std::string key,
                                                                          std::string path);
  // … and an upsert of that xattr, creating the document (empty JSON body) if needed.
  //
  //   co_await c->upsert_xattr(meta, key, "cbes", R"({"seqno":42})");
  boost::asio::awaitable<result<mutation_result>> upsert_xattr(collection coll, std::string key,
                                                               std::string path,
                                                               std::string json_value);

  // High seqnos of every active vbucket, from every KV node, sorted by vbucket.
  //
  //   auto seqnos = co_await c->get_all_vb_seqnos();
  boost::asio::awaitable<result<std::vector<mcbp::vbucket_seqno>>> get_all_vb_seqnos(
      std::optional<std::uint32_t> collection_id = std::nullopt);

  // The failover log of a vbucket from its active node, newest entry first.
  //
  //   auto log = co_await c->failover_log(12);   // log->front().vbucket_uuid
  boost::asio::awaitable<result<mcbp::failover_log>> failover_log(std::uint16_t vbucket);

  // The bucket's collections manifest (GET_COLLECTIONS_MANIFEST) from some KV node: scope and
  // collection names and ids, e.g. to name the collection of a DCP event.
  //
  //   auto m = co_await c->collections_manifest();   // m->scopes[0].collections[0].name
  boost::asio::awaitable<result<mcbp::collections_manifest>> collections_manifest();

  // The id of a collection (GET_COLLECTION_ID, cached). errc::unknown_collection when absent.
  //
  //   auto cid = co_await c->collection_id({"inventory", "airline"});
  boost::asio::awaitable<result<std::uint32_t>> collection_id(collection coll);

  // Re-reads the config from some node now (normally driven by NMVB, pushes and polling).
  boost::asio::awaitable<result<void>> refresh_config();

  // The current topology (never null after connect()).
  std::shared_ptr<const topology> current_topology() const;
  // The bucket's uuid from the current config (changes only when the bucket is re-created).
  //
  //   if (backup.bucket_uuid != c->bucket_uuid()) ...
  std::string bucket_uuid() const;
  // The cluster's UUID: `uuid` of the cluster manager's GET /pools, asked of each node's manager
  // port in turn until one answers (the Java connector tags its metrics with it). Needs the
  // manager ports to be reachable, as the Java SDK does.
  //
  //   auto uuid = co_await c->cluster_uuid();   // "f4c3a1c5d7..."
  boost::asio::awaitable<result<std::string>> cluster_uuid();
  // The raw JSON of the current config, e.g. for the DCP consumer.
  const std::string& current_config_json() const;
  // Subscribes `handler` to every applied (newer) config. Subscriptions accumulate: adding one
  // never replaces another owner's (the DCP consumer subscribes next to the application).
  // Handlers run on the cluster's executor in subscription order; one added or removed while a
  // change is being notified takes effect from the next change. Returns the id for
  // remove_topology_handler(); close() drops every subscription. An exception from a handler
  // does not stop the others or the cluster: it is rethrown from the executor (out of
  // io_context::run()), like any throwing Asio handler.
  //
  //   auto id = c->on_topology_change([](std::shared_ptr<const topology> t) { log(t->rev); });
  //   c->remove_topology_handler(id);
  std::uint64_t on_topology_change(std::function<void(std::shared_ptr<const topology>)> handler);
  // Ends a subscription (unknown ids are ignored); safe from inside a handler.
  void remove_topology_handler(std::uint64_t id);

  // Options to open another connection to `node` the same way (TLS, credentials, bucket), e.g.
  // for a DCP connection.
  //
  //   auto o = c->connection_options_for(topo->nodes[0].kv);
  //   o.agent = "cbes-dcp"; auto dcp = co_await connection::open(ex, o);
  connection_options connection_options_for(const endpoint& node) const;

  const executor_type& get_executor() const noexcept;

  //   CHECK(c->counters().open_connections == 2);
  cluster_counters counters() const;

  // Closes every connection; pending operations end with errc::closed. Idempotent.
  void close();

 private:
  struct impl;
  explicit cluster(std::shared_ptr<impl> p);
  std::shared_ptr<impl> impl_;
};

}  // namespace cbes::couchbase
