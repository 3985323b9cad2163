#include "control.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "cbes/testkit/consul_agent.hpp"
#include "cbes/testkit/couchbase_cluster.hpp"
#include "cbes/testkit/elasticsearch.hpp"

namespace cbes::sandbox {
namespace {

namespace asio = boost::asio;
using testkit::http_server;
using namespace std::chrono_literals;

// A parameter the caller got wrong: answered 400 with this line.
struct bad_parameter : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// The decoded query string of one request, with typed getters that name the parameter and
// what it must be when it is missing or malformed.
class params {
 public:
  explicit params(std::string_view query) {
    while (!query.empty()) {
      auto amp = query.find('&');
      auto pair = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
      if (pair.empty())
        continue;
      auto eq = pair.find('=');
      auto key = testkit::percent_decode(pair.substr(0, eq), true);
      auto value = testkit::percent_decode(
          eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
      if (!key || !value)
        throw bad_parameter("malformed %-escape in the query string");
      values_[*key] = *value;
    }
  }

  // An integer in [lo, hi]; `fallback` when absent (required when there is none). Accepts
  // 0x-prefixed hex, for Couchbase status codes.
  template <class T = long long>
  T integer(const std::string& name, long long lo, long long hi,
            std::optional<long long> fallback = std::nullopt) const {
    return static_cast<T>(integer_in(name, lo, hi, fallback));
  }

  bool boolean(const std::string& name, bool fallback) const {
    auto it = values_.find(name);
    if (it == values_.end())
      return fallback;
    if (it->second == "true" || it->second == "1" || it->second.empty())
      return true;
    if (it->second == "false" || it->second == "0")
      return false;
    throw bad_parameter("parameter '" + name + "' must be true or false, got '" + it->second + "'");
  }

 private:
  long long integer_in(const std::string& name, long long lo, long long hi,
                       std::optional<long long> fallback) const {
    auto it = values_.find(name);
    if (it == values_.end()) {
      if (fallback)
        return *fallback;
      throw bad_parameter("missing parameter '" + name + "' (an integer from " +
                          std::to_string(lo) + " to " + std::to_string(hi) + ")");
    }
    std::string_view text = it->second;
    int base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
      text.remove_prefix(2);
      base = 16;
    }
    long long v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
    if (ec != std::errc{} || end != text.data() + text.size() || v < lo || v > hi)
      throw bad_parameter("parameter '" + name + "' must be an integer from " + std::to_string(lo) +
                          " to " + std::to_string(hi) + ", got '" + it->second + "'");
    return v;
  }

