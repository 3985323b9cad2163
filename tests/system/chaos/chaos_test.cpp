// The chaos suite: three `cbes-consul run` workers against `cbes-sandbox` (Consul with ACLs,
// three Couchbase nodes with a replica each, Elasticsearch with basic auth), a writer doing
// inserts, updates, deletes and expiring writes through the KV port, and a fault schedule drawn
// from a seed: SIGKILL / SIGTERM / SIGSTOP+SIGCONT of workers and the leader, and the fakes'
// faults through the sandbox control API (Consul 500 bursts, freeze, restart with data kept or
// lost, lost leader; Elasticsearch 429/503 bursts and spells, slow and dropped responses;
// Couchbase connection drops, vbucket moves, failover, node add/remove, failed operations).
//
// Once the faults stop, the test demands:
//   - Elasticsearch holds exactly the bucket's final state: every live key at its latest
//     revision and no key the bucket does not have (the bucket is read back at the end, so
//     what a failover lost is not expected);
//   - no vbucket was ever streamed by two workers at once: each worker process logs every
//     change of what it streams with its time (a kill switch's stop dated when writes ended),
//     which survives SIGKILL, and a killed process's vbuckets end at its kill;
//   - no secret (Couchbase password, Elasticsearch password, Consul ACL token) appears in any
//     worker's output, any admin command's output, anything stored in Consul, the agent's
//     services and checks, or the workers' worker.status / worker.metrics answers.
// It prints documents checked, faults injected, duplicates replayed (index writes of the very
// source Elasticsearch held) and the longest time any vbucket went unserved, and on failure the
// seed that reproduces the schedule.
//
// Short form (in ./test.sh): 60 s of faults. Long form by hand:
//   CBES_CHAOS_SECONDS=3600 build/bin/test-system-chaos
// CBES_CHAOS_SEED=<n> replays a schedule; CBES_CHAOS_RATE=<writes/s> (default 200).
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
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
#include "cbes/testkit/http_client.hpp"
#include "cbes/util/base64.hpp"
#include "cbes/util/crc32.hpp"
#include "consul/client.hpp"
#include "support/eventually.hpp"
#include "support/process.hpp"
#include "support/run_coroutine.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

constexpr const char* group = "chaos";
constexpr int num_vbuckets = 1024;
constexpr int key_space = 1500;

std::string bin(const std::string& name) {
  return std::string(CBES_BINARY_DIR) + "/bin/" + name;
}

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

long env_number(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtol(v, nullptr, 10) : fallback;
}

std::string random_secret(std::mt19937_64& rng, const std::string& prefix) {
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string s = prefix;
  for (int i = 0; i < 24; ++i)
    s += alphabet[rng() % 36];
  return s;
}

// "0-2,5" -> {0, 1, 2, 5}; "none" -> {}.
std::vector<std::uint16_t> parse_ranges(const std::string& text) {
  std::vector<std::uint16_t> out;
  if (text == "none")
    return out;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, ',')) {
    const auto dash = part.find('-');
    const int from = std::stoi(part.substr(0, dash));
    const int to = dash == std::string::npos ? from : std::stoi(part.substr(dash + 1));
    for (int v = from; v <= to; ++v)
      out.push_back(static_cast<std::uint16_t>(v));
  }
  return out;
}

// One process of a worker (a restart is a new incarnation with the same service id).
struct incarnation {
  std::string service;
  std::unique_ptr<cbes::test::process> proc;
  std::int64_t started_ms = 0;
  std::optional<std::int64_t> killed_ms;  // SIGKILLed at
  bool stopped = false;                   // SIGSTOPped now
  bool terminating = false;               // SIGTERM sent
};

// (vbucket, from, to, who)
struct interval {
  std::uint16_t vb;
  std::int64_t from;
  std::int64_t to;
  std::string who;
};

