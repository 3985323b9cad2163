// The group's leader (cbes::group::leader) over real worker_nodes against the fake Consul agent:
// elected once, it spreads the vbuckets over the members, pauses and resumes the group, hands
// a departed member's vbuckets to the others without restarting theirs, is succeeded when it
// leaves, and refuses an invalid config. The workers' streamers only record what they are told
// (nothing connects to Couchbase or Elasticsearch), and a shared ledger checks that no vbucket
// is ever streamed by two of them at once.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "cbes/group/layout.hpp"
#include "cbes/group/leader.hpp"
#include "cbes/group/worker_node.hpp"
#include "integration/group/harness.hpp"

using namespace group_it;
namespace fs = std::filesystem;
using cbes::group::membership;
using cbes::group::result;

namespace {

constexpr std::uint16_t vbucket_count = 64;
const std::string lgroup = "leader-group";

// Who streams each vbucket right now, over every streamer of a test; a second streamer taking
// a vbucket before the first let go of it is an overlap.
struct ledger {
  std::map<std::uint16_t, std::set<std::string>> owners;
  std::vector<std::string> overlaps;

  void take(std::uint16_t vb, const std::string& who) {
    auto& o = owners[vb];
    if (!o.empty())
      overlaps.push_back("vbucket " + std::to_string(vb) + " taken by " + who + " while " +
                         *o.begin() + " streamed it");
    o.insert(who);
  }
  void drop(std::uint16_t vb, const std::string& who) { owners[vb].erase(who); }
};

// A streamer that keeps its vbuckets in memory and writes nowhere: what it was told, how often
// each vbucket started and stopped, and every config it was started with.
class memory_streamer : public cbes::group::streamer {
 public:
  memory_streamer(std::string name, std::shared_ptr<ledger> l)
      : name_(std::move(name)), ledger_(std::move(l)) {}

  asio::awaitable<result<void>> start(std::string config, std::vector<std::uint16_t> vbuckets,
                                      std::optional<membership> share) override {
    (void)share;  // the leader always names the vbuckets
    on_ = true;
    config_ = config;
    configs.push_back(std::move(config));
    for (auto vb : vbuckets)
      take(vb);
    co_return result<void>{};
  }
  asio::awaitable<result<void>> add(std::vector<std::uint16_t> vbuckets) override {
    for (auto vb : vbuckets)
      take(vb);
    co_return result<void>{};
  }
  asio::awaitable<result<void>> release(std::vector<std::uint16_t> vbuckets) override {
    for (auto vb : vbuckets)
      drop(vb);
    co_return result<void>{};
  }
  asio::awaitable<void> stop() override {
    drop_all();
    on_ = false;
    co_return;
  }
  void abort() override {
    ++aborts;
    drop_all();
    on_ = false;
  }
  bool running() const override { return on_; }
  std::vector<std::uint16_t> vbuckets() const override { return {vbs_.begin(), vbs_.end()}; }

  const std::set<std::uint16_t>& owned() const { return vbs_; }
  const std::string& config() const { return config_; }

  std::map<std::uint16_t, int> starts;  // start or add naming the vbucket
  std::map<std::uint16_t, int> stops;   // release, stop or abort that ended it
  std::vector<std::string> configs;     // every start's config, in order
  int aborts = 0;

 private:
  void take(std::uint16_t vb) {
    if (!vbs_.insert(vb).second)
      return;
    ++starts[vb];
    ledger_->take(vb, name_);
  }
  void drop(std::uint16_t vb) {
    if (vbs_.erase(vb) == 0)
      return;
    ++stops[vb];
    ledger_->drop(vb, name_);
  }
  void drop_all() {
    const auto all = vbs_;
    for (auto vb : all)
      drop(vb);
  }

