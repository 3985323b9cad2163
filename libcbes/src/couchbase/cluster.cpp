#include "cbes/couchbase/cluster.hpp"

#include <algorithm>
#include <map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "cbes/couchbase/seed.hpp"
#include "cbes/mcbp/bucket_config.hpp"
#include "cbes/mcbp/cluster_config.hpp"
#include "cbes/mcbp/collection_key.hpp"
#include "cbes/mcbp/collections_manifest.hpp"
#include "cbes/mcbp/datatype.hpp"
#include "cbes/mcbp/error_context.hpp"
#include "cbes/mcbp/snappy.hpp"
#include "http_config.hpp"
#include "kv_command.hpp"

namespace cbes::couchbase {
namespace asio = boost::asio;
using boost::system::error_code;
using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr auto use_awaitable = asio::use_awaitable;

// Retry backoff for NMVB / temporary failures / lost connections: short first (a vbucket move
// completes quickly), capped so a long outage does not spin.
constexpr milliseconds first_backoff{2};
constexpr milliseconds max_backoff{200};

asio::awaitable<void> sleep_for(clock::duration d) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  error_code ec;
  co_await t.async_wait(asio::redirect_error(use_awaitable, ec));
}

long long ms(clock::duration d) {
  return std::chrono::duration_cast<milliseconds>(d).count();
}

// Background coroutines have no caller to hand an error to: one that ends with an exception
// rethrows it from the executor (out of io_context::run()) instead of vanishing.
constexpr auto rethrow_if_failed = [](const std::exception_ptr& e) {
  if (e)
    std::rethrow_exception(e);
};

// Where an applied config came from (cluster_counters).
enum class config_source { fetched, pushed, not_my_vbucket };

bool definitive(const error& e) {
  return e.code == errc::authentication_failed || e.code == errc::bucket_not_found ||
         e.code == errc::no_sasl_mechanism || e.code == errc::invalid_argument ||
         e.code == errc::closed;
}

// Target of one KV request: which vbucket and (through the topology) which node.
using target_fn = std::function<std::optional<vbucket_route>(const topology&)>;
using build_fn = std::function<mcbp::frame_builder(const connection&, std::uint16_t vbucket)>;

struct kv_response {
  mcbp::owned_frame frame;
  std::uint16_t vbucket = 0;
};

// The retry budget of one KV operation: a deadline, a truncated exponential backoff and the
// last problem seen, which the final error reports. Callers note a problem, then wait():
//
//   retry.note("NOT_MY_VBUCKET from " + node, false);
//   co_await retry.wait();
class retry_budget {
 public:
  explicit retry_budget(clock::duration timeout) : deadline_(start_ + timeout) {}

  clock::time_point deadline() const noexcept { return deadline_; }
  bool expired() const noexcept { return clock::now() >= deadline_; }
  // `temporary`: the server said ETMPFAIL/EBUSY, reported as temporary_failure at the end.
  void note(std::string problem, bool temporary) {
    last_problem_ = std::move(problem);
    last_temporary_ = temporary;
  }
  // Sleeps the next backoff step, never past the deadline.
  asio::awaitable<void> wait() {
    const auto left = std::max(deadline_ - clock::now(), clock::duration{});
    co_await sleep_for(std::min<clock::duration>(backoff_, left));
    backoff_ = std::min(backoff_ * 2, max_backoff);
  }
  // The error once expired(): temporary_failure or timeout, naming the last problem.
  error exhausted(const std::string& what) const {
    const auto elapsed = std::to_string(ms(clock::now() - start_));
    if (last_temporary_)
      return make_error(errc::temporary_failure,
                        what + " still failing after " + elapsed + " ms: " + last_problem_);
    return make_error(errc::timeout, what + " timed out after " + elapsed +
                                         " ms (last problem: " + last_problem_ + ")");
  }

 private:
  clock::time_point start_ = clock::now();
  clock::time_point deadline_;
  milliseconds backoff_ = first_backoff;
  std::string last_problem_ = "no attempt";
  bool last_temporary_ = false;
};

}  // namespace

struct cluster::impl : std::enable_shared_from_this<cluster::impl> {
  struct node_slot {
    std::shared_ptr<connection> conn;
    bool connecting = false;
    // get_connection() calls waiting for `connecting` to end; each timer expires at its
    // caller's deadline and is cancelled when the connect attempt ends.
    std::vector<std::shared_ptr<asio::steady_timer>> waiters;

