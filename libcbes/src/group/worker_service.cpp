#include "cbes/group/worker_service.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include <boost/json.hpp>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cbes/group/plan.hpp"
#include "cbes/group/rpc.hpp"
#include "cbes/metrics/dropwizard.hpp"
#include "cbes/metrics/registry.hpp"

namespace cbes::group {

namespace json = boost::json;
namespace asio = boost::asio;

namespace {

error bad_params(std::string what) {
  return make_error(errc::invalid_argument, std::move(what));
}

// The positional params array, or why it is not one.
result<json::array> params_array(const std::string& text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_array())
    return bad_params("params must be a JSON array");
  return std::move(v.as_array());
}

result<std::vector<std::uint16_t>> vbucket_list(const json::object& o) {
  const auto* v = o.if_contains("vbuckets");
  if (!v || !v->is_array())
    return bad_params("\"vbuckets\" must be an array of vbucket numbers");
  std::set<std::uint16_t> out;
  for (const auto& x : v->as_array()) {
    if (!x.is_int64() && !x.is_uint64())
      return bad_params("\"vbuckets\" must hold integers");
    const auto n = x.is_int64() ? x.as_int64() : static_cast<std::int64_t>(x.as_uint64());
    if (n < 0 || n > 65535)
      return bad_params("vbucket " + std::to_string(n) + " is out of range");
    out.insert(static_cast<std::uint16_t>(n));
  }
  return std::vector<std::uint16_t>(out.begin(), out.end());
}

result<std::uint64_t> generation_of(const json::object& o) {
  const auto* g = o.if_contains("generation");
  if (g && g->is_uint64())
    return g->as_uint64();
  if (g && g->is_int64() && g->as_int64() >= 0)
    return static_cast<std::uint64_t>(g->as_int64());
  return bad_params("\"generation\" must be a non-negative integer");
}

result<membership> membership_of(const json::value& v) {
  if (!v.is_object())
    return bad_params("membership must be {\"memberNumber\":n,\"clusterSize\":m}");
  const auto& o = v.as_object();
  const auto* n = o.if_contains("memberNumber");
  const auto* m = o.if_contains("clusterSize");
  if (!n || !m || !n->is_int64() || !m->is_int64() || n->as_int64() < 1 ||
      m->as_int64() < n->as_int64() || m->as_int64() > 65536)
    return bad_params("membership must be {\"memberNumber\":n,\"clusterSize\":m} with 1 <= n <= m");
  return membership{static_cast<int>(n->as_int64()), static_cast<int>(m->as_int64())};
}

json::array to_json(const std::vector<std::uint16_t>& vbs) {
  json::array a;
  a.reserve(vbs.size());
  for (auto vb : vbs)
    a.emplace_back(vb);
  return a;
}

// The one object a release or grant takes: its generation, its vbuckets, and the object for
// the method's other members.
struct assignment {
  std::uint64_t generation = 0;
  std::vector<std::uint16_t> vbuckets;
  json::object object;
};

result<assignment> parse_assignment(const std::string& params, const char* usage) {
  auto a = params_array(params);
  if (!a)
    return a.error();
  if (a->size() != 1 || !(*a)[0].is_object())
    return bad_params(usage);
  assignment out;
  out.object = std::move((*a)[0].as_object());
  auto g = generation_of(out.object);
  if (!g)
    return g.error();
  auto vbs = vbucket_list(out.object);
  if (!vbs)
    return vbs.error();
  out.generation = *g;
  out.vbuckets = std::move(*vbs);
  return out;
}

std::string vbuckets_answer(const std::vector<std::uint16_t>& now) {
  json::object o;
  o["vbuckets"] = to_json(now);
  return json::serialize(o);
}

}  // namespace

worker_service::worker_service(std::shared_ptr<streamer> s,
                               std::function<void(std::string_view, std::string_view)> log)
    : streamer_(std::move(s)), log_(std::move(log)) {}