  std::string name_;
  std::shared_ptr<ledger> ledger_;
  bool on_ = false;
  std::string config_;
  std::set<std::uint16_t> vbs_;
};

// How a worker's background coroutines ended (set by their completion handlers).
struct ends {
  bool node_run = false;
  bool leader_run = false;
  bool leader_stopped = false;
  bool shut_down = false;
};

// One worker process: its Consul client, node (member + RPC endpoint), leader, streamer.
struct worker {
  std::string name;
  std::shared_ptr<memory_streamer> streamer;
  std::optional<consul::client> consul;
  std::shared_ptr<cbes::group::worker_node> node;
  std::unique_ptr<cbes::group::leader> leader;
  std::shared_ptr<ends> ended = std::make_shared<ends>();
  bool gone = false;  // left the group during the test

  std::set<std::uint16_t> owned() const { return streamer->owned(); }
};

// Polls `done` on the io_context with a short timer until it holds or `limit` passes.
asio::awaitable<bool> poll_until(std::function<bool()> done, std::chrono::milliseconds limit) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline)
      co_return false;
    t.expires_after(10ms);
    co_await t.async_wait(asio::use_awaitable);
  }
  co_return true;
}

asio::awaitable<result<std::uint16_t>> sixty_four(std::string config) {
  (void)config;
  co_return vbucket_count;
}

struct fixture {
  cbes::testkit::consul_agent agent;
  asio::io_context io;
  std::optional<consul::client> admin;  // the operator's: config and control writes
  fs::path dir = fs::temp_directory_path() / ("cbes-leader-" + std::to_string(::getpid()));
  std::shared_ptr<ledger> book = std::make_shared<ledger>();
  std::vector<std::string> logs;  // every leader's and member's lines, "<worker> <level>: ..."
  std::vector<std::unique_ptr<worker>> workers;
  bool finished = false;
  std::chrono::milliseconds debounce = 200ms;  // the leaders' membership debounce

  fixture() {
    agent.start();
    admin.emplace(io.get_executor(), options_for(agent));
    fs::create_directories(dir);
    std::ofstream(dir / "cb.toml") << "password = 'password'\n";
    std::ofstream(dir / "es.toml") << "password = ''\n";
  }

