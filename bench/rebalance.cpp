// Rebalance under load: `cbes-sandbox` (Consul + Couchbase, a separate process), an Elasticsearch
// fake in this process, three `cbes-consul run` workers of one group, and a writer upserting
// 1 KiB documents through the KV port at a steady rate. Then three events, one after another:
// a fourth worker joins; a non-leader is SIGKILLed; the leader gets SIGTERM. For each event:
//   - every vbucket streams again: from the event until, on every vbucket, a document written
//     after the event has been acknowledged by Elasticsearch (and, after SIGKILL, the same time
//     counted from the moment Consul invalidated the killed worker's session);
//   - the largest write-to-acknowledgement latency on vbuckets that did not move;
//   - documents replayed (acknowledged more than once) during the event.
// The steady state's p99 before the events is printed for comparison.
//
//   build/bin/bench-rebalance [writes/s=5000] [heartbeat seconds=15]
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>

#include "bench_system.hpp"
#include "bench_writer.hpp"
#include "cbes/testkit/elasticsearch.hpp"
#include "cbes/util/crc32.hpp"
#include "process.hpp"

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t vbuckets = 1024;
constexpr const char* group = "bench-rebalance";

std::string bin(const std::string& name) {
  return std::string(CBES_BIN_DIR) + "/" + name;
}

// vbucket -> owning endpoint, from `cbes-consul status --json` ("0-340" ranges).
using ownership = std::map<std::uint16_t, std::string>;

struct group_view {
  ownership owners;
  std::optional<std::string> leader;
  std::size_t members = 0;
};

group_view read_status(const std::string& consul) {
  auto o = cbes::test::run_to_end({bin("cbes-consul"), "status", "--group=" + std::string(group),
                                   "--consul-agent=" + consul, "--json"},
                                  30s);
  group_view g;
  if (o.code != 0)
    return g;
  auto v = json::parse(o.out);
  if (const auto& l = v.at("leader"); l.is_string())
    g.leader = std::string(l.as_string());
  for (const auto& w : v.at("workers").as_array()) {
    const auto& e = w.as_object();
    if (!e.contains("membership") || !e.at("membership").is_object())
      continue;
    ++g.members;
    const std::string endpoint(e.at("endpoint").as_string());
    if (const auto* vbs = e.if_contains("vbuckets"))
      for (const auto& r : vbs->as_array()) {
        const std::string text(r.as_string());
        const auto dash = text.find('-');
        const auto lo = std::stoul(text.substr(0, dash));
        const auto hi = dash == std::string::npos ? lo : std::stoul(text.substr(dash + 1));
        for (auto vb = lo; vb <= hi; ++vb)
          g.owners[static_cast<std::uint16_t>(vb)] = endpoint;
      }
  }
  return g;
}

std::set<std::string> session_ids(int consul_port) {
  std::set<std::string> out;
  const auto list = json::parse(cbes::bench::http_get(consul_port, "/v1/session/list"));
  for (const auto& s : list.as_array())
    out.insert(std::string(s.at("ID").as_string()));
  return out;
}

struct event_figures {
  std::string name;
  double all_streaming_s = -1;       // from the event
  double after_invalidation_s = -1;  // SIGKILL only: from the session's invalidation
  double unmoved_max_latency_ms = 0;
  std::size_t moved = 0;
  std::size_t replayed = 0;
};

class bench {
 public:
  bench(double rate, int heartbeat_s) : rate_(rate), heartbeat_s_(heartbeat_s), log_(capacity()) {
    cbes::testkit::elasticsearch_options eo;
    eo.port = 0;
    eo.count_only = true;
    eo.on_item_acknowledged = [this](std::string_view, std::string_view id) {
      log_.acknowledged(id);
    };
    es_ = std::make_unique<cbes::testkit::elasticsearch>(eo);
    es_->start();
    sandbox_ = std::make_unique<cbes::test::process>(std::vector<std::string>{
        bin("cbes-sandbox"), "--services=consul,couchbase", "--consul-port=0", "--kv-port=0",
        "--mgmt-port=0", "--control-port=-1"});
    // Each match points into the process's last matched line: copied before the next wait.
    auto found = [&](const char* re) -> std::string {
      auto m = sandbox_->wait_for(std::regex(re), 60s);
      if (!m)
        throw std::runtime_error("cbes-sandbox did not start: " + sandbox_->errors());
      return (*m)[1];
    };
    consul_ = found("ready: consul http://([0-9.]+:[0-9]+)");
    kv_ = found("ready: couchbase couchbase://([0-9.:]+)");
    for (std::size_t n = 0; n < log_.capacity(); ++n)
      vbucket_of_.push_back(cbes::util::vbucket_for_key("w_" + std::to_string(n), vbuckets));
    dir_ = fs::temp_directory_path() / ("cbes-bench-rebalance-" + std::to_string(::getpid()));
    const auto config = cbes::bench::write_connector_config(dir_, kv_, es_->url());
    // The same config, under this group's name.
    std::ifstream in(config);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    text.replace(text.find("name = 'bench'"), 14, std::string("name = '") + group + "'");
    std::ofstream(config) << text;
    auto o = cbes::test::run_to_end({bin("cbes-consul"), "configure", "--input=" + config.string(),
                                     "--consul-agent=" + consul_},
                                    60s);
    if (o.code != 0)
      throw std::runtime_error("cbes-consul configure failed: " + o.err);
  }