    void wake_waiters() {
      for (auto& t : waiters)
        t->cancel();
      waiters.clear();
    }
  };

  impl(executor_type e, cluster_options o) : ex(std::move(e)), opts(std::move(o)), poll_timer(ex) {}

  executor_type ex;
  cluster_options opts;
  std::vector<seed> seeds;
  std::string network;
  std::optional<mcbp::bucket_config> config;
  std::string config_json;
  std::shared_ptr<const topology> topo;
  std::map<std::string, node_slot> slots;  // by "host:port" of the KV endpoint
  std::map<std::string, std::uint32_t> collection_ids;
  // Subscribers by id (ascending = subscription order); shared so a notification can hold one
  // while the map changes underneath it.
  std::map<std::uint64_t, std::shared_ptr<std::function<void(std::shared_ptr<const topology>)>>>
      topology_handlers;
  std::uint64_t last_topology_handler = 0;
  asio::steady_timer poll_timer;
  bool refreshing = false;
  bool closed = false;
  cluster_counters counts;

  connection_options options_for(const endpoint& node) const {
    connection_options o;
    o.address = node;
    o.tls = opts.tls;
    o.username = opts.username;
    o.password = opts.password;
    o.bucket = opts.bucket;
    o.agent = opts.agent;
    o.sasl_mechanisms = opts.sasl_mechanisms;
    o.allow_plain_without_tls = opts.allow_plain_without_tls;
    o.config_push = opts.config_push;
    o.connect_timeout = opts.connect_timeout;
    o.bootstrap_timeout = opts.bootstrap_timeout;
    return o;
  }

  std::vector<std::string> seed_hosts() const {
    std::vector<std::string> hosts;
    for (const auto& s : seeds)
      hosts.push_back(s.host);
    return hosts;
  }

  // ---- configs -------------------------------------------------------------------------------

  // Applies `json` if it is a bucket config newer than ours (ordered by (revEpoch, rev)).
  // Returns an error only for configs that cannot be used at all.
  result<bool> apply_config(std::string_view json, std::string_view connected_host,
                            config_source source = config_source::fetched) {
    auto cfg = mcbp::parse_bucket_config(json, connected_host);
    if (!cfg)
      return make_error(
          errc::protocol_error,
          "bad bucket config from " + std::string(connected_host) + ": " + cfg.error().message());
    if (!cfg->vbucket_server_map)  // a global (bucket-less) config: not for routing
      return false;
    if (config && !mcbp::is_newer(*cfg, *config))
      return false;
    if (!config)
      network = select_network(*cfg, opts.network, seed_hosts());
    auto t = make_topology(*cfg, network, opts.tls.enabled);
    if (!t)
      return t.error();
    config = std::move(*cfg);
    config_json = std::string(json);
    topo = std::make_shared<const topology>(std::move(*t));
    switch (source) {
      case config_source::fetched:
        ++counts.configs_fetched;
        break;
      case config_source::pushed:
        ++counts.configs_pushed;
        break;
      case config_source::not_my_vbucket:
        ++counts.configs_from_not_my_vbucket;
        break;
    }
    // Nodes gone from the map (failover, rebalance out): drop their connections.
    const auto kv = topo->kv_endpoints();
    for (auto it = slots.begin(); it != slots.end();) {
      const bool present = std::any_of(
          kv.begin(), kv.end(), [&](const endpoint& e) { return e.to_string() == it->first; });
      if (!present && !it->second.connecting) {
        if (it->second.conn)
          it->second.conn->close();
        it = slots.erase(it);
      } else {
        ++it;
      }
    }
    notify_topology(topo);
    return true;
  }

  // Only the subscribers present when the change arrived hear it, each unless removed meanwhile;
  // the map is re-looked-up per id because a handler may add or remove subscriptions.
  void notify_topology(const std::shared_ptr<const topology>& t) {
    std::vector<std::uint64_t> ids;
    ids.reserve(topology_handlers.size());
    for (const auto& [id, _] : topology_handlers)
      ids.push_back(id);
    for (auto id : ids) {
      auto it = topology_handlers.find(id);
      if (it == topology_handlers.end())
        continue;
      auto handler = it->second;  // keeps it alive if it removes itself
      try {
        (*handler)(t);
      } catch (...) {
        // One subscriber's bug must not keep the others (or the connection whose push this is)
        // from the change; the owner still hears of it, from io_context::run().
        asio::post(ex, [e = std::current_exception()] { std::rethrow_exception(e); });
      }
    }
  }