class chaos {
 public:
  explicit chaos(std::uint64_t seed) : rng_(seed) {
    std::mt19937_64 secrets(seed ^ 0x5eC12e7ULL);
    cb_password_ = random_secret(secrets, "cbpw");
    es_password_ = random_secret(secrets, "espw");
    acl_token_ = random_secret(secrets, "acl");
    sandbox_ = std::make_unique<cbes::test::process>(std::vector<std::string>{
        bin("cbes-sandbox"), "--services=consul,couchbase,elasticsearch", "--consul-port=0",
        "--kv-port=0", "--mgmt-port=0", "--es-port=0", "--control-port=0", "--nodes=3",
        "--replicas=1", "--password=" + cb_password_, "--es-username=elastic",
        "--es-password=" + es_password_, "--consul-acl-token=" + acl_token_});
    auto c = sandbox_->wait_for(std::regex("ready: consul http://([0-9.]+:[0-9]+)"));
    REQUIRE(c);
    consul_address_ = (*c)[1];
    auto cb = sandbox_->wait_for(std::regex("ready: couchbase couchbase://([0-9.]+:[0-9]+)"));
    REQUIRE(cb);
    kv_ = (*cb)[1];
    auto es = sandbox_->wait_for(std::regex("ready: elasticsearch (http://[0-9.]+:[0-9]+)"));
    REQUIRE(es);
    es_ = (*es)[1];
    auto ctl = sandbox_->wait_for(std::regex("ready: control (http://[0-9.]+:[0-9]+)"));
    REQUIRE(ctl);
    control_ = (*ctl)[1];

    dir_ = fs::path(CBES_BINARY_DIR) / "tmp" / "system" /
           ("chaos-" + std::to_string(::getpid()) + "-" + std::to_string(seed));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "couchbase-password.toml") << "password = '" << cb_password_ << "'\n";
    std::ofstream(dir_ / "elasticsearch-password.toml") << "password = '" << es_password_ << "'\n";
    std::ofstream(dir_ / "consul.toml") << "[consul]\naclToken = '" << acl_token_ << "'\n";
    std::ofstream(dir_ / "connector.toml") << config_text();