  std::map<std::string, std::string> values_;
};

http_server::response json_response(int status, const boost::json::value& body) {
  return {.status = status,
          .headers = {{"Content-Type", "application/json"}},
          .body = boost::json::serialize(body) + "\n"};
}

http_server::response error_response(int status, const std::string& line) {
  return json_response(status, boost::json::object{{"error", line}});
}

// One action of the API.
struct action {
  std::string service;  // "elasticsearch", "couchbase", "consul"
  std::string name;     // the path below the service: "/<service>/<name>"
  std::string help;     // parameters and what it does, for GET /
  bool read_only;       // answered to GET (reads); the others to POST (faults)
  // Runs the action; may start a timer on `ex` to undo it later. Returns the response body.
  std::function<boost::json::object(const params&, const asio::any_io_executor& ex)> run;
};

constexpr long long max_count = std::numeric_limits<std::int32_t>::max();

// Runs `undo` after `seconds` on the control server's executor (a fault "for T seconds").
void after(const asio::any_io_executor& ex, long long seconds, std::function<void()> undo) {
  asio::co_spawn(
      ex,
      [seconds, undo = std::move(undo)]() -> asio::awaitable<void> {
        asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::seconds(seconds));
        co_await timer.async_wait(asio::use_awaitable);
        undo();
      },
      asio::detached);
}

std::vector<action> elasticsearch_actions(testkit::elasticsearch* es) {
  return {
      {"elasticsearch", "stats",
       "counters since start: requests, bulk_requests, bulk_items, failed_items, "
       "unchanged_items (re-writes of the stored source: replays), bytes_received",
       true,
       [es](const params&, const asio::any_io_executor&) {
         auto s = es->stats();
         return boost::json::object{{"requests", s.requests},
                                    {"bulk_requests", s.bulk_requests},
                                    {"bulk_items", s.bulk_items},
                                    {"failed_items", s.failed_items},
                                    {"unchanged_items", s.unchanged_items},
                                    {"bytes_received", s.bytes_received}};
       }},
      {"elasticsearch", "fail-requests",
       "count=N [status=429] [bulk_only=true]: the next N _bulk requests (any request with "
       "bulk_only=false) fail as a whole with status",
       false,
       [es](const params& p, const asio::any_io_executor&) {
         es->fail_next_requests(p.integer<std::size_t>("count", 0, max_count),
                                p.integer<int>("status", 400, 599, 429),
                                p.boolean("bulk_only", true));
         return boost::json::object{{"ok", true}};
       }},
      {"elasticsearch", "fail-requests-for",
       "seconds=T [status=503] [bulk_only=true]: every _bulk request (any request with "
       "bulk_only=false) fails with status for T seconds",
       false,
       [es](const params& p, const asio::any_io_executor& ex) {
         auto seconds = p.integer("seconds", 1, 86400);
         auto status = p.integer<int>("status", 400, 599, 503);
         auto bulk_only = p.boolean("bulk_only", true);
         es->fail_next_requests(std::numeric_limits<std::size_t>::max(), status, bulk_only);
         after(ex, seconds,
               [es, status, bulk_only] { es->fail_next_requests(0, status, bulk_only); });
         return boost::json::object{{"ok", true}, {"until_seconds", seconds}};
       }},
      {"elasticsearch", "fail-items",
       "count=N [status=429]: the next N bulk items fail with status (429 "
       "es_rejected_execution_exception, 400 mapper_parsing_exception, ...)",
       false,
       [es](const params& p, const asio::any_io_executor&) {
         es->fail_next_items(p.integer<std::size_t>("count", 0, max_count),
                             p.integer<int>("status", 400, 599, 429));
         return boost::json::object{{"ok", true}};
       }},
      {"elasticsearch", "delay", "ms=M: every response is delayed by M milliseconds (0 = off)",
       false,
       [es](const params& p, const asio::any_io_executor&) {
         es->delay_responses(std::chrono::milliseconds(p.integer("ms", 0, 3'600'000)));
         return boost::json::object{{"ok", true}};
       }},
      {"elasticsearch", "drop-responses",
       "count=N [apply=true] [bulk_only=true]: the next N requests get their connection closed "
       "instead of an answer (after applying them with apply=true)",
       false,
       [es](const params& p, const asio::any_io_executor&) {
         es->drop_next_responses(p.integer<std::size_t>("count", 0, max_count),
                                 p.boolean("apply", true), p.boolean("bulk_only", true));
         return boost::json::object{{"ok", true}};
       }},
      {"elasticsearch", "max-content-length",
       "bytes=B: larger request bodies are refused with 413 (http.max_content_length)", false,
       [es](const params& p, const asio::any_io_executor&) {
         es->set_max_content_length(p.integer<std::size_t>("bytes", 1, max_count));
         return boost::json::object{{"ok", true}};
       }},
      {"elasticsearch", "block-writes",
       "[on=true]: writes fail with the disk flood-stage block (cluster_block_exception)", false,
       [es](const params& p, const asio::any_io_executor&) {
         es->block_writes(p.boolean("on", true));
         return boost::json::object{{"ok", true}};
       }},
  };
}

std::vector<action> couchbase_actions(testkit::couchbase_cluster* cb, std::string bucket) {
  return {
      {"couchbase", "drop-connections", "every KV and DCP connection is closed", false,
       [cb](const params&, const asio::any_io_executor&) {
         cb->drop_connections();
         return boost::json::object{{"ok", true}};
       }},
      {"couchbase", "failover",
       "node=N [lose_unreplicated=false]: hard failover of node N; its vbuckets go to their "
       "replicas, and with lose_unreplicated=true what was not replicated is lost (consumers "
       "roll back)",
       false,
       [cb](const params& p, const asio::any_io_executor&) {
         cb->failover(p.integer<std::size_t>("node", 0, 1023),
                      p.boolean("lose_unreplicated", false));
         return boost::json::object{{"ok", true}};
       }},
      {"couchbase", "pause-replication",
       "[on=true]: mutations stop reaching the replicas until on=false", false,
       [cb, bucket](const params& p, const asio::any_io_executor&) {
         cb->pause_replication(bucket, p.boolean("on", true));
         return boost::json::object{{"ok", true}};
       }},
      {"couchbase", "move-vbucket", "vb=V to=N: node N takes vbucket V over (new failover entry)",
       false,
       [cb, bucket](const params& p, const asio::any_io_executor&) {
         cb->move_vbucket(bucket, p.integer<std::uint16_t>("vb", 0, 1023),
                          p.integer<std::size_t>("to", 0, 1023));
         return boost::json::object{{"ok", true}};
       }},
      {"couchbase", "add-node", "a new node joins and vbuckets are rebalanced onto it", false,
       [cb](const params&, const asio::any_io_executor&) {
         auto node = cb->add_node();
         return boost::json::object{{"ok", true}, {"node", node}};
       }},
      {"couchbase", "remove-node", "node=N: the node's vbuckets are rebalanced away, then it stops",
       false,
       [cb](const params& p, const asio::any_io_executor&) {
         cb->remove_node(p.integer<std::size_t>("node", 0, 1023));
         return boost::json::object{{"ok", true}};
       }},
      {"couchbase", "fail-ops",
       "count=N [status=0x86]: the next N KV data operations answer status (0x86 Etmpfail)", false,
       [cb](const params& p, const asio::any_io_executor&) {
         cb->fail_next_ops(p.integer<int>("count", 0, max_count),
                           p.integer<std::uint16_t>("status", 1, 0xffff, 0x86));
         return boost::json::object{{"ok", true}};
       }},
      {"couchbase", "delay", "ms=M: every KV response is delayed by M milliseconds (0 = off)",
       false,
       [cb](const params& p, const asio::any_io_executor&) {
         cb->delay_responses(std::chrono::milliseconds(p.integer("ms", 0, 3'600'000)));
         return boost::json::object{{"ok", true}};
       }},
  };
}

std::vector<action> consul_actions(testkit::consul_agent* consul) {
  // Counts restarts; each restart's wait knows its number (handlers may run on several threads).
  auto restarts = std::make_shared<std::atomic<std::uint64_t>>(0);
  return {
      {"consul", "fail-requests",
       "count=N [status=500]: the next N requests fail (500 \"No cluster leader\", 503, 429)",
       false,
       [consul](const params& p, const asio::any_io_executor&) {
         consul->fail_next_requests(p.integer<int>("count", 0, max_count),
                                    p.integer<int>("status", 400, 599, 500));
         return boost::json::object{{"ok", true}};
       }},
      {"consul", "freeze", "[on=true]: requests are read but never answered until on=false", false,
       [consul](const params& p, const asio::any_io_executor&) {
         consul->freeze(p.boolean("on", true));
         return boost::json::object{{"ok", true}};
       }},
      {"consul", "delay", "ms=M: every response is delayed by M milliseconds (0 = off)", false,
       [consul](const params& p, const asio::any_io_executor&) {
         consul->delay_responses(std::chrono::milliseconds(p.integer("ms", 0, 3'600'000)));
         return boost::json::object{{"ok", true}};
       }},
      {"consul", "kill-node",
       "[dead=true]: the node's serfHealth turns critical (its sessions are invalidated)", false,
       [consul](const params& p, const asio::any_io_executor&) {
         consul->kill_node(p.boolean("dead", true));
         return boost::json::object{{"ok", true}};
       }},
      {"consul", "lose-leader", "[lost=true]: no cluster leader: writes and non-stale reads 500",
       false,
       [consul](const params& p, const asio::any_io_executor&) {
         consul->lose_leader(p.boolean("lost", true));
         return boost::json::object{{"ok", true}};
       }},
      {"consul", "drop-long-polls", "every blocking query waiting now is dropped unanswered", false,
       [consul](const params&, const asio::any_io_executor&) {
         consul->drop_long_polls();
         return boost::json::object{{"ok", true}};
       }},
      {"consul", "restart",
       "[keep_data=true] [down_ms=1000]: the agent goes away (connections refused) and comes back "
       "on the same port after down_ms, with its KV, sessions and services kept (TTL timers start "
       "over) or lost (empty, index starts low)",
       false,
       [consul, restarts](const params& p, const asio::any_io_executor& ex) {
         const bool keep = p.boolean("keep_data", true);
         const auto down = p.integer("down_ms", 0, 600'000, 1000);
         consul->shut_down(keep);
         // Only the latest restart brings the agent back: an earlier one still waiting would
         // otherwise end this outage before its down_ms.
         const auto epoch = ++*restarts;
         asio::co_spawn(
             ex,
             [consul, down, restarts, epoch]() -> asio::awaitable<void> {
               asio::steady_timer timer(co_await asio::this_coro::executor,
                                        std::chrono::milliseconds(down));
               co_await timer.async_wait(asio::use_awaitable);
               if (restarts->load() != epoch)
                 co_return;
               try {
                 consul->start();
               } catch (const std::exception& e) {
                 // Another process took the port meanwhile: the agent stays down.
                 std::fprintf(stderr, "cbes-sandbox: Consul could not restart: %s\n", e.what());
               }
             },
             asio::detached);
         return boost::json::object{{"ok", true}, {"keep_data", keep}, {"down_ms", down}};
       }},
      {"consul", "reset-index",
       "the raft index goes backwards, as after a restart (data kept, re-numbered)", false,
       [consul](const params&, const asio::any_io_executor&) {
         consul->reset_index();
         return boost::json::object{{"ok", true}};
       }},
  };
}

std::string help_text(const std::vector<action>& actions) {
  std::string out =
      "cbes-sandbox control API: POST /<service>/<action>?<parameters> injects a fault, GET "
      "reads; answers JSON.\n";
  for (const auto& a : actions)
    out += std::string(a.read_only ? "GET  /" : "POST /") + a.service + "/" + a.name + "  " +
           a.help + "\n";
  return out;
}

}  // namespace

std::unique_ptr<testkit::http_server> make_control_server(control_targets targets,
                                                          std::uint16_t port) {
  std::vector<action> actions;
  auto add = [&actions](std::vector<action> more) {
    for (auto& a : more)
      actions.push_back(std::move(a));
  };
  if (targets.elasticsearch)
    add(elasticsearch_actions(targets.elasticsearch));
  if (targets.couchbase)
    add(couchbase_actions(targets.couchbase, targets.bucket));
  if (targets.consul)
    add(consul_actions(targets.consul));

  auto handler = [actions = std::move(actions)](
                     http_server::request req) -> asio::awaitable<http_server::response> {
    auto q = req.target.find('?');
    std::string_view path = std::string_view(req.target).substr(0, q);
    std::string_view query =
        q == std::string::npos ? std::string_view{} : std::string_view(req.target).substr(q + 1);
    if (path == "/" || path.empty()) {
      co_return http_server::response{
          .status = 200, .headers = {{"Content-Type", "text/plain"}}, .body = help_text(actions)};
    }
    const action* found = nullptr;
    for (const auto& a : actions)
      if (path == "/" + a.service + "/" + a.name)
        found = &a;
    if (!found)
      co_return error_response(404, "no action " + std::string(path) +
                                        " (GET / lists the actions of the services running)");
    if (const char* want = found->read_only ? "GET" : "POST"; req.method != want)
      co_return error_response(405, "use " + std::string(want) + " for " + std::string(path));
    try {
      params p(query);
      auto ex = co_await asio::this_coro::executor;
      co_return json_response(200, found->run(p, ex));
    } catch (const bad_parameter& e) {
      co_return error_response(400, e.what());
    } catch (const std::invalid_argument& e) {
      // The fake refused the action itself (an unknown node, the last node, ...).
      co_return error_response(409, e.what());
    }
  };
  return std::make_unique<http_server>(http_server::options{.bind_address = "127.0.0.1",
                                                            .port = port,
                                                            .tls_cert_file = {},
                                                            .tls_key_file = {},
                                                            .body_limit = 1024 * 1024},
                                       std::move(handler));
}

}  // namespace cbes::sandbox