  void attach(const std::shared_ptr<connection>& c) {
    std::weak_ptr<impl> weak = shared_from_this();
    const std::string host = c->address().host;
    c->on_config([weak, host](std::string json) {
      auto self = weak.lock();
      if (!self || self->closed)
        return;
      if (json.empty() || !self->apply_config(json, host, config_source::pushed))
        self->schedule_refresh();
    });
    c->on_close([weak](const error&) {
      if (auto self = weak.lock(); self && !self->closed)
        self->schedule_refresh();
    });
  }

  void schedule_refresh() {
    if (refreshing || closed)
      return;
    asio::co_spawn(ex, refresh(shared_from_this()), rethrow_if_failed);
  }

  static asio::awaitable<void> refresh(std::shared_ptr<impl> self) {
    co_await self->refresh_config();
  }

  // GET_CLUSTER_CONFIG from the first node that answers: open connections first, then the
  // others in the current map.
  asio::awaitable<result<void>> refresh_config() {
    auto self = shared_from_this();
    if (refreshing)
      co_return result<void>{};
    refreshing = true;
    // Cleared however this ends, an exception included: a stuck flag would stop every refresh.
    struct refresh_guard {
      bool& flag;
      ~refresh_guard() { flag = false; }
    } guard{refreshing};
    std::vector<endpoint> candidates;
    for (auto& [key, slot] : slots)
      if (slot.conn && slot.conn->is_open())
        candidates.push_back(slot.conn->address());
    if (topo)
      for (const auto& e : topo->kv_endpoints())
        if (std::find(candidates.begin(), candidates.end(), e) == candidates.end())
          candidates.push_back(e);
    std::optional<error> last;
    const auto deadline = clock::now() + opts.operation_timeout;
    for (const auto& e : candidates) {
      if (closed)
        break;
      auto c = co_await get_connection(e, deadline);
      if (!c) {
        last = c.error();
        continue;
      }
      auto request = mcbp::get_cluster_config_request{}.encode();
      const auto left = std::max(deadline - clock::now(), clock::duration::zero());
      auto r = co_await (*c)->execute(std::move(request), left);
      if (!r) {
        last = r.error();
        continue;
      }
      if (r->view().status() != mcbp::status::success) {
        last = make_error(errc::server_error, "GET_CLUSTER_CONFIG on " + e.to_string() + ": " +
                                                  std::string(mcbp::to_string(r->view().status())));
        continue;
      }
      auto json =
          mcbp::inflate_value(r->view().datatype(), r->view().value, mcbp::default_max_frame_size);
      if (!json)
        continue;
      auto applied = apply_config(*json, e.host);
      if (!applied) {
        last = applied.error();
        continue;
      }
      co_return result<void>{};
    }
    if (closed)
      co_return make_error(errc::closed, "cluster was closed");
    co_return last ? *last : make_error(errc::no_config, "no node to refresh the config from");
  }

  static asio::awaitable<void> poll_loop(std::weak_ptr<impl> weak, milliseconds interval) {
    for (;;) {
      {
        auto self = weak.lock();
        if (!self || self->closed)
          co_return;
        self->poll_timer.expires_after(interval);
        error_code ec;
        co_await self->poll_timer.async_wait(asio::redirect_error(use_awaitable, ec));
        if (self->closed)
          co_return;
        ++self->counts.config_polls;
        co_await self->refresh_config();
      }
    }
  }

  // ---- connections ---------------------------------------------------------------------------

