#include "cbes/group/leader.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "cbes/checkpoint/operations.hpp"
#include "cbes/config/connector_config.hpp"
#include "cbes/config/conversions.hpp"
#include "cbes/couchbase/cluster.hpp"
#include "cbes/group/layout.hpp"
#include "cbes/group/plan.hpp"
#include "cbes/group/rpc.hpp"
#include "cbes/group/worker_service.hpp"
#include "consul/client.hpp"
#include "consul/lock.hpp"
#include "consul/watch.hpp"

namespace cbes::group {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace asio::experimental::awaitable_operators;
using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// What one worker answered to worker.status.
struct reported {
  std::uint64_t generation = 0;
  std::vector<std::uint16_t> vbuckets;
  std::string digest;
  std::optional<std::pair<std::int64_t, std::int64_t>> membership;  // memberNumber, clusterSize
};

std::optional<reported> parse_status(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object())
    return std::nullopt;
  const auto& o = v.as_object();
  reported r;
  if (const auto* g = o.if_contains("generation")) {
    if (g->is_uint64())
      r.generation = g->as_uint64();
    else if (g->is_int64() && g->as_int64() > 0)
      r.generation = static_cast<std::uint64_t>(g->as_int64());
  }
  if (const auto* vbs = o.if_contains("vbuckets"); vbs && vbs->is_array())
    for (const auto& x : vbs->as_array())
      if (x.is_int64() && x.as_int64() >= 0 && x.as_int64() <= 65535)
        r.vbuckets.push_back(static_cast<std::uint16_t>(x.as_int64()));
  std::sort(r.vbuckets.begin(), r.vbuckets.end());
  if (const auto* d = o.if_contains("configDigest"); d && d->is_string())
    r.digest = std::string(d->as_string());
  if (const auto* m = o.if_contains("membership"); m && m->is_object()) {
    const auto* n = m->as_object().if_contains("memberNumber");
    const auto* c = m->as_object().if_contains("clusterSize");
    if (n && c && n->is_int64() && c->is_int64())
      r.membership.emplace(n->as_int64(), c->as_int64());
  }
  return r;
}

json::array to_json(const std::vector<std::uint16_t>& vbs) {
  json::array a;
  for (auto vb : vbs)
    a.emplace_back(vb);
  return a;
}

// The default vbucket_count: connect to the config's Couchbase cluster and ask its bucket.
asio::awaitable<result<std::uint16_t>> ask_couchbase(std::string text) {
  auto cfg = config::parse_connector_config(text, "the group's config", {});
  if (!cfg)
    co_return make_error(errc::invalid_argument, cfg.error().what());
  auto ex = co_await asio::this_coro::executor;
  auto c = co_await couchbase::cluster::connect(ex, config::cluster_options(*cfg));
  if (!c)
    co_return make_error(errc::invalid_argument,
                         "cannot read the bucket's vbucket count: " + c.error().what());
  const auto n = checkpoint::describe_bucket(**c).num_vbuckets;
  (*c)->close();
  if (n == 0 || n > 65535)
    co_return make_error(errc::invalid_argument,
                         "the bucket reports " + std::to_string(n) + " vbuckets");
  co_return static_cast<std::uint16_t>(n);
}

}  // namespace

struct leader::impl : std::enable_shared_from_this<impl> {
  impl(consul::client& c, leader_options o)
      : consul(c),
        opts(std::move(o)),
        rpc(c, opts.group),
        stop_timer(c.get_executor(), asio::steady_timer::time_point::max()),
        ended(c.get_executor(), asio::steady_timer::time_point::max()),
        wake(c.get_executor()) {
    if (!opts.vbucket_count)
      opts.vbucket_count = ask_couchbase;
  }

  consul::client& consul;
  leader_options opts;
  rpc_client rpc;
  asio::steady_timer stop_timer;  // never expires: stop() cancels it
  asio::steady_timer ended;       // cancelled when run() ends
  bool stopping = false;
  bool running = false;
  bool leading = false;
  std::uint64_t generation = 0;
  std::uint64_t rounds = 0;

