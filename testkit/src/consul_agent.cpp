#include "cbes/testkit/consul_agent.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <mutex>
#include <random>
#include <set>

#include "cbes/testkit/http_server.hpp"
#include "cbes/util/base64.hpp"
#include "consul/encoding.hpp"
#include "consul_fake/store.hpp"

// GCC 12 reports Asio's awaitable frame allocator as mismatched new/delete in large
// coroutines (a known false positive: the frame's operator new/delete are a matched pair).
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace cbes::testkit {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace consul_fake;

namespace {

// ---------------------------------------------------------------- request parsing helpers

// Go's url.QueryEscape, used to re-encode the query in "Conflicting flags" errors.
std::string query_escape(std::string_view in) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

// Go's path.Clean keeping a trailing slash, as the HTTP mux does before redirecting (§1.9).
std::string clean_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t i = 0;
  while (i <= path.size()) {
    auto j = path.find('/', i);
    if (j == std::string::npos)
      j = path.size();
    std::string seg = path.substr(i, j - i);
    if (seg == "..") {
      if (!parts.empty())
        parts.pop_back();
    } else if (!seg.empty() && seg != ".") {
      parts.push_back(seg);
    }
    i = j + 1;
  }
  std::string out;
  for (const auto& p : parts)
    out += "/" + p;
  if (out.empty())
    out = "/";
  bool trailing =
      path.size() > 1 && (path.back() == '/' || path.ends_with("/.") || path.ends_with("/.."));
  if (trailing && out != "/")
    out += '/';
  return out;
}

std::variant<std::uint64_t, std::string> parse_u64(const std::string& text) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec == std::errc::invalid_argument || p != text.data() + text.size())
    return "strconv.ParseUint: parsing \"" + text + "\": invalid syntax";
  if (ec == std::errc::result_out_of_range)
    return "strconv.ParseUint: parsing \"" + text + "\": value out of range";
  return v;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// §1.10: Go matches JSON field names case-insensitively; agent endpoints also accept
// snake_case aliases, so compare with underscores removed.
std::string fold(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '_')
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

const json::value* field(const json::object& o, std::string_view name) {
  if (auto it = o.find(name); it != o.end())
    return &it->value();
  auto want = fold(name);
  for (const auto& kv : o) {
    if (fold(kv.key()) == want)
      return &kv.value();
  }
  return nullptr;
}

struct decode_error {
  std::string message;
};

std::string go_type_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      return "string";
    case json::kind::bool_:
      return "bool";
    case json::kind::array:
      return "array";
    case json::kind::object:
      return "object";
    case json::kind::null:
      return "null";
    default:
      return "number";
  }
}

std::string get_string(const json::object& o, std::string_view name, std::string fallback = {}) {
  const auto* v = field(o, name);
  if (!v || v->is_null())
    return fallback;
  if (!v->is_string())
    throw decode_error{"json: cannot unmarshal " + go_type_name(*v) + " into Go struct field ." +
                       std::string(name) + " of type string"};
  return std::string(v->as_string());
}

std::optional<std::vector<std::string>> get_strings(const json::object& o, std::string_view name) {
  const auto* v = field(o, name);
  if (!v || v->is_null())
    return std::nullopt;
  if (!v->is_array())
    throw decode_error{"json: cannot unmarshal " + go_type_name(*v) + " into Go struct field ." +
                       std::string(name) + " of type []string"};
  std::vector<std::string> out;
  for (const auto& e : v->as_array()) {
    if (!e.is_string())
      throw decode_error{"json: cannot unmarshal " + go_type_name(e) + " into Go struct field ." +
                         std::string(name) + " of type string"};
    out.emplace_back(e.as_string());
  }
  return out;
}

std::int64_t get_int(const json::object& o, std::string_view name, std::int64_t fallback = 0) {
  const auto* v = field(o, name);
  if (!v || v->is_null())
    return fallback;
  if (v->is_int64())
    return v->as_int64();
  if (v->is_uint64())
    return static_cast<std::int64_t>(v->as_uint64());
  if (v->is_double())
    return static_cast<std::int64_t>(v->as_double());
  throw decode_error{"json: cannot unmarshal " + go_type_name(*v) + " into Go struct field ." +
                     std::string(name) + " of type int"};
}

bool get_bool(const json::object& o, std::string_view name) {
  const auto* v = field(o, name);
  if (!v || v->is_null())
    return false;
  if (!v->is_bool())
    throw decode_error{"json: cannot unmarshal " + go_type_name(*v) + " into Go struct field ." +
                       std::string(name) + " of type bool"};
  return v->as_bool();
}

// Durations in request bodies: Go duration strings or integer nanoseconds (§1.10).
std::optional<ns> get_duration(const json::object& o, std::string_view name) {
  const auto* v = field(o, name);
  if (!v || v->is_null())
    return std::nullopt;
  if (v->is_string()) {
    std::string_view text = v->as_string();
    if (text.empty())
      return ns{0};
    auto d = consul::parse_go_duration(text);
    if (!d)
      throw decode_error{"time: invalid duration \"" + std::string(text) + "\""};
    return *d;
  }
  if (v->is_int64())
    return ns{v->as_int64()};
  if (v->is_uint64())
    return ns{static_cast<std::int64_t>(v->as_uint64())};
  if (v->is_double())
    return ns{static_cast<std::int64_t>(v->as_double())};
  throw decode_error{"json: cannot unmarshal " + go_type_name(*v) + " into Go value of type " +
                     "time.Duration"};
}

json::object parse_object(const std::string& body, bool allow_empty) {
  if (body.empty() && allow_empty)
    return {};
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec) {
    throw decode_error{body.empty() ? std::string("EOF") : ec.message()};
  }
  if (!v.is_object())
    throw decode_error{"json: cannot unmarshal " + go_type_name(v) + " into Go value of type " +
                       "struct"};
  return std::move(v.as_object());
}

// ---------------------------------------------------------------- replies

struct reply {
  int status = 200;
  std::string body;
  std::string content_type;  // "" = none
  http_headers headers;
  bool meta = false;         // X-Consul-Index/KnownLeader/LastContact (§1.4)
  bool meta_index = true;    // read-only txn: meta without an index
  bool consistency = false;  // X-Consul-Effective-Consistency (catalog, health)
  std::uint64_t index = 0;
  bool absent = false;  // 404 "not found" result of a blocking read (§2.2 refinement 3)
  bool drop = false;
};

reply json_reply(const json::value& v) {
  reply r;
  r.body = json::serialize(v);
  r.content_type = "application/json";
  return r;
}

reply text(int status, std::string message) {
  reply r;
  r.status = status;
  r.body = std::move(message);
  if (!r.body.empty())
    r.content_type = "text/plain; charset=utf-8";
  return r;
}

reply empty_ok() {
  return reply{};
}

json::value kv_json(const kv_entry& e, bool with_value = true) {
  json::object o;
  o["LockIndex"] = e.lock_index;
  o["Key"] = e.key;
  o["Flags"] = e.flags;
  if (with_value && !e.value.empty())
    o["Value"] = util::base64_encode(e.value);
  else
    o["Value"] = nullptr;
  if (!e.session.empty())
    o["Session"] = e.session;
  o["CreateIndex"] = e.create_index;
  o["ModifyIndex"] = e.modify_index;
  return o;
}

json::value string_array(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v)
    a.emplace_back(s);
  return a;
}