  asio::awaitable<result<std::shared_ptr<connection>>> get_connection(endpoint e,
                                                                      clock::time_point deadline) {
    auto self = shared_from_this();
    const std::string key = e.to_string();
    for (;;) {
      if (closed)
        co_return make_error(errc::closed, "cluster was closed");
      std::shared_ptr<connection> existing;
      bool connecting = false;
      if (auto it = slots.find(key); it != slots.end()) {
        existing = it->second.conn;
        connecting = it->second.connecting;
      }
      if (existing && existing->is_open())
        co_return existing;
      if (!connecting)
        break;
      if (clock::now() >= deadline)
        co_return make_error(errc::timeout, "connecting to " + key + " timed out");
      // Someone else is connecting to this node: sleep until that attempt ends (or our deadline
      // passes), then look again.
      auto woken = std::make_shared<asio::steady_timer>(ex, deadline);
      slots[key].waiters.push_back(woken);
      error_code ec;
      co_await woken->async_wait(asio::redirect_error(use_awaitable, ec));
      if (auto it = slots.find(key); it != slots.end())
        std::erase(it->second.waiters, woken);
    }
    slots[key].connecting = true;
    auto o = options_for(e);
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - clock::now());
    o.connect_timeout = std::clamp(left, milliseconds{1}, opts.connect_timeout);
    o.bootstrap_timeout = std::clamp(left, milliseconds{1}, opts.bootstrap_timeout);
    auto opened = co_await connection::open(ex, o);
    slots[key].connecting = false;
    slots[key].wake_waiters();
    if (!opened)
      co_return opened.error();
    ++counts.connections_opened;
    std::shared_ptr<connection> c = std::move(*opened);
    if (closed) {
      c->close();
      co_return make_error(errc::closed, "cluster was closed");
    }
    attach(c);
    slots[key].conn = c;
    if (!c->bootstrap_config().empty())
      (void)apply_config(c->bootstrap_config(), e.host);
    co_return c;
  }

  // ---- the retry loop of every KV operation --------------------------------------------------

  // `idempotent`: the request may be sent again when a first attempt's outcome is unknown (it
  // was written, then the connection closed). Otherwise that outcome is errc::ambiguous, as is a
  // deadline passing after the request went out; requests never sent, NOT_MY_VBUCKET and
  // temporary failures (the server applied nothing) are always retried.
  asio::awaitable<result<kv_response>> dispatch(std::string what, target_fn target, build_fn build,
                                                bool idempotent) {
    auto self = shared_from_this();
    retry_budget retry(opts.operation_timeout);
    for (;;) {
      if (closed)
        co_return make_error(errc::closed, what + ": cluster was closed");
      if (retry.expired())
        co_return retry.exhausted(what);
      auto current = topo;
      auto r = current ? target(*current) : std::nullopt;
      if (!r) {
        retry.note("no active node for the vbucket", false);
        schedule_refresh();
        co_await retry.wait();
        continue;
      }
      const endpoint node = current->nodes[r->node].kv;
      auto c = co_await get_connection(node, retry.deadline());
      if (!c) {
        if (definitive(c.error()))
          co_return c.error();
        retry.note(c.error().message, false);
        schedule_refresh();
        co_await retry.wait();
        continue;
      }
      auto left = std::max(retry.deadline() - clock::now(), clock::duration{milliseconds{1}});
      auto request = build(**c, r->vbucket);
      auto resp = co_await (*c)->execute(std::move(request), left);
      if (!resp) {
        const auto code = resp.error().code;
        if (!idempotent && (code == errc::ambiguous || code == errc::timeout))
          co_return make_error(
              errc::ambiguous,
              what + ": " + resp.error().message +
                  (code == errc::timeout ? "; it may or may not have been applied" : ""));
        if (code == errc::timeout) {
          retry.note("no response from " + node.to_string(), false);
          continue;  // the deadline check above ends it
        }
        retry.note(resp.error().message, false);
        schedule_refresh();
        co_await retry.wait();
        continue;
      }
      const auto& f = resp->view();
      const auto s = f.status();
      if (s == mcbp::status::not_my_vbucket) {
        // the body may carry a newer config; otherwise ask for one.
        retry.note("NOT_MY_VBUCKET from " + node.to_string() + " for vbucket " +
                       std::to_string(r->vbucket),
                   false);
        bool applied = false;
        if (!f.value.empty()) {
          auto json = mcbp::inflate_value(f.datatype(), f.value, mcbp::default_max_frame_size);
          if (json) {
            auto a = apply_config(*json, node.host, config_source::not_my_vbucket);
            applied = a && *a;
          }
        }
        if (!applied) {
          schedule_refresh();
          co_await retry.wait();
        }
        continue;
      }
      if (mcbp::is_temporary(s)) {
        retry.note(std::string(mcbp::to_string(s)) + " from " + node.to_string(), true);
        co_await retry.wait();
        continue;
      }
      co_return kv_response{std::move(*resp), r->vbucket};
    }
  }

  target_fn key_target(std::string key) {
    return [key = std::move(key)](const topology& t) { return t.route(key); };
  }

  // An error for a status the operation does not handle itself.
  error status_error(const std::string& what, const mcbp::frame& f, const collection* coll) {
    const auto s = f.status();
    auto ctx = mcbp::parse_error_context(f.value);
    std::string detail = ctx.context.empty() ? "" : " (" + ctx.context + ")";
    switch (s) {
      case mcbp::status::unknown_collection:
      case mcbp::status::unknown_scope:
        if (coll)
          collection_ids.erase(coll->path());
        return make_error(errc::unknown_collection,
                          "collection '" + (coll ? coll->path() : std::string("?")) +
                              "' not found in bucket '" + opts.bucket + "'" + detail,
                          s);
      case mcbp::status::eaccess:
        return make_error(errc::access_denied,
                          what + ": user '" + opts.username + "' lacks the privilege" + detail, s);
      case mcbp::status::key_enoent:
        return make_error(errc::document_not_found, what + ": document not found", s);
      case mcbp::status::key_eexists:
        return make_error(errc::document_exists, what + ": document exists (or its CAS changed)",
                          s);
      default:
        return make_error(errc::server_error,
                          what + " failed: " + std::string(mcbp::to_string(s)) + detail, s);
    }
  }

  // The key as sent: collection-id prefixed when the connection negotiated collections.
  static std::string wire_key(const connection& c, std::uint32_t cid, const std::string& key) {
    return c.has_feature(mcbp::feature::collections) ? mcbp::encode_collection_key(cid, key) : key;
  }

  asio::awaitable<result<std::uint32_t>> resolve(const collection& coll) {
    if (coll.is_default())
      co_return mcbp::default_collection_id;
    if (auto it = collection_ids.find(coll.path()); it != collection_ids.end())
      co_return it->second;
    auto self = shared_from_this();
    detail::collection_id_command cmd;
    cmd.path = coll.path();
    target_fn target = [](const topology& t) -> std::optional<vbucket_route> {
      for (std::size_t i = 0; i < t.nodes.size(); ++i)
        if (t.nodes[i].kv.port != 0)
          return vbucket_route{0, i};
      return std::nullopt;
    };
    build_fn build = [&cmd](const connection&, std::uint16_t vb) {
      return cmd.encode().vbucket(vb);
    };
    auto r = co_await execute_command("collection id lookup of '" + cmd.path + "'",
                                      std::move(target), std::move(build), cmd, &coll);
    if (r)
      collection_ids[cmd.path] = *r;
    co_return r;
  }

  // Every operation ends here: dispatch() sends `cmd` where `target` routes it, with retries,
  // and the command decodes the answer; statuses it does not decode become status_error().
  template <class Command>
  asio::awaitable<result<typename Command::result_type>> execute_command(std::string what,
                                                                         target_fn target,
                                                                         build_fn build,
                                                                         const Command& cmd,
                                                                         const collection* coll) {
    auto self = shared_from_this();
    auto r = co_await dispatch(what, std::move(target), std::move(build), cmd.idempotent());
    if (!r)
      co_return r.error();
    const auto& f = r->frame.view();
    if (!cmd.decodes(f.status()))
      co_return status_error(what, f, coll);
    co_return cmd.decode(f, r->vbucket, what);
  }

  // A document operation: the collection's id, then the key's vbucket on its active node.
  template <class Command>
  asio::awaitable<result<typename Command::result_type>> execute_on_key(collection coll,
                                                                        std::string key,
                                                                        Command cmd) {
    auto self = shared_from_this();
    auto cid = co_await resolve(coll);
    if (!cid)
      co_return cid.error();
    target_fn target = key_target(key);
    build_fn build = [&](const connection& c, std::uint16_t vb) {
      return cmd.encode(wire_key(c, *cid, key)).vbucket(vb);
    };
    co_return co_await execute_command(std::string(Command::name) + " '" + key + "'",
                                       std::move(target), std::move(build), cmd, &coll);
  }

  // A bucket-level read sent to the node `target` picks.
  template <class Command>
  asio::awaitable<result<typename Command::result_type>> execute_on_node(std::string what,
                                                                         target_fn target,
                                                                         Command cmd) {
    auto self = shared_from_this();
    build_fn build = [&cmd](const connection&, std::uint16_t vb) {
      return cmd.encode().vbucket(vb);
    };
    co_return co_await execute_command(std::move(what), std::move(target), std::move(build), cmd,
                                       nullptr);
  }

  void close() {
    if (closed)
      return;
    closed = true;
    poll_timer.cancel();
    for (auto& [key, slot] : slots) {
      slot.wake_waiters();
      if (slot.conn)
        slot.conn->close();
    }
    slots.clear();
    topology_handlers.clear();
  }
};