  ~fixture() {
    if (!finished) {
      try {
        finish();
      } catch (...) {
      }
    }
    for (auto& w : workers)
      if (w->consul)
        w->consul->close();
    admin->close();
    cbes::test::drain(io);
    workers.clear();
    cbes::test::drain(io);
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  // A minimal valid connector config; nothing connects to the hosts it names.
  std::string config(const std::string& extra = "") const {
    return "[group]\nname = '" + lgroup +
           "'\n[group.static]\nmemberNumber = 1\ntotalMembers = 1\n"
           "[couchbase]\nhosts = ['127.0.0.1:11210=kv']\nbucket = 'default'\n"
           "username = 'Administrator'\npathToPassword = '" +
           (dir / "cb.toml").string() +
           "'\n[elasticsearch]\nhosts = ['http://127.0.0.1:9200']\npathToPassword = '" +
           (dir / "es.toml").string() + "'\n[[elasticsearch.type]]\nprefix = ''\nindex = 'docs'\n" +
           extra;
  }

  void put(const std::string& key, const std::string& value) {
    auto ok = run(io, admin->kv().put(key, value));
    INFO(key << (ok ? "" : ": " + ok.error().what()));
    REQUIRE(ok);
    REQUIRE(*ok);
  }

  // The records of workers that left gracefully, not yet taken by a leader.
  std::vector<std::string> release_records() {
    auto r = run(io, admin->kv().keys(cbes::group::released_prefix(lgroup)));
    REQUIRE(r);
    return r->value;
  }

  std::string leader_key_value() {
    consul::query_options q;
    auto r = run(io, admin->kv().get(cbes::group::leader_key(lgroup), q));
    REQUIRE(r);
    return r->value ? r->value->value : std::string();
  }

  std::function<void(std::string_view, std::string_view)> logger(std::string who) {
    return [this, who](std::string_view level, std::string_view line) {
      logs.push_back(who + " " + std::string(level) + ": " + std::string(line));
    };
  }

  cbes::group::worker_node_options node_options(const std::string& name) {
    cbes::group::worker_node_options o;
    o.member.group = lgroup;
    o.member.service_id = name;
    o.member.heartbeat = 500ms;
    o.member.kill_switch = 900ms;  // TTL 1 s; slack for sanitized builds
    o.member.retry = 100ms;
    o.member.lock_delay = 0ms;
    o.member.deregister_critical_service_after = std::chrono::minutes(5);
    o.member.log = logger(name);
    o.rpc_wait = 2s;
    o.rpc_retry = 50ms;
    return o;
  }

  cbes::group::leader_options leader_options(const worker& w) {
    cbes::group::leader_options o;
    o.group = lgroup;
    o.endpoint_id = w.node->endpoint_id();
    o.service_id = w.name;
    o.debounce = debounce;
    o.dead_margin = 1000ms;
    o.retry = 100ms;
    o.resync = 1s;
    o.lock_delay = 100ms;
    o.session_ttl = 10s;
    o.rpc_timeout = 5s;
    o.watch_wait = 2s;
    o.vbucket_count = sixty_four;
    o.log = logger(w.name);
    return o;
  }

  // `n` workers: the config uploaded, every node joined and bound, then every leader
  // campaigning (so the first leader's first round already sees them all).
  void start(int n) {
    put(cbes::group::config_key(lgroup), config());
    for (int i = 1; i <= n; ++i) {
      auto w = std::make_unique<worker>();
      w->name = "w" + std::to_string(i);
      w->streamer = std::make_shared<memory_streamer>(w->name, book);
      w->consul.emplace(io.get_executor(), options_for(agent));
      auto node =
          run(io, cbes::group::worker_node::start(*w->consul, node_options(w->name), w->streamer));
      INFO((node ? std::string() : node.error().what()));
      REQUIRE(node);
      w->node = *node;
      asio::co_spawn(io, w->node->run(),
                     [e = w->ended](std::exception_ptr, result<void>) { e->node_run = true; });
      workers.push_back(std::move(w));
    }
    for (auto& w : workers) {
      w->leader = std::make_unique<cbes::group::leader>(*w->consul, leader_options(*w));
      asio::co_spawn(io, w->leader->run(),
                     [e = w->ended](std::exception_ptr) { e->leader_run = true; });
    }
  }

  std::vector<worker*> live() const {
    std::vector<worker*> out;
    for (const auto& w : workers)
      if (!w->gone)
        out.push_back(w.get());
    return out;
  }

  std::vector<worker*> leaders() const {
    std::vector<worker*> out;
    for (auto* w : live())
      if (w->leader->leading())
        out.push_back(w);
    return out;
  }

  // Every vbucket streamed by exactly one live worker, the shares of these sizes (any order).
  bool balanced(std::vector<std::size_t> sizes) const {
    std::vector<std::size_t> have;
    std::set<std::uint16_t> all;
    std::size_t total = 0;
    for (auto* w : live()) {
      const auto& vbs = w->streamer->owned();
      have.push_back(vbs.size());
      total += vbs.size();
      all.insert(vbs.begin(), vbs.end());
    }
    std::sort(have.begin(), have.end());
    std::sort(sizes.begin(), sizes.end());
    return have == sizes && total == vbucket_count && all.size() == vbucket_count &&
           *all.rbegin() == vbucket_count - 1;
  }

  // What the workers stream and the log so far: the message of a failed wait.
  std::string state() const {
    std::ostringstream out;
    for (const auto& w : workers) {
      out << w->name << (w->gone ? " (gone)" : "")
          << (w->leader && w->leader->leading() ? " (leader)" : "") << ": "
          << w->streamer->owned().size() << " vbuckets, running "
          << (w->streamer->running() ? "yes" : "no") << ", aborts " << w->streamer->aborts
          << ", generation " << (w->node ? w->node->service().generation() : 0) << "\n";
    }
    for (const auto& o : book->overlaps)
      out << "overlap: " << o << "\n";
    for (const auto& l : logs)
      out << l << "\n";
    return out.str();
  }

  bool until(std::function<bool()> done, std::chrono::milliseconds limit = 30s) {
    return run(io, poll_until(std::move(done), limit));
  }

  // Waits for `done` or fails the test with `what`, the workers' state and the log.
  void settle(const std::string& what, std::function<bool()> done,
              std::chrono::milliseconds limit = 30s) {
    if (!until(std::move(done), limit))
      FAIL(what << " did not happen within " << limit.count() << " ms\n" << state());
  }

  // A graceful leave, as `cbes-consul run` on SIGTERM: the leader first, then the node.
  void leave(worker& w) {
    run(io, [&]() -> asio::awaitable<void> {
      co_await w.leader->stop();
      co_await w.node->shutdown();
    }());
    w.gone = true;
    settle(w.name + "'s node and leader ending",
           [&] { return w.ended->node_run && w.ended->leader_run; });
  }

  // Stops every leader (all at once, so that none takes over from another), then every node,
  // waits for every coroutine they run, and closes the clients. False when something did not
  // end in time, or the io_context still has work (a coroutine or timer left waiting).
  bool finish() {
    finished = true;
    for (auto& w : workers)
      if (w->leader && !w->ended->leader_run)
        asio::co_spawn(io, w->leader->stop(),
                       [e = w->ended](std::exception_ptr) { e->leader_stopped = true; });
    bool ok = until(
        [&] {
          return std::all_of(workers.begin(), workers.end(),
                             [](const auto& w) { return !w->leader || w->ended->leader_run; });
        },
        30s);
    for (auto& w : workers)
      if (!w->ended->node_run)
        asio::co_spawn(io, w->node->shutdown(),
                       [e = w->ended](std::exception_ptr) { e->shut_down = true; });
    ok = until(
             [&] {
               return std::all_of(workers.begin(), workers.end(),
                                  [](const auto& w) { return w->ended->node_run; });
             },
             30s) &&
         ok;
    for (auto& w : workers)
      w->consul->close();
    admin->close();
    cbes::test::drain(io);
    io.restart();
    io.run_for(2s);  // returns at once when nothing is left
    return ok && io.stopped();
  }

  // The log lines containing `text`.
  std::size_t logged(const std::string& text) const {
    return static_cast<std::size_t>(std::count_if(logs.begin(), logs.end(), [&](const auto& l) {
      return l.find(text) != std::string::npos;
    }));
  }
};

// Per vbucket of `w`: how often it started and stopped so far.
std::map<std::uint16_t, std::pair<int, int>> counters(const worker& w) {
  std::map<std::uint16_t, std::pair<int, int>> out;
  for (auto vb : w.owned())
    out[vb] = {w.streamer->starts[vb], w.streamer->stops[vb]};
  return out;
}

// The vbuckets `before` were streamed by `w` then, and are still, never stopped or started again.
void check_not_restarted(const worker& w,
                         const std::map<std::uint16_t, std::pair<int, int>>& before) {
  INFO(w.name);
  const auto now = w.owned();
  for (const auto& [vb, count] : before) {
    INFO("vbucket " << vb);
    CHECK(now.count(vb) == 1);
    CHECK(w.streamer->starts[vb] == count.first);
    CHECK(w.streamer->stops[vb] == count.second);
  }
}

}  // namespace