json::value session_json(const session& s) {
  json::object o;
  o["ID"] = s.id;
  o["Name"] = s.name;
  o["Node"] = s.node;
  o["LockDelay"] = s.lock_delay.count();
  o["Behavior"] = s.behavior;
  o["TTL"] = s.ttl_text;
  o["NodeChecks"] = string_array(s.node_checks);
  if (s.service_checks) {
    json::array a;
    for (const auto& id : *s.service_checks)
      a.push_back(json::object{{"ID", id}, {"Namespace", ""}});
    o["ServiceChecks"] = std::move(a);
  } else {
    o["ServiceChecks"] = nullptr;
  }
  o["CreateIndex"] = s.create_index;
  o["ModifyIndex"] = s.modify_index;
  return o;
}

bool valid_status(const std::string& s) {
  return s == "passing" || s == "warning" || s == "critical";
}

}  // namespace

// ================================================================ impl

struct consul_agent::impl {
  consul_agent_options opts;
  mutable std::mutex mu;
  store st;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  ns manual_now{0};

  // fault injection (guarded by mu)
  int fail_remaining = 0;
  int fail_status = 500;
  std::chrono::milliseconds response_delay{0};
  bool frozen = false;
  bool leader_lost = false;
  std::uint64_t wake_epoch = 0;  // spurious wake-up / index reset: waiters return as is
  std::uint64_t drop_epoch = 0;  // drop_long_polls: waiters close their connection

  std::set<asio::steady_timer*> waiters;  // guarded by mu; timers live on the server thread
  std::atomic<std::size_t> served{0};
  std::mt19937_64 rng{std::random_device{}()};
  std::unique_ptr<http_server> server;
  bool running = false;

  explicit impl(consul_agent_options o) : opts(std::move(o)), st(opts.node_name, opts.datacenter) {}

  ns now() const {
    if (opts.manual_clock)
      return manual_now;
    return std::chrono::duration_cast<ns>(std::chrono::steady_clock::now() - started);
  }

  // Wakes every parked request so it re-evaluates. Timers belong to the server thread,
  // so the cancel is posted there; a waiter registers under `mu` before it suspends.
  void notify() {
    std::lock_guard guard(mu);
    if (!server || !running)
      return;
    // Posting under `mu` keeps stop() from destroying the io_context meanwhile.
    asio::post(server->executor(), [this] {
      std::lock_guard lock(mu);
      for (auto* t : waiters)
        t->cancel();
    });
  }

  struct waiter_registration {
    impl* self;
    asio::steady_timer* timer;
    ~waiter_registration() {
      std::lock_guard lock(self->mu);
      self->waiters.erase(timer);
    }
  };

  // ------------------------------------------------------------ dispatch

  struct call {
    std::string method;
    std::string path;  // decoded
    std::string rest;  // path after the route prefix
    std::vector<std::pair<std::string, std::string>> query;
    http_headers headers;
    std::string body;
    std::optional<std::uint64_t> content_length;

    bool has(std::string_view k) const {
      return std::any_of(query.begin(), query.end(), [&](const auto& p) { return p.first == k; });
    }
    std::optional<std::string> get(std::string_view k) const {
      for (const auto& [qk, qv] : query) {
        if (qk == k)
          return qv;
      }
      return std::nullopt;
    }
    std::vector<std::string> all(std::string_view k) const {
      std::vector<std::string> out;
      for (const auto& [qk, qv] : query) {
        if (qk == k)
          out.push_back(qv);
      }
      return out;
    }
  };

  using endpoint = asio::awaitable<reply> (impl::*)(call&);
  struct route {
    std::string_view path;
    bool prefix;
    std::string_view methods;
    endpoint fn;
    bool acl_exempt = false;
  };

  static const std::vector<route>& routes() {
    static const std::vector<route> table = {
        {"/v1/kv/", true, "GET,PUT,DELETE", &impl::kv},
        {"/v1/txn", false, "PUT", &impl::txn},
        {"/v1/session/create", false, "PUT", &impl::session_create},
        {"/v1/session/destroy/", true, "PUT", &impl::session_destroy},
        {"/v1/session/renew/", true, "PUT", &impl::session_renew},
        {"/v1/session/info/", true, "GET", &impl::session_info},
        {"/v1/session/node/", true, "GET", &impl::session_node},
        {"/v1/session/list", false, "GET", &impl::session_list},
        {"/v1/agent/self", false, "GET", &impl::agent_self},
        {"/v1/agent/services", false, "GET", &impl::agent_services},
        {"/v1/agent/checks", false, "GET", &impl::agent_checks},
        {"/v1/agent/service/register", false, "PUT", &impl::agent_service_register},
        {"/v1/agent/service/deregister/", true, "PUT", &impl::agent_service_deregister},
        {"/v1/agent/service/", true, "GET", &impl::agent_service},
        {"/v1/agent/check/register", false, "PUT", &impl::agent_check_register},
        {"/v1/agent/check/deregister/", true, "PUT", &impl::agent_check_deregister},
        {"/v1/agent/check/pass/", true, "PUT", &impl::agent_check_pass},
        {"/v1/agent/check/warn/", true, "PUT", &impl::agent_check_warn},
        {"/v1/agent/check/fail/", true, "PUT", &impl::agent_check_fail},
        {"/v1/agent/check/update/", true, "PUT", &impl::agent_check_update},
        {"/v1/health/service/", true, "GET", &impl::health_service},
        {"/v1/health/checks/", true, "GET", &impl::health_checks},
        {"/v1/health/node/", true, "GET", &impl::health_node},
        {"/v1/health/state/", true, "GET", &impl::health_state},
        {"/v1/catalog/services", false, "GET", &impl::catalog_services},
        {"/v1/catalog/service/", true, "GET", &impl::catalog_service},
        {"/v1/catalog/nodes", false, "GET", &impl::catalog_nodes},
        {"/v1/status/leader", false, "GET", &impl::status_leader, true},
        {"/v1/status/peers", false, "GET", &impl::status_peers, true},
        {"/v1/acl/token/self", false, "GET", &impl::acl_token_self},
    };
    return table;
  }

  const route* find_route(const std::string& path) const {
    const route* best = nullptr;
    for (const auto& r : routes()) {
      bool match = r.prefix ? path.starts_with(r.path) : path == r.path;
      if (match && (!best || r.path.size() > best->path.size()))
        best = &r;
    }
    return best;
  }

  std::optional<std::string> token_of(const call& c) const {
    if (auto t = c.get("token"); t && !t->empty())
      return t;
    if (auto t = find_header(c.headers, "X-Consul-Token"); t && !t->empty())
      return std::string(*t);
    if (auto a = find_header(c.headers, "Authorization")) {
      // §1.2: split on spaces, scheme compared case-insensitively, first word after it.
      std::vector<std::string> words;
      std::string cur;
      for (char ch : *a) {
        if (ch == ' ') {
          if (!cur.empty())
            words.push_back(std::move(cur));
          cur.clear();
        } else {
          cur += ch;
        }
      }
      if (!cur.empty())
        words.push_back(cur);
      if (words.size() >= 2 && lower(words[0]) == "bearer")
        return words[1];
    }
    return std::nullopt;
  }

  static const char* c_consistency(bool consistent, bool stale) {
    return consistent ? "consistent" : stale ? "stale" : "leader";
  }