// ---- cluster ---------------------------------------------------------------------------------

asio::awaitable<result<std::shared_ptr<cluster>>> cluster::connect(executor_type ex,
                                                                   cluster_options options) {
  auto p = std::make_shared<impl>(ex, std::move(options));
  auto seeds = parse_seeds(p->opts.seeds, p->opts.tls.enabled);
  if (!seeds)
    co_return seeds.error();
  p->seeds = *seeds;
  if (p->opts.bucket.empty())
    co_return make_error(errc::invalid_argument, "no bucket given — set couchbase.bucket");
  if (!p->opts.tls.client_keystore.empty() && !p->opts.tls.enabled)
    co_return make_error(errc::invalid_argument,
                         "a client certificate needs TLS (couchbase.secureConnection = true)");
  std::vector<std::string> failures;
  bool only_timeouts = true;
  auto note = [&](const std::string& where, const error& e) {
    failures.push_back(where + ": " + e.message);
    only_timeouts = only_timeouts && e.code == errc::timeout;
  };

  // CCCP first (GET_CLUSTER_CONFIG on a KV connection).
  for (const auto& s : p->seeds) {
    if (s.kind != seed_kind::kv)
      continue;
    const endpoint e{s.host, s.port};
    auto c = co_await connection::open(ex, p->options_for(e));
    if (!c) {
      if (definitive(c.error()))
        co_return c.error();
      note(e.to_string(), c.error());
      continue;
    }
    if ((*c)->bootstrap_config().empty()) {
      note(e.to_string(), make_error(errc::no_config, "no config via GET_CLUSTER_CONFIG"));
      (*c)->close();
      continue;
    }
    auto applied = p->apply_config((*c)->bootstrap_config(), s.host);
    if (!applied || !*applied) {
      note(e.to_string(),
           applied ? make_error(errc::no_config, "config has no vbucket map") : applied.error());
      (*c)->close();
      continue;
    }
    // Keep the seed connection if the map names it (on an alternate network it may not).
    const auto kv = p->topo->kv_endpoints();
    if (std::find(kv.begin(), kv.end(), e) != kv.end()) {
      ++p->counts.connections_opened;
      p->attach(*c);
      p->slots[e.to_string()].conn = *c;
    } else {
      (*c)->close();
    }
    break;
  }

  // HTTP fallback: explicit manager seeds, then the manager port of every KV seed host.
  if (!p->topo && p->opts.http_bootstrap) {
    std::vector<endpoint> managers;
    const std::uint16_t mport =
        p->opts.tls.enabled ? default_manager_tls_port : default_manager_port;
    for (const auto& s : p->seeds)
      if (s.kind == seed_kind::manager)
        managers.push_back({s.host, s.port});
    for (const auto& s : p->seeds)
      if (s.kind == seed_kind::kv &&
          std::find(managers.begin(), managers.end(), endpoint{s.host, mport}) == managers.end())
        managers.push_back({s.host, mport});
    for (const auto& m : managers) {
      auto json = co_await detail::fetch_http_config(ex, m, p->opts.bucket, p->opts.username,
                                                     p->opts.password, p->opts.tls,
                                                     p->opts.bootstrap_timeout);
      if (!json) {
        if (definitive(json.error()))
          co_return json.error();
        note("http://" + m.to_string(), json.error());
        continue;
      }
      auto applied = p->apply_config(*json, m.host);
      if (!applied || !*applied) {
        note("http://" + m.to_string(),
             applied ? make_error(errc::no_config, "config has no vbucket map") : applied.error());
        continue;
      }
      break;
    }
  }

  if (!p->topo) {
    std::string msg = "could not bootstrap bucket '" + p->opts.bucket + "' from any seed";
    for (std::size_t i = 0; i < failures.size(); ++i)
      msg += (i == 0 ? ": " : "; ") + failures[i];
    co_return make_error(
        only_timeouts && !failures.empty() ? errc::timeout : errc::connection_failed,
        std::move(msg));
  }
  asio::co_spawn(ex, impl::poll_loop(p, p->opts.config_poll_interval), rethrow_if_failed);
  co_return std::shared_ptr<cluster>(new cluster(std::move(p)));
}

