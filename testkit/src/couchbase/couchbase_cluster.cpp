#include "cbes/testkit/couchbase_cluster.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <algorithm>
#include <future>
#include <map>
#include <stdexcept>
#include <thread>

#include "../client_certificate.hpp"
#include "cbes/mcbp/collection_key.hpp"
#include "cbes/testkit/http_server.hpp"
#include "cbes/util/crc32.hpp"
#include "cluster_state.hpp"
#include "kv_session.hpp"
#include "manager_api.hpp"
#include "subdoc_engine.hpp"

namespace cbes::testkit {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace couchbase;

namespace {

struct node_runtime {
  std::unique_ptr<tcp::acceptor> kv;
  std::unique_ptr<tcp::acceptor> kv_tls;
  std::unique_ptr<http_server> mgmt;
  // options.external with separate_ports: the same node on the external network's ports.
  std::unique_ptr<tcp::acceptor> ext_kv;
  std::unique_ptr<tcp::acceptor> ext_kv_tls;
  std::unique_ptr<http_server> ext_mgmt;
};

}  // namespace

namespace {

// A collection / scope system event; ids per mcbp::system_event_id.
system_event_data event_data(std::uint32_t id, std::uint64_t manifest_uid, std::uint32_t scope_id,
                             std::uint32_t collection_id = 0, std::string name = {},
                             std::optional<std::uint32_t> max_ttl = std::nullopt) {
  system_event_data e;
  e.event = id;
  e.manifest_uid = manifest_uid;
  e.scope_id = scope_id;
  e.collection_id = collection_id;
  e.max_ttl = max_ttl;
  e.name = std::move(name);
  return e;
}

}  // namespace

struct couchbase_cluster::impl {
  explicit impl(couchbase_cluster_options o) : state(std::move(o)), ctx{state, {}, {}, {}} {
    // DCP producers send whatever changed (new items, takeovers) from the I/O thread.
    state.on_change = [this] { schedule_dcp_pump(); };
    ctx.dcp.push_configs = [this] { push_configs(); };
  }

  cluster_state state;
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
  server_context ctx;
  std::unique_ptr<asio::ssl::context> tls;
  std::map<std::size_t, node_runtime> runtimes;   // I/O thread after start()
  std::map<std::uint16_t, std::size_t> accepted;  // listening port → KV connections; I/O thread
  bool running = false;
  std::mutex lifecycle;

