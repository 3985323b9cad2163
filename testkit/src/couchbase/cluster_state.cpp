#include "cluster_state.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "cbes/mcbp/collection_key.hpp"

namespace cbes::testkit::couchbase {

namespace json = boost::json;

namespace {

// kv_engine's protocol docs: what a 7.x Couchbase bucket advertises.
constexpr std::string_view bucket_capabilities[] = {"collections",
                                                    "durableWrite",
                                                    "tombstonedUserXAttrs",
                                                    "subdoc.ReplaceBodyWithXattr",
                                                    "subdoc.DocumentMacroSupport",
                                                    "subdoc.ReviveDocument",
                                                    "preserveExpiry",
                                                    "dcp",
                                                    "cbhello",
                                                    "touch",
                                                    "cccp",
                                                    "xdcrCheckpointing",
                                                    "nodesExt",
                                                    "xattr",
                                                    "dcp.IgnorePurgedTombstones"};

// A relative expiry above 30 days is an absolute unix time (memcached rule).
constexpr std::uint32_t relative_expiry_limit = 30 * 24 * 3600;

json::object cluster_capabilities() {
  return {{"n1ql", json::array{"enhancedPreparedStatements"}}};
}

}  // namespace

const mcbp::collection_info* bucket_state::collection(std::uint32_t cid) const {
  for (const auto& s : manifest.scopes)
    for (const auto& c : s.collections)
      if (c.uid == cid)
        return &c;
  return nullptr;
}

bool user_state::may_access(std::string_view bucket) const {
  return buckets.empty() || std::find(buckets.begin(), buckets.end(), bucket) != buckets.end();
}

cluster_state::cluster_state(couchbase_cluster_options options)
    : options_(std::move(options)), rng_(std::random_device{}()) {
  for (std::size_t i = 0; i < std::max<std::size_t>(options_.nodes, 1); ++i)
    nodes.push_back({.id = i});
  for (const auto& u : options_.users)
    add_user(u);
  for (const auto& b : options_.buckets)
    create_bucket(b);
}

void cluster_state::add_user(const couchbase_user& u) {
  user_state s{u.password, u.buckets, {}, u.dcp_reader};
  std::string salt(16, '\0');
  for (auto& c : salt)
    c = static_cast<char>(random_u64());
  for (auto m : {mcbp::sasl_mechanism::scram_sha1, mcbp::sasl_mechanism::scram_sha256,
                 mcbp::sasl_mechanism::scram_sha512})
    s.scram[m] = mcbp::scram_credentials::derive(m, u.password, salt, options_.scram_iterations);
  users[u.name] = std::move(s);
}

void cluster_state::create_bucket(const couchbase_bucket_options& o) {
  if (o.num_vbuckets == 0 || o.num_vbuckets > 1024 || (o.num_vbuckets & (o.num_vbuckets - 1)))
    throw std::invalid_argument("bucket '" + o.name +
                                "': num_vbuckets must be a power of two up to 1024");
  if (o.num_replicas < 0 || o.num_replicas > 3)
    throw std::invalid_argument("bucket '" + o.name + "': num_replicas must be 0..3");
  if (buckets.count(o.name))
    throw std::invalid_argument("bucket '" + o.name + "' already exists");
  bucket_state b;
  b.name = o.name;
  char uuid[33];
  std::snprintf(uuid, sizeof uuid, "%016llx%016llx", static_cast<unsigned long long>(random_u64()),
                static_cast<unsigned long long>(random_u64()));
  b.uuid = uuid;
  b.num_replicas = o.num_replicas;
  for (std::size_t i = 0; i < o.num_vbuckets; ++i)
    b.vbuckets.emplace_back(random_u64() >> 16);
  b.vbucket_map.assign(o.num_vbuckets, {});
  b.manifest.uid = 0;
  mcbp::collection_info default_collection;
  default_collection.name = "_default";
  default_collection.uid = mcbp::default_collection_id;
  b.manifest.scopes.push_back({"_default", mcbp::default_scope_id, {default_collection}});
  auto& stored = buckets[o.name] = std::move(b);
  auto active = active_nodes();
  for (std::size_t vb = 0; vb < stored.vbucket_map.size(); ++vb) {
    auto& row = stored.vbucket_map[vb];
    row.assign(static_cast<std::size_t>(stored.num_replicas) + 1, -1);
    for (std::size_t r = 0; r < row.size() && r < active.size(); ++r)
      row[r] = static_cast<int>(active[(vb + r) % active.size()]);
  }
  ++rev;
}

bucket_state* cluster_state::find_bucket(std::string_view name) {
  auto it = buckets.find(name);
  return it == buckets.end() ? nullptr : &it->second;
}

bucket_state& cluster_state::bucket(std::string_view name) {
  if (auto* b = find_bucket(name))
    return *b;
  throw std::invalid_argument("no bucket named '" + std::string(name) + "'");
}

std::vector<std::size_t> cluster_state::active_nodes() const {
  std::vector<std::size_t> out;
  for (const auto& n : nodes)
    if (n.in_cluster)
      out.push_back(n.id);
  return out;
}

void cluster_state::take_over(bucket_state& b, std::uint16_t vb, int node) {
  auto& row = b.vbucket_map[vb];
  if (!row.empty() && row[0] == node)
    return;
  std::erase(row, node);
  row.insert(row.begin(), node);
  row.resize(static_cast<std::size_t>(b.num_replicas) + 1, -1);
  b.vbuckets[vb].add_failover_entry(random_u64() >> 16);
  changed();
}

void cluster_state::rebalance() {
  auto active = active_nodes();
  for (auto& [name, b] : buckets) {
    for (std::size_t vb = 0; vb < b.vbucket_map.size(); ++vb) {
      std::vector<int> row(static_cast<std::size_t>(b.num_replicas) + 1, -1);
      for (std::size_t r = 0; r < row.size() && r < active.size(); ++r)
        row[r] = static_cast<int>(active[(vb + r) % active.size()]);
      if (!active.empty() && b.vbucket_map[vb][0] != row[0])
        b.vbuckets[vb].add_failover_entry(random_u64() >> 16);
      b.vbucket_map[vb] = std::move(row);
    }
  }
  ++rev;
  changed();
}

namespace {

// `alternateAddresses`: {"external":{"hostname":..,"ports":{"kv":..,"kvSSL":..,"mgmt":..}}}.
void add_alternate_addresses(json::object& ext, const couchbase_cluster_options& o,
                             const node_info& n) {
  if (!o.external)
    return;
  json::object external{{"hostname", o.external->hostname}};
  const bool separate = o.external->separate_ports;
  if (separate || n.advertised_ext_kv_port) {
    // Without separate ports the test hook still needs a `ports` object; it names the node's
    // default-network ports next to the advertised KV port.
    const std::uint16_t kv = separate ? n.ext_kv_port : n.kv_port;
    const std::uint16_t kv_tls = separate ? n.ext_kv_tls_port : n.kv_tls_port;
    json::object ports{{"kv", n.advertised_ext_kv_port ? n.advertised_ext_kv_port : kv},
                       {"mgmt", separate ? n.ext_mgmt_port : n.mgmt_port}};
    if (kv_tls)
      ports["kvSSL"] = kv_tls;
    external["ports"] = std::move(ports);
  }
  ext["alternateAddresses"] = json::object{{"external", std::move(external)}};
}

}  // namespace

std::string cluster_state::bucket_config_json(const bucket_state& b, std::string_view host,
                                              std::optional<std::size_t> this_node) const {
  // A node with alternate addresses has a real hostname of its own: no "$HOST" placeholder.
  if (options_.external && host == "$HOST")
    host = options_.bind_address;
  auto active = active_nodes();
  std::map<int, int> index_of;  // node id → index in serverList
  json::array server_list, nodes_json, nodes_ext;
  const bool single = active.size() == 1;
  for (std::size_t i = 0; i < active.size(); ++i) {
    const auto& n = nodes[active[i]];
    index_of[static_cast<int>(n.id)] = static_cast<int>(i);
    std::string h(host);
    server_list.emplace_back(h + ":" + std::to_string(n.kv_port));
    nodes_json.push_back(
        json::object{{"couchApiBase", "http://" + h + ":8092/" + b.name + "%2B" + b.uuid},
                     {"hostname", h + ":" + std::to_string(n.mgmt_port)},
                     {"ports", json::object{{"direct", n.kv_port}}}});
    json::object services{{"kv", n.kv_port}, {"mgmt", n.mgmt_port}};
    if (n.kv_tls_port)
      services["kvSSL"] = n.kv_tls_port;
    json::object ext{{"services", std::move(services)}};
    if (this_node && *this_node == n.id)
      ext["thisNode"] = true;
    // single-node clusters omit the hostname ("the host you connected to").
    if (!single || host != "$HOST")
      ext["hostname"] = host == "$HOST" ? options_.bind_address : std::string(host);
    add_alternate_addresses(ext, options_, n);
    nodes_ext.push_back(std::move(ext));
  }
  json::array vb_map;
  for (const auto& row : b.vbucket_map) {
    json::array r;
    for (int node : row)
      r.push_back(node < 0 || !index_of.count(node) ? -1 : index_of[node]);
    vb_map.push_back(std::move(r));
  }
  json::array caps;
  for (auto c : bucket_capabilities)
    caps.emplace_back(c);
  json::object o{
      {"rev", rev},
      {"revEpoch", rev_epoch},
      {"name", b.name},
      {"uuid", b.uuid},
      {"bucketType", "membase"},
      {"nodeLocator", "vbucket"},
      {"storageBackend", "couchstore"},
      {"numVBuckets", b.vbuckets.size()},
      {"uri", "/pools/default/buckets/" + b.name + "?bucket_uuid=" + b.uuid},
      {"streamingUri", "/pools/default/bucketsStreaming/" + b.name + "?bucket_uuid=" + b.uuid},
      {"ddocs", json::object{{"uri", "/pools/default/buckets/" + b.name + "/ddocs"}}},
      {"bucketCapabilitiesVer", ""},
      {"bucketCapabilities", std::move(caps)},
      {"collectionsManifestUid", mcbp::format_hex_id(b.manifest.uid)},
      {"vBucketServerMap", json::object{{"hashAlgorithm", "CRC"},
                                        {"numReplicas", b.num_replicas},
                                        {"serverList", std::move(server_list)},
                                        {"vBucketMap", std::move(vb_map)}}},
      {"nodes", std::move(nodes_json)},
      {"nodesExt", std::move(nodes_ext)},
      {"clusterCapabilitiesVer", json::array{1, 0}},
      {"clusterCapabilities", cluster_capabilities()},
  };
  return json::serialize(o);
}

std::string cluster_state::global_config_json(std::optional<std::size_t> this_node) const {
  json::array nodes_ext;
  auto active = active_nodes();
  for (auto id : active) {
    const auto& n = nodes[id];
    json::object services{{"kv", n.kv_port}, {"mgmt", n.mgmt_port}};
    if (n.kv_tls_port)
      services["kvSSL"] = n.kv_tls_port;
    json::object ext{{"services", std::move(services)}};
    if (this_node && *this_node == id)
      ext["thisNode"] = true;
    if (active.size() > 1 || options_.external)
      ext["hostname"] = options_.bind_address;
    add_alternate_addresses(ext, options_, n);
    nodes_ext.push_back(std::move(ext));
  }
  json::object o{{"rev", rev},
                 {"revEpoch", rev_epoch},
                 {"nodesExt", std::move(nodes_ext)},
                 {"clusterCapabilitiesVer", json::array{1, 0}},
                 {"clusterCapabilities", cluster_capabilities()}};
  return json::serialize(o);
}

std::uint32_t cluster_state::now() const {
  auto wall = std::chrono::duration_cast<std::chrono::seconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
  return static_cast<std::uint32_t>(wall + clock_offset_.load());
}

std::uint32_t cluster_state::absolute_expiry(std::uint32_t expiry) const {
  if (expiry == 0)
    return 0;
  return expiry <= relative_expiry_limit ? now() + expiry : expiry;
}

std::uint64_t cluster_state::next_cas() {
  auto ns = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
  last_cas_ = std::max(last_cas_ + 1, ns);
  return last_cas_;
}

std::uint64_t cluster_state::random_u64() {
  return rng_();
}

const item* cluster_state::live_document(bucket_state& b, std::uint16_t vb, const doc_key& id) {
  const item* cur = b.vbuckets[vb].find(id);
  if (!cur || cur->deleted())
    return nullptr;
  if (cur->expiry != 0 && cur->expiry <= now()) {
    tombstone(b, vb, *cur, item_kind::expiration);
    return nullptr;
  }
  return cur;
}

const item& cluster_state::write(bucket_state& b, std::uint16_t vb, item it) {
  auto& store = b.vbuckets[vb];
  const item& out = store.append(std::move(it));
  if (!b.replication_paused)
    store.set_replicated_seqno(store.high_seqno());
  changed();
  return out;
}

void cluster_state::record_event(bucket_state& b, const system_event_data& e) {
  for (auto& store : b.vbuckets) {
    item it;
    // Scope events belong to no collection (keeps per-collection high seqnos exact).
    it.id = {e.event >= 3 ? 0xffffffffU : e.collection_id, e.name};
    it.cas = next_cas();
    it.event = e;
    store.append_event(std::move(it));
    if (!b.replication_paused)
      store.set_replicated_seqno(store.high_seqno());
  }
  changed();
}

const item& cluster_state::tombstone(bucket_state& b, std::uint16_t vb, const item& current,
                                     item_kind kind) {
  item t;
  t.id = current.id;
  t.kind = kind;
  t.cas = next_cas();
  t.delete_time = now();
  for (const auto& x : current.xattrs)
    if (mcbp::is_system_xattr(x.key))
      t.xattrs.push_back(x);
  return write(b, vb, std::move(t));
}

std::size_t cluster_state::expiry_pager() {
  std::size_t expired = 0;
  auto t = now();
  for (auto& [name, b] : buckets) {
    for (std::size_t vb = 0; vb < b.vbuckets.size(); ++vb) {
      std::vector<doc_key> due;
      for (const auto& [id, seqno] : b.vbuckets[vb].index()) {
        const auto& it = b.vbuckets[vb].history().at(seqno);
        if (!it.deleted() && it.expiry != 0 && it.expiry <= t)
          due.push_back(id);
      }
      for (const auto& id : due) {
        item copy = *b.vbuckets[vb].find(id);
        tombstone(b, static_cast<std::uint16_t>(vb), copy, item_kind::expiration);
        ++expired;
      }
    }
  }
  return expired;
}

std::optional<std::pair<std::string, std::string>> split_collection_path(std::string_view path) {
  auto dot = path.find('.');
  if (dot == std::string_view::npos)
    return std::nullopt;
  return std::pair{std::string(path.substr(0, dot)), std::string(path.substr(dot + 1))};
}

}  // namespace cbes::testkit::couchbase