cluster::cluster(std::shared_ptr<impl> p) : impl_(std::move(p)) {}

cluster::~cluster() {
  impl_->close();
}

// Each operation is its command (kv_command.hpp) run by execute_on_key(), which holds the impl.
asio::awaitable<result<get_result>> cluster::get(collection coll, std::string key) {
  detail::get_command cmd;
  co_return co_await impl_->execute_on_key(std::move(coll), std::move(key), std::move(cmd));
}

asio::awaitable<result<mutation_result>> cluster::upsert(collection coll, std::string key,
                                                         std::string value,
                                                         upsert_options options) {
  detail::upsert_command cmd;
  cmd.value = std::move(value);
  cmd.options = options;
  co_return co_await impl_->execute_on_key(std::move(coll), std::move(key), std::move(cmd));
}

asio::awaitable<result<mutation_result>> cluster::remove(collection coll, std::string key,
                                                         std::uint64_t cas) {
  detail::remove_command cmd;
  cmd.cas = cas;
  co_return co_await impl_->execute_on_key(std::move(coll), std::move(key), std::move(cmd));
}

asio::awaitable<result<lookup_in_result>> cluster::lookup_in(
    collection coll, std::string key, std::vector<mcbp::subdoc_lookup_spec> specs,
    bool access_deleted) {
  detail::lookup_in_command cmd;
  cmd.specs = std::move(specs);
  cmd.access_deleted = access_deleted;
  co_return co_await impl_->execute_on_key(std::move(coll), std::move(key), std::move(cmd));
}