  // Runs `fn` on the I/O thread and waits for it (the caller must not be that thread).
  template <class F>
  auto on_io(F fn) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto fut = task.get_future();
    asio::post(io, [&task] { task(); });
    return fut.get();
  }

  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, std::size_t node, bool use_tls) {
    const auto port = acceptor.local_endpoint().port();
    for (;;) {
      boost::system::error_code ec;
      tcp::socket s = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (!acceptor.is_open())
          co_return;
        continue;
      }
      s.set_option(tcp::no_delay(true), ec);
      ++accepted[port];
      auto session =
          std::make_shared<kv_session>(ctx, node, std::move(s), use_tls ? tls.get() : nullptr);
      ctx.sessions.insert(session);
      session->start();
    }
  }

  std::unique_ptr<tcp::acceptor> listen(std::uint16_t port) {
    auto a = std::make_unique<tcp::acceptor>(io);
    tcp::endpoint ep(asio::ip::make_address(state.options().bind_address), port);
    a->open(ep.protocol());
    a->set_option(tcp::acceptor::reuse_address(true));
    a->bind(ep);
    a->listen();
    return a;
  }

  static std::uint16_t port_for(std::uint16_t base, std::size_t id) {
    return base == 0 ? 0 : static_cast<std::uint16_t>(base + id);
  }

  // Binds the node's ports (throws std::system_error) and records them in the state.
  void start_node(std::size_t id) {
    const auto& o = state.options();
    node_runtime rt;
    rt.kv = listen(port_for(o.kv_port, id));
    if (tls)
      rt.kv_tls = listen(0);
    http_server::options ho;
    ho.bind_address = o.bind_address;
    ho.port = port_for(o.mgmt_port, id);
    rt.mgmt = std::make_unique<http_server>(
        ho, [this, id](http_server::request req) -> asio::awaitable<http_server::response> {
          co_return manager_response(state, id, req);
        });
    rt.mgmt->start();
    const bool ext_ports = o.external && o.external->separate_ports;
    if (ext_ports) {
      rt.ext_kv = listen(0);
      if (tls)
        rt.ext_kv_tls = listen(0);
      ho.port = 0;
      rt.ext_mgmt = std::make_unique<http_server>(
          ho, [this, id](http_server::request req) -> asio::awaitable<http_server::response> {
            co_return manager_response(state, id, req);
          });
      rt.ext_mgmt->start();
    }
    {
      std::lock_guard lock(state.mutex);
      auto& n = state.nodes.at(id);
      n.kv_port = rt.kv->local_endpoint().port();
      n.kv_tls_port = rt.kv_tls ? rt.kv_tls->local_endpoint().port() : 0;
      n.mgmt_port = rt.mgmt->port();
      n.ext_kv_port = rt.ext_kv ? rt.ext_kv->local_endpoint().port() : 0;
      n.ext_kv_tls_port = rt.ext_kv_tls ? rt.ext_kv_tls->local_endpoint().port() : 0;
      n.ext_mgmt_port = rt.ext_mgmt ? rt.ext_mgmt->port() : 0;
    }
    asio::co_spawn(io, accept_loop(*rt.kv, id, false), asio::detached);
    if (rt.kv_tls)
      asio::co_spawn(io, accept_loop(*rt.kv_tls, id, true), asio::detached);
    if (rt.ext_kv)
      asio::co_spawn(io, accept_loop(*rt.ext_kv, id, false), asio::detached);
    if (rt.ext_kv_tls)
      asio::co_spawn(io, accept_loop(*rt.ext_kv_tls, id, true), asio::detached);
    runtimes[id] = std::move(rt);
  }

  // I/O thread: closes a node's listeners and connections.
  void close_node_io(std::size_t id) {
    auto it = runtimes.find(id);
    if (it == runtimes.end())
      return;
    boost::system::error_code ec;
    if (it->second.kv)
      it->second.kv->close(ec);
    if (it->second.kv_tls)
      it->second.kv_tls->close(ec);
    if (it->second.ext_kv)
      it->second.ext_kv->close(ec);
    if (it->second.ext_kv_tls)
      it->second.ext_kv_tls->close(ec);
    auto sessions = ctx.sessions;
    for (auto& s : sessions)
      if (s->node() == id)
        s->close();
  }

  std::atomic<bool> pump_pending{false};
  // Coalesced: one pump of every DCP connection per burst of changes (any thread).
  void schedule_dcp_pump() {
    if (pump_pending.exchange(true))
      return;
    asio::post(io, [this] {
      pump_pending = false;
      auto sessions = ctx.sessions;
      for (auto& s : sessions)
        if (auto* p = s->dcp())
          p->pump();
    });
  }

  // One of a node's ports, read under the state lock (the facade's port accessors).
  std::uint16_t port_of(std::size_t node, std::uint16_t node_info::*port) {
    std::lock_guard lock(state.mutex);
    return state.nodes.at(node).*port;
  }

  // After a topology change: push the new config to duplex clients (I/O thread).
  void push_configs() {
    asio::post(io, [this] {
      auto sessions = ctx.sessions;
      for (auto& s : sessions)
        s->notify_config();
    });
  }
};