  ~bench() {
    writer_.reset();
    workers_.clear();
    if (sandbox_) {
      sandbox_->signal(SIGTERM);
      sandbox_->wait_exit(30s);
    }
    es_->stop();
    fs::remove_all(dir_);
  }

  std::size_t capacity() const { return static_cast<std::size_t>(rate_ * 900) + 1000; }

  void start_worker(const std::string& id) {
    auto p = std::make_unique<cbes::test::process>(std::vector<std::string>{
        bin("cbes-consul"), "run", "--group=" + std::string(group), "--consul-agent=" + consul_,
        "--service-id=" + id, "--heartbeat-interval=" + std::to_string(heartbeat_s_) + "s"});
    auto ready = p->wait_for(std::regex("ready: worker (\\S+) in group"), 60s);
    if (!ready)
      throw std::runtime_error("worker " + id + " did not start: " + p->errors());
    endpoints_[id] = (*ready)[1];
    workers_[id] = std::move(p);
  }

  void start_writing() {
    writer_ = std::make_unique<cbes::bench::paced_writer>("couchbase://" + kv_, log_, rate_);
  }

  // Waits until `members` members own all 1024 vbuckets; the view.
  group_view settled(std::size_t members, std::chrono::seconds limit = 300s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      auto g = read_status(consul_);
      if (g.members == members && g.owners.size() == vbuckets)
        return g;
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error("the group did not settle on " + std::to_string(members) +
                                 " members: " + logs());
      std::this_thread::sleep_for(250ms);
    }
  }

  // p99 latency (ms) of the documents written in the last `window`.
  double steady_p99(std::chrono::seconds window) {
    const auto since = cbes::bench::now_ns() - std::chrono::nanoseconds(window).count();
    std::vector<double> ms;
    for (std::size_t n = 0; n < writer_->issued(); ++n)
      if (log_.written_at(n) >= since && log_.acks(n) > 0)
        ms.push_back(static_cast<double>(log_.first_ack_at(n) - log_.written_at(n)) / 1e6);
    std::sort(ms.begin(), ms.end());
    return cbes::bench::percentile(ms, 99);
  }

  // Acknowledgements beyond each document's first: documents replayed so far.
  std::size_t replays() const {
    std::size_t extra = 0;
    for (std::size_t n = 0; n < writer_->issued(); ++n) {
      auto a = log_.acks(n);
      extra += a > 1 ? a - 1 : 0;
    }
    return extra;
  }

  // Runs `act`, then measures until every vbucket has streamed a document written after it.
  event_figures measure(const std::string& name, std::size_t members_after,
                        const std::function<void()>& act, bool killed = false) {
    event_figures f;
    f.name = name;
    const auto before = settled(members_now_);
    const std::size_t replays0 = replays();
    std::set<std::string> sessions0;
    if (killed)
      sessions0 = session_ids(cbes::bench::url_port("http://" + consul_));
    const std::size_t first = writer_->issued();
    const std::int64_t t0 = cbes::bench::now_ns();
    act();
    std::int64_t invalidated = 0;
    std::vector<std::int64_t> streaming(vbuckets, 0);  // first post-event ack per vbucket
    std::size_t left = vbuckets;
    const auto deadline = std::chrono::steady_clock::now() + 300s;
    while (left > 0) {
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error(name + ": " + std::to_string(left) +
                                 " vbuckets never streamed again: " + logs());
      if (killed && invalidated == 0) {
        auto now = session_ids(cbes::bench::url_port("http://" + consul_));
        if (now.size() < sessions0.size() ||
            !std::includes(now.begin(), now.end(), sessions0.begin(), sessions0.end()))
          invalidated = cbes::bench::now_ns();
      }
      // Documents are acknowledged roughly in order: scan what the writer has issued since.
      const std::size_t issued = writer_->issued();
      for (std::size_t n = first; n < issued; ++n) {
        if (log_.acks(n) == 0)
          continue;
        auto vb = vbucket_of_[n];
        if (streaming[vb] == 0) {
          streaming[vb] = log_.first_ack_at(n);
          --left;
        }
      }
      std::this_thread::sleep_for(50ms);
    }
    const auto last = *std::max_element(streaming.begin(), streaming.end());
    f.all_streaming_s = static_cast<double>(last - t0) / 1e9;
    if (killed && invalidated)
      f.after_invalidation_s = static_cast<double>(last - invalidated) / 1e9;
    members_now_ = members_after;
    const auto after = settled(members_after);
    // Unmoved: the same endpoint before and after. Their documents written around the event.
    std::vector<bool> unmoved(vbuckets, false);
    for (std::uint16_t vb = 0; vb < vbuckets; ++vb) {
      auto b = before.owners.find(vb);
      auto a = after.owners.find(vb);
      unmoved[vb] = b != before.owners.end() && a != after.owners.end() && b->second == a->second;
      f.moved += !unmoved[vb];
    }
    const std::size_t end = writer_->issued();
    for (std::size_t n = first; n < end; ++n) {
      if (!unmoved[vbucket_of_[n]] || log_.acks(n) == 0)
        continue;
      f.unmoved_max_latency_ms =
          std::max(f.unmoved_max_latency_ms,
                   static_cast<double>(log_.first_ack_at(n) - log_.written_at(n)) / 1e6);
    }
    f.replayed = replays() - replays0;
    return f;
  }

  std::string endpoint(const std::string& id) const { return endpoints_.at(id); }
  std::string id_of(const std::string& endpoint) const {
    for (const auto& [id, e] : endpoints_)
      if (e == endpoint)
        return id;
    throw std::runtime_error("no worker has endpoint " + endpoint);
  }
  cbes::test::process& worker(const std::string& id) { return *workers_.at(id); }
  void set_members(std::size_t n) { members_now_ = n; }
  const std::string& consul() const { return consul_; }

  std::string logs() const {
    std::string out;
    for (const auto& [id, p] : workers_)
      out += "\n==== " + id + "\n" + p->errors();
    return out;
  }

 private:
  double rate_;
  int heartbeat_s_;
  cbes::bench::arrival_log log_;
  std::vector<std::uint16_t> vbucket_of_;
  std::unique_ptr<cbes::testkit::elasticsearch> es_;
  std::unique_ptr<cbes::test::process> sandbox_;
  std::string consul_, kv_;
  fs::path dir_;
  std::map<std::string, std::unique_ptr<cbes::test::process>> workers_;
  std::map<std::string, std::string> endpoints_;
  std::unique_ptr<cbes::bench::paced_writer> writer_;
  std::size_t members_now_ = 0;
};

}  // namespace