TEST_CASE("leader: one of three is elected and spreads 64 vbuckets 21/21/22") {
  fixture f;
  f.start(3);
  f.settle("one leader and a balanced group", [&] {
    return f.leaders().size() == 1 && f.balanced({21, 21, 22});
  });
  auto* leading = f.leaders().front();
  CHECK(f.leader_key_value() == leading->node->endpoint_id());
  CHECK(leading->leader->rounds() > 0);
  for (auto* w : f.live()) {
    INFO(w->name);
    CHECK(w->node->service().generation() > 0);
    CHECK(w->node->service().generation() <= leading->leader->generation());
    CHECK(w->streamer->config() == f.config());
    CHECK(w->streamer->aborts == 0);
  }
  CHECK(f.book->overlaps.empty());
  REQUIRE(f.finish());
}

TEST_CASE("leader: a paused group streams nothing, resumed, it is balanced again") {
  fixture f;
  f.start(3);
  f.settle("a balanced group", [&] { return f.balanced({21, 21, 22}); });

  f.put(cbes::group::control_key(lgroup), R"({"paused":true})");
  f.settle("every worker released its vbuckets", [&] {
    const auto all = f.live();
    return std::all_of(all.begin(), all.end(),
                       [](worker* w) { return w->owned().empty() && w->node->service().paused(); });
  });
  CHECK(f.logged("paused: ") == 3);

  f.put(cbes::group::control_key(lgroup), R"({"paused":false})");
  f.settle("a balanced group after the resume", [&] { return f.balanced({21, 21, 22}); });
  for (auto* w : f.live()) {
    INFO(w->name);
    CHECK_FALSE(w->node->service().paused());
    CHECK(w->streamer->aborts == 0);
  }
  CHECK(f.book->overlaps.empty());
  REQUIRE(f.finish());
}