asio::awaitable<result<mutate_in_result>> cluster::mutate_in(
    collection coll, std::string key, std::vector<mcbp::subdoc_mutation_spec> specs,
    mutate_in_options options) {
  detail::mutate_in_command cmd{std::move(specs), options};
  co_return co_await impl_->execute_on_key(std::move(coll), std::move(key), std::move(cmd));
}

asio::awaitable<result<std::optional<std::string>>> cluster::lookup_xattr(collection coll,
                                                                          std::string key,
                                                                          std::string path) {
  std::vector<mcbp::subdoc_lookup_spec> specs;
  specs.push_back({mcbp::opcode::subdoc_get, mcbp::subdoc_path_flag::xattr, path});
  auto r = co_await lookup_in(std::move(coll), std::move(key), std::move(specs));
  if (!r) {
    if (r.error().code == errc::document_not_found)
      co_return std::optional<std::string>{};
    co_return r.error();
  }
  const auto& field = r->fields.front();
  if (field.status == mcbp::status::subdoc_path_enoent)
    co_return std::optional<std::string>{};
  if (field.status != mcbp::status::success)
    co_return make_error(
        errc::server_error,
        "lookup of xattr '" + path + "' failed: " + std::string(mcbp::to_string(field.status)),
        field.status);
  co_return std::optional<std::string>{field.value};
}

asio::awaitable<result<mutation_result>> cluster::upsert_xattr(collection coll, std::string key,
                                                               std::string path,
                                                               std::string json_value) {
  std::vector<mcbp::subdoc_mutation_spec> specs;
  specs.push_back({mcbp::opcode::subdoc_dict_upsert,
                   mcbp::subdoc_path_flag::xattr | mcbp::subdoc_path_flag::mkdir_p, path,
                   std::move(json_value)});
  mutate_in_options options;
  options.doc_flags = mcbp::subdoc_doc_flag::mkdoc;
  auto r = co_await mutate_in(std::move(coll), std::move(key), std::move(specs), options);
  if (!r)
    co_return r.error();
  co_return mutation_result{r->cas, r->token, 0};
}

asio::awaitable<result<std::vector<mcbp::vbucket_seqno>>> cluster::get_all_vb_seqnos(
    std::optional<std::uint32_t> collection_id) {
  auto p = impl_;
  std::vector<mcbp::vbucket_seqno> all;
  auto current = p->topo;
  for (std::size_t i = 0; i < current->nodes.size(); ++i) {
    if (current->nodes[i].kv.port == 0)
      continue;
    const endpoint node = current->nodes[i].kv;
    const std::string what = "GET_ALL_VB_SEQNOS on " + node.to_string();
    target_fn target = [node](const topology& t) -> std::optional<vbucket_route> {
      for (std::size_t j = 0; j < t.nodes.size(); ++j)
        if (t.nodes[j].kv == node)
          return vbucket_route{0, j};
      return std::nullopt;
    };
    detail::all_vb_seqnos_command cmd;
    cmd.collection_id = collection_id;
    auto r = co_await p->execute_on_node(what, std::move(target), std::move(cmd));
    if (!r)
      co_return r.error();
    all.insert(all.end(), r->begin(), r->end());
  }
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return a.vbucket < b.vbucket; });
  // During a move two nodes may both report a vbucket; keep one entry (the higher seqno).
  std::vector<mcbp::vbucket_seqno> unique;
  for (const auto& e : all) {
    if (!unique.empty() && unique.back().vbucket == e.vbucket)
      unique.back().seqno = std::max(unique.back().seqno, e.seqno);
    else
      unique.push_back(e);
  }
  co_return unique;
}