asio::awaitable<result<std::string>> worker_service::call(std::weak_ptr<worker_service> w,
                                                          method fn, std::string params) {
  auto self = w.lock();
  if (!self)
    co_return make_error(errc::cancelled, "the worker is shutting down");
  auto r = co_await ((*self).*fn)(std::move(params));
  co_return r;
}

namespace {
// rpc_methods and rpc_server both take handlers by add().
template <class Target, class Bind>
void add_methods(Target& t, Bind bind) {
  t.add("worker.status", bind(&worker_service::status));
  t.add("worker.stopped", bind(&worker_service::stopped));
  t.add("worker.stopStreaming", bind(&worker_service::stop_streaming));
  t.add("worker.startStreaming", bind(&worker_service::start_streaming));
  t.add("worker.release", bind(&worker_service::release));
  t.add("worker.grant", bind(&worker_service::grant));
  t.add("worker.streamHistory", bind(&worker_service::stream_history));
  t.add("worker.metrics", bind(&worker_service::metrics));
  t.add("worker.sleep", bind(&worker_service::sleep));
}
}  // namespace

rpc_handler worker_service::handler(method fn) {
  // Handlers hold the service weakly: an RPC server outliving it answers -32603. The
  // coroutine gets what it needs as parameters (CONTRIBUTING.md, GCC 12 rule 4).
  return [w = weak_from_this(), fn](std::string params) { return call(w, fn, std::move(params)); };
}

void worker_service::install(rpc_methods& methods) {
  add_methods(methods, [this](method fn) { return handler(fn); });
}

void worker_service::install(rpc_server& server) {
  add_methods(server, [this](method fn) { return handler(fn); });
}

void worker_service::leave() {
  leaving_ = true;
}

error worker_service::refuse_leaving() {
  return make_error(errc::invalid_argument,
                    "this worker is leaving the group: it starts nothing any more");
}

void worker_service::kill() {
  kill(std::chrono::system_clock::now());
}

void worker_service::kill(std::chrono::system_clock::time_point writes_ended) {
  streamer_->abort();
  note_change({}, {}, writes_ended);
  membership_.reset();
  paused_ = true;
}

std::string worker_service::status_json() const {
  json::object o;
  if (membership_ && streamer_->running())
    o["membership"] = {{"memberNumber", membership_->member_number},
                       {"clusterSize", membership_->cluster_size}};
  else
    o["membership"] = nullptr;
  o["generation"] = generation_;
  o["vbuckets"] = to_json(streamer_->vbuckets());
  o["paused"] = paused_;
  o["configDigest"] = config_.empty() ? std::string() : config_digest(config_);
  return json::serialize(o);
}

result<void> worker_service::accept_generation(std::uint64_t g) {
  if (g < generation_)
    return bad_params("stale generation " + std::to_string(g) + ": this worker follows " +
                      std::to_string(generation_) + " (a newer leader took over)");
  generation_ = g;
  return {};
}

asio::awaitable<result<std::string>> worker_service::status(std::string) {
  auto text = status_json();
  if (!streamer_->running())
    co_return text;
  auto backlog = co_await streamer_->backlog();
  const auto written = streamer_->written();
  if (!backlog && !written)
    co_return text;
  auto v = json::parse(text);
  if (backlog)
    v.as_object()["backlog"] = *backlog;
  if (written)
    v.as_object()["written"] = *written;
  co_return json::serialize(v);
}

asio::awaitable<result<std::string>> worker_service::metrics(std::string) {
  if (auto m = streamer_->metrics_json())
    co_return std::move(*m);
  const metrics::registry empty;
  co_return metrics::dropwizard_json(empty);
}

asio::awaitable<result<std::string>> worker_service::sleep(std::string params) {
  auto a = params_array(params);
  if (!a)
    co_return a.error();
  if (a->size() != 1 || !(*a)[0].is_number())
    co_return bad_params("worker.sleep takes [seconds]");
  boost::system::error_code ec;
  const double seconds = (*a)[0].to_number<double>(ec);
  if (ec || !(seconds >= 0 && seconds <= 3600))
    co_return bad_params("worker.sleep takes [seconds] between 0 and 3600");
  asio::steady_timer t(co_await asio::this_coro::executor,
                       std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           std::chrono::duration<double>(seconds)));
  co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  co_return std::string("null");
}