TEST_CASE("leader: a member that leaves gracefully hands its vbuckets to the others") {
  fixture f;
  f.start(3);
  f.settle("one leader and a balanced group", [&] {
    return f.leaders().size() == 1 && f.balanced({21, 21, 22});
  });
  worker* leaving = nullptr;
  for (auto* w : f.live())
    if (!w->leader->leading())
      leaving = w;
  REQUIRE(leaving != nullptr);
  auto* const leading = f.leaders().front();
  const auto had = leaving->owned();
  std::map<std::string, std::map<std::uint16_t, std::pair<int, int>>> before;
  for (auto* w : f.live())
    if (w != leaving)
      before[w->name] = counters(*w);

  f.leave(*leaving);
  f.settle("the two survivors streaming all 64", [&] { return f.balanced({32, 32}); });
  CHECK(leading->leader->leading());
  for (auto* w : f.live())
    check_not_restarted(*w, before[w->name]);
  // What moved is exactly what the leaver had.
  std::set<std::uint16_t> moved;
  for (auto* w : f.live())
    for (auto vb : w->owned())
      if (!before[w->name].count(vb))
        moved.insert(vb);
  CHECK(moved == had);
  CHECK(leaving->owned().empty());
  // The leaver recorded what it released once its streams ended; the leader took the record
  // (and so gave those vbuckets out without waiting for a vanished worker's kill switch).
  CHECK(f.logged(leading->name + " info: vbuckets ") == 1);
  CHECK(f.logged(" as it left: they need no wait") == 1);
  CHECK(f.release_records().empty());
  CHECK(f.book->overlaps.empty());
  REQUIRE(f.finish());
}

TEST_CASE("leader: when the leader leaves gracefully another takes over and rebalances") {
  fixture f;
  f.start(3);
  f.settle("one leader and a balanced group", [&] {
    return f.leaders().size() == 1 && f.balanced({21, 21, 22});
  });
  auto* const old = f.leaders().front();
  const auto old_generation = old->leader->generation();
  std::map<std::string, std::map<std::uint16_t, std::pair<int, int>>> before;
  for (auto* w : f.live())
    if (w != old)
      before[w->name] = counters(*w);

  f.leave(*old);
  f.settle("a new leader with the survivors streaming all 64", [&] {
    return f.leaders().size() == 1 && f.balanced({32, 32});
  });
  auto* const successor = f.leaders().front();
  CHECK(successor != old);
  CHECK(f.leader_key_value() == successor->node->endpoint_id());
  CHECK(f.logged(successor->name + " info: this worker") == 1);
  // The old leader's record of what it released, taken by its successor's first rounds.
  CHECK(f.logged(successor->name + " info: vbuckets ") == 1);
  CHECK(f.release_records().empty());
  // The new term's generations fence the old one's: every survivor follows one above it.
  CHECK(successor->leader->generation() > old_generation);
  for (auto* w : f.live()) {
    INFO(w->name);
    CHECK(w->node->service().generation() > old_generation);
    check_not_restarted(*w, before[w->name]);
  }
  CHECK(f.book->overlaps.empty());
  REQUIRE(f.finish());
}