couchbase_cluster::couchbase_cluster(couchbase_cluster_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {}

couchbase_cluster::~couchbase_cluster() {
  stop();
}

void couchbase_cluster::start() {
  std::lock_guard life(impl_->lifecycle);
  if (impl_->running)
    return;
  const auto& o = impl_->state.options();
  if (!o.tls_cert_file.empty() && !o.tls_key_file.empty()) {
    impl_->tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    impl_->tls->use_certificate_chain_file(o.tls_cert_file);
    impl_->tls->use_private_key_file(o.tls_key_file, asio::ssl::context::pem);
    if (!o.tls_client_ca_file.empty())
      detail::verify_client_certificates(*impl_->tls, o.tls_client_ca_file, false);
  }
  impl_->io.restart();
  try {
    for (auto id : impl_->state.active_nodes())
      impl_->start_node(id);
  } catch (...) {
    for (auto& [id, rt] : impl_->runtimes) {
      if (rt.mgmt)
        rt.mgmt->stop();
      if (rt.ext_mgmt)
        rt.ext_mgmt->stop();
    }
    impl_->runtimes.clear();
    throw;
  }
  impl_->work.emplace(impl_->io.get_executor());
  impl_->thread = std::thread([this] { impl_->io.run(); });
  impl_->running = true;
}

void couchbase_cluster::stop() {
  std::lock_guard life(impl_->lifecycle);
  if (!impl_->running)
    return;
  impl_->on_io([this] {
    for (auto& [id, rt] : impl_->runtimes)
      impl_->close_node_io(id);
    auto sessions = impl_->ctx.sessions;
    for (auto& s : sessions)
      s->close();
    return 0;
  });
  impl_->work.reset();
  impl_->io.stop();
  impl_->thread.join();
  for (auto& [id, rt] : impl_->runtimes) {
    if (rt.mgmt)
      rt.mgmt->stop();
    if (rt.ext_mgmt)
      rt.ext_mgmt->stop();
  }
  impl_->runtimes.clear();
  impl_->ctx.sessions.clear();
  impl_->running = false;
}

std::vector<std::size_t> couchbase_cluster::nodes() const {
  std::lock_guard lock(impl_->state.mutex);
  return impl_->state.active_nodes();
}

std::uint16_t couchbase_cluster::kv_port(std::size_t node) const {
  return impl_->port_of(node, &node_info::kv_port);
}

std::uint16_t couchbase_cluster::kv_tls_port(std::size_t node) const {
  return impl_->port_of(node, &node_info::kv_tls_port);
}

std::uint16_t couchbase_cluster::mgmt_port(std::size_t node) const {
  return impl_->port_of(node, &node_info::mgmt_port);
}

std::uint16_t couchbase_cluster::external_kv_port(std::size_t node) const {
  return impl_->port_of(node, &node_info::ext_kv_port);
}

std::uint16_t couchbase_cluster::external_kv_tls_port(std::size_t node) const {
  return impl_->port_of(node, &node_info::ext_kv_tls_port);
}

std::uint16_t couchbase_cluster::external_mgmt_port(std::size_t node) const {
  return impl_->port_of(node, &node_info::ext_mgmt_port);
}

void couchbase_cluster::advertise_external_kv_port(std::size_t node, std::uint16_t port) {
  {
    std::lock_guard lock(impl_->state.mutex);
    auto& st = impl_->state;
    if (!st.options().external)
      throw std::invalid_argument("advertise_external_kv_port needs options.external");
    if (node >= st.nodes.size())
      throw std::invalid_argument("unknown node " + std::to_string(node));
    st.nodes[node].advertised_ext_kv_port = port;
    ++st.rev;
  }
  impl_->push_configs();
}

std::string couchbase_cluster::connection_string() const {
  return "couchbase://" + impl_->state.options().bind_address + ":" +
         std::to_string(kv_port(nodes().front()));
}

std::string couchbase_cluster::mgmt_url(std::size_t node) const {
  return "http://" + impl_->state.options().bind_address + ":" + std::to_string(mgmt_port(node));
}

void couchbase_cluster::create_bucket(const couchbase_bucket_options& bucket) {
  std::lock_guard lock(impl_->state.mutex);
  impl_->state.create_bucket(bucket);
}

void couchbase_cluster::add_user(const couchbase_user& user) {
  std::lock_guard lock(impl_->state.mutex);
  impl_->state.add_user(user);
}

std::uint32_t couchbase_cluster::create_scope(std::string_view bucket, std::string_view scope) {
  std::lock_guard lock(impl_->state.mutex);
  auto& b = impl_->state.bucket(bucket);
  if (b.manifest.scope_id(scope))
    throw std::invalid_argument("scope '" + std::string(scope) + "' exists");
  std::uint32_t id = b.next_id++;
  b.manifest.scopes.push_back({std::string(scope), id, {}});
  ++b.manifest.uid;
  impl_->state.record_event(b, event_data(3, b.manifest.uid, id, 0, std::string(scope)));
  return id;
}

void couchbase_cluster::drop_scope(std::string_view bucket, std::string_view scope) {
  std::lock_guard lock(impl_->state.mutex);
  auto& b = impl_->state.bucket(bucket);
  auto sid = b.manifest.scope_id(scope);
  if (!sid)
    throw std::invalid_argument("no scope '" + std::string(scope) + "'");
  if (*sid == mcbp::default_scope_id)
    throw std::invalid_argument("the default scope cannot be dropped");
  auto pos = std::find_if(b.manifest.scopes.begin(), b.manifest.scopes.end(),
                          [&](const auto& s) { return s.uid == *sid; });
  auto dropped = pos->collections;
  b.manifest.scopes.erase(pos);
  // one manifest, several events; only the last one carries the new uid.
  for (const auto& c : dropped)
    impl_->state.record_event(b, event_data(1, b.manifest.uid, *sid, c.uid));
  ++b.manifest.uid;
  impl_->state.record_event(b, event_data(4, b.manifest.uid, *sid));
}

std::uint32_t couchbase_cluster::create_collection(std::string_view bucket, std::string_view scope,
                                                   std::string_view collection,
                                                   std::optional<std::uint32_t> max_ttl) {
  std::lock_guard lock(impl_->state.mutex);
  auto& b = impl_->state.bucket(bucket);
  for (auto& s : b.manifest.scopes) {
    if (s.name != scope)
      continue;
    if (b.manifest.collection_id(scope, collection))
      throw std::invalid_argument("collection '" + std::string(collection) + "' exists");
    std::uint32_t id = b.next_id++;
    mcbp::collection_info c;
    c.name = collection;
    c.uid = id;
    c.max_ttl = max_ttl;
    s.collections.push_back(c);
    ++b.manifest.uid;
    impl_->state.record_event(
        b, event_data(0, b.manifest.uid, s.uid, id, std::string(collection), max_ttl));
    return id;
  }
  throw std::invalid_argument("no scope '" + std::string(scope) + "'");
}

void couchbase_cluster::drop_collection(std::string_view bucket, std::string_view scope,
                                        std::string_view collection) {
  std::lock_guard lock(impl_->state.mutex);
  auto& b = impl_->state.bucket(bucket);
  auto cid = b.manifest.collection_id(scope, collection);
  auto sid = b.manifest.scope_id(scope);
  for (auto& s : b.manifest.scopes)
    if (s.name == scope)
      std::erase_if(s.collections, [&](const auto& c) { return c.name == collection; });
  ++b.manifest.uid;
  if (cid && sid)
    impl_->state.record_event(b, event_data(1, b.manifest.uid, *sid, *cid));
}

std::uint64_t couchbase_cluster::manifest_uid(std::string_view bucket) const {
  std::lock_guard lock(impl_->state.mutex);
  return impl_->state.bucket(bucket).manifest.uid;
}

namespace {

doc_key resolve(bucket_state& b, std::string_view key, std::string_view collection) {
  auto path = split_collection_path(collection);
  if (!path)
    throw std::invalid_argument("collection must be 'scope.collection'");
  auto cid = b.manifest.collection_id(path->first, path->second);
  if (!cid)
    throw std::invalid_argument("no collection '" + std::string(collection) + "'");
  return {*cid, std::string(key)};
}

}  // namespace

std::uint64_t couchbase_cluster::upsert(std::string_view bucket, std::string_view key,
                                        std::string_view value, std::string_view collection,
                                        std::uint32_t expiry) {
  std::lock_guard lock(impl_->state.mutex);
  auto& st = impl_->state;
  auto& b = st.bucket(bucket);
  auto id = resolve(b, key, collection);
  auto vb = util::vbucket_for_key(key, b.num_vbuckets());
  item it;
  it.id = id;
  it.body = value;
  it.json = is_json(value);
  it.expiry = st.absolute_expiry(expiry);
  it.cas = st.next_cas();
  if (const item* cur = st.live_document(b, vb, id))
    it.xattrs = cur->xattrs;
  return st.write(b, vb, std::move(it)).cas;
}

std::optional<couchbase_document> couchbase_cluster::get(std::string_view bucket,
                                                         std::string_view key,
                                                         std::string_view collection) {
  std::lock_guard lock(impl_->state.mutex);
  auto& st = impl_->state;
  auto& b = st.bucket(bucket);
  auto id = resolve(b, key, collection);
  const item* it = st.live_document(b, util::vbucket_for_key(key, b.num_vbuckets()), id);
  if (!it)
    return std::nullopt;
  couchbase_document d{it->body, it->flags, it->expiry, it->cas, it->seqno, it->json, {}};
  for (const auto& x : it->xattrs)
    d.xattrs.emplace_back(x.key, x.value);
  return d;
}

bool couchbase_cluster::remove(std::string_view bucket, std::string_view key,
                               std::string_view collection) {
  std::lock_guard lock(impl_->state.mutex);
  auto& st = impl_->state;
  auto& b = st.bucket(bucket);
  auto id = resolve(b, key, collection);
  auto vb = util::vbucket_for_key(key, b.num_vbuckets());
  const item* it = st.live_document(b, vb, id);
  if (!it)
    return false;
  st.tombstone(b, vb, *it, item_kind::deletion);
  return true;
}

std::uint16_t couchbase_cluster::vbucket_of(std::string_view bucket, std::string_view key) const {
  std::lock_guard lock(impl_->state.mutex);
  return util::vbucket_for_key(key, impl_->state.bucket(bucket).num_vbuckets());
}

std::uint64_t couchbase_cluster::high_seqno(std::string_view bucket, std::uint16_t vb) const {
  std::lock_guard lock(impl_->state.mutex);
  return impl_->state.bucket(bucket).vbuckets.at(vb).high_seqno();
}

std::uint64_t couchbase_cluster::purge_seqno(std::string_view bucket, std::uint16_t vb) const {
  std::lock_guard lock(impl_->state.mutex);
  return impl_->state.bucket(bucket).vbuckets.at(vb).purge_seqno();
}

std::vector<couchbase_failover_entry> couchbase_cluster::failover_log(std::string_view bucket,
                                                                      std::uint16_t vb) const {
  std::lock_guard lock(impl_->state.mutex);
  std::vector<couchbase_failover_entry> out;
  for (const auto& e : impl_->state.bucket(bucket).vbuckets.at(vb).failover_log())
    out.push_back({e.uuid, e.seqno});
  return out;
}

std::vector<couchbase_history_item> couchbase_cluster::history(std::string_view bucket,
                                                               std::uint16_t vb) const {
  std::lock_guard lock(impl_->state.mutex);
  std::vector<couchbase_history_item> out;
  for (const auto& [seqno, it] : impl_->state.bucket(bucket).vbuckets.at(vb).history()) {
    if (it.is_system_event())
      continue;
    couchbase_history_item h;
    h.type = it.kind == item_kind::mutation   ? couchbase_history_item::kind::mutation
             : it.kind == item_kind::deletion ? couchbase_history_item::kind::deletion
                                              : couchbase_history_item::kind::expiration;
    h.seqno = seqno;
    h.rev_seqno = it.rev_seqno;
    h.cas = it.cas;
    h.collection_id = it.id.collection_id;
    h.key = it.id.key;
    h.value = it.body;
    out.push_back(std::move(h));
  }
  return out;
}

void couchbase_cluster::compact(std::string_view bucket, std::uint16_t vb,
                                std::uint64_t purge_upto) {
  std::lock_guard lock(impl_->state.mutex);
  impl_->state.bucket(bucket).vbuckets.at(vb).compact(purge_upto);
}

std::size_t couchbase_cluster::active_node(std::string_view bucket, std::uint16_t vb) const {
  std::lock_guard lock(impl_->state.mutex);
  return static_cast<std::size_t>(impl_->state.bucket(bucket).vbucket_map.at(vb).at(0));
}

std::int64_t couchbase_cluster::config_rev() const {
  std::lock_guard lock(impl_->state.mutex);
  return impl_->state.rev;
}

void couchbase_cluster::move_vbucket(std::string_view bucket, std::uint16_t vb,
                                     std::size_t to_node) {
  {
    std::lock_guard lock(impl_->state.mutex);
    auto& st = impl_->state;
    if (to_node >= st.nodes.size() || !st.nodes[to_node].in_cluster)
      throw std::invalid_argument("node " + std::to_string(to_node) + " is not in the cluster");
    auto& b = st.bucket(bucket);
    st.take_over(b, vb, static_cast<int>(to_node));
    ++st.rev;
  }
  impl_->push_configs();
}

void couchbase_cluster::pause_replication(std::string_view bucket, bool paused) {
  std::lock_guard lock(impl_->state.mutex);
  auto& b = impl_->state.bucket(bucket);
  b.replication_paused = paused;
  if (!paused)
    for (auto& v : b.vbuckets)
      v.set_replicated_seqno(v.high_seqno());
}

void couchbase_cluster::failover(std::size_t node, bool lose_unreplicated) {
  {
    std::lock_guard lock(impl_->state.mutex);
    auto& st = impl_->state;
    if (node >= st.nodes.size() || !st.nodes[node].in_cluster)
      throw std::invalid_argument("node " + std::to_string(node) + " is not in the cluster");
    if (st.active_nodes().size() == 1)
      throw std::invalid_argument("cannot fail over the last node");
    st.nodes[node].in_cluster = false;
    auto remaining = st.active_nodes();
    for (auto& [name, b] : st.buckets) {
      for (std::size_t vb = 0; vb < b.vbucket_map.size(); ++vb) {
        auto& row = b.vbucket_map[vb];
        bool was_active = row[0] == static_cast<int>(node);
        std::replace(row.begin(), row.end(), static_cast<int>(node), -1);
        if (!was_active)
          continue;
        // The first replica is promoted; without one, another node takes the (data of the)
        // vbucket, as if restored.
        int promoted = -1;
        for (std::size_t r = 1; r < row.size(); ++r)
          if (row[r] >= 0) {
            promoted = row[r];
            break;
          }
        if (promoted < 0)
          promoted = static_cast<int>(remaining[vb % remaining.size()]);
        auto& store = b.vbuckets[vb];
        if (lose_unreplicated)
          store.truncate(store.replicated_seqno());
        row[0] = -1;
        st.take_over(b, static_cast<std::uint16_t>(vb), promoted);
      }
    }
    ++st.rev;
  }
  impl_->on_io([this, node] {
    impl_->close_node_io(node);
    return 0;
  });
  impl_->push_configs();
}

std::size_t couchbase_cluster::add_node() {
  std::size_t id = 0;
  {
    std::lock_guard lock(impl_->state.mutex);
    id = impl_->state.nodes.size();
    impl_->state.nodes.push_back({.id = id, .in_cluster = false});
  }
  impl_->on_io([this, id] {
    impl_->start_node(id);
    return 0;
  });
  {
    std::lock_guard lock(impl_->state.mutex);
    impl_->state.nodes[id].in_cluster = true;
    impl_->state.rebalance();
  }
  impl_->push_configs();
  return id;
}

void couchbase_cluster::remove_node(std::size_t node) {
  {
    std::lock_guard lock(impl_->state.mutex);
    auto& st = impl_->state;
    if (node >= st.nodes.size() || !st.nodes[node].in_cluster)
      throw std::invalid_argument("node " + std::to_string(node) + " is not in the cluster");
    if (st.active_nodes().size() == 1)
      throw std::invalid_argument("cannot remove the last node");
    st.nodes[node].in_cluster = false;
    st.rebalance();
  }
  impl_->push_configs();
  impl_->on_io([this, node] {
    impl_->close_node_io(node);
    return 0;
  });
}

void couchbase_cluster::advance_clock(std::chrono::seconds d) {
  impl_->state.advance(d);
}

std::size_t couchbase_cluster::run_expiry_pager() {
  std::lock_guard lock(impl_->state.mutex);
  return impl_->state.expiry_pager();
}

void couchbase_cluster::drop_connections() {
  if (!impl_->running)
    return;
  impl_->on_io([this] {
    auto sessions = impl_->ctx.sessions;
    for (auto& s : sessions)
      s->close();
    return 0;
  });
}

void couchbase_cluster::delay_responses(std::chrono::milliseconds d) {
  impl_->ctx.delay_ms = d.count();
}

void couchbase_cluster::fail_next_ops(int n, std::uint16_t status) {
  std::lock_guard lock(impl_->state.mutex);
  impl_->state.fail_ops_remaining = n;
  impl_->state.fail_ops_status = status;
}

void couchbase_cluster::apply_then_drop_next_ops(int n) {
  std::lock_guard lock(impl_->state.mutex);
  impl_->state.drop_after_apply_remaining = n;
}

void couchbase_cluster::fail_next_dcp_opens(int n, std::uint16_t status) {
  std::lock_guard lock(impl_->state.mutex);
  impl_->state.fail_dcp_opens_remaining = n;
  impl_->state.fail_dcp_opens_status = status;
}

void couchbase_cluster::end_stream(std::string_view bucket, std::uint16_t vb,
                                   mcbp::stream_end_reason reason) {
  if (!impl_->running)
    return;
  impl_->on_io([this, b = std::string(bucket), vb, reason] {
    auto sessions = impl_->ctx.sessions;
    for (auto& s : sessions)
      if (auto* p = s->dcp(); p && s->bucket() == b)
        p->end_stream(vb, reason);
    return 0;
  });
}

void couchbase_cluster::drop_after_next_marker(std::string_view bucket, std::uint16_t vb) {
  if (!impl_->running)
    return;
  impl_->on_io([this, b = std::string(bucket), vb] {
    impl_->ctx.dcp.drop_after_marker.insert({b, vb});
    return 0;
  });
}

void couchbase_cluster::move_after_next_marker(std::string_view bucket, std::uint16_t vb,
                                               std::size_t to_node) {
  {
    std::lock_guard lock(impl_->state.mutex);
    auto& st = impl_->state;
    if (to_node >= st.nodes.size() || !st.nodes[to_node].in_cluster)
      throw std::invalid_argument("node " + std::to_string(to_node) + " is not in the cluster");
    auto& b = st.bucket(bucket);
    if (vb >= b.vbucket_map.size())
      throw std::invalid_argument("vbucket " + std::to_string(vb) + " is out of range");
  }
  if (!impl_->running)
    return;
  impl_->on_io([this, b = std::string(bucket), vb, to_node] {
    impl_->ctx.dcp.move_after_marker[{b, vb}] = to_node;
    return 0;
  });
}

void couchbase_cluster::answer_stream_request_late(std::string_view bucket, std::uint16_t vb) {
  if (!impl_->running)
    return;
  impl_->on_io([this, b = std::string(bucket), vb] {
    impl_->ctx.dcp.late_stream_response.insert({b, vb});
    return 0;
  });
}

std::vector<couchbase_dcp_connection_stats> couchbase_cluster::dcp_stats() const {
  if (!impl_->running)
    return {};
  return impl_->on_io([this] {
    std::vector<couchbase_dcp_connection_stats> out;
    for (auto& s : impl_->ctx.sessions) {
      auto* p = s->dcp();
      if (!p)
        continue;
      auto st = p->get_stats();
      out.push_back({p->name(), s->node(), s->bucket(), st.buffer_size, st.unacked_bytes,
                     st.bytes_sent, st.messages_sent, st.noops_sent, st.paused, st.streams});
    }
    return out;
  });
}

void couchbase_cluster::set_dcp_timing(std::chrono::milliseconds idle_timeout,
                                       std::chrono::milliseconds min_noop_interval) {
  auto apply = [this, idle_timeout, min_noop_interval] {
    impl_->ctx.dcp.idle_timeout = idle_timeout;
    impl_->ctx.dcp.min_noop_interval = min_noop_interval;
    return 0;
  };
  if (impl_->running)
    impl_->on_io(apply);
  else
    apply();
}

std::size_t couchbase_cluster::connection_count() const {
  if (!impl_->running)
    return 0;
  return impl_->on_io([this] { return impl_->ctx.sessions.size(); });
}

std::size_t couchbase_cluster::kv_connections_accepted(std::uint16_t port) const {
  if (!impl_->running)
    return 0;
  return impl_->on_io([this, port] {
    auto it = impl_->accepted.find(port);
    return it == impl_->accepted.end() ? std::size_t{0} : it->second;
  });
}

}  // namespace cbes::testkit