    consul::client_options co;
    co.address = consul_address_;
    co.token = acl_token_;
    consul_.emplace(io_.get_executor(), co);
    cbes::group::rpc_client_options ro;
    ro.absent_poll = 100ms;
    rpc_.emplace(*consul_, group, ro);
  }

  ~chaos() {
    stop_writer();
    for (auto& w : workers_)
      if (w.proc && w.stopped)
        w.proc->signal(SIGCONT);
    workers_.clear();
    rpc_.reset();
    consul_->close();
    cbes::test::drain(io_);
  }

  std::string config_text() const {
    std::ostringstream f;
    f << "[group]\nname = '" << group << "'\n"
      << "[group.static]\nmemberNumber = 1\ntotalMembers = 1\n"
      << "[metrics]\nhttpPort = -1\nlogInterval = '10s'\n"
      << "[couchbase]\nhosts = ['" << kv_ << "=kv']\nbucket = 'default'\n"
      << "username = 'Administrator'\npathToPassword = '"
      << (dir_ / "couchbase-password.toml").string() << "'\n"
      << "[elasticsearch]\nhosts = ['" << es_ << "']\nusername = 'elastic'\npathToPassword = '"
      << (dir_ / "elasticsearch-password.toml").string() << "'\n"
      << "[elasticsearch.bulkRequestLimits]\nactions = 200\n"
      << "[[elasticsearch.type]]\nprefix = ''\nindex = 'chaos'\n";
    return f.str();
  }

  // `cbes-consul <args> --consul-agent=<sandbox> -c consul.toml`, to its end; the output is kept
  // for the secrets check.
  cbes::test::outcome cli(std::vector<std::string> args, std::chrono::milliseconds limit = 120s) {
    args.insert(args.begin(), bin("cbes-consul"));
    args.push_back("--consul-agent=" + consul_address_);
    args.push_back("--consul-config=" + (dir_ / "consul.toml").string());
    auto o = cbes::test::run_to_end(std::move(args), limit);
    admin_output_ += o.out + o.err;
    return o;
  }

  void configure() {
    auto o = cli({"configure", "--input=" + (dir_ / "connector.toml").string()});
    INFO(o.out << o.err);
    REQUIRE(o.code == 0);
  }

  void start_worker(const std::string& service) {
    incarnation w;
    w.service = service;
    w.proc = std::make_unique<cbes::test::process>(std::vector<std::string>{
        bin("cbes-consul"), "run", "--group=" + std::string(group),
        "--consul-agent=" + consul_address_, "--consul-config=" + (dir_ / "consul.toml").string(),
        "--service-id=" + service, "--heartbeat-interval=2s", "--lock-delay=1s", "--debounce=1s"});
    w.started_ms = unix_ms();
    workers_.push_back(std::move(w));
  }

  // The newest incarnation of each service id.
  incarnation* current(const std::string& service) {
    for (auto it = workers_.rbegin(); it != workers_.rend(); ++it)
      if (it->service == service)
        return &*it;
    return nullptr;
  }

  // Every worker's stderr, for failure messages (the newest 4 KB of each).
  std::string logs() const {
    std::string out;
    for (const auto& w : workers_) {
      auto e = w.proc->errors();
      if (e.size() > 4096)
        e = "..." + e.substr(e.size() - 4096);
      out += "==== " + w.service + " (pid " + std::to_string(w.proc->pid()) + ")\n" + e;
    }
    return out;
  }

  std::string consul_get(const std::string& target) const {
    auto r = cbes::testkit::http_request("http://" + consul_address_, "GET", target, {},
                                         {{"X-Consul-Token", acl_token_}}, 10s);
    return r && r->status == 200 ? r->body : std::string();
  }

  // The leader's service id ("w2"), or "" when there is none (or Consul does not answer).
  std::string leader_service() const {
    auto v = consul_get("/v1/kv/" + cbes::group::leader_key(group) + "?raw");
    const auto sep = v.rfind("::");
    return sep == std::string::npos ? std::string() : v.substr(sep + 2);
  }

  // POST to the control API; the status (0 when it did not answer).
  int control(const std::string& action) {
    auto r = cbes::testkit::http_request(control_, "POST", action, {}, {}, 90s);
    return r ? r->status : 0;
  }
  json::object es_stats() {
    auto r = cbes::testkit::http_request(control_, "GET", "/elasticsearch/stats");
    REQUIRE(r);
    return json::parse(r->body).as_object();
  }

  // ---- the writer ----
  void start_writer(int rate) {
    writer_ = std::thread([this, rate] {
      boost::asio::io_context io;
      cbes::couchbase::cluster_options o;
      o.seeds = kv_ + "=kv";
      o.username = "Administrator";
      o.password = cb_password_;
      o.bucket = "default";
      std::shared_ptr<cbes::couchbase::cluster> c;
      std::mt19937_64 rng(writer_seed_);
      const auto period = std::chrono::microseconds(1'000'000 / std::max(rate, 1));
      auto next = clock_type::now();
      std::uint64_t rev = 0;
      while (!writer_stop_) {
        if (!c) {
          auto cl = cbes::test::run(io, cbes::couchbase::cluster::connect(io.get_executor(), o));
          if (!cl) {
            std::this_thread::sleep_for(200ms);
            continue;
          }
          c = *cl;
        }
        const auto key = "chaos-" + std::to_string(rng() % key_space);
        const auto dice = rng() % 100;
        ++rev;
        bool ok = false;
        if (dice < 60 || dice >= 85) {
          cbes::couchbase::upsert_options uo;
          if (dice >= 85)
            uo.expiry = 1 + static_cast<std::uint32_t>(rng() % 3);  // seconds
          auto r = cbes::test::run(
              io, c->upsert({}, key,
                            R"({"key":")" + key + R"(","rev":)" + std::to_string(rev) +
                                R"(,"pad":"chaos chaos chaos chaos"})",
                            uo));
          ok = r.has_value();
        } else {
          auto r = cbes::test::run(io, c->remove({}, key));
          ok = r.has_value() || r.error().code == cbes::couchbase::errc::document_not_found;
        }
        ++writes_;
        if (!ok)
          ++write_errors_;
        next += period;
        const auto now = clock_type::now();
        if (next > now)
          std::this_thread::sleep_for(next - now);
        else if (now - next > 1s)
          next = now;  // a stall (a fault): no burst to catch up
      }
      if (c)
        c->close();
      cbes::test::drain(io);
    });
  }
  void stop_writer() {
    writer_stop_ = true;
    if (writer_.joinable())
      writer_.join();
  }

  // The bucket's state of every key the writer may have touched: key -> rev (absent: no
  // document). Reads retry until the bucket answers each key.
  std::map<std::string, std::int64_t> bucket_state() {
    cbes::couchbase::cluster_options o;
    o.seeds = kv_ + "=kv";
    o.username = "Administrator";
    o.password = cb_password_;
    o.bucket = "default";
    auto c = cbes::test::run(io_, cbes::couchbase::cluster::connect(io_.get_executor(), o));
    REQUIRE(c.has_value());
    std::map<std::string, std::int64_t> out;
    for (int i = 0; i < key_space; ++i) {
      const auto key = "chaos-" + std::to_string(i);
      for (int attempt = 0;; ++attempt) {
        auto r = cbes::test::run(io_, (*c)->get({}, key));
        if (r) {
          out[key] = json::parse(r->value).at("rev").to_number<std::int64_t>();
          break;
        }
        if (r.error().code == cbes::couchbase::errc::document_not_found)
          break;
        INFO(key << ": " << r.error().what());
        REQUIRE(attempt < 50);
        std::this_thread::sleep_for(100ms);
      }
    }
    (*c)->close();
    return out;
  }

  // What Elasticsearch holds: id -> rev (-1 when the source has none).
  std::optional<std::map<std::string, std::int64_t>> es_state() const {
    const cbes::testkit::http_headers auth{
        {"Authorization", "Basic " + cbes::util::base64_encode("elastic:" + es_password_)}};
    auto refresh = cbes::testkit::http_request(es_, "POST", "/chaos/_refresh", {}, auth);
    auto r = cbes::testkit::http_request(es_, "GET", "/chaos/_search?size=10000", {}, auth);
    if (!r || r->status != 200)
      return std::nullopt;
    std::map<std::string, std::int64_t> out;
    auto v = json::parse(r->body);
    for (const auto& h : v.at("hits").at("hits").as_array()) {
      const auto& src = h.at("_source").as_object();
      const json::object* doc = &src;
      if (const auto* inner = src.if_contains("doc"); inner && inner->is_object())
        doc = &inner->as_object();
      std::int64_t rev = -1;
      if (const auto* x = doc->if_contains("rev"))
        rev = x->to_number<std::int64_t>();
      out[std::string(h.at("_id").as_string())] = rev;
    }
    return out;
  }

  // ---- what the workers said they streamed ----
  std::vector<interval> intervals(std::int64_t end_ms) const {
    static const std::regex line(
        R"(streaming (started|stopped): vbuckets ([0-9,\-]+|none) \([0-9]+\) at unix ms ([0-9]+))");
    std::vector<interval> out;
    int n = 0;
    for (const auto& w : workers_) {
      const std::string who = w.service + "#" + std::to_string(n++);
      std::map<std::uint16_t, std::int64_t> open;
      std::istringstream in(w.proc->errors());
      std::string l;
      std::smatch m;
      while (std::getline(in, l)) {
        if (!std::regex_search(l, m, line))
          continue;
        const auto at = std::stoll(m[3]);
        for (auto vb : parse_ranges(m[2])) {
          if (m[1] == "started") {
            open[vb] = at;
          } else if (auto it = open.find(vb); it != open.end()) {
            out.push_back({vb, it->second, at, who});
            open.erase(it);
          }
        }
      }
      const auto last = w.killed_ms.value_or(end_ms);
      for (const auto& [vb, from] : open)
        out.push_back({vb, from, last, who});
    }
    return out;
  }

  std::unique_ptr<cbes::test::process> sandbox_;
  std::string consul_address_, kv_, es_, control_;
  std::string cb_password_, es_password_, acl_token_;
  fs::path dir_;
  boost::asio::io_context io_;
  std::optional<consul::client> consul_;
  std::optional<cbes::group::rpc_client> rpc_;
  std::vector<incarnation> workers_;
  std::mt19937_64 rng_;
  std::uint64_t writer_seed_ = 0;
  std::thread writer_;
  std::atomic<bool> writer_stop_{false};
  std::atomic<std::uint64_t> writes_{0};
  std::atomic<std::uint64_t> write_errors_{0};
  std::string admin_output_;
};