asio::awaitable<result<std::string>> worker_service::stopped(std::string) {
  co_return std::string(streamer_->vbuckets().empty() ? "true" : "false");
}

asio::awaitable<result<std::string>> worker_service::stop_streaming(std::string) {
  if (streamer_->running())
    co_await streamer_->stop();
  note_change(streamer_->vbuckets());
  membership_.reset();
  paused_ = true;
  co_return std::string("null");
}

asio::awaitable<result<std::string>> worker_service::start_streaming(std::string params) {
  const auto began = std::chrono::system_clock::now();
  auto a = params_array(params);
  if (!a)
    co_return a.error();
  if (a->size() != 2 || !(*a)[1].is_string())
    co_return bad_params("worker.startStreaming takes [membership, config TOML]");
  auto share = membership_of((*a)[0]);
  if (!share)
    co_return share.error();
  if (leaving_)
    co_return refuse_leaving();
  if (streamer_->running())
    co_await streamer_->stop();
  note_change({});
  std::string config((*a)[1].as_string());
  auto started = co_await streamer_->start(config, {}, *share);
  note_change(streamer_->vbuckets(), began);
  if (!started)
    co_return started.error();
  config_ = std::move(config);
  membership_ = *share;
  paused_ = false;
  co_return std::string("null");
}

asio::awaitable<result<std::string>> worker_service::release(std::string params) {
  auto req =
      parse_assignment(params, "worker.release takes [{\"generation\":g,\"vbuckets\":[...]}]");
  if (!req)
    co_return req.error();
  if (auto ok = accept_generation(req->generation); !ok)
    co_return ok.error();
  std::vector<std::uint16_t> mine;
  if (streamer_->running()) {
    const auto now = streamer_->vbuckets();
    std::set_intersection(req->vbuckets.begin(), req->vbuckets.end(), now.begin(), now.end(),
                          std::back_inserter(mine));
  }
  if (!mine.empty()) {
    auto r = co_await streamer_->release(mine);
    note_change(streamer_->vbuckets());
    if (!r)
      co_return r.error();
  }
  const auto left = streamer_->vbuckets();
  if (left.empty())
    paused_ = true;
  json::object out;
  out["released"] = to_json(mine);
  out["vbuckets"] = to_json(left);
  co_return json::serialize(out);
}

asio::awaitable<result<std::string>> worker_service::grant(std::string params) {
  const auto began = std::chrono::system_clock::now();
  auto req = parse_assignment(
      params, "worker.grant takes [{\"generation\":g,\"vbuckets\":[...],\"config\":\"...\"}]");
  if (!req)
    co_return req.error();
  const auto& o = req->object;
  const auto* cfg = o.if_contains("config");
  if (!cfg || !cfg->is_string())
    co_return bad_params("\"config\" must be the connector config's TOML text");
  std::optional<membership> share;
  if (const auto* m = o.if_contains("membership")) {
    auto parsed = membership_of(*m);
    if (!parsed)
      co_return parsed.error();
    share = *parsed;
  }
  if (leaving_)
    co_return refuse_leaving();
  if (auto ok = accept_generation(req->generation); !ok)
    co_return ok.error();
  std::string config(cfg->as_string());
  std::vector<std::uint16_t> want = req->vbuckets;
  if (streamer_->running() && config != config_) {
    // A new config: restart with it (checkpoints are saved by the stop), keeping what streamed.
    const auto now = streamer_->vbuckets();
    want.insert(want.end(), now.begin(), now.end());
    std::sort(want.begin(), want.end());
    want.erase(std::unique(want.begin(), want.end()), want.end());
    co_await streamer_->stop();
    note_change({});
  }
  if (!streamer_->running()) {
    if (!want.empty()) {
      auto started = co_await streamer_->start(config, want, std::nullopt);
      note_change(streamer_->vbuckets(), began);
      if (!started)
        co_return started.error();
    }
    config_ = std::move(config);
  } else {
    const auto now = streamer_->vbuckets();
    std::vector<std::uint16_t> missing;
    std::set_difference(want.begin(), want.end(), now.begin(), now.end(),
                        std::back_inserter(missing));
    if (!missing.empty()) {
      auto added = co_await streamer_->add(missing);
      note_change(streamer_->vbuckets(), began);
      if (!added)
        co_return added.error();
    }
  }
  if (share)
    membership_ = share;
  paused_ = false;
  co_return vbuckets_answer(streamer_->vbuckets());
}