int main(int argc, char** argv) try {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines show up as they happen
  const double rate = argc > 1 ? std::strtod(argv[1], nullptr) : 5000;
  const int heartbeat = argc > 2 ? std::atoi(argv[2]) : 15;
  if (rate <= 0 || heartbeat < 1) {
    std::fprintf(stderr, "usage: bench-rebalance [writes/s > 0] [heartbeat seconds >= 1]\n");
    return 2;
  }
  std::printf("3 workers, %.0f writes/s of 1 KiB, heartbeat %d s (session TTL %d s)\n", rate,
              heartbeat, std::max(2 * heartbeat, 10));
  bench b(rate, heartbeat);
  for (const char* id : {"one", "two", "three"})
    b.start_worker(id);
  b.set_members(3);
  b.start_writing();
  b.settled(3);
  std::this_thread::sleep_for(10s);  // steady state to compare with
  const double p99 = b.steady_p99(8s);

  std::vector<event_figures> figures;
  figures.push_back(b.measure("fourth joins", 4, [&] { b.start_worker("four"); }));
  // A non-leader, SIGKILLed.
  const auto leader = read_status(b.consul()).leader.value_or("");
  std::string victim;
  for (const char* id : {"one", "two", "three", "four"})
    if (b.endpoint(id) != leader) {
      victim = id;
      break;
    }
  figures.push_back(b.measure(
      "SIGKILL " + victim, 3, [&] { b.worker(victim).signal(SIGKILL); }, true));
  const auto leader_now = read_status(b.consul()).leader.value_or("");
  const auto leader_id = b.id_of(leader_now);
  figures.push_back(
      b.measure("SIGTERM leader " + leader_id, 2, [&] { b.worker(leader_id).signal(SIGTERM); }));

  std::printf("steady-state p99 before the events: %.1f ms\n", p99);
  std::printf("%-24s %8s %14s %18s %16s %9s\n", "event", "moved", "all stream s",
              "after invalid. s", "unmoved max ms", "replayed");
  for (const auto& f : figures) {
    char inval[32] = "-";
    if (f.after_invalidation_s >= 0)
      std::snprintf(inval, sizeof inval, "%.2f", f.after_invalidation_s);
    std::printf("%-24s %8zu %14.2f %18s %16.1f %9zu\n", f.name.c_str(), f.moved, f.all_streaming_s,
                inval, f.unmoved_max_latency_ms, f.replayed);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "bench-rebalance: %s\n", e.what());
  return 1;
}