// A fault with its end (a time after which `undo` runs), or none.
struct pending {
  clock_type::time_point at;
  std::function<void()> run;
};

}  // namespace

TEST_CASE("chaos: seeded faults over three workers lose no document and never overlap") {
  const auto seed = static_cast<std::uint64_t>(
      env_number("CBES_CHAOS_SEED", static_cast<long>(std::random_device{}() & 0x7fffffff)));
  const auto seconds = env_number("CBES_CHAOS_SECONDS", 60);
  const auto rate = static_cast<int>(env_number("CBES_CHAOS_RATE", 200));
  std::printf("chaos: seed %llu, %ld s of faults, %d writes/s (CBES_CHAOS_SEED=%llu reproduces)\n",
              static_cast<unsigned long long>(seed), seconds, rate,
              static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  INFO("seed " << seed << " (CBES_CHAOS_SEED=" << seed << " reproduces the schedule)");

  chaos t(seed);
  t.writer_seed_ = seed * 31 + 7;
  t.configure();
  const std::vector<std::string> services{"w1", "w2", "w3"};
  for (const auto& s : services)
    t.start_worker(s);

  // Every vbucket streamed before the faults begin (the workers' own logs say so).
  auto all_served = [&] {
    std::set<std::uint16_t> served;
    for (const auto& i : t.intervals(std::numeric_limits<std::int64_t>::max()))
      if (i.to == std::numeric_limits<std::int64_t>::max())
        served.insert(i.vb);
    return served.size() == num_vbuckets;
  };
  if (!cbes::test::eventually(all_served, 120s)) {
    FAIL_CHECK("the group never streamed every vbucket\n" << t.logs());
    REQUIRE(false);
  }
  t.start_writer(rate);
  const auto faults_began_ms = unix_ms();

  std::mt19937_64& rng = t.rng_;
  std::map<std::string, int> injected;
  std::vector<pending> undo;
  std::set<std::size_t> couchbase_nodes{0, 1, 2};
  std::size_t next_node = 3;
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  auto later = [&](std::chrono::milliseconds d, std::function<void()> f) {
    undo.push_back({clock_type::now() + d, std::move(f)});
  };
  auto ms_between = [&](int lo, int hi) {
    return std::chrono::milliseconds(lo + rng() % (hi - lo));
  };

  // Uploads the group's config again after Consul lost it; until that works, once a second.
  bool config_lost = false;
  std::function<void()> reconfigure = [&] {
    if (!config_lost)
      return;
    if (t.cli({"configure", "--input=" + (t.dir_ / "connector.toml").string()}, 15s).code == 0)
      config_lost = false;
    else
      later(1s, reconfigure);
  };

  // The fault menu: each entry injects one fault (and schedules its end).
  using fault = std::function<bool()>;
  auto worker_target = [&]() -> incarnation* {
    // The leader a third of the time, else any worker; never one already stopped or dying.
    std::string s = rng() % 3 == 0 ? t.leader_service() : pick(services);
    if (s.empty())
      s = pick(services);
    auto* w = t.current(s);
    return w && !w->stopped && !w->terminating && !w->killed_ms ? w : nullptr;
  };
  const std::vector<std::pair<std::string, fault>> menu = {
      {"worker SIGKILL",
       [&] {
         auto* w = worker_target();
         if (!w)
           return false;
         w->killed_ms = unix_ms();
         w->proc->signal(SIGKILL);
         w->proc->wait_exit(10s);
         const auto s = w->service;
         later(ms_between(0, 4000), [&t, s] { t.start_worker(s); });
         return true;
       }},
      {"worker SIGTERM",
       [&] {
         auto* w = worker_target();
         if (!w)
           return false;
         w->terminating = true;
         w->proc->signal(SIGTERM);
         const auto s = w->service;
         // Restarted once it has left (checked each tick below).
         later(0ms, [&t, s] {
           auto* x = t.current(s);
           if (!x->proc->wait_exit(60s)) {
             x->killed_ms = unix_ms();
             x->proc->signal(SIGKILL);
             x->proc->wait_exit(10s);
           }
           t.start_worker(s);
         });
         return true;
       }},
      {"worker SIGSTOP",
       [&] {
         auto* w = worker_target();
         if (!w)
           return false;
         w->stopped = true;
         w->proc->signal(SIGSTOP);
         const auto s = w->service;
         const auto pid = w->proc->pid();
         later(ms_between(500, 9000), [&t, s, pid] {
           for (auto& x : t.workers_)
             if (x.proc->pid() == pid) {
               x.proc->signal(SIGCONT);
               x.stopped = false;
             }
         });
         return true;
       }},
      {"consul 500 burst",
       [&] {
         return t.control("/consul/fail-requests?count=" + std::to_string(5 + rng() % 40)) == 200;
       }},
      {"consul freeze",
       [&] {
         if (t.control("/consul/freeze?on=true") != 200)
           return false;
         later(ms_between(500, 6000), [&t] { t.control("/consul/freeze?on=false"); });
         return true;
       }},
      {"consul lost leader",
       [&] {
         if (t.control("/consul/lose-leader?lost=true") != 200)
           return false;
         later(ms_between(500, 5000), [&t] { t.control("/consul/lose-leader?lost=false"); });
         return true;
       }},
      {"consul restart, data kept",
       [&] {
         return t.control("/consul/restart?keep_data=true&down_ms=" +
                          std::to_string(200 + rng() % 3000)) == 200;
       }},
      {"consul restart, data lost",
       [&] {
         const auto down = 200 + rng() % 2000;
         if (t.control("/consul/restart?keep_data=false&down_ms=" + std::to_string(down)) != 200)
           return false;
         // The operator puts the group's config back (the checkpoints live in Couchbase), trying
         // again each second while other faults make Consul refuse.
         config_lost = true;
         later(std::chrono::milliseconds(down + 500), reconfigure);
         return true;
       }},
      {"elasticsearch 429/503 burst",
       [&] {
         return t.control("/elasticsearch/fail-requests?count=" + std::to_string(1 + rng() % 20) +
                          "&status=" + (rng() % 2 ? "429" : "503")) == 200;
       }},
      {"elasticsearch failing for a while",
       [&] {
         return t.control("/elasticsearch/fail-requests-for?seconds=" +
                          std::to_string(1 + rng() % 5) + "&status=503") == 200;
       }},
      {"elasticsearch item rejections",
       [&] {
         return t.control("/elasticsearch/fail-items?count=" + std::to_string(1 + rng() % 50) +
                          "&status=429") == 200;
       }},
      {"elasticsearch slow",
       [&] {
         if (t.control("/elasticsearch/delay?ms=" + std::to_string(100 + rng() % 2000)) != 200)
           return false;
         later(ms_between(1000, 6000), [&t] { t.control("/elasticsearch/delay?ms=0"); });
         return true;
       }},
      {"elasticsearch dropped responses",
       [&] {
         return t.control("/elasticsearch/drop-responses?count=" + std::to_string(1 + rng() % 4) +
                          "&apply=" + (rng() % 2 ? "true" : "false")) == 200;
       }},
      {"couchbase dropped connections",
       [&] { return t.control("/couchbase/drop-connections") == 200; }},
      {"couchbase failed operations",
       [&] {
         return t.control("/couchbase/fail-ops?count=" + std::to_string(1 + rng() % 50) +
                          "&status=" + (rng() % 2 ? "134" : "160")) == 200;  // 0x86, 0xa0
       }},
      {"couchbase vbucket move",
       [&] {
         std::vector<std::size_t> nodes(couchbase_nodes.begin(), couchbase_nodes.end());
         return t.control("/couchbase/move-vbucket?vb=" + std::to_string(rng() % num_vbuckets) +
                          "&to=" + std::to_string(nodes[rng() % nodes.size()])) == 200;
       }},
      {"couchbase node failover",
       [&] {
         if (couchbase_nodes.size() < 3)
           return false;
         // Never node 0: it is every client's bootstrap seed.
         std::vector<std::size_t> nodes(std::next(couchbase_nodes.begin()), couchbase_nodes.end());
         const auto n = nodes[rng() % nodes.size()];
         if (t.control("/couchbase/failover?node=" + std::to_string(n)) != 200)
           return false;
         couchbase_nodes.erase(n);
         return true;
       }},
      {"couchbase node removed",
       [&] {
         if (couchbase_nodes.size() < 3)
           return false;
         std::vector<std::size_t> nodes(std::next(couchbase_nodes.begin()), couchbase_nodes.end());
         const auto n = nodes[rng() % nodes.size()];
         if (t.control("/couchbase/remove-node?node=" + std::to_string(n)) != 200)
           return false;
         couchbase_nodes.erase(n);
         return true;
       }},
      {"couchbase node added",
       [&] {
         if (couchbase_nodes.size() >= 4)
           return false;
         auto r = cbes::testkit::http_request(t.control_, "POST", "/couchbase/add-node");
         if (!r || r->status != 200)
           return false;
         couchbase_nodes.insert(json::parse(r->body).at("node").to_number<std::size_t>());
         ++next_node;
         return true;
       }},
  };

  // A worker that ended by itself (`cbes-consul run` exits 1 when its endpoint is still locked by
  // the session of a killed predecessor) is started again, as its supervisor (systemd's
  // Restart=on-failure) would.
  int self_exits = 0;
  auto supervise = [&](bool at_once) {
    for (const auto& s : services) {
      auto* w = t.current(s);
      if (!w || w->stopped || w->terminating || w->killed_ms || !w->proc->wait_exit(0ms))
        continue;
      w->killed_ms = unix_ms();  // its streaming ended by then at the latest
      ++self_exits;
      if (at_once)
        t.start_worker(s);
      else
        later(1s, [&t, s] { t.start_worker(s); });
    }
  };

  const auto end = clock_type::now() + std::chrono::seconds(seconds);
  auto next_fault = clock_type::now() + ms_between(500, 3000);
  while (clock_type::now() < end) {
    supervise(false);
    // Due ends of earlier faults first.
    for (std::size_t i = 0; i < undo.size();) {
      if (undo[i].at <= clock_type::now()) {
        auto f = std::move(undo[i].run);
        undo.erase(undo.begin() + static_cast<std::ptrdiff_t>(i));
        f();
      } else {
        ++i;
      }
    }
    if (clock_type::now() >= next_fault) {
      const auto& [name, inject] = menu[rng() % menu.size()];
      if (inject()) {
        ++injected[name];
        std::printf("chaos: +%5.1f s  %s\n", (unix_ms() - faults_began_ms) / 1000.0, name.c_str());
        std::fflush(stdout);
      }
      next_fault = clock_type::now() + ms_between(500, 4000);
    }
    std::this_thread::sleep_for(50ms);
  }
  // The faults stop: every pending end runs now, dead workers come back.
  std::sort(undo.begin(), undo.end(),
            [](const pending& a, const pending& b) { return a.at < b.at; });
  {
    auto ends = std::move(undo);
    undo.clear();
    for (auto& u : ends)
      u.run();
  }
  // What a count-based fault has left unspent ends too.
  for (const auto* off :
       {"/consul/freeze?on=false", "/consul/lose-leader?lost=false",
        "/consul/fail-requests?count=0", "/elasticsearch/delay?ms=0",
        "/elasticsearch/fail-requests?count=0", "/elasticsearch/fail-items?count=0",
        "/elasticsearch/drop-responses?count=0", "/couchbase/fail-ops?count=0"})
    t.control(off);
  // With Consul healthy again, a config it lost is uploaded for good.
  for (int i = 0; i < 60 && config_lost; ++i) {
    undo.clear();  // reconfigure's own retries: this loop does them
    reconfigure();
    if (config_lost)
      std::this_thread::sleep_for(1s);
  }
  REQUIRE_FALSE(config_lost);
  undo.clear();
  t.stop_writer();
  const auto faults_ended_ms = unix_ms();

  // Expiring writes live up to 3 s: past that, reading the bucket settles them.
  std::this_thread::sleep_for(4s);
  const auto truth = t.bucket_state();

  // Elasticsearch converges to exactly the bucket.
  std::string difference;
  auto matches = [&] {
    supervise(true);
    auto es = t.es_state();
    if (!es)
      return difference = "Elasticsearch did not answer the search", false;
    for (const auto& [key, rev] : truth) {
      auto it = es->find(key);
      if (it == es->end())
        return difference = key + " (rev " + std::to_string(rev) + ") is missing", false;
      if (it->second != rev)
        return difference = key + " is at rev " + std::to_string(it->second) +
                            " in Elasticsearch, rev " + std::to_string(rev) + " in the bucket",
               false;
    }
    for (const auto& [key, rev] : *es)
      if (!truth.count(key))
        return difference = key + " (rev " + std::to_string(rev) +
                            ") is in Elasticsearch but not in the bucket",
               false;
    return true;
  };
  // Items Elasticsearch rejected again and again wait out the sink's back-off, full jitter up to
  // 5 minutes (as the Java connector's): convergence may take that long after the faults.
  const bool converged = cbes::test::eventually(matches, 420s, 500ms);
  const auto converged_ms = unix_ms();
  if (!converged)
    FAIL_CHECK("Elasticsearch never matched the bucket: " << difference << "\n" << t.logs());

  // Overlaps and the longest unserved time, from every worker's own record.
  const auto all = t.intervals(converged_ms);
  std::map<std::uint16_t, std::vector<interval>> by_vb;
  for (const auto& i : all)
    by_vb[i.vb].push_back(i);
  std::optional<std::string> overlap;
  std::int64_t longest_gap = 0;
  std::string longest_where;
  for (auto& [vb, list] : by_vb) {
    std::sort(list.begin(), list.end(),
              [](const interval& a, const interval& b) { return a.from < b.from; });
    for (std::size_t i = 0; i + 1 < list.size() && !overlap; ++i)
      for (std::size_t j = i + 1; j < list.size() && list[j].from < list[i].to; ++j)
        if (list[j].who != list[i].who)
          overlap = "vbucket " + std::to_string(vb) + ": " + list[i].who + " streamed it [" +
                    std::to_string(list[i].from) + ", " + std::to_string(list[i].to) + ") and " +
                    list[j].who + " from " + std::to_string(list[j].from);
    std::int64_t covered = faults_began_ms;
    for (const auto& i : list) {
      if (i.to <= faults_began_ms)
        continue;
      if (i.from > covered && i.from - covered > longest_gap) {
        longest_gap = i.from - covered;
        longest_where = "vbucket " + std::to_string(vb) + " from +" +
                        std::to_string((covered - faults_began_ms) / 1000) + " s";
      }
      covered = std::max(covered, i.to);
    }
    if (converged_ms > covered && converged_ms - covered > longest_gap) {
      longest_gap = converged_ms - covered;
      longest_where = "vbucket " + std::to_string(vb) + " unserved at the end";
    }
  }
  if (overlap)
    FAIL_CHECK("two workers streamed a vbucket at once: " << *overlap << "\n" << t.logs());

  // Secrets: nowhere the workers or the tools write.
  std::string everything = t.admin_output_;
  for (const auto& s : {"status", "get-config"}) {
    std::vector<std::string> args{s, "--group=" + std::string(group)};
    if (std::string(s) == "get-config")
      args.push_back("--output=" + (t.dir_ / "got-config.toml").string());
    everything += t.cli(args).out;
  }
  everything += t.cli({"status", "--group=" + std::string(group), "--json"}).out;
  {
    std::ifstream in(t.dir_ / "got-config.toml");
    std::stringstream ss;
    ss << in.rdbuf();
    everything += ss.str();
  }
  for (const auto& w : t.workers_)
    everything += w.proc->output() + w.proc->errors();
  const auto kv = t.consul_get("/v1/kv/?recurse=true");
  everything += kv;
  if (!kv.empty()) {
    const auto entries = json::parse(kv);
    for (const auto& e : entries.as_array())
      if (const auto& v = e.at("Value"); v.is_string())
        everything += cbes::util::base64_decode(std::string(v.as_string())).value_or("") + "\n";
  }
  everything += t.consul_get("/v1/agent/services") + t.consul_get("/v1/agent/checks");
  for (const auto* method : {"worker.status", "worker.metrics", "worker.streamHistory"}) {
    auto answers = cbes::test::run(t.io_, t.rpc_->broadcast(method, "[]", 10s));
    if (answers)
      for (const auto& [id, r] : *answers)
        if (r)
          everything += *r;
  }
  CHECK(everything.size() > 10000);  // the check read something
  for (const auto& [name, secret] : {std::pair{"Couchbase password", t.cb_password_},
                                     std::pair{"Elasticsearch password", t.es_password_},
                                     std::pair{"Consul ACL token", t.acl_token_}}) {
    const auto at = everything.find(secret);
    if (at != std::string::npos)
      FAIL_CHECK("the " << name << " was written out: ..."
                        << everything.substr(at > 200 ? at - 200 : 0, 400) << "...");
  }

  // The summary.
  const auto stats = t.es_stats();
  int faults = 0;
  for (const auto& [name, n] : injected)
    faults += n;
  std::printf(
      "chaos: seed %llu: %zu keys checked (%zu live), %llu writes (%llu failed under faults), "
      "%d faults in %.0f s, %d worker exits restarted, %llu duplicates replayed (of %llu bulk "
      "items), %zu streaming "
      "intervals of %zu worker processes checked for overlap, longest unserved %.1f s (%s), "
      "converged %.1f s after the faults\n",
      static_cast<unsigned long long>(seed), static_cast<std::size_t>(key_space), truth.size(),
      static_cast<unsigned long long>(t.writes_.load()),
      static_cast<unsigned long long>(t.write_errors_.load()), faults,
      (faults_ended_ms - faults_began_ms) / 1000.0, self_exits,
      static_cast<unsigned long long>(stats.at("unchanged_items").to_number<std::uint64_t>()),
      static_cast<unsigned long long>(stats.at("bulk_items").to_number<std::uint64_t>()),
      all.size(), t.workers_.size(), longest_gap / 1000.0, longest_where.c_str(),
      (converged_ms - faults_ended_ms) / 1000.0);
  for (const auto& [name, n] : injected)
    std::printf("chaos:   %-34s %d\n", name.c_str(), n);
  std::fflush(stdout);
  CHECK(faults > 0);
  REQUIRE(converged);
  REQUIRE_FALSE(overlap);
}
