#include "agent_impl.hpp"
#include "ui.hpp"

namespace cbes::testkit {

namespace {

// Go's path.Clean keeping a trailing slash, as the HTTP mux does before redirecting.
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

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

const std::vector<consul_agent::impl::route>& consul_agent::impl::routes() {
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

const consul_agent::impl::route* consul_agent::impl::find_route(const std::string& path) const {
  const route* best = nullptr;
  for (const auto& r : routes()) {
    bool match = r.prefix ? path.starts_with(r.path) : path == r.path;
    if (match && (!best || r.path.size() > best->path.size()))
      best = &r;
  }
  return best;
}

std::optional<std::string> consul_agent::impl::token_of(const call& c) const {
  if (auto t = c.get("token"); t && !t->empty())
    return t;
  if (auto t = find_header(c.headers, "X-Consul-Token"); t && !t->empty())
    return std::string(*t);
  if (auto a = find_header(c.headers, "Authorization")) {
    // split on spaces, scheme compared case-insensitively, first word after it.
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

const char* consul_agent::impl::c_consistency(bool consistent, bool stale) {
  return consistent ? "consistent" : stale ? "stale" : "leader";
}

asio::awaitable<http_server::response> consul_agent::impl::handle(http_server::request req) {
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

asio::awaitable<reply> consul_agent::impl::dispatch(const http_server::request& req) {
  // freeze(): read the request, never answer until unfrozen
  for (bool first = true;; first = false) {
    {
      std::lock_guard lock(mu);
      if (!frozen)
        break;
    }
    co_await park(std::nullopt, first);
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
  // non-printable characters in the path → 400 with an empty body.
  for (char ch : c.path) {
    auto u = static_cast<unsigned char>(ch);
    if (u < 0x20 || u == 0x7f)
      co_return text(400, "");
  }
  // the router cleans `//` and dot segments with a 301 to the cleaned path.
  if (auto cleaned = clean_path(c.path); cleaned != c.path) {
    reply r = text(301, "");
    std::string location = cleaned;
    if (!raw_query.empty())
      location += "?" + std::string(raw_query);
    r.headers.emplace_back("Location", location);
    co_return r;
  }
  // The web UI is static, like a dev agent's: no ACL token needed to load it (its API calls
  // carry one), and a browser showing it does not use up failures a test injected for the API.
  if (auto ui = ui_route(c.method, c.path, raw_query))
    co_return *ui;
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

std::optional<reply> consul_agent::impl::write_guard() const {
  if (leader_lost)
    return text(500, "No cluster leader");
  return std::nullopt;
}

// Reads: consistency flags and leader loss.
std::optional<reply> consul_agent::impl::read_guard(const call& c) const {
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

}  // namespace cbes::testkit