TEST_CASE("leader: after Consul's index went backwards a new term continues above the workers") {
  // A restore, or servers restarted without their data: the next leader's acquisition has a
  // smaller ModifyIndex, so its fence is below the generation the workers follow. Unless it
  // proves it holds the leader key and continues above, nothing moves again.
  fixture f;
  f.start(3);
  f.settle("one leader and a balanced group", [&] {
    return f.leaders().size() == 1 && f.balanced({21, 21, 22});
  });
  auto* const old = f.leaders().front();
  const auto followed = old->leader->generation();
  f.agent.reset_index();
  f.leave(*old);
  f.settle("a new leader with the survivors streaming all 64", [&] {
    return f.leaders().size() == 1 && f.balanced({32, 32});
  });
  auto* const successor = f.leaders().front();
  CHECK(f.logged(successor->name + " warning: the workers follow generation") == 1);
  CHECK(successor->leader->generation() > followed);
  CHECK(f.book->overlaps.empty());
  REQUIRE(f.finish());
}

TEST_CASE("leader: a graceful leave inside the new term's debounce is acted on at once") {
  fixture f;
  // Long enough that the successor's first rounds fall inside it (its term starts as the old
  // leader steps down, before that one's streams have ended and its record is written).
  f.debounce = 3s;
  f.start(3);
  f.settle("one leader and a balanced group", [&] {
    return f.leaders().size() == 1 && f.balanced({21, 21, 22});
  });
  auto* const old = f.leaders().front();
  f.leave(*old);
  f.settle("a new leader with the survivors streaming all 64", [&] {
    return f.leaders().size() == 1 && f.balanced({32, 32});
  });
  auto* const successor = f.leaders().front();
  // The record of the old leader's vbuckets started a round without the debounce's wait, and
  // the leaver, still answering for a moment, was given nothing back.
  CHECK(f.logged(successor->name +
                 " info: a worker left the group gracefully: rebalancing without waiting") >= 1);
  CHECK(f.logged(successor->name + " info: vbuckets ") == 1);
  CHECK(old->owned().empty());
  CHECK(f.release_records().empty());
  CHECK(f.book->overlaps.empty());
  REQUIRE(f.finish());
}

TEST_CASE("leader: an invalid config is refused and the group keeps running the last good one") {
  fixture f;
  f.start(3);
  f.settle("a balanced group", [&] { return f.balanced({21, 21, 22}); });
  const auto good = f.config();
  std::map<std::string, std::set<std::uint16_t>> had;
  std::map<std::string, std::size_t> started;
  for (auto* w : f.live()) {
    had[w->name] = w->owned();
    started[w->name] = w->streamer->configs.size();
  }

  const std::string invalid = "[group]\nname = 3\n";
  f.put(cbes::group::config_key(lgroup), invalid);
  f.settle("the refusal in the leader's log",
           [&] { return f.logged("refusing the group's new config") > 0; });
  CHECK(f.logged("refusing the group's new config") == 1);
  CHECK(f.logged("the group keeps running the last good one") == 1);
  for (auto* w : f.live()) {
    INFO(w->name);
    CHECK(w->streamer->config() == good);
    CHECK(w->owned() == had[w->name]);
  }

  // The leader handles changes one round at a time: once a later valid config reached every
  // worker, the round that refused the invalid one is certainly over, and it changed nothing.
  const auto next = f.config("# the next valid config\n");
  f.put(cbes::group::config_key(lgroup), next);
  f.settle("every worker restarted with the next valid config", [&] {
    const auto all = f.live();
    return f.balanced({21, 21, 22}) && std::all_of(all.begin(), all.end(), [&](worker* w) {
             return w->streamer->config() == next;
           });
  });
  for (auto* w : f.live()) {
    INFO(w->name);
    const auto& configs = w->streamer->configs;
    CHECK(std::count(configs.begin(), configs.end(), invalid) == 0);
    // One restart since the refusal, with the new config and the same vbuckets.
    CHECK(configs.size() == started[w->name] + 1);
    CHECK(w->owned() == had[w->name]);
  }
  CHECK(f.book->overlaps.empty());
  REQUIRE(f.finish());
}