void worker_service::note_change(const std::vector<std::uint16_t>& after,
                                 std::chrono::system_clock::time_point began,
                                 std::chrono::system_clock::time_point ended) {
  // Against what was last recorded, not what a handler saw before its co_await: handlers
  // interleave (a kill switch during a release), and each change must be recorded once.
  const auto before = std::exchange(recorded_, after);
  // Both sorted: one merge pass finds what started and what stopped.
  std::vector<std::uint16_t> started;
  std::vector<std::uint16_t> stopped;
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                      std::back_inserter(started));
  std::set_difference(before.begin(), before.end(), after.begin(), after.end(),
                      std::back_inserter(stopped));
  for (auto vb : started)
    ++starts_[vb];
  for (auto vb : stopped)
    ++stops_[vb];
  if (started.empty() && stopped.empty())
    return;
  const auto now = std::chrono::system_clock::now();
  auto ms = [&](std::chrono::system_clock::time_point t) {
    if (t == std::chrono::system_clock::time_point{})
      t = now;
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  };
  // A stop that ends after the fence closed: nothing was written after the fence.
  if (ended == std::chrono::system_clock::time_point{} && !stopped.empty() && fence_clock_)
    if (auto fenced = fence_clock_(); fenced && *fenced < now)
      ended = *fenced;
  const auto stopped_at = ms(ended);
  const auto started_at = ms(began);
  if (log_) {
    auto line = [](const char* what, const std::vector<std::uint16_t>& vbs, std::int64_t at) {
      return std::string("streaming ") + what + ": vbuckets " + vbucket_ranges(vbs) + " (" +
             std::to_string(vbs.size()) + ") at unix ms " + std::to_string(at);
    };
    // Stops first: a change that moves vbuckets stops the old set before it starts the new one.
    if (!stopped.empty())
      log_("info", line("stopped", stopped, stopped_at));
    if (!started.empty())
      log_("info", line("started", started, started_at));
  }
  history_.push_back({started_at, stopped_at, std::move(started), std::move(stopped)});
  if (history_.size() > 10000)
    history_.pop_front();
}

asio::awaitable<result<std::string>> worker_service::stream_history(std::string) {
  auto counts = [](const std::map<std::uint16_t, std::uint64_t>& m) {
    json::object o;
    for (const auto& [vb, n] : m)
      o[std::to_string(vb)] = n;
    return o;
  };
  json::object out;
  out["starts"] = counts(starts_);
  out["stops"] = counts(stops_);
  json::array events;
  for (const auto& c : history_) {
    json::object e;
    if (!c.stopped.empty()) {
      e["stoppedAt"] = c.stopped_at_ms;
      e["stopped"] = to_json(c.stopped);
    }
    if (!c.started.empty()) {
      e["startedAt"] = c.started_at_ms;
      e["started"] = to_json(c.started);
    }
    events.emplace_back(std::move(e));
  }
  out["events"] = std::move(events);
  co_return json::serialize(out);
}

std::string config_digest(std::string_view config) {
  // FNV-1a, 64 bits: stable across processes and builds (std::hash is not promised to be).
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : config) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4)
    out[static_cast<std::size_t>(i)] = digits[h & 0xf];
  return out;
}

}  // namespace cbes::group