asio::awaitable<result<mcbp::failover_log>> cluster::failover_log(std::uint16_t vbucket) {
  auto p = impl_;
  target_fn target = [vbucket](const topology& t) -> std::optional<vbucket_route> {
    auto n = t.active_node(vbucket);
    if (!n)
      return std::nullopt;
    return vbucket_route{vbucket, *n};
  };
  detail::failover_log_command cmd;
  co_return co_await p->execute_on_node("failover log of vbucket " + std::to_string(vbucket),
                                        std::move(target), std::move(cmd));
}

asio::awaitable<result<mcbp::collections_manifest>> cluster::collections_manifest() {
  auto p = impl_;
  target_fn target = [](const topology& t) -> std::optional<vbucket_route> {
    for (std::size_t j = 0; j < t.nodes.size(); ++j)
      if (t.nodes[j].kv.port != 0)
        return vbucket_route{0, j};
    return std::nullopt;
  };
  co_return co_await p->execute_on_node("GET_COLLECTIONS_MANIFEST", std::move(target),
                                        detail::collections_manifest_command{});
}

asio::awaitable<result<std::uint32_t>> cluster::collection_id(collection coll) {
  auto p = impl_;
  co_return co_await p->resolve(coll);
}

asio::awaitable<result<void>> cluster::refresh_config() {
  auto p = impl_;
  co_return co_await p->refresh_config();
}

std::shared_ptr<const topology> cluster::current_topology() const {
  return impl_->topo;
}

std::string cluster::bucket_uuid() const {
  return impl_->topo->bucket_uuid;
}

asio::awaitable<result<std::string>> cluster::cluster_uuid() {
  auto p = impl_;
  std::vector<endpoint> managers;
  for (const auto& n : p->topo->nodes)
    if (n.manager)
      managers.push_back(*n.manager);
  error last = make_error(errc::no_config, "the bucket config names no cluster manager port");
  for (const auto& m : managers) {
    auto body =
        co_await detail::fetch_manager(p->ex, m, "/pools", "", p->opts.username, p->opts.password,
                                       p->opts.tls, p->opts.bootstrap_timeout);
    if (!body) {
      last = body.error();
      continue;
    }
    boost::system::error_code ec;
    auto doc = boost::json::parse(*body, ec);
    const auto* obj = ec ? nullptr : doc.if_object();
    const auto* uuid = obj ? obj->if_contains("uuid") : nullptr;
    if (uuid && uuid->is_string())
      co_return std::string(uuid->get_string());
    last = make_error(errc::protocol_error,
                      "GET /pools of " + m.to_string() + " answered no 'uuid' string");
  }
  co_return last;
}

const std::string& cluster::current_config_json() const {
  return impl_->config_json;
}

std::uint64_t cluster::on_topology_change(
    std::function<void(std::shared_ptr<const topology>)> handler) {
  const auto id = ++impl_->last_topology_handler;
  if (handler)
    impl_->topology_handlers.emplace(
        id,
        std::make_shared<std::function<void(std::shared_ptr<const topology>)>>(std::move(handler)));
  return id;
}

void cluster::remove_topology_handler(std::uint64_t id) {
  impl_->topology_handlers.erase(id);
}

connection_options cluster::connection_options_for(const endpoint& node) const {
  return impl_->options_for(node);
}

const cluster::executor_type& cluster::get_executor() const noexcept {
  return impl_->ex;
}

cluster_counters cluster::counters() const {
  auto c = impl_->counts;
  for (const auto& [key, slot] : impl_->slots)
    if (slot.conn && slot.conn->is_open())
      ++c.open_connections;
  return c;
}

void cluster::close() {
  impl_->close();
}

}  // namespace cbes::couchbase