  // ---- one term ----
  asio::steady_timer wake;  // the reconcile loop sleeps on it; watchers poke it
  bool dirty = false;
  clock::time_point term_start{};
  std::optional<std::optional<std::string>> config;  // outer: not read yet; inner: absent key
  std::optional<control_doc> control;
  std::optional<std::set<std::string>> healthy;
  clock::time_point health_changed{};
  // Config texts: the last one judged, the last good one, the vbucket count per good one.
  std::string judged;
  std::optional<std::string> good;
  std::map<std::string, std::uint16_t> vbucket_counts;
  bool said_no_config = false;
  // Vbuckets nobody streams: since when (seen unowned without our release), or known released
  // by an acknowledged worker.release of this term.
  std::map<std::uint16_t, clock::time_point> unowned_since;
  std::set<std::uint16_t> released;
  // A released record appeared (watch_released): the next round need not wait the debounce.
  bool release_announced = false;

  void log(std::string_view level, const std::string& line) const {
    if (opts.log)
      opts.log(level, line);
  }

  void poke() {
    dirty = true;
    wake.cancel();
  }

  asio::awaitable<void> wait_stop() {
    if (stopping)
      co_return;
    boost::system::error_code ec;
    co_await stop_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  asio::awaitable<void> sleep_until(clock::time_point t) {
    wake.expires_at(t);
    boost::system::error_code ec;
    co_await wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  asio::awaitable<void> pause_for(milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  consul::watch_options watch_options() const {
    consul::watch_options w;
    w.wait = opts.watch_wait;
    // Pause, resume and configure may follow each other quickly: a short refill keeps the
    // leader prompt while still bounding a churning key.
    w.rate_burst = 5;
    w.rate_refill = milliseconds(1000);
    return w;
  }

  // Delivers each distinct result of a blocking query to `on_value` until the term ends
  // (cancellation); failures are logged and retried.
  template <class T, class Query, class OnValue>
  asio::awaitable<void> watch_loop(std::string what, Query query, OnValue on_value) {
    auto ex = co_await asio::this_coro::executor;
    consul::watch<T> w(ex, std::move(query), watch_options());
    for (;;) {
      auto r = co_await w.next();
      if (!r && r.error().code == consul::errc::cancelled)
        co_return;  // the term ended
      if (!r) {
        log("warning", "watching " + what + " failed (retrying): " + r.error().what());
        co_await pause_for(opts.retry);
        continue;
      }
      on_value(r->value);
      poke();
    }
  }

  auto key_query(std::string key) const {
    return [kv = consul.kv(), key = std::move(key)](consul::query_options q) {
      return kv.get(key, q);
    };
  }

  asio::awaitable<void> watch_config() {
    return watch_loop<std::optional<consul::kv_pair>>(
        "the group's config", key_query(config_key(opts.group)),
        [this](const std::optional<consul::kv_pair>& kv) {
          config = kv ? std::optional<std::string>(kv->value) : std::nullopt;
        });
  }

  asio::awaitable<void> watch_control() {
    return watch_loop<std::optional<consul::kv_pair>>(
        "the group's control document", key_query(control_key(opts.group)),
        [this](const std::optional<consul::kv_pair>& kv) {
          auto c = parse_control(kv ? std::string_view(kv->value) : std::string_view());
          if (c) {
            control = std::move(*c);
            return;
          }
          // Someone wrote garbage: keep acting on the last good document.
          log("error", "the group's control document is not a JSON object; ignoring it: " +
                           c.error().what());
          if (!control)
            control = control_doc{};
        });
  }

  asio::awaitable<void> watch_health() {
    return watch_loop<std::vector<consul::health_entry>>(
        "the group's members",
        [health = consul.health(), group = opts.group](consul::query_options q) {
          consul::health_options h;
          h.passing = true;
          return health.service(group, h, q);
        },
        [this](const std::vector<consul::health_entry>& entries) {
          std::set<std::string> ids;
          for (const auto& e : entries)
            ids.insert(endpoint_id(e.node.node, e.node.address, e.service.id));
          if (healthy && *healthy == ids)
            return;
          healthy = std::move(ids);
          // Every change restarts the quiet period, the first one included: workers started
          // together join within it and the first plan already counts them.
          health_changed = clock::now();
        });
  }

  // A worker that leaves gracefully writes a released record once its streams have ended
  // (worker_node::shutdown): a round acts on it at once, even within the membership debounce —
  // a leaving worker is a departure, not a membership still settling — and round() keeps the
  // leaver out of the live members while its record is taken.
  asio::awaitable<void> watch_released() {
    return watch_loop<std::vector<consul::kv_pair>>(
        "the group's released records",
        [kv = consul.kv(), prefix = released_prefix(opts.group)](consul::query_options q) {
          return kv.recurse(prefix, q);
        },
        [this](const std::vector<consul::kv_pair>& records) {
          if (!records.empty())
            release_announced = true;
        });
  }

  // The reconcile loop of a term: a round after each change (debounced), and retries.
  asio::awaitable<void> reconcile() {
    auto delay = opts.retry;
    auto next_check = clock::time_point::max();
    for (;;) {
      const auto now = clock::now();
      if (!config || !control || !healthy || (!dirty && now < next_check)) {
        co_await sleep_until(config && control && healthy ? next_check : clock::time_point::max());
        continue;
      }
      if (now < health_changed + opts.debounce) {
        if (!release_announced) {
          co_await sleep_until(health_changed + opts.debounce);
          continue;
        }
        log("info",
            "a worker left the group gracefully: rebalancing without waiting for the "
            "membership to settle");
      }
      dirty = false;
      release_announced = false;
      next_check = clock::time_point::max();
      auto r = co_await round();
      if (!r) {
        log("warning",
            r.error().message + " — trying again in " + std::to_string(delay.count()) + " ms");
        next_check = clock::now() + delay;
        delay = std::min<milliseconds>(2 * delay, milliseconds(30000));
        continue;
      }
      delay = opts.retry;
      next_check = std::min(*r, clock::now() + opts.resync);
    }
  }

  // The config to run: the last good one; judges a new text once.
  std::optional<std::string> config_to_run() {
    const auto& text = *config;
    if (!text || text->empty()) {
      if (!said_no_config)
        log("warning", "group '" + opts.group + "' has no config at " + config_key(opts.group) +
                           ": upload one with `cbes-consul configure`");
      said_no_config = true;
      return good;
    }
    said_no_config = false;
    if (*text != judged) {
      judged = *text;
      auto cfg = config::parse_connector_config(*text, config_key(opts.group), {});
      if (!cfg) {
        std::string problems;
        for (const auto& p : cfg.error().problems)
          problems += (problems.empty() ? "" : "; ") + p;
        log("error", "refusing the group's new config (" + problems + ")" +
                         (good ? ": the group keeps running the last good one"
                               : ": nothing moves until a valid one is uploaded"));
      } else {
        if (good && *good != *text)
          log("info", "the group's config changed: every worker restarts with it");
        good = *text;
      }
    }
    return good;
  }

  // Generations are fencing tokens: the leader key's ModifyIndex when this term acquired it
  // (Consul's Raft index: every later acquisition has a larger one) times 2^20, plus the
  // round. A deposed leader that wakes up reads the workers' newer generations, but cannot
  // produce one above its successor's: its term's range is below.
  static constexpr int round_bits = 20;
  std::uint64_t fence = 0;
  std::string term_session;  // the session this term holds the leader key with

  // Workers follow a generation beyond this term's range: either a newer leader took over, or
  // Consul's index went backwards (a restore, or servers restarted without their data), which
  // makes a legitimate term's fence smaller than what the workers saw. The leader key tells
  // them apart: if a consistent read still shows it held by this term's session, no newer
  // leader exists, and this term's generations continue above everything seen — a range no
  // earlier term reaches (each term's range is a whole block of 2^round_bits).
  asio::awaitable<void> rebase_if_index_went_back(std::uint64_t seen) {
    const std::uint64_t term_end = fence + (std::uint64_t{1} << round_bits) - 1;
    if (seen < term_end || term_session.empty())
      co_return;
    consul::query_options q;
    q.mode = consul::consistency::consistent;
    auto key = co_await consul.kv().get(leader_key(opts.group), q);
    if (!key || !key->value || key->value->session != term_session)
      co_return;  // not (provably) ours: next_generation refuses, the lost-lock watch decides
    fence = ((seen >> round_bits) + 1) << round_bits;
    generation = std::max(generation, fence);
    log("warning", "the workers follow generation " + std::to_string(seen) +
                       ", above this term's, yet this worker still holds the leader key: "
                       "Consul's index went backwards (restored, or restarted without its "
                       "data); generations continue from " +
                       std::to_string(fence));
  }

  result<std::uint64_t> next_generation(std::uint64_t seen) {
    const std::uint64_t term_end = fence + (std::uint64_t{1} << round_bits) - 1;
    if (seen >= term_end)
      return make_error(errc::invalid_argument,
                        "a worker follows generation " + std::to_string(seen) +
                            ", from a newer leader: this one no longer leads");
    generation = std::max({generation, seen, fence}) + 1;
    ++rounds;
    return generation;
  }

  // Takes the records of workers that left gracefully (layout.hpp, released_key) into
  // `released`: their vbuckets need no wait. Each record is deleted by CAS before it is relied
  // on, so it counts at most once; a record naming a vbucket someone streams now is old news
  // and only deleted. A Consul failure takes nothing: those vbuckets wait the margin.
  // Returns the endpoints whose records were taken: they are leaving.
  asio::awaitable<std::set<std::string>> take_release_records(
      const std::set<std::uint16_t>& owned) {
    std::set<std::string> leaving;
    auto records = co_await consul.kv().recurse(released_prefix(opts.group));
    if (!records)
      co_return leaving;
    for (const auto& record : records->value) {
      std::vector<std::uint16_t> vbs;
      boost::system::error_code ec;
      auto doc = json::parse(record.value, ec);
      const json::array* list = nullptr;
      if (!ec && doc.is_object())
        if (const auto* v = doc.as_object().if_contains("vbuckets"))
          list = v->if_array();
      bool usable = list != nullptr;
      if (list)
        for (const auto& v : *list) {
          const auto* n = v.if_int64();
          if (!n || *n < 0 || *n >= 65536) {
            usable = false;
            break;
          }
          vbs.push_back(static_cast<std::uint16_t>(*n));
        }
      for (auto vb : vbs)
        usable = usable && !owned.count(vb);
      consul::kv_delete_options d;
      d.cas = record.modify_index;
      auto removed = co_await consul.kv().remove(record.key, d);
      if (!removed || !*removed || !usable)
        continue;
      released.insert(vbs.begin(), vbs.end());
      const auto endpoint = record.key.substr(released_prefix(opts.group).size());
      leaving.insert(endpoint);
      log("info", "vbuckets " + vbucket_ranges(vbs) + " were released by " + endpoint +
                      " as it left: they need no wait");
    }
    co_return leaving;
  }

  // One round. The time of the next check (max: only on a change), or why it failed.
  asio::awaitable<result<clock::time_point>> round() {
    auto never = clock::time_point::max();
    auto cfg = config_to_run();
    if (!cfg)
      co_return never;

    auto all = co_await rpc.broadcast("worker.status", "[]", opts.rpc_timeout);
    if (!all)
      co_return make_error(errc::consul_failed,
                           "listing the group's workers failed: " + all.error().what());
    std::map<std::string, reported> answered;
    std::uint64_t seen = generation;
    for (auto& [id, r] : *all) {
      if (!r) {
        if (r.error().code == errc::endpoint_absent)
          continue;  // it left meanwhile
        co_return make_error(r.error().code == errc::timeout ? errc::timeout : errc::remote_error,
                             "worker " + id + " did not answer worker.status (" + r.error().what() +
                                 "): nothing moves until it does or leaves");
      }
      auto s = parse_status(*r);
      if (!s)
        co_return make_error(errc::invalid_document,
                             "worker " + id + " answered worker.status with " + *r);
      seen = std::max(seen, s->generation);
      answered.emplace(id, std::move(*s));
    }
    co_await rebase_if_index_went_back(seen);

    const auto now = clock::now();
    std::set<std::uint16_t> owned;
    for (const auto& [id, s] : answered)
      owned.insert(s.vbuckets.begin(), s.vbuckets.end());
    for (auto vb : owned) {
      unowned_since.erase(vb);
      released.erase(vb);
    }
    // Endpoints that recorded a graceful leave may still answer for a moment: not live.
    const auto leaving = co_await take_release_records(owned);

    std::vector<member_id> live;
    bool unbound = false;
    for (const auto& id : *healthy) {
      if (leaving.count(id))
        continue;
      if (answered.count(id))
        live.push_back(id);
      else
        unbound = true;  // registered, endpoint not bound yet: look again soon
    }
    auto result_time = unbound ? now + opts.retry : never;

    // Who streams what; vbuckets streamed by an endpoint whose member is not healthy any more
    // (its check failed, its session about to go) are released from it first.
    ownership own;
    std::map<member_id, std::vector<std::uint16_t>> zombies;
    for (const auto& [id, s] : answered) {
      if (std::binary_search(live.begin(), live.end(), id))
        own[id] = s.vbuckets;
      else if (!s.vbuckets.empty())
        zombies[id] = s.vbuckets;
    }

    const bool paused = control->paused;
    std::map<std::string, std::string> releases;
    auto release_params = [&](std::uint64_t g, const std::vector<std::uint16_t>& vbs) {
      json::object o;
      o["generation"] = g;
      o["vbuckets"] = to_json(vbs);
      return json::serialize(json::array{o});
    };

    if (paused || !zombies.empty()) {
      std::map<member_id, std::vector<std::uint16_t>> stop = zombies;
      if (paused)
        for (const auto& [id, vbs] : own)
          if (!vbs.empty())
            stop[id] = vbs;
      if (!stop.empty()) {
        auto g_or = next_generation(seen);
        if (!g_or)
          co_return g_or.error();
        const auto g = *g_or;
        for (const auto& [id, vbs] : stop) {
          log("info", std::string(paused ? "paused: " : "member not healthy any more: ") + id +
                          " releases vbuckets " + vbucket_ranges(vbs) + " (generation " +
                          std::to_string(g) + ")");
          releases[id] = release_params(g, stop[id]);
        }
        auto done = co_await rpc.call_each("worker.release", std::move(releases), opts.rpc_timeout);
        for (auto& [id, r] : done) {
          if (!r)
            co_return make_error(errc::remote_error,
                                 "worker " + id + " did not release: " + r.error().what());
          for (auto vb : stop[id])
            released.insert(vb);
        }
      }
      if (paused)
        co_return result_time;
      for (const auto& [id, vbs] : zombies)
        own.erase(id);
    }

    // The vbucket count of the bucket the config names.
    auto counted = vbucket_counts.find(*cfg);
    if (counted == vbucket_counts.end()) {
      auto n = co_await opts.vbucket_count(*cfg);
      if (!n)
        co_return make_error(errc::invalid_argument, n.error().message);
      counted = vbucket_counts.emplace(*cfg, *n).first;
    }
    const auto num_vbuckets = counted->second;
    const auto digest = config_digest(*cfg);

    std::sort(live.begin(), live.end());
    auto membership_of = [&](const member_id& id) {
      const auto i = std::lower_bound(live.begin(), live.end(), id) - live.begin();
      return json::object{{"memberNumber", i + 1},
                          {"clusterSize", static_cast<std::int64_t>(live.size())}};
    };
    auto grant_params = [&](std::uint64_t g, const member_id& id,
                            const std::vector<std::uint16_t>& vbs) {
      json::object o;
      o["generation"] = g;
      o["vbuckets"] = to_json(vbs);
      o["config"] = *cfg;
      o["membership"] = membership_of(id);
      return json::serialize(json::array{o});
    };

    // Workers on another config restart with the current one, keeping their vbuckets.
    std::map<std::string, std::string> restarts;
    std::uint64_t g = 0;
    for (const auto& [id, vbs] : own)
      if (!vbs.empty() && answered[id].digest != digest) {
        if (g == 0) {
          auto g_or = next_generation(seen);
          if (!g_or)
            co_return g_or.error();
          g = *g_or;
        }
        log("info", "worker " + id + " restarts with the group's current config (generation " +
                        std::to_string(g) + ")");
        restarts[id] = grant_params(g, id, vbs);
      }
    if (!restarts.empty()) {
      auto done = co_await rpc.call_each("worker.grant", std::move(restarts), opts.rpc_timeout);
      for (auto& [id, r] : done)
        if (!r)
          co_return make_error(
              errc::remote_error,
              "worker " + id + " did not take the new config: " + r.error().what());
    }

    // The plan: releases, then grants of what was released or is free long enough.
    auto p = plan(own, live, {.num_vbuckets = num_vbuckets});
    if (p.moves.empty())
      co_return result_time;
    const auto margin = std::max(opts.dead_margin, opts.grace);
    std::map<member_id, std::vector<std::uint16_t>> from;
    std::map<member_id, std::vector<std::uint16_t>> to;
    for (const auto& m : p.moves) {
      for (const auto& f : m.from)
        from[f].push_back(m.vbucket);
      if (!m.from.empty() || released.count(m.vbucket)) {
        to[m.to].push_back(m.vbucket);
        continue;
      }
      // Nobody streams it and nobody here released it: its owner vanished (or the term is
      // new). Wait until that owner's kill switch has surely fired.
      const auto since = unowned_since.try_emplace(m.vbucket, now).first->second;
      const auto ready_at = since + margin;
      if (now >= ready_at)
        to[m.to].push_back(m.vbucket);
      else
        result_time = std::min(result_time, ready_at);
    }
    if (to.empty() && from.empty())
      co_return result_time;
    auto round_or = next_generation(seen);
    if (!round_or)
      co_return round_or.error();
    const auto round_generation = *round_or;
    std::size_t moving = 0;
    for (const auto& [id, vbs] : to)
      moving += vbs.size();
    log("info", "rebalancing group '" + opts.group + "' over " + std::to_string(live.size()) +
                    " member(s), generation " + std::to_string(round_generation) + ": " +
                    std::to_string(moving) + " vbucket(s) move");
    if (!from.empty()) {
      std::map<std::string, std::string> rel;
      for (const auto& [id, vbs] : from) {
        log("info", "  " + id + " releases " + vbucket_ranges(vbs));
        rel[id] = release_params(round_generation, vbs);
      }
      auto done = co_await rpc.call_each("worker.release", std::move(rel), opts.rpc_timeout);
      for (auto& [id, r] : done) {
        if (!r)
          co_return make_error(errc::remote_error,
                               "worker " + id + " did not release: " + r.error().what());
        for (auto vb : from[id])
          released.insert(vb);
      }
    }
    // Members whose share number changed get an empty grant: worker.status keeps the Java
    // connector's "member n of m" true for every worker, not only those that got vbuckets.
    for (const auto& id : live) {
      const auto i =
          static_cast<std::int64_t>(std::lower_bound(live.begin(), live.end(), id) - live.begin());
      const auto want = std::make_pair(i + 1, static_cast<std::int64_t>(live.size()));
      if (!to.count(id) && !p.target[id].empty() && answered[id].membership != want)
        to[id];
    }
    std::map<std::string, std::string> grants;
    for (auto& [id, vbs] : to) {
      if (!vbs.empty())
        log("info", "  " + id + " streams " + vbucket_ranges(vbs));
      grants[id] = grant_params(round_generation, id, vbs);
    }
    auto done = co_await rpc.call_each("worker.grant", std::move(grants), opts.rpc_timeout);
    for (auto& [id, r] : done) {
      if (!r)
        co_return make_error(errc::remote_error,
                             "worker " + id + " did not take its grant: " + r.error().what());
      for (auto vb : to[id]) {
        released.erase(vb);
        unowned_since.erase(vb);
      }
    }
    co_return result_time;
  }

  asio::awaitable<void> term(std::string session) {
    // The fence of this term (see next_generation): the ModifyIndex of our acquisition.
    auto key = co_await consul.kv().get(leader_key(opts.group));
    if (!key || !key->value || key->value->session != session) {
      log("warning", "the leader key is not held by this worker right after acquiring it");
      co_await sleep_until(clock::time_point::max());  // the lost-lock watch ends the term
      co_return;
    }
    fence = key->value->modify_index << round_bits;
    term_session = session;
    generation = std::max(generation, fence);
    term_start = clock::now();
    dirty = true;
    // A config judged good in an earlier term may be older than what the workers run now: a
    // term only trusts what it has read itself.
    judged.clear();
    good.reset();
    said_no_config = false;
    config.reset();
    control.reset();
    healthy.reset();
    unowned_since.clear();
    released.clear();
    release_announced = false;
    co_await (reconcile() && watch_config() && watch_control() && watch_health() &&
              watch_released());
  }

  consul::lock_options lock_options() const {
    consul::lock_options lo;
    lo.key = leader_key(opts.group);
    lo.value = opts.endpoint_id;
    lo.session_name = "couchbase:cbes:leader:" + opts.service_id;
    lo.session_ttl = opts.session_ttl;
    lo.lock_delay = opts.lock_delay;
    lo.service_checks = {"service:" + opts.service_id};
    // As the Java leader's key: gone with the leader, so nobody reads a dead leader's id.
    lo.behavior = consul::session_behavior::delete_keys;
    return lo;
  }
};

leader::leader(consul::client& consul, leader_options options)
    : impl_(std::make_shared<impl>(consul, std::move(options))) {}

leader::~leader() {
  impl_->stopping = true;
  impl_->stop_timer.cancel();
}

asio::awaitable<void> leader::run() {
  auto p = impl_;
  p->running = true;
  while (!p->stopping) {
    consul::lock l(p->consul, p->lock_options());
    auto got = co_await (l.acquire() || p->wait_stop());
    if (p->stopping) {
      if (l.held())
        co_await l.abdicate();
      break;
    }
    if (auto* r = std::get_if<0>(&got); r && !*r) {
      p->log("warning", "campaigning for the leadership failed (retrying): " + r->error().what());
      co_await (p->pause_for(p->opts.retry) || p->wait_stop());
      continue;
    }
    p->leading = true;
    p->log("info",
           "this worker (" + p->opts.endpoint_id + ") now leads group '" + p->opts.group + "'");
    auto end = co_await (p->term(l.session_id()) || l.wait_lost() || p->wait_stop());
    p->leading = false;
    if (auto* lost = std::get_if<1>(&end))
      p->log("warning",
             "leadership lost: " + (*lost ? std::string("the lock ended") : lost->error().what()));
    if (l.held()) {
      auto a = co_await l.abdicate();
      if (!a)
        p->log("warning", "abdicating failed: " + a.error().what());
      else
        p->log("info", "stepped down as leader of group '" + p->opts.group + "'");
    }
  }
  p->running = false;
  p->ended.cancel();
}

asio::awaitable<void> leader::stop() {
  auto p = impl_;
  p->stopping = true;
  p->stop_timer.cancel();
  while (p->running) {
    boost::system::error_code ec;
    p->ended.expires_at(asio::steady_timer::time_point::max());
    co_await p->ended.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

bool leader::leading() const noexcept {
  return impl_->leading;
}
std::uint64_t leader::generation() const noexcept {
  return impl_->generation;
}
std::uint64_t leader::rounds() const noexcept {
  return impl_->rounds;
}

}  // namespace cbes::group
