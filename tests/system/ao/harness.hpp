#pragma once
// What the Autonomous Operations system tests share: one `cbes-sandbox` (Consul, Couchbase and
// Elasticsearch, plus its fault-injection control port) as a child process, `cbes-consul run`
// workers as child processes of their own, `cbes-consul` admin commands run to their end, and
// the test's own view of the group — asked over the Java RPC protocol (worker.status,
// worker.streamHistory), never through the workers' internals.
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "cbes/couchbase/cluster.hpp"
#include "cbes/group/layout.hpp"
#include "cbes/group/rpc.hpp"
#include "cbes/group/worker_service.hpp"
#include "cbes/testkit/http_client.hpp"
#include "cbes/util/crc32.hpp"
#include "consul/client.hpp"
#include "support/eventually.hpp"
#include "support/process.hpp"
#include "support/run_coroutine.hpp"
#include "unit/couchbase/result_printer.hpp"
#include "unit/group/result_printer.hpp"

namespace ao_st {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

inline std::string bin(const std::string& name) {
  return std::string(CBES_BINARY_DIR) + "/bin/" + name;
}

// REQUIRE(expr), with every worker's log in the message when it fails (INFO would take the
// logs when it is written, not when the check fails).
#define AO_REQUIRE(g, ...)                                   \
  do {                                                       \
    const bool ao_ok_ = (__VA_ARGS__);                       \
    if (!ao_ok_)                                             \
      FAIL_CHECK(#__VA_ARGS__ << " failed\n" << (g).logs()); \
    REQUIRE(ao_ok_);                                         \
  } while (0)

using cbes::test::eventually;

inline std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What a worker answered to worker.status.
struct status {
  std::vector<std::uint16_t> vbuckets;
  bool member = false;  // membership was an object
  std::int64_t member_number = 0;
  std::int64_t cluster_size = 0;
  std::uint64_t generation = 0;
  std::string config_digest;
};

// worker.streamHistory: per vbucket, how often it started and stopped, and when.
struct history {
  std::map<std::uint16_t, std::uint64_t> starts;
  std::map<std::uint16_t, std::uint64_t> stops;
  // (vbucket, from ms, to ms or INT64_MAX while streaming)
  std::vector<std::tuple<std::uint16_t, std::int64_t, std::int64_t>> intervals;
};

inline std::vector<std::uint16_t> vbucket_array(const json::value& v) {
  std::vector<std::uint16_t> out;
  if (v.is_array())
    for (const auto& x : v.as_array())
      out.push_back(static_cast<std::uint16_t>(x.to_number<std::int64_t>()));
  return out;
}

// One sandbox, one group, its workers.
class group_fixture {
 public:
  static constexpr const char* group = "ao-group";

  explicit group_fixture(int sample_documents = 0)
      : sandbox_({bin("cbes-sandbox"), "--services=consul,couchbase,elasticsearch",
                  "--consul-port=0", "--kv-port=0", "--mgmt-port=0", "--es-port=0",
                  "--control-port=0", "--load-sample=" + std::to_string(sample_documents)}) {
    auto c = sandbox_.wait_for(std::regex("ready: consul http://([0-9.]+:[0-9]+)"));
    REQUIRE(c);
    consul_address_ = (*c)[1];
    auto cb = sandbox_.wait_for(std::regex("ready: couchbase couchbase://([0-9.]+:[0-9]+)"));
    REQUIRE(cb);
    kv_ = (*cb)[1];
    auto es = sandbox_.wait_for(std::regex("ready: elasticsearch (http://[0-9.]+:[0-9]+)"));
    REQUIRE(es);
    es_ = (*es)[1];
    auto ctl = sandbox_.wait_for(std::regex("ready: control (http://[0-9.]+:[0-9]+)"));
    REQUIRE(ctl);
    control_ = (*ctl)[1];

    static int counter = 0;
    dir_ = fs::path(CBES_BINARY_DIR) / "tmp" / "system" /
           ("ao-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "secrets");
    std::ofstream(dir_ / "secrets" / "couchbase-password.toml") << "password = 'password'\n";
    std::ofstream(dir_ / "secrets" / "elasticsearch-password.toml") << "password = ''\n";

    consul::client_options co;
    co.address = consul_address_;
    consul_.emplace(io_.get_executor(), co);
    cbes::group::rpc_client_options ro;
    ro.absent_poll = 100ms;
    rpc_.emplace(*consul_, group, ro);

    cbes::couchbase::cluster_options o;
    o.seeds = kv_ + "=kv";
    o.username = "Administrator";
    o.password = "password";
    o.bucket = "default";
    auto cluster = cbes::test::run(io_, cbes::couchbase::cluster::connect(io_.get_executor(), o));
    REQUIRE(cluster.has_value());
    couchbase_ = *cluster;
  }

  ~group_fixture() {
    workers_.clear();  // SIGKILLed and reaped
    rpc_.reset();
    if (couchbase_)
      couchbase_->close();
    consul_->close();
    cbes::test::drain(io_);
  }

  const fs::path& dir() const { return dir_; }
  // The sandbox's Consul agent, "127.0.0.1:<port>", for processes that outlive one cli() call.
  const std::string& consul_address() const { return consul_address_; }

  // The group's connector config (absolute secret paths, so any working directory will do),
  // with `extra` TOML appended.
  std::string config_text(const std::string& bulk_actions = "500",
                          const std::string& extra = "") const {
    std::ostringstream f;
    f << "[group]\nname = '" << group << "'\n"
      << "[group.static]\nmemberNumber = 1\ntotalMembers = 1\n"
      << "[metrics]\nhttpPort = -1\nlogInterval = '0'\n"
      << "[couchbase]\nhosts = ['" << kv_ << "=kv']\nbucket = 'default'\n"
      << "username = 'Administrator'\npathToPassword = '"
      << (dir_ / "secrets" / "couchbase-password.toml").string() << "'\n"
      << "[elasticsearch]\nhosts = ['" << es_ << "']\npathToPassword = '"
      << (dir_ / "secrets" / "elasticsearch-password.toml").string() << "'\n"
      << "[elasticsearch.bulkRequestLimits]\nactions = " << bulk_actions << "\n"
      << "[[elasticsearch.type]]\nprefix = ''\nindex = 'ao'\n"
      << extra;
    return f.str();
  }

  // `cbes-consul configure --input=<file with text>`; the outcome.
  cbes::test::outcome configure(const std::string& text) {
    static int n = 0;
    const auto path = dir_ / ("connector-" + std::to_string(n++) + ".toml");
    std::ofstream(path) << text;
    auto o = cli({"configure", "--input=" + path.string()});
    INFO(o.out << o.err);
    CHECK(o.code == 0);
    return o;
  }

  // `cbes-consul <args> --consul-agent=<sandbox>`, to its end.
  cbes::test::outcome cli(std::vector<std::string> args, std::chrono::milliseconds limit = 120s) {
    args.insert(args.begin(), bin("cbes-consul"));
    args.push_back("--consul-agent=" + consul_address_);
    return cbes::test::run_to_end(std::move(args), limit);
  }

  // `cbes-consul run` with this service id (empty: the default, the group name), test timings
  // (heartbeat 2 s: TTL 4 s, kill switch 2.7 s; debounce 1 s; lock-delay 1 s), started and not
  // waited for.
  std::unique_ptr<cbes::test::process> spawn_worker(const std::string& service_id) {
    std::vector<std::string> args{bin("cbes-consul"),
                                  "run",
                                  "--group=" + std::string(group),
                                  "--consul-agent=" + consul_address_,
                                  "--heartbeat-interval=2s",
                                  "--lock-delay=1s",
                                  "--debounce=1s"};
    if (!service_id.empty())
      args.push_back("--service-id=" + service_id);
    return std::make_unique<cbes::test::process>(args);
  }

  // spawn_worker(), then waits for its "ready:" line; returns its endpoint id.
  std::string start_worker(const std::string& service_id) {
    return adopt_worker(spawn_worker(service_id));
  }

  // Waits for a spawned worker's "ready:" line and counts it among the group's workers; returns
  // its endpoint id.
  std::string adopt_worker(std::unique_ptr<cbes::test::process> p) {
    auto ready = p->wait_for(std::regex("ready: worker (\\S+) in group"), 60s);
    INFO(p->errors());
    REQUIRE(ready);
    const std::string id = (*ready)[1];
    workers_[id] = std::move(p);
    return id;
  }

  cbes::test::process& worker(const std::string& id) { return *workers_.at(id); }
  std::vector<std::string> worker_ids() const {
    std::vector<std::string> out;
    for (const auto& [id, p] : workers_)
      out.push_back(id);
    return out;
  }
  void forget_worker(const std::string& id) { workers_.erase(id); }

  // Every worker's stderr, for failure messages.
  std::string logs() const {
    std::string out;
    for (const auto& [id, p] : workers_)
      out += "==== " + id + "\n" + p->errors();
    return out;
  }

  // The leader key's value (empty when there is no leader).
  std::string leader() {
    consul::query_options q;
    auto r = cbes::test::run(io_, consul_->kv().get(cbes::group::leader_key(group), q));
    REQUIRE(r.has_value());
    return r->value ? r->value->value : std::string();
  }

  // worker.status of every endpoint that answered (endpoint id -> status).
  std::map<std::string, status> statuses(std::chrono::milliseconds timeout = 5s) {
    auto all = cbes::test::run(io_, rpc_->broadcast("worker.status", "[]", timeout));
    std::map<std::string, status> out;
    if (!all)
      return out;
    for (auto& [id, r] : *all) {
      if (!r)
        continue;
      auto v = json::parse(*r);
      const auto& o = v.as_object();
      status s;
      s.vbuckets = vbucket_array(o.at("vbuckets"));
      if (const auto& m = o.at("membership"); m.is_object()) {
        s.member = true;
        s.member_number = m.at("memberNumber").to_number<std::int64_t>();
        s.cluster_size = m.at("clusterSize").to_number<std::int64_t>();
      }
      s.generation = o.at("generation").to_number<std::uint64_t>();
      if (const auto* d = o.if_contains("configDigest"))
        s.config_digest = std::string(d->as_string());
      out.emplace(id, std::move(s));
    }
    return out;
  }

  // True when exactly `members` workers answer, every one of the 1024 vbuckets is streamed by
  // exactly one of them, their shares differ by at most one, and each one's membership says
  // "n of members".
  bool balanced_over(std::size_t members) {
    auto s = statuses();
    if (s.size() != members)
      return false;
    std::vector<int> claims(1024, 0);
    std::size_t smallest = 1024, largest = 0;
    for (const auto& [id, st] : s) {
      for (auto vb : st.vbuckets)
        ++claims.at(vb);
      smallest = std::min(smallest, st.vbuckets.size());
      largest = std::max(largest, st.vbuckets.size());
      if (!st.member || st.cluster_size != static_cast<std::int64_t>(members))
        return false;
    }
    return largest - smallest <= 1 &&
           std::all_of(claims.begin(), claims.end(), [](int c) { return c == 1; });
  }

  // One RPC call's result (JSON text); fails the test when the call fails.
  std::string call(const std::string& id, const std::string& method, const std::string& params) {
    auto r = cbes::test::run(io_, rpc_->call(id, method, params, 10s));
    INFO(method << ": " << (r ? std::string() : r.error().what()));
    REQUIRE(r.has_value());
    return *r;
  }

  // worker.streamHistory of one worker.
  history stream_history(const std::string& id) {
    auto r = cbes::test::run(io_, rpc_->call(id, "worker.streamHistory", "[]", 10s));
    INFO((r ? std::string() : r.error().what()));
    REQUIRE(r.has_value());
    auto v = json::parse(*r);
    const auto& o = v.as_object();
    history h;
    for (const auto& [k, n] : o.at("starts").as_object())
      h.starts[static_cast<std::uint16_t>(std::stoi(std::string(k)))] =
          n.to_number<std::uint64_t>();
    for (const auto& [k, n] : o.at("stops").as_object())
      h.stops[static_cast<std::uint16_t>(std::stoi(std::string(k)))] = n.to_number<std::uint64_t>();
    std::map<std::uint16_t, std::int64_t> open;
    for (const auto& e : o.at("events").as_array()) {
      const auto& eo = e.as_object();
      if (const auto* stopped = eo.if_contains("stopped"))
        for (auto vb : vbucket_array(*stopped)) {
          auto it = open.find(vb);
          if (it != open.end()) {
            h.intervals.emplace_back(vb, it->second, eo.at("stoppedAt").to_number<std::int64_t>());
            open.erase(it);
          }
        }
      if (const auto* started = eo.if_contains("started"))
        for (auto vb : vbucket_array(*started))
          open[vb] = eo.at("startedAt").to_number<std::int64_t>();
    }
    for (const auto& [vb, from] : open)
      h.intervals.emplace_back(vb, from, std::numeric_limits<std::int64_t>::max());
    return h;
  }

  // Upserts one document into every vbucket (keys chosen by the bucket's hash); returns their
  // ids.
  std::vector<std::string> write_every_vbucket(const std::string& tag) {
    std::vector<std::string> keys(1024);
    std::size_t found = 0;
    for (int i = 0; found < 1024; ++i) {
      const auto key = tag + "-" + std::to_string(i);
      auto vb = cbes::util::vbucket_for_key(key, 1024);
      if (keys[vb].empty()) {
        keys[vb] = key;
        ++found;
      }
    }
    for (const auto& key : keys) {
      auto r = cbes::test::run(
          io_, couchbase_->upsert({}, key, R"({"tag":")" + tag + R"(","key":")" + key + "\"}"));
      REQUIRE(r.has_value());
    }
    return keys;
  }

  // Live documents in the group's index.
  std::size_t count() const {
    cbes::testkit::http_request(es_, "POST", "/ao/_refresh");
    auto r = cbes::testkit::http_request(es_, "GET", "/ao/_count");
    if (!r || r->status != 200)
      return 0;
    std::smatch m;
    if (std::regex_search(r->body, m, std::regex("\"count\":([0-9]+)")))
      return std::stoul(m[1]);
    return 0;
  }

  // True when every one of these documents is in the group's index.
  bool all_present(const std::vector<std::string>& keys) const {
    for (const auto& k : keys) {
      auto r = cbes::testkit::http_request(es_, "GET", "/ao/_doc/" + k);
      if (!r || r->status != 200)
        return false;
    }
    return true;
  }

  // A fault or a reading from the sandbox's control API (POST) or its stats (GET).
  std::string control(const std::string& method, const std::string& action) const {
    auto r = cbes::testkit::http_request(control_, method, action);
    REQUIRE(r);
    INFO(action << " -> " << r->status << " " << r->body);
    REQUIRE(r->status == 200);
    return r->body;
  }
  std::uint64_t es_stat(const std::string& name) const {
    auto v = json::parse(control("GET", "/elasticsearch/stats"));
    return v.as_object().at(name).to_number<std::uint64_t>();
  }

 private:
  cbes::test::process sandbox_;
  std::string consul_address_;
  std::string kv_;
  std::string es_;
  std::string control_;
  fs::path dir_;
  boost::asio::io_context io_;
  std::optional<consul::client> consul_;
  std::optional<cbes::group::rpc_client> rpc_;
  std::shared_ptr<cbes::couchbase::cluster> couchbase_;
  std::map<std::string, std::unique_ptr<cbes::test::process>> workers_;
};

// No vbucket was streamed by two workers at once: over every worker's own record, the
// streaming intervals of one vbucket never overlap. Returns the first overlap found.
inline std::optional<std::string> overlap(const std::map<std::string, history>& histories) {
  std::map<std::uint16_t, std::vector<std::tuple<std::int64_t, std::int64_t, std::string>>> by_vb;
  for (const auto& [id, h] : histories)
    for (const auto& [vb, from, to] : h.intervals)
      by_vb[vb].emplace_back(from, to, id);
  for (auto& [vb, list] : by_vb) {
    // Intervals of one worker may touch (a restart with a new config); only two workers count.
    for (std::size_t i = 0; i < list.size(); ++i)
      for (std::size_t j = 0; j < list.size(); ++j) {
        const auto& [pf, pt, pid] = list[i];
        const auto& [f, t, id] = list[j];
        if (pid != id && pf <= f && f < pt)
          return "vbucket " + std::to_string(vb) + ": " + pid + " streamed it [" +
                 std::to_string(pf) + ", " + std::to_string(pt) + ") and " + id + " from " +
                 std::to_string(f);
      }
  }
  return std::nullopt;
}

}  // namespace ao_st
