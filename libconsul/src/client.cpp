// The API areas: each call builds its request (Consul's HTTP API docs), runs it through the
// transport and decodes the answer with the pure codecs.
#include "consul/client.hpp"

#include "client_impl.hpp"
#include "consul/codec.hpp"
#include "consul/encoding.hpp"

namespace consul {
namespace {

using detail::http_request;
using detail::http_response;
using detail::impl_ptr;
using query_list = std::vector<std::pair<std::string, std::string>>;
namespace http = detail::http;

void add_query(query_list& qs, const query_options& q) {
  if (q.index > 0) {
    qs.emplace_back("index", std::to_string(q.index));
    // Whole milliseconds, as the Go client sends them.
    if (q.wait.count() > 0)
      qs.emplace_back("wait", std::to_string(q.wait.count()) + "ms");
  }
  if (q.mode == consistency::stale)
    qs.emplace_back("stale", "");
  else if (q.mode == consistency::consistent)
    qs.emplace_back("consistent", "");
}

http_request read_request(std::string target, const query_options& q) {
  http_request r;
  r.method = http::verb::get;
  r.target = std::move(target);
  r.idempotent = true;
  if (q.index > 0)
    r.read_timeout = detail::blocking_read_timeout(q.wait);
  return r;
}

http_request write_request(std::string target, std::string body = {}, bool json = false) {
  http_request r;
  r.method = http::verb::put;
  r.target = std::move(target);
  r.body = std::move(body);
  r.json_body = json;
  return r;
}

std::string segment(std::string_view id) {
  return percent_encode(id, true);
}

error missing(std::string_view what) {
  return make_error(errc::invalid_argument, "Missing " + std::string(what));
}

// A read whose 404 means "nothing there": the parse of an empty result.
template <class T, class Parse>
task<response<T>> read_list(impl_ptr impl, std::string target, query_options q, Parse parse) {
  auto res = co_await impl->perform(read_request(std::move(target), q));
  if (!res)
    co_return res.error();
  if (res->status == 404)
    co_return response<T>{T{}, res->meta};
  if (res->status != 200)
    co_return detail::http_failure(*res);
  auto v = parse(res->body);
  if (!v)
    co_return v.error();
  co_return response<T>{std::move(*v), res->meta};
}

// A call whose success is 200 with an ignorable body.
task<void> expect_ok(impl_ptr impl, http_request req) {
  auto res = co_await impl->perform(std::move(req));
  if (!res)
    co_return res.error();
  if (res->status != 200)
    co_return detail::http_failure(*res);
  co_return result<void>{};
}

template <class T, class Parse>
task<T> expect_body(impl_ptr impl, http_request req, Parse parse) {
  auto res = co_await impl->perform(std::move(req));
  if (!res)
    co_return res.error();
  if (res->status != 200)
    co_return detail::http_failure(*res);
  co_return parse(res->body);
}

// ---- kv ----
task<response<std::optional<kv_pair>>> kv_get(impl_ptr impl, std::string key, query_options q) {
  auto path = kv_path(key);
  if (!path)
    co_return path.error();
  query_list qs;
  add_query(qs, q);
  auto res = co_await impl->perform(read_request(impl->target(*path, qs), q));
  if (!res)
    co_return res.error();
  using out = response<std::optional<kv_pair>>;
  if (res->status == 404)
    co_return out{std::nullopt, res->meta};
  if (res->status != 200)
    co_return detail::http_failure(*res);
  auto pairs = parse_kv_pairs(res->body);
  if (!pairs)
    co_return pairs.error();
  if (pairs->empty())
    co_return out{std::nullopt, res->meta};
  co_return out{std::move(pairs->front()), res->meta};
}

// Takes a ready request: options are turned into a query before the coroutine starts
// (CONTRIBUTING.md, GCC 12 rule 2).
task<bool> kv_write(impl_ptr impl, http_request req) {
  co_return co_await expect_body<bool>(std::move(impl), std::move(req), parse_bool);
}

task<bool> fail_now(error e) {
  co_return e;
}

// ---- session ----
task<session_info> first_session(impl_ptr impl, http_request req) {
  auto res = co_await impl->perform(std::move(req));
  if (!res)
    co_return res.error();
  if (res->status == 404)
    co_return make_error(errc::session_not_found, res->body, 404);
  if (res->status != 200)
    co_return detail::http_failure(*res);
  auto list = parse_sessions(res->body);
  if (!list)
    co_return list.error();
  if (list->empty())
    co_return make_error(errc::session_not_found, "session not found", 200);
  co_return std::move(list->front());
}

task<response<std::optional<session_info>>> session_info_call(impl_ptr impl, std::string id,
                                                              query_options q) {
  if (id.empty())
    co_return missing("session id");
  query_list qs;
  add_query(qs, q);
  auto list = co_await read_list<std::vector<session_info>>(
      impl, impl->target("/v1/session/info/" + segment(id), qs), q, parse_sessions);
  if (!list)
    co_return list.error();
  response<std::optional<session_info>> out{std::nullopt, list->meta};
  if (!list->value.empty())
    out.value = std::move(list->value.front());
  co_return out;
}

// ---- agent ----
task<void> check_update(impl_ptr impl, std::string verb, std::string id, std::string note) {
  if (id.empty())
    co_return missing("check id");
  query_list qs;
  qs.emplace_back("note", std::move(note));
  auto target = impl->target("/v1/agent/check/" + verb + "/" + segment(id), std::move(qs), false);
  co_return co_await expect_ok(impl, write_request(std::move(target)));
}

}  // namespace

// ---- kv_api ----
task<response<std::optional<kv_pair>>> kv_api::get(std::string key, query_options q) const {
  return kv_get(impl_, std::move(key), q);
}

task<response<std::vector<kv_pair>>> kv_api::recurse(std::string prefix, query_options q) const {
  auto path = kv_path(prefix, true);
  query_list qs{{"recurse", ""}};
  add_query(qs, q);
  if (!path)
    return [](error e) -> task<response<std::vector<kv_pair>>> { co_return e; }(path.error());
  return read_list<std::vector<kv_pair>>(impl_, impl_->target(*path, qs), q, parse_kv_pairs);
}

task<response<std::vector<std::string>>> kv_api::keys(std::string prefix, std::string separator,
                                                      query_options q) const {
  auto path = kv_path(prefix, true);
  query_list qs{{"keys", ""}};
  if (!separator.empty())
    qs.emplace_back("separator", separator);
  add_query(qs, q);
  if (!path)
    return [](error e) -> task<response<std::vector<std::string>>> { co_return e; }(path.error());
  return read_list<std::vector<std::string>>(impl_, impl_->target(*path, qs), q,
                                             parse_string_array);
}

task<bool> kv_api::put(std::string key, std::string value, kv_put_options o) const {
  auto path = kv_path(key);
  if (!path)
    return fail_now(path.error());
  const int conditions =
      (o.cas ? 1 : 0) + (o.acquire.empty() ? 0 : 1) + (o.release.empty() ? 0 : 1);
  if (conditions > 1)
    return fail_now(make_error(errc::invalid_argument,
                               "Conflicting flags: use only one of cas, acquire, release"));
  query_list qs;
  if (o.flags != 0)
    qs.emplace_back("flags", std::to_string(o.flags));
  if (o.cas)
    qs.emplace_back("cas", std::to_string(*o.cas));
  if (!o.acquire.empty())
    qs.emplace_back("acquire", o.acquire);
  if (!o.release.empty())
    qs.emplace_back("release", o.release);
  return kv_write(impl_, write_request(impl_->target(*path, qs), std::move(value)));
}

task<bool> kv_api::remove(std::string key, kv_delete_options o) const {
  auto path = kv_path(key, o.recurse);
  if (!path)
    return fail_now(path.error());
  if (o.recurse && o.cas)
    return fail_now(make_error(errc::invalid_argument, "Conflicting flags: cas with recurse"));
  query_list qs;
  if (o.recurse)
    qs.emplace_back("recurse", "");
  if (o.cas)
    qs.emplace_back("cas", std::to_string(*o.cas));
  http_request r;
  r.method = http::verb::delete_;
  r.target = impl_->target(*path, qs);
  return kv_write(impl_, std::move(r));
}

// ---- session_api ----
task<std::string> session_api::create(session_options o) const {
  return expect_body<std::string>(
      impl_, write_request(impl_->target("/v1/session/create", {}), encode_session_create(o), true),
      parse_session_id);
}

task<bool> session_api::destroy(std::string id) const {
  if (id.empty())
    return [](error e) -> task<bool> { co_return e; }(missing("session id"));
  return expect_body<bool>(
      impl_, write_request(impl_->target("/v1/session/destroy/" + segment(id), {})), parse_bool);
}

task<response<std::optional<session_info>>> session_api::info(std::string id,
                                                              query_options q) const {
  return session_info_call(impl_, std::move(id), q);
}

task<response<std::vector<session_info>>> session_api::list(query_options q) const {
  query_list qs;
  add_query(qs, q);
  return read_list<std::vector<session_info>>(impl_, impl_->target("/v1/session/list", qs), q,
                                              parse_sessions);
}

task<response<std::vector<session_info>>> session_api::node(std::string node,
                                                            query_options q) const {
  query_list qs;
  add_query(qs, q);
  if (node.empty())
    return [](error e) -> task<response<std::vector<session_info>>> {
      co_return e;
    }(missing("node name"));
  return read_list<std::vector<session_info>>(
      impl_, impl_->target("/v1/session/node/" + segment(node), qs), q, parse_sessions);
}

task<session_info> session_api::renew(std::string id) const {
  if (id.empty())
    return [](error e) -> task<session_info> { co_return e; }(missing("session id"));
  return first_session(impl_, write_request(impl_->target("/v1/session/renew/" + segment(id), {})));
}

// ---- agent_api ----
task<agent_self> agent_api::self() const {
  return expect_body<agent_self>(impl_, read_request("/v1/agent/self", {}), parse_agent_self);
}

task<void> agent_api::register_service(service_registration r) const {
  query_list qs;
  if (r.replace_existing_checks)
    qs.emplace_back("replace-existing-checks", "");
  return expect_ok(impl_, write_request(impl_->target("/v1/agent/service/register", qs, false),
                                        encode_service_registration(r), true));
}

task<void> agent_api::deregister_service(std::string service_id) const {
  if (service_id.empty())
    return [](error e) -> task<void> { co_return e; }(missing("service id"));
  return [](impl_ptr impl, std::string id) -> task<void> {
    auto res = co_await impl->perform(
        write_request(impl->target("/v1/agent/service/deregister/" + segment(id), {}, false)));
    if (!res)
      co_return res.error();
    // New agents answer 404 for an unknown id; the service is gone either way.
    if (res->status != 200 && res->status != 404)
      co_return detail::http_failure(*res);
    co_return result<void>{};
  }(impl_, std::move(service_id));
}

task<void> agent_api::pass(std::string check_id, std::string note) const {
  return check_update(impl_, "pass", std::move(check_id), std::move(note));
}
task<void> agent_api::warn(std::string check_id, std::string note) const {
  return check_update(impl_, "warn", std::move(check_id), std::move(note));
}
task<void> agent_api::fail(std::string check_id, std::string note) const {
  return check_update(impl_, "fail", std::move(check_id), std::move(note));
}

task<void> agent_api::update(std::string check_id, check_status status, std::string output) const {
  if (check_id.empty())
    return [](error e) -> task<void> { co_return e; }(missing("check id"));
  return expect_ok(
      impl_, write_request(impl_->target("/v1/agent/check/update/" + segment(check_id), {}, false),
                           encode_check_update(status, output), true));
}

task<std::map<std::string, service_entry>> agent_api::services() const {
  return expect_body<std::map<std::string, service_entry>>(
      impl_, read_request("/v1/agent/services", {}), parse_agent_services);
}

task<std::map<std::string, health_check>> agent_api::checks() const {
  return expect_body<std::map<std::string, health_check>>(
      impl_, read_request("/v1/agent/checks", {}), parse_agent_checks);
}

// ---- health / catalog / status / txn ----
task<response<std::vector<health_entry>>> health_api::service(std::string name, health_options o,
                                                              query_options q) const {
  if (name.empty())
    return [](error e) -> task<response<std::vector<health_entry>>> {
      co_return e;
    }(missing("service name"));
  query_list qs;
  if (o.passing)
    qs.emplace_back("passing", "1");
  for (auto& t : o.tags)
    qs.emplace_back("tag", t);
  add_query(qs, q);
  return read_list<std::vector<health_entry>>(
      impl_, impl_->target("/v1/health/service/" + segment(name), qs), q, parse_health_service);
}

task<response<std::map<std::string, std::vector<std::string>>>> catalog_api::services(
    query_options q) const {
  query_list qs;
  add_query(qs, q);
  return read_list<std::map<std::string, std::vector<std::string>>>(
      impl_, impl_->target("/v1/catalog/services", qs), q, parse_catalog_services);
}

task<std::string> status_api::leader() const {
  return expect_body<std::string>(impl_, read_request(impl_->target("/v1/status/leader", {}), {}),
                                  parse_json_string);
}

task<std::vector<std::string>> status_api::peers() const {
  return expect_body<std::vector<std::string>>(
      impl_, read_request(impl_->target("/v1/status/peers", {}), {}), parse_string_array);
}

task<txn_result> txn_api::run(std::vector<txn_op> ops) const {
  return [](impl_ptr impl, std::vector<txn_op> list) -> task<txn_result> {
    for (const auto& op : list)
      if (!op.key.empty() && op.key.front() == '/')
        co_return make_error(errc::invalid_argument,
                             "Invalid key. Key must not begin with a '/': " + op.key);
    auto res =
        co_await impl->perform(write_request(impl->target("/v1/txn", {}), encode_txn(list), true));
    if (!res)
      co_return res.error();
    if (res->status != 200 && res->status != 409)
      co_return detail::http_failure(*res);
    co_return parse_txn_response(res->status, res->body);
  }(impl_, std::move(ops));
}

// ---- client ----
client::client(boost::asio::any_io_executor ex, client_options options)
    : impl_(std::make_shared<detail::client_impl>(std::move(ex), std::move(options))) {}

client::~client() {
  if (impl_)
    impl_->close();
}

client::client(client&&) noexcept = default;
client& client::operator=(client&& other) noexcept {
  if (this != &other) {
    if (impl_)
      impl_->close();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

void client::close() {
  if (impl_)
    impl_->close();
}

boost::asio::any_io_executor client::get_executor() const {
  return impl_->executor;
}
const client_options& client::options() const {
  return impl_->options;
}

}  // namespace consul