  asio::awaitable<http_server::response> handle(http_server::request req) {
    ++served;
    std::string_view t = req.target;
    bool req_consistent = t.find("consistent") != std::string_view::npos;
    bool req_stale = t.find("stale") != std::string_view::npos;
    reply r = co_await dispatch(req);
    if (r.drop)
      co_return http_server::response{.status = 0, .headers = {}, .body = {}, .drop = true};
    std::chrono::milliseconds delay;
    {
      std::lock_guard lock(mu);
      delay = response_delay;
    }
    if (delay.count() > 0) {
      asio::steady_timer delay_timer(co_await asio::this_coro::executor, delay);
      co_await delay_timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    http_server::response out;
    out.status = r.status;
    out.body = std::move(r.body);
    out.headers = std::move(r.headers);
    if (r.meta) {
      std::lock_guard lock(mu);
      if (r.meta_index)
        out.headers.emplace_back("X-Consul-Index",
                                 std::to_string(std::max<std::uint64_t>(r.index, 1)));
      out.headers.emplace_back("X-Consul-KnownLeader", leader_lost ? "false" : "true");
      out.headers.emplace_back("X-Consul-LastContact", "0");
      if (r.consistency)
        out.headers.emplace_back("X-Consul-Effective-Consistency",
                                 c_consistency(req_consistent, req_stale));
    }
    if (!r.content_type.empty())
      out.headers.emplace_back("Content-Type", r.content_type);
    out.headers.emplace_back("Vary", "Accept-Encoding");
    out.headers.emplace_back("X-Consul-Default-ACL-Policy",
                             opts.acl_master_token.empty() ? "allow" : "deny");
    co_return out;
  }

  // Parks the current request until notify(); false when it should stop waiting.
  asio::awaitable<void> park(std::optional<ns> real_timeout) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    if (real_timeout && !opts.manual_clock)
      timer.expires_after(*real_timeout);
    else
      timer.expires_at(asio::steady_timer::time_point::max());
    {
      std::lock_guard lock(mu);
      waiters.insert(&timer);
    }
    waiter_registration reg{this, &timer};
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  asio::awaitable<reply> dispatch(const http_server::request& req) {
    // freeze(): read the request, never answer until unfrozen
    for (;;) {
      {
        std::lock_guard lock(mu);
        if (!frozen)
          break;
      }
      co_await park(std::nullopt);
    }
    call c;
    c.method = req.method;
    c.headers = req.headers;
    c.body = req.body;
    c.content_length = req.content_length;
    std::string_view target = req.target;
    std::string_view raw_path = target.substr(0, target.find('?'));
    std::string_view raw_query =
        target.find('?') == std::string_view::npos ? "" : target.substr(target.find('?') + 1);
    auto path = percent_decode(raw_path, false);
    if (!path)
      co_return text(400, "400 Bad Request: invalid URL escape");
    c.path = *path;
    std::size_t start = 0;
    while (start <= raw_query.size() && !raw_query.empty()) {
      auto amp = raw_query.find('&', start);
      if (amp == std::string_view::npos)
        amp = raw_query.size();
      auto part = raw_query.substr(start, amp - start);
      if (!part.empty()) {
        auto eq = part.find('=');
        auto k = percent_decode(part.substr(0, eq), true);
        auto v = eq == std::string_view::npos ? std::optional<std::string>("")
                                              : percent_decode(part.substr(eq + 1), true);
        if (k && v)
          c.query.emplace_back(*k, *v);
      }
      start = amp + 1;
    }
    // §1.9: non-printable characters in the path → 400 with an empty body.
    for (char ch : c.path) {
      auto u = static_cast<unsigned char>(ch);
      if (u < 0x20 || u == 0x7f)
        co_return text(400, "");
    }
    // §1.9: the router cleans `//` and dot segments with a 301 to the cleaned path.
    if (auto cleaned = clean_path(c.path); cleaned != c.path) {
      reply r = text(301, "");
      std::string location = cleaned;
      if (!raw_query.empty())
        location += "?" + std::string(raw_query);
      r.headers.emplace_back("Location", location);
      co_return r;
    }
    {
      std::lock_guard lock(mu);
      if (fail_remaining > 0) {
        --fail_remaining;
        if (fail_status == 500)
          co_return text(500, "No cluster leader");
        if (fail_status == 503)
          co_return text(503, "Service Unavailable");
        if (fail_status == 429)
          co_return text(429, "");
        co_return text(fail_status, "injected failure");
      }
    }
    if (!c.path.starts_with("/v1/"))
      co_return text(404,
                     "Invalid URL path: if attempting to use the HTTP API, ensure the path "
                     "starts with '/v1/'\n");
    const route* r = find_route(c.path);
    if (!r)
      co_return text(404, "Invalid URL path: not a recognized HTTP API endpoint\n");
    std::string allow = "OPTIONS," + std::string(r->methods);
    if (c.method == "OPTIONS") {
      reply out;
      out.headers.emplace_back("Allow", allow);
      co_return out;
    }
    bool allowed = false;
    std::string_view methods = r->methods;
    while (!methods.empty()) {
      auto comma = methods.find(',');
      allowed = allowed || methods.substr(0, comma) == c.method;
      methods = comma == std::string_view::npos ? "" : methods.substr(comma + 1);
    }
    if (!allowed) {
      reply out = text(405, "method " + c.method + " not allowed");
      out.headers.emplace_back("Allow", allow);
      co_return out;
    }
    if (!opts.acl_master_token.empty() && !r->acl_exempt) {
      auto token = token_of(c);
      if (!token || *token != opts.acl_master_token)
        co_return text(403, "ACL not found");
    }
    c.rest = c.path.substr(r->prefix ? r->path.size() : c.path.size());
    try {
      reply out = co_await (this->*(r->fn))(c);
      if (c.method != "GET")
        notify();
      co_return out;
    } catch (const decode_error& e) {
      co_return text(400, "Request decode failed: " + e.message);
    }
  }

  // ------------------------------------------------------------ guards

  std::optional<reply> write_guard() const {
    if (leader_lost)
      return text(500, "No cluster leader");
    return std::nullopt;
  }

  // Reads: consistency flags and leader loss (§1.3, §1.6, §9 item 27).
  std::optional<reply> read_guard(const call& c) const {
    if (c.has("stale") && c.has("consistent"))
      return text(400, "Cannot specify ?stale with ?consistent, conflicting semantics.");
    if (c.has("cached") && c.has("consistent"))
      return text(400, "Cannot specify ?cached with ?consistent, conflicting semantics.");
    if (c.has("dc") && !c.get("dc")->empty() && *c.get("dc") != opts.datacenter)
      return text(500, "No path to datacenter");
    if (leader_lost && !c.has("stale"))
      return text(500, "No cluster leader");
    return std::nullopt;
  }

  // §2: blocking query loop. `query` runs under `mu` and fills index/absent.
  // Callers pass lambdas that capture by reference only: GCC 12 destroys by-value captures
  // of a lambda temporary in a co_await expression twice.
  template <class Query>
  asio::awaitable<reply> blocking(const call& c, Query query) {
    std::optional<std::uint64_t> min_index;
    ns wait{0};
    if (auto idx = c.get("index")) {
      auto v = parse_u64(*idx);
      if (!std::holds_alternative<std::uint64_t>(v))
        co_return text(400, "Invalid index");
      min_index = std::get<std::uint64_t>(v);
    }
    if (auto w = c.get("wait")) {
      auto d = consul::parse_go_duration(*w);
      if (!d)
        co_return text(400, "Invalid wait time");
      wait = *d;
    }
    ns deadline{0};
    std::uint64_t epoch = 0, drops = 0;
    bool first_absent = false;
    {
      std::lock_guard lock(mu);
      if (auto err = read_guard(c))
        co_return *err;
      st.run_due(now());
      reply r = query();
      r.meta = true;
      if (!min_index || *min_index == 0 || r.index > *min_index)
        co_return r;
      first_absent = r.absent;
      // §2.1: clamp to 10m, default 5m, then jitter in [0, timeout/16).
      ns timeout = wait > 10min ? ns{10min} : wait <= ns{0} ? ns{5min} : wait;
      if (opts.jitter && timeout.count() >= 16) {
        std::uniform_int_distribution<std::int64_t> dist(0, timeout.count() / 16 - 1);
        timeout += ns{dist(rng)};
      }
      deadline = now() + timeout;
      epoch = wake_epoch;
      drops = drop_epoch;
    }
    for (;;) {
      ns remaining;
      {
        std::lock_guard lock(mu);
        remaining = deadline - now();
      }
      co_await park(std::max(remaining, ns{0}));
      std::lock_guard lock(mu);
      if (drop_epoch != drops || !running) {
        reply r;
        r.drop = true;
        co_return r;
      }
      st.run_due(now());
      reply r = query();
      r.meta = true;
      bool changed = r.index > *min_index && !(r.absent && first_absent);
      if (changed || now() >= deadline || wake_epoch != epoch || leader_lost != false) {
        if (leader_lost && !c.has("stale"))
          co_return text(500, "No cluster leader");
        co_return r;
      }
    }
  }

  template <class Fn>
  asio::awaitable<reply> sync(Fn fn) {
    std::lock_guard lock(mu);
    st.run_due(now());
    co_return fn();
  }

  // ------------------------------------------------------------ KV (§3)

  asio::awaitable<reply> kv(call& c) {
    const std::string key = c.rest;
    if (c.method == "GET") {
      bool recurse = c.has("recurse"), keys = c.has("keys"), raw = c.has("raw");
      if (key.empty() && !recurse && !keys)
        co_return text(400, "Missing key name");
      if (keys) {
        std::string sep = c.get("separator").value_or(c.get("seperator").value_or(""));
        co_return co_await blocking(c, [&] {
          std::vector<std::string> out;
          for (const auto* e : st.kv_list(key)) {
            std::string k = e->key;
            if (!sep.empty()) {
              auto pos = k.find(sep, key.size());
              if (pos != std::string::npos)
                k = k.substr(0, pos + sep.size());
            }
            if (out.empty() || out.back() != k)
              out.push_back(k);
          }
          reply r = out.empty() && !key.empty() ? text(404, "") : json_reply(string_array(out));
          r.index = st.kv_prefix_index(key);
          return r;
        });
      }
      if (recurse) {
        co_return co_await blocking(c, [&] {
          json::array a;
          for (const auto* e : st.kv_list(key))
            a.push_back(kv_json(*e));
          reply r = a.empty() ? text(404, "") : json_reply(a);
          r.index = st.kv_prefix_index(key);
          return r;
        });
      }
      co_return co_await blocking(c, [&] {
        const auto* e = st.kv_get(key);
        reply r;
        if (!e) {
          r = text(404, "");
          r.absent = true;
          r.index = st.kv_table_index();
        } else if (raw) {
          r.body = e->value;
          r.content_type = "text/plain";
          r.headers.emplace_back("X-Content-Type-Options", "nosniff");
          r.headers.emplace_back("Content-Security-Policy", "sandbox");
          r.index = e->modify_index;
        } else {
          r = json_reply(json::array{kv_json(*e)});
          r.index = e->modify_index;
        }
        return r;
      });
    }
    std::lock_guard lock(mu);
    if (auto err = write_guard())
      co_return *err;
    st.run_due(now());
    if (c.method == "PUT") {
      if (key.empty())
        co_return text(400, "Missing key name");
      std::uint64_t flags = 0, cas = 0;
      if (auto f = c.get("flags")) {
        auto v = parse_u64(*f);
        if (auto* msg = std::get_if<std::string>(&v))
          co_return text(500, *msg);
        flags = std::get<std::uint64_t>(v);
      }
      if (auto f = c.get("cas")) {
        auto v = parse_u64(*f);
        if (auto* msg = std::get_if<std::string>(&v))
          co_return text(500, *msg);
        cas = std::get<std::uint64_t>(v);
      }
      int n = c.has("cas") + c.has("acquire") + c.has("release");
      if (n > 1)
        co_return conflicting_flags(c);
      // §1.7: the limit is checked against the request's Content-Length.
      if (c.content_length && *c.content_length > kv_max_value_size)
        co_return text(413, "Request body(" + std::to_string(*c.content_length) +
                                " bytes) too large, max size: 524288 bytes. See "
                                "https://developer.hashicorp.com/docs/agent/config/"
                                "config-files#kv_max_value_size.");
      auto mode = c.has("cas")       ? store::put_mode::cas
                  : c.has("acquire") ? store::put_mode::acquire
                  : c.has("release") ? store::put_mode::release
                                     : store::put_mode::set;
      std::string session = c.get("acquire").value_or(c.get("release").value_or(""));
      auto res = st.kv_put(key, c.body, flags, mode, cas, session, now());
      if (auto* err = std::get_if<op_error>(&res))
        co_return text(err->status, err->message);
      co_return json_reply(std::get<bool>(res));
    }
    // DELETE
    bool recurse = c.has("recurse");
    if (key.empty() && !recurse)
      co_return text(400, "Missing key name");
    if (recurse && c.has("cas"))
      co_return conflicting_flags(c);
    std::optional<std::uint64_t> cas;
    if (auto f = c.get("cas")) {
      auto v = parse_u64(*f);
      if (auto* msg = std::get_if<std::string>(&v))
        co_return text(500, *msg);
      cas = std::get<std::uint64_t>(v);
    }
    co_return json_reply(st.kv_delete(key, recurse, cas));
  }

  static reply conflicting_flags(const call& c) {
    auto q = c.query;
    std::stable_sort(q.begin(), q.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string enc;
    for (const auto& [k, v] : q) {
      if (!enc.empty())
        enc += '&';
      enc += query_escape(k) + "=" + query_escape(v);
    }
    return text(400, "Conflicting flags: " + enc);
  }

  // ------------------------------------------------------------ txn (§3.7)

  asio::awaitable<reply> txn(call& c) {
    if (c.content_length && *c.content_length > kv_max_value_size)
      co_return text(413, "Request body(" + std::to_string(*c.content_length) +
                              " bytes) too large, max size: 524288 bytes. See "
                              "https://developer.hashicorp.com/docs/agent/config/"
                              "config-files#txn_max_req_len.");
    boost::system::error_code ec;
    auto doc = json::parse(c.body, ec);
    if (ec || !doc.is_array())
      co_return text(
          400, "Failed to parse body: " + (ec ? ec.message()
                                              : "json: cannot unmarshal into Go value of type "
                                                "api.TxnOps"));
    auto& arr = doc.as_array();
    if (arr.size() > txn_max_ops)
      co_return text(413, "Transaction contains too many operations (" +
                              std::to_string(arr.size()) + " > 128)");
    std::vector<txn_op> ops;
    std::vector<std::pair<std::size_t, std::string>> unsupported;
    bool read_only = true;
    for (std::size_t i = 0; i < arr.size(); ++i) {
      if (!arr[i].is_object())
        co_return text(400, "Failed to parse body: json: cannot unmarshal " + go_type_name(arr[i]) +
                                " into Go value of type api.TxnOp");
      const auto& o = arr[i].as_object();
      const auto* kvv = field(o, "KV");
      if (!kvv || !kvv->is_object()) {
        // Reported as a failed operation; the transaction then never runs.
        unsupported.emplace_back(i, "only KV operations are supported by this Consul fake");
        continue;
      }
      const auto& k = kvv->as_object();
      txn_op op;
      try {
        op.verb = get_string(k, "Verb");
        op.key = get_string(k, "Key");
        op.session = get_string(k, "Session");
        if (const auto* f = field(k, "Flags"); f && f->is_uint64())
          op.flags = f->as_uint64();
        else
          op.flags = static_cast<std::uint64_t>(get_int(k, "Flags"));
        if (const auto* f = field(k, "Index"); f && f->is_uint64())
          op.index = f->as_uint64();
        else
          op.index = static_cast<std::uint64_t>(get_int(k, "Index"));
        if (const auto* v = field(k, "Value"); v && !v->is_null()) {
          if (!v->is_string())
            co_return text(400, "Failed to parse body: illegal base64 data");
          auto bytes = util::base64_decode(v->as_string());
          if (!bytes)
            co_return text(400, "Failed to parse body: illegal base64 data at input byte 0");
          op.value = std::move(*bytes);
        }
      } catch (const decode_error& e) {
        co_return text(400, "Failed to parse body: " + e.message);
      }
      if (op.value && op.value->size() > kv_max_value_size)
        co_return text(413, "Value for key \"" + op.key + "\" is too large (" +
                                std::to_string(op.value->size()) + " > 524288 bytes)");
      static const std::set<std::string> reads = {
          "get", "get-tree", "get-or-empty", "check-index", "check-session", "check-not-exists"};
      read_only = read_only && reads.count(op.verb);
      ops.push_back(std::move(op));
    }
    std::lock_guard lock(mu);
    if (read_only) {
      if (auto err = read_guard(c))
        co_return *err;
    } else if (auto err = write_guard()) {
      co_return *err;
    }
    st.run_due(now());
    auto out = unsupported.empty() ? st.txn(ops, now()) : txn_outcome{};
    for (auto& u : unsupported)
      out.errors.push_back(std::move(u));
    std::sort(out.errors.begin(), out.errors.end());
    reply r;
    if (!out.errors.empty()) {
      json::array errors;
      for (const auto& [i, what] : out.errors)
        errors.push_back(json::object{{"OpIndex", i}, {"What", what}});
      r = json_reply(json::object{{"Results", nullptr}, {"Errors", std::move(errors)}});
      r.status = 409;
    } else {
      json::array results;
      for (std::size_t i = 0; i < out.results.size(); ++i)
        results.push_back(json::object{{"KV", kv_json(out.results[i], out.result_has_value[i])}});
      r = json_reply(json::object{{"Results", std::move(results)}, {"Errors", nullptr}});
    }
    if (read_only) {
      r.meta = true;
      r.meta_index = false;
    }
    co_return r;
  }

  // ------------------------------------------------------------ sessions (§4)

  asio::awaitable<reply> session_create(call& c) {
    auto body = parse_object(c.body, true);
    store::session_request req;
    req.name = get_string(body, "Name");
    if (const auto* n = field(body, "Node"); n && n->is_string())
      req.node = std::string(n->as_string());
    req.behavior = get_string(body, "Behavior", "release");
    if (req.behavior.empty())
      req.behavior = "release";
    if (auto d = get_duration(body, "LockDelay")) {
      // §4.1: numbers (and durations) below 1000 are taken as seconds.
      req.lock_delay = d->count() < 1000 ? ns{std::chrono::seconds(d->count())} : *d;
    }
    req.ttl_text = get_string(body, "TTL");
    req.node_checks = get_strings(body, "NodeChecks");
    req.checks = get_strings(body, "Checks");
    if (const auto* sc = field(body, "ServiceChecks"); sc && sc->is_array()) {
      std::vector<std::string> ids;
      for (const auto& e : sc->as_array()) {
        if (e.is_object())
          ids.push_back(get_string(e.as_object(), "ID"));
      }
      req.service_checks = std::move(ids);
    }
    std::lock_guard lock(mu);
    if (auto err = write_guard())
      co_return *err;
    if (!req.ttl_text.empty()) {
      auto d = consul::parse_go_duration(req.ttl_text);
      if (!d)
        co_return text(500, "Session TTL '" + req.ttl_text +
                                "' invalid: time: invalid duration \"" + req.ttl_text + "\"");
      req.ttl = *d;
    }
    st.run_due(now());
    auto res = st.session_create(req, now());
    if (auto* err = std::get_if<op_error>(&res))
      co_return text(err->status, err->message);
    co_return json_reply(json::object{{"ID", std::get<std::string>(res)}});
  }

  asio::awaitable<reply> session_destroy(call& c) {
    std::lock_guard lock(mu);
    if (auto err = write_guard())
      co_return *err;
    if (c.rest.empty())
      co_return text(400, "Missing session");
    st.run_due(now());
    st.session_destroy(c.rest, now());
    co_return json_reply(true);
  }

  asio::awaitable<reply> session_renew(call& c) {
    std::lock_guard lock(mu);
    if (auto err = write_guard())
      co_return *err;
    if (c.rest.empty())
      co_return text(400, "Missing session");
    st.run_due(now());
    const auto* s = st.session_renew(c.rest, now());
    if (!s)
      co_return text(404, "Session id '" + c.rest + "' not found");
    co_return json_reply(json::array{session_json(*s)});
  }

  asio::awaitable<reply> session_info(call& c) {
    co_return co_await blocking(c, [&] {
      json::array a;
      if (const auto* s = st.session_get(c.rest))
        a.push_back(session_json(*s));
      reply r = json_reply(a);
      r.index = st.sessions_index();
      return r;
    });
  }

  asio::awaitable<reply> session_node(call& c) {
    if (c.rest.empty())
      co_return text(400, "Missing node name");
    co_return co_await blocking(c, [&] {
      json::array a;
      for (const auto& [id, s] : st.sessions()) {
        if (s.node == c.rest)
          a.push_back(session_json(s));
      }
      reply r = json_reply(a);
      r.index = st.sessions_index();
      return r;
    });
  }

  asio::awaitable<reply> session_list(call& c) {
    co_return co_await blocking(c, [&] {
      json::array a;
      for (const auto& [id, s] : st.sessions())
        a.push_back(session_json(s));
      reply r = json_reply(a);
      r.index = st.sessions_index();
      return r;
    });
  }

  // ------------------------------------------------------------ agent (§5)

  json::object node_json() const {
    json::object tagged{{"lan", "127.0.0.1"},
                        {"lan_ipv4", "127.0.0.1"},
                        {"wan", "127.0.0.1"},
                        {"wan_ipv4", "127.0.0.1"}};
    return json::object{{"ID", st.node_id()},
                        {"Node", st.node_name()},
                        {"Address", "127.0.0.1"},
                        {"Datacenter", st.datacenter()},
                        {"TaggedAddresses", tagged},
                        {"Meta", json::object{{"consul-network-segment", ""}}},
                        {"CreateIndex", st.node_create_index()},
                        {"ModifyIndex", st.node_modify_index()}};
  }

  static json::object meta_json(const service& s) {
    json::object m;
    for (const auto& [k, v] : s.meta)
      m[k] = v;
    return m;
  }

  json::object agent_service_json(const service& s) const {
    return json::object{
        {"ID", s.id},
        {"Service", s.name},
        {"Tags", string_array(s.tags)},
        {"Meta", meta_json(s)},
        {"Port", s.port},
        {"Address", s.address},
        {"Weights", json::object{{"Passing", s.weight_passing}, {"Warning", s.weight_warning}}},
        {"EnableTagOverride", s.enable_tag_override},
        {"Datacenter", st.datacenter()}};
  }

  json::object check_json(const check& c, bool agent_view) const {
    return json::object{{"Node", st.node_name()},
                        {"CheckID", c.id},
                        {"Name", c.name},
                        {"Status", c.status},
                        {"Notes", c.notes},
                        {"Output", agent_view ? c.output : c.synced_output},
                        {"ServiceID", c.service_id},
                        {"ServiceName", c.service_name},
                        {"ServiceTags", string_array(c.service_tags)},
                        {"Type", c.type},
                        {"Interval", ""},
                        {"Timeout", ""},
                        {"ExposedPort", 0},
                        {"Definition", json::object{}},
                        {"CreateIndex", agent_view ? 0 : c.create_index},
                        {"ModifyIndex", agent_view ? 0 : c.modify_index}};
  }

  asio::awaitable<reply> agent_self(call&) {
    co_return co_await sync([&] {
      json::object config{{"Datacenter", st.datacenter()}, {"PrimaryDatacenter", st.datacenter()},
                          {"NodeName", st.node_name()},    {"NodeID", st.node_id()},
                          {"Revision", "cbes-fake"},       {"Server", true},
                          {"Version", "1.15.4"},           {"BuildDate", "2023-06-26T15:00:00Z"}};
      json::object debug{{"Datacenter", st.datacenter()},
                         {"NodeName", st.node_name()},
                         {"SessionTTLMin", "10s"},
                         {"ACLsEnabled", !opts.acl_master_token.empty()}};
      json::object member{{"Name", st.node_name()},
                          {"Addr", "127.0.0.1"},
                          {"Port", 8301},
                          {"Tags", json::object{{"role", "consul"},
                                                {"dc", st.datacenter()},
                                                {"id", st.node_id()},
                                                {"port", "8300"},
                                                {"build", "1.15.4:cbes-fake"}}},
                          {"Status", 1}};
      return json_reply(
          json::object{{"Config", config},
                       {"DebugConfig", debug},
                       {"Coord", json::object{{"Vec", json::array{0, 0, 0, 0, 0, 0, 0, 0}},
                                              {"Error", 1.5},
                                              {"Adjustment", 0},
                                              {"Height", 1e-5}}},
                       {"Member", member},
                       {"Stats", json::object{}},
                       {"Meta", json::object{{"consul-network-segment", ""}}},
                       {"xDS", json::object{}}});
    });
  }

  asio::awaitable<reply> agent_services(call&) {
    co_return co_await sync([&] {
      json::object o;
      for (const auto& [id, s] : st.services())
        o[id] = agent_service_json(s);
      return json_reply(o);
    });
  }

  asio::awaitable<reply> agent_service(call& c) {
    co_return co_await sync([&] {
      auto it = st.services().find(c.rest);
      if (it == st.services().end())
        return text(404, "unknown service ID: " + c.rest);
      auto o = agent_service_json(it->second);
      o["ContentHash"] = std::to_string(it->second.modify_index);
      return json_reply(o);
    });
  }

  asio::awaitable<reply> agent_checks(call&) {
    co_return co_await sync([&] {
      json::object o;
      for (const auto& [id, ch] : st.checks())
        o[id] = check_json(ch, true);
      return json_reply(o);
    });
  }

  // Parses one check object of a registration; throws decode_error, returns a 400 text.
  static std::optional<std::string> parse_check(const json::object& o,
                                                store::check_definition& def) {
    if (const auto* v = field(o, "CheckID"); v && v->is_string())
      def.id = std::string(v->as_string());
    else if (const auto* id = field(o, "ID"); id && id->is_string())
      def.id = std::string(id->as_string());
    if (const auto* v = field(o, "Name"); v && v->is_string())
      def.name = std::string(v->as_string());
    def.notes = get_string(o, "Notes");
    def.service_id = get_string(o, "ServiceID");
    auto status = get_string(o, "Status");
    if (!status.empty()) {
      if (!valid_status(status))
        return "Status for checks must 'passing', 'warning', 'critical'";
      def.status = status;
    }
    def.ttl = get_duration(o, "TTL").value_or(ns{0});
    def.deregister_after = get_duration(o, "DeregisterCriticalServiceAfter").value_or(ns{0});
    if (def.ttl > ns{0}) {
      def.type = "ttl";
    } else {
      static const std::vector<std::pair<std::string_view, std::string_view>> kinds = {
          {"HTTP", "http"},         {"TCP", "tcp"},           {"GRPC", "grpc"},
          {"Args", "script"},       {"ScriptArgs", "script"}, {"DockerContainerID", "docker"},
          {"AliasService", "alias"}};
      def.type.clear();
      for (const auto& [name, type] : kinds) {
        if (const auto* v = field(o, name); v && !v->is_null())
          def.type = type;
      }
      if (def.type.empty())
        return "Invalid check: TTL must be > 0 for TTL checks";
      if (def.type != "alias" && get_duration(o, "Interval").value_or(ns{0}) <= ns{0})
        return "Invalid check: Interval must be > 0 for Script, HTTP, H2PING, or TCP checks";
    }
    return std::nullopt;
  }

  asio::awaitable<reply> agent_service_register(call& c) {
    auto body = parse_object(c.body, false);
    service svc;
    svc.name = get_string(body, "Name");
    if (svc.name.empty())
      co_return text(400, "Missing service name");
    svc.id = get_string(body, "ID", svc.name);
    if (svc.id.empty())
      svc.id = svc.name;
    svc.tags = get_strings(body, "Tags").value_or(std::vector<std::string>{});
    svc.address = get_string(body, "Address");
    if (svc.address == "0.0.0.0" || svc.address == "::" || svc.address == "[::]")
      co_return text(400, "Invalid service address");
    svc.port = static_cast<int>(get_int(body, "Port"));
    svc.enable_tag_override = get_bool(body, "EnableTagOverride");
    if (const auto* w = field(body, "Weights"); w && w->is_object()) {
      svc.weight_passing = static_cast<int>(get_int(w->as_object(), "Passing", 1));
      svc.weight_warning = static_cast<int>(get_int(w->as_object(), "Warning", 1));
    }
    if (const auto* m = field(body, "Meta"); m && m->is_object()) {
      const auto& meta = m->as_object();
      if (meta.size() > 64)
        co_return text(400,
                       "Invalid Service Meta: Node metadata cannot contain more than 64 "
                       "key/value pairs");
      for (const auto& kv : meta) {
        std::string k(kv.key());
        std::string v = kv.value().is_string() ? std::string(kv.value().as_string()) : "";
        std::string problem;
        if (k.empty())
          problem = "Key cannot be blank";
        else if (!std::all_of(k.begin(), k.end(), [](char ch) {
                   return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-';
                 }))
          problem = "Key contains invalid characters";
        else if (k.size() > 128)
          problem = "Key is too long (limit: 128 characters)";
        else if (k.starts_with("consul-"))
          problem = "Key prefix 'consul-' is reserved for internal use";
        else if (v.size() > 512)
          problem = "Value is too long (limit: 512 characters)";
        if (!problem.empty())
          co_return text(400, "Invalid Service Meta: Couldn't load metadata pair ('" + k + "', '" +
                                  v + "'): " + problem);
        svc.meta.emplace_back(k, v);
      }
    }
    std::vector<store::check_definition> defs;
    auto add = [&](const json::value& v) -> std::optional<std::string> {
      if (!v.is_object())
        return std::nullopt;
      store::check_definition def;
      if (auto err = parse_check(v.as_object(), def))
        return err;
      defs.push_back(std::move(def));
      return std::nullopt;
    };
    if (const auto* ch = field(body, "Check"); ch && ch->is_object() && !ch->as_object().empty()) {
      if (auto err = add(*ch))
        co_return text(400, *err);
    }
    if (const auto* chs = field(body, "Checks"); chs && chs->is_array()) {
      for (const auto& ch : chs->as_array()) {
        if (auto err = add(ch))
          co_return text(400, *err);
      }
    }
    bool replace = c.has("replace-existing-checks");
    std::lock_guard lock(mu);
    st.run_due(now());
    if (auto err = st.register_service(std::move(svc), std::move(defs), replace, now()))
      co_return text(err->status, err->message);
    co_return empty_ok();
  }

  asio::awaitable<reply> agent_service_deregister(call& c) {
    std::lock_guard lock(mu);
    st.run_due(now());
    if (auto err = st.deregister_service(c.rest, now()))
      co_return text(err->status, err->message);
    co_return empty_ok();
  }

  asio::awaitable<reply> agent_check_register(call& c) {
    auto body = parse_object(c.body, false);
    store::check_definition def;
    if (auto err = parse_check(body, def))
      co_return text(400, *err);
    if (!def.name || def.name->empty())
      co_return text(400, "Missing check name");
    std::lock_guard lock(mu);
    st.run_due(now());
    if (auto err = st.register_check(std::move(def), now()))
      co_return text(err->status, err->message);
    co_return empty_ok();
  }

  asio::awaitable<reply> agent_check_deregister(call& c) {
    std::lock_guard lock(mu);
    st.run_due(now());
    if (auto err = st.deregister_check(c.rest, now()))
      co_return text(err->status, err->message);
    co_return empty_ok();
  }

  asio::awaitable<reply> ttl_update(std::string id, std::string status, std::string output) {
    std::lock_guard lock(mu);
    st.run_due(now());
    if (auto err = st.update_ttl_check(id, status, output, now()))
      co_return text(err->status, err->message);
    co_return empty_ok();
  }

  asio::awaitable<reply> agent_check_pass(call& c) {
    co_return co_await ttl_update(c.rest, "passing", c.get("note").value_or(""));
  }
  asio::awaitable<reply> agent_check_warn(call& c) {
    co_return co_await ttl_update(c.rest, "warning", c.get("note").value_or(""));
  }
  asio::awaitable<reply> agent_check_fail(call& c) {
    co_return co_await ttl_update(c.rest, "critical", c.get("note").value_or(""));
  }
  asio::awaitable<reply> agent_check_update(call& c) {
    auto body = parse_object(c.body, false);
    auto status = get_string(body, "Status");
    if (!valid_status(status))
      co_return text(400, "Invalid check status: '" + status + "'");
    co_return co_await ttl_update(c.rest, status, get_string(body, "Output"));
  }

  // ------------------------------------------------------------ health + catalog (§6)

  std::vector<const service*> instances(const std::string& name) const {
    std::vector<const service*> out;
    if (name == "consul")
      out.push_back(&st.consul_service());
    for (const auto& [id, s] : st.services()) {
      if (s.name == name)
        out.push_back(&s);
    }
    return out;
  }

  static bool has_tags(const service& s, const std::vector<std::string>& tags) {
    return std::all_of(tags.begin(), tags.end(), [&](const std::string& t) {
      return std::find(s.tags.begin(), s.tags.end(), t) != s.tags.end();
    });
  }

  asio::awaitable<reply> health_service(call& c) {
    if (c.rest.empty())
      co_return text(400, "Missing service name");
    bool passing = false;
    if (auto p = c.get("passing")) {
      // §1.3: the only flag parsed as a bool (Go strconv.ParseBool), empty = true.
      static const std::set<std::string> yes = {"", "1", "t", "T", "true", "TRUE", "True"};
      static const std::set<std::string> no = {"0", "f", "F", "false", "FALSE", "False"};
      if (yes.count(*p))
        passing = true;
      else if (!no.count(*p))
        co_return text(400, "Invalid value for ?passing");
    }
    auto tags = c.all("tag");
    co_return co_await blocking(c, [&] {
      json::array a;
      for (const auto* s : instances(c.rest)) {
        if (!has_tags(*s, tags))
          continue;
        json::array checks;
        bool all_passing = true;
        for (const auto* ch : st.checks_of_service(s->id)) {
          all_passing = all_passing && ch->status == "passing";
          checks.push_back(check_json(*ch, false));
        }
        all_passing = all_passing && st.serf_health().status == "passing";
        checks.push_back(check_json(st.serf_health(), false));
        if (passing && !all_passing)
          continue;
        json::object svc{{"ID", s->id},
                         {"Service", s->name},
                         {"Tags", string_array(s->tags)},
                         {"Address", s->address},
                         {"Meta", meta_json(*s)},
                         {"Port", s->port},
                         {"Weights", json::object{{"Passing", s->weight_passing},
                                                  {"Warning", s->weight_warning}}},
                         {"EnableTagOverride", s->enable_tag_override},
                         {"Proxy", json::object{{"Mode", ""},
                                                {"MeshGateway", json::object{}},
                                                {"Expose", json::object{}}}},
                         {"Connect", json::object{}},
                         {"CreateIndex", s->create_index},
                         {"ModifyIndex", s->modify_index}};
        a.push_back(json::object{{"Node", node_json()}, {"Service", svc}, {"Checks", checks}});
      }
      reply r = json_reply(a);
      r.index = st.service_index(c.rest);
      r.consistency = true;
      return r;
    });
  }

  asio::awaitable<reply> health_checks(call& c) {
    if (c.rest.empty())
      co_return text(400, "Missing service name");
    co_return co_await blocking(c, [&] {
      json::array a;
      for (const auto& [id, ch] : st.checks()) {
        if (ch.service_name == c.rest)
          a.push_back(check_json(ch, false));
      }
      reply r = json_reply(a);
      r.index = st.service_index(c.rest);
      return r;
    });
  }

  asio::awaitable<reply> health_node(call& c) {
    if (c.rest.empty())
      co_return text(400, "Missing node name");
    co_return co_await blocking(c, [&] {
      json::array a;
      if (c.rest == st.node_name()) {
        a.push_back(check_json(st.serf_health(), false));
        for (const auto& [id, ch] : st.checks())
          a.push_back(check_json(ch, false));
      }
      reply r = json_reply(a);
      r.index = st.checks_index();
      return r;
    });
  }

  asio::awaitable<reply> health_state(call& c) {
    if (c.rest != "any" && !valid_status(c.rest))
      co_return text(400, "Invalid state: " + c.rest);
    co_return co_await blocking(c, [&] {
      json::array a;
      auto add = [&](const check& ch) {
        if (c.rest == "any" || ch.status == c.rest)
          a.push_back(check_json(ch, false));
      };
      add(st.serf_health());
      for (const auto& [id, ch] : st.checks())
        add(ch);
      reply r = json_reply(a);
      r.index = st.checks_index();
      return r;
    });
  }

  asio::awaitable<reply> catalog_services(call& c) {
    co_return co_await blocking(c, [&] {
      std::map<std::string, std::set<std::string>> names;
      names["consul"];
      for (const auto& [id, s] : st.services())
        names[s.name].insert(s.tags.begin(), s.tags.end());
      json::object o;
      for (const auto& [name, tags] : names)
        o[name] = string_array({tags.begin(), tags.end()});
      reply r = json_reply(o);
      r.index = st.services_index();
      r.consistency = true;
      return r;
    });
  }

  asio::awaitable<reply> catalog_service(call& c) {
    if (c.rest.empty())
      co_return text(400, "Missing service name");
    auto tags = c.all("tag");
    co_return co_await blocking(c, [&] {
      json::array a;
      for (const auto* s : instances(c.rest)) {
        if (!has_tags(*s, tags))
          continue;
        auto node = node_json();
        a.push_back(json::object{{"ID", st.node_id()},
                                 {"Node", st.node_name()},
                                 {"Address", "127.0.0.1"},
                                 {"Datacenter", st.datacenter()},
                                 {"TaggedAddresses", node["TaggedAddresses"]},
                                 {"NodeMeta", node["Meta"]},
                                 {"ServiceKind", ""},
                                 {"ServiceID", s->id},
                                 {"ServiceName", s->name},
                                 {"ServiceTags", string_array(s->tags)},
                                 {"ServiceAddress", s->address},
                                 {"ServiceWeights", json::object{{"Passing", s->weight_passing},
                                                                 {"Warning", s->weight_warning}}},
                                 {"ServiceMeta", meta_json(*s)},
                                 {"ServicePort", s->port},
                                 {"ServiceEnableTagOverride", s->enable_tag_override},
                                 {"ServiceProxy", json::object{}},
                                 {"ServiceConnect", json::object{}},
                                 {"CreateIndex", s->create_index},
                                 {"ModifyIndex", s->modify_index}});
      }
      reply r = json_reply(a);
      r.index = st.service_index(c.rest);
      r.consistency = true;
      return r;
    });
  }

  asio::awaitable<reply> catalog_nodes(call& c) {
    co_return co_await blocking(c, [&] {
      reply r = json_reply(json::array{node_json()});
      r.index = st.nodes_index();
      r.consistency = true;
      return r;
    });
  }

  asio::awaitable<reply> status_leader(call&) {
    std::lock_guard lock(mu);
    co_return json_reply(json::string(leader_lost ? "" : "127.0.0.1:8300"));
  }

  asio::awaitable<reply> status_peers(call&) {
    co_return json_reply(json::array{"127.0.0.1:8300"});
  }

  asio::awaitable<reply> acl_token_self(call& c) {
    if (opts.acl_master_token.empty())
      co_return text(401, "ACL support disabled");
    (void)c;
    co_return json_reply(json::object{
        {"AccessorID", "00000000-0000-0000-0000-000000000001"},
        {"SecretID", opts.acl_master_token},
        {"Description", "Bootstrap Token (Global Management)"},
        {"Policies", json::array{json::object{{"ID", "00000000-0000-0000-0000-000000000001"},
                                              {"Name", "global-management"}}}},
        {"Local", false},
        {"CreateTime", "2024-01-01T00:00:00Z"},
        {"Hash", "Zm9v"},
        {"CreateIndex", 12},
        {"ModifyIndex", 12}});
  }

  // Real clock: timers fall due on their own; a light periodic tick runs them so that
  // watchers are woken even when no request arrives.
  asio::awaitable<void> ticker() {
    asio::steady_timer t(co_await asio::this_coro::executor);
    for (;;) {
      t.expires_after(std::chrono::milliseconds(100));
      auto [ec] = co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec)
        co_return;
      bool changed;
      {
        std::lock_guard lock(mu);
        changed = st.run_due(now());
      }
      if (changed)
        notify();
    }
  }
};

// ================================================================ public API

consul_agent::consul_agent(consul_agent_options options)
    : impl_(std::make_unique<impl>(std::move(options))) {}

consul_agent::~consul_agent() {
  stop();
}

void consul_agent::start() {
  if (impl_->server)
    return;
  http_server::options so;
  so.bind_address = impl_->opts.bind_address;
  so.port = impl_->opts.port;
  so.tls_cert_file = impl_->opts.tls_cert_file;
  so.tls_key_file = impl_->opts.tls_key_file;
  auto* self = impl_.get();
  auto server = std::make_unique<http_server>(
      so, [self](http_server::request req) { return self->handle(std::move(req)); });
  server->start();
  {
    std::lock_guard lock(impl_->mu);
    impl_->server = std::move(server);
    impl_->running = true;
  }
  if (!impl_->opts.manual_clock)
    asio::co_spawn(impl_->server->executor(), impl_->ticker(), asio::detached);
}

void consul_agent::stop() {
  std::unique_ptr<http_server> server;
  {
    std::lock_guard lock(impl_->mu);
    impl_->running = false;
    server = std::move(impl_->server);
  }
  if (server)
    server->stop();
}

std::uint16_t consul_agent::port() const {
  std::lock_guard lock(impl_->mu);
  return impl_->server ? impl_->server->port() : 0;
}

std::string consul_agent::url() const {
  std::lock_guard lock(impl_->mu);
  if (!impl_->server)
    return {};
  return std::string(impl_->server->tls() ? "https" : "http") +
         "://127.0.0.1:" + std::to_string(impl_->server->port());
}

void consul_agent::advance(std::chrono::milliseconds d) {
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->opts.manual_clock)
      return;
    impl_->manual_now += d;
    impl_->st.run_due(impl_->manual_now);
  }
  impl_->notify();
}

void consul_agent::fail_next_requests(int n, int status) {
  std::lock_guard lock(impl_->mu);
  impl_->fail_remaining = n;
  impl_->fail_status = status;
}

void consul_agent::delay_responses(std::chrono::milliseconds d) {
  std::lock_guard lock(impl_->mu);
  impl_->response_delay = d;
}

void consul_agent::drop_long_polls() {
  {
    std::lock_guard lock(impl_->mu);
    ++impl_->drop_epoch;
  }
  impl_->notify();
}

void consul_agent::reset_index() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->st.reset_index();
    ++impl_->wake_epoch;
  }
  impl_->notify();
}

void consul_agent::freeze(bool on) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->frozen = on;
  }
  impl_->notify();
}

void consul_agent::kill_node(bool dead) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->st.set_node_alive(!dead, impl_->now());
  }
  impl_->notify();
}

void consul_agent::lose_leader(bool lost) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->leader_lost = lost;
  }
  impl_->notify();
}

void consul_agent::spurious_wakeup() {
  {
    std::lock_guard lock(impl_->mu);
    ++impl_->wake_epoch;
  }
  impl_->notify();
}

std::uint64_t consul_agent::current_index() const {
  std::lock_guard lock(impl_->mu);
  return impl_->st.current_index();
}

std::size_t consul_agent::requests_served() const {
  return impl_->served;
}

std::size_t consul_agent::waiting_queries() const {
  std::lock_guard lock(impl_->mu);
  return impl_->waiters.size();
}

}  // namespace cbes::testkit
