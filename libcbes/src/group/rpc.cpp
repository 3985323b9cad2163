#include "cbes/group/rpc.hpp"

#include <atomic>
#include <exception>
#include <optional>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

#include "cbes/group/endpoint_document.hpp"
#include "cbes/group/layout.hpp"
#include "consul/backoff.hpp"
#include "consul/client.hpp"
#include "consul/watch.hpp"

namespace cbes::group {
namespace asio = boost::asio;
namespace json = boost::json;
using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

namespace {

error from_consul(const consul::error& e) {
  if (e.code == consul::errc::cancelled)
    return make_error(errc::cancelled, e.what());
  auto out = make_error(errc::consul_failed, e.what());
  out.transient = e.transient();
  return out;
}

// Waits `d`; false when the wait was cancelled.
asio::awaitable<bool> delay(steady::duration d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return !ec;
}

// A plain (non-blocking) read of one key.
asio::awaitable<consul::result<consul::response<std::optional<consul::kv_pair>>>> read_key(
    const consul::kv_api& kv, const std::string& key) {
  const consul::query_options now;
  auto r = co_await kv.get(key, now);
  co_return r;
}

asio::awaitable<consul::result<bool>> cas_put(const consul::kv_api& kv, const std::string& key,
                                              std::string value, std::uint64_t index) {
  consul::kv_put_options o;
  o.cas = index;
  auto r = co_await kv.put(key, std::move(value), o);
  co_return r;
}

// Retry pacing of CAS conflicts: truncated exponential backoff with full jitter (the delay is
// uniform in [0, min(cap, seed × 2^attempt)]), as the Java client paces its CAS retries.
steady::duration full_jitter(const rpc_client_options& o, unsigned attempt) {
  const auto ceiling =
      std::min<milliseconds>(o.backoff_cap, o.backoff_seed * (1LL << std::min(attempt, 20U)));
  return std::chrono::duration_cast<steady::duration>(ceiling * consul::random_unit());
}

std::chrono::nanoseconds monotonic_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch());
}

// ---- JSON-RPC responses ----

// {"jsonrpc":"2.0","id":<id>,"error":<err>}
std::string error_envelope(const json::value& id, json::object err) {
  json::object out;
  out["jsonrpc"] = "2.0";
  out["id"] = id;
  out["error"] = std::move(err);
  return json::serialize(out);
}

// The error object of JSON-RPC, with the Java server's data.detail when there is a detail.
std::string error_response(const json::value& id, int code, std::string_view message,
                           std::string_view detail) {
  json::object err;
  err["code"] = code;
  err["message"] = message;
  if (!detail.empty()) {
    json::object info;
    info["exception"] = detail;
    info["stackTrace"] = "";
    json::object data;
    data["detail"] = std::move(info);
    err["data"] = std::move(data);
  }
  return error_envelope(id, std::move(err));
}

std::string handler_error_response(const json::value& id, const error& e) {
  if (e.code == errc::invalid_argument)
    return error_response(id, rpc_codes::invalid_params, "Invalid params", e.message);
  if (e.code != errc::remote_error)
    return error_response(id, rpc_codes::internal_error, "Internal error", e.message);
  // An error some other endpoint answered, passed on as it came.
  json::object err;
  err["code"] = e.rpc_code;
  err["message"] = e.message;
  boost::system::error_code ec;
  auto data = json::parse(e.rpc_data, ec);
  if (!e.rpc_data.empty() && !ec)
    err["data"] = std::move(data);
  return error_envelope(id, std::move(err));
}

// What a client gets back from a response object.
result<std::string> outcome_of(std::string_view response) {
  boost::system::error_code ec;
  const json::value v = json::parse(response, ec);
  if (ec || !v.is_object())
    return make_error(errc::invalid_document, "the RPC response is not a JSON object");
  const auto& o = v.as_object();
  if (const auto* err = o.if_contains("error"); err != nullptr && !err->is_null()) {
    error out = make_error(errc::remote_error, "");
    if (const auto* obj = err->if_object()) {
      if (const auto* code = obj->if_contains("code"); code != nullptr && code->is_int64())
        out.rpc_code = static_cast<int>(code->as_int64());
      if (const auto* message = obj->if_contains("message");
          message != nullptr && message->is_string())
        out.message = std::string(message->as_string());
      if (const auto* data = obj->if_contains("data"))
        out.rpc_data = json::serialize(*data);
    }
    if (out.message.empty())
      out.message = "JSON-RPC error " + std::to_string(out.rpc_code);
    return out;
  }
  const auto* value = o.if_contains("result");
  return value == nullptr ? std::string("null") : json::serialize(*value);
}

}  // namespace

// ---- rpc_methods ----

rpc_methods::rpc_methods() {
  add("worker.ready",
      [](std::string) -> asio::awaitable<result<std::string>> { co_return std::string("true"); });
  add("worker.ping",
      [](std::string) -> asio::awaitable<result<std::string>> { co_return std::string("null"); });
}

void rpc_methods::add(std::string method, rpc_handler handler) {
  handlers_.insert_or_assign(std::move(method), std::move(handler));
}

asio::awaitable<std::string> rpc_methods::answer(std::string request) {
  const json::value null_id;
  boost::system::error_code ec;
  const json::value v = json::parse(request, ec);
  if (ec)
    co_return error_response(null_id, rpc_codes::parse_error, "Parse error", "");
  const auto* o = v.if_object();
  if (o == nullptr)
    co_return error_response(null_id, rpc_codes::invalid_request, "Invalid Request", "");
  const auto* id = o->if_contains("id");
  const bool id_ok = id != nullptr && (id->is_string() || id->is_number());
  const json::value& reply_id = id_ok ? *id : null_id;
  const auto* version = o->if_contains("jsonrpc");
  const auto* method = o->if_contains("method");
  const auto* params = o->if_contains("params");
  const bool valid = id_ok && version != nullptr && version->is_string() &&
                     version->as_string() == "2.0" && method != nullptr && method->is_string() &&
                     (params == nullptr || params->is_array() || params->is_object());
  if (!valid)
    co_return error_response(reply_id, rpc_codes::invalid_request, "Invalid Request", "");
  const auto found = handlers_.find(std::string_view(method->as_string()));
  if (found == handlers_.end())
    co_return error_response(reply_id, rpc_codes::method_not_found, "Method not found", "");
  // A copy: the handler may register methods while it runs.
  const rpc_handler handler = found->second;
  std::string args = params == nullptr ? std::string("[]") : json::serialize(*params);
  result<std::string> out = std::string();
  std::optional<std::string> thrown;
  try {
    out = co_await handler(std::move(args));
  } catch (const std::exception& e) {
    thrown = e.what();
  }
  if (thrown)
    co_return error_response(reply_id, rpc_codes::internal_error, "Internal error", *thrown);
  if (!out)
    co_return handler_error_response(reply_id, out.error());
  json::value value = json::parse(*out, ec);
  if (ec)
    co_return error_response(reply_id, rpc_codes::internal_error, "Internal error",
                             "the method returned invalid JSON: " + *out);
  json::object reply;
  reply["jsonrpc"] = "2.0";
  reply["id"] = reply_id;
  reply["result"] = std::move(value);
  co_return json::serialize(reply);
}

// ---- rpc_server ----

struct rpc_server::state {
  state(consul::client& c, rpc_server_options o)
      : kv(c.kv()),
        txn(c.txn()),
        options(std::move(o)),
        key(rpc_key(options.group, options.endpoint_id)) {}

  void warn(const std::string& line) const {
    if (options.on_warning)
      options.on_warning(line);
  }

  // Writes the answer to the first request of `read` (CAS), re-reading after a conflict.
  asio::awaitable<result<void>> answer_first(consul::kv_pair read);

  consul::kv_api kv;
  consul::txn_api txn;
  rpc_server_options options;
  std::string key;
  rpc_methods methods;
  bool bound = false;
  bool closed = false;   // unbind() ran: the key's deletion ends serve() instead of a re-bind
  bool stopped = false;  // stop() ran: serve() and bind() end at their next step
  std::uint64_t answered = 0;
};

rpc_server::rpc_server(consul::client& consul, rpc_server_options options)
    : state_(std::make_shared<state>(consul, std::move(options))) {}

rpc_server::~rpc_server() = default;

void rpc_server::add(std::string method, rpc_handler handler) {
  state_->methods.add(std::move(method), std::move(handler));
}

const std::string& rpc_server::key() const noexcept {
  return state_->key;
}

std::uint64_t rpc_server::answered() const noexcept {
  return state_->answered;
}

asio::awaitable<result<void>> rpc_server::bind() {
  // Held for the coroutine's life: it may outlive the rpc_server object.
  const auto keep = state_;
  state& s = *keep;
  s.closed = false;
  for (;;) {
    consul::kv_put_options acquire;
    acquire.acquire = s.options.session;
    auto put = co_await s.kv.put(s.key, std::string(empty_endpoint_document), acquire);
    if (put && *put) {
      s.bound = true;
      co_return result<void>();
    }
    if (put) {
      auto current = co_await read_key(s.kv, s.key);
      if (!current && !current.error().transient())
        co_return from_consul(current.error());
      const bool taken = current && current->value && !current->value->session.empty() &&
                         current->value->session != s.options.session;
      if (taken)
        co_return make_error(
            errc::endpoint_in_use,
            "RPC endpoint " + s.key + " is already in use by session " + current->value->session +
                ": another worker with this endpoint id (the last part is its service id) is "
                "running, or one exited uncleanly and its session has not expired yet (Consul "
                "then adds the session's lock-delay); wait and retry, or give this worker "
                "another --service-id");
    } else if (!put.error().transient()) {
      co_return from_consul(put.error());
    }
    // Absent but not acquirable (lock-delay after the previous holder's session ended), or a
    // failure that may pass.
    const bool waited = co_await delay(s.options.retry_interval);
    if (!waited || s.stopped)
      co_return make_error(errc::cancelled, "binding " + s.key + " was cancelled");
  }
}

asio::awaitable<result<void>> rpc_server::state::answer_first(consul::kv_pair read) {
  auto first = first_request(read.value);
  if (!first) {
    warn("RPC endpoint " + key + ": " + first.error().message + "; resetting it to {}");
    auto reset = co_await cas_put(kv, key, std::string(empty_endpoint_document), read.modify_index);
    if (!reset && !reset.error().transient())
      co_return from_consul(reset.error());
    co_return result<void>();
  }
  if (!*first)
    co_return result<void>();
  const std::string request = std::move(**first);
  const std::string response = co_await methods.answer(request);
  rpc_client_options pacing;
  for (unsigned attempt = 0;; ++attempt) {
    auto next = apply_response(read.value, response, monotonic_now(),
                               std::chrono::nanoseconds(options.response_ttl));
    if (!next)
      co_return result<void>();  // garbage now: the next read resets it
    auto put = co_await cas_put(kv, key, std::move(*next), read.modify_index);
    if (put && *put) {
      ++answered;
      co_return result<void>();
    }
    if (!put && !put.error().transient())
      co_return from_consul(put.error());
    // A client appended a request meanwhile (or Consul failed): answer on a fresh read. Only
    // clients append, so the request is still first there, unless the write did land before
    // its answer was lost.
    const bool waited = co_await delay(full_jitter(pacing, attempt));
    if (!waited)
      co_return make_error(errc::cancelled, "serving " + key + " was cancelled");
    auto fresh = co_await read_key(kv, key);
    if (!fresh) {
      if (!fresh.error().transient())
        co_return from_consul(fresh.error());
      continue;
    }
    if (!fresh->value)
      co_return result<void>();  // deleted: the serve loop binds again
    auto still = first_request(fresh->value->value);
    if (!still || !*still || **still != request) {
      ++answered;
      co_return result<void>();
    }
    read = std::move(*fresh->value);
  }
}

asio::awaitable<result<void>> rpc_server::serve() {
  // Held for the coroutine's life: it may outlive the rpc_server object.
  const auto keep = state_;
  state& s = *keep;
  if (!s.bound) {
    auto b = co_await bind();
    if (!b)
      co_return b;
  }
  std::uint64_t index = 0;
  for (;;) {
    consul::query_options poll;
    poll.index = index;
    poll.wait = s.options.wait;
    auto r = co_await s.kv.get(s.key, poll);
    if (!r) {
      if (!r.error().transient())
        co_return from_consul(r.error());
      s.warn("RPC endpoint " + s.key + ": " + r.error().what() + "; retrying");
      const bool waited = co_await delay(s.options.retry_interval);
      if (!waited)
        co_return make_error(errc::cancelled, "serving " + s.key + " was cancelled");
      continue;
    }
    if (s.closed || s.stopped)
      co_return result<void>();
    index = consul::next_index(index, r->meta.index).next_index;
    const bool ours = r->value && r->value->session == s.options.session;
    if (!ours) {
      s.warn("RPC endpoint " + s.key +
             (r->value ? " was taken by another session" : " was deleted externally") +
             "; binding it again");
      s.bound = false;
      auto b = co_await bind();
      if (!b)
        co_return b;
      index = 0;
      continue;
    }
    auto handled = co_await s.answer_first(std::move(*r->value));
    if (!handled)
      co_return handled;
  }
}

void rpc_server::stop() noexcept {
  state_->stopped = true;
}

asio::awaitable<result<void>> rpc_server::unbind() {
  // Held for the coroutine's life: it may outlive the rpc_server object.
  const auto keep = state_;
  state& s = *keep;
  s.closed = true;
  std::vector<consul::txn_op> ops;
  ops.push_back(consul::txn_op::unlock(s.key, std::string(), s.options.session));
  ops.push_back(consul::txn_op::remove(s.key));
  auto r = co_await s.txn.run(std::move(ops));
  if (!r)
    co_return from_consul(r.error());
  // Not committed (409): the key is not ours any more; nothing to give back.
  s.bound = false;
  co_return result<void>();
}

// ---- rpc_client ----

struct rpc_client::state {
  state(consul::client& c, std::string g, rpc_client_options o)
      : kv(c.kv()), executor(c.get_executor()), group(std::move(g)), options(o) {}

  consul::kv_api kv;
  asio::any_io_executor executor;
  std::string group;
  rpc_client_options options;
};

namespace {

std::atomic<std::uint64_t> request_counter{0};

struct gathered {
  explicit gathered(const asio::any_io_executor& ex)
      : done(ex, asio::steady_timer::time_point::max()) {}
  std::map<std::string, result<std::string>> results;
  std::size_t pending = 0;
  asio::steady_timer done;
};

asio::awaitable<void> call_into(rpc_client* client, std::string endpoint, std::string method,
                                std::string params, milliseconds timeout,
                                std::shared_ptr<gathered> into) {
  auto r = co_await client->call(endpoint, std::move(method), std::move(params), timeout);
  into->results.insert_or_assign(std::move(endpoint), std::move(r));
  if (--into->pending == 0)
    into->done.cancel();
}

}  // namespace

rpc_client::rpc_client(consul::client& consul, std::string group)
    : rpc_client(consul, std::move(group), rpc_client_options()) {}

rpc_client::rpc_client(consul::client& consul, std::string group, rpc_client_options options)
    : state_(std::make_shared<state>(consul, std::move(group), options)) {}

rpc_client::~rpc_client() = default;

const std::string& rpc_client::process_id() {
  static const std::string id = boost::uuids::to_string(boost::uuids::random_generator()());
  return id;
}

asio::awaitable<result<std::string>> rpc_client::call(std::string endpoint, std::string method,
                                                      std::string params) {
  auto r =
      co_await call(std::move(endpoint), std::move(method), std::move(params), default_timeout);
  co_return r;
}

asio::awaitable<result<std::string>> rpc_client::call(std::string endpoint, std::string method,
                                                      std::string params, milliseconds timeout) {
  const auto keep = state_;
  const state& s = *keep;
  const auto deadline = steady::now() + timeout;
  const std::string key =
      std::string_view(endpoint).starts_with(key_root) ? endpoint : rpc_key(s.group, endpoint);
  boost::system::error_code ec;
  json::value args = json::parse(params.empty() ? std::string_view("[]") : params, ec);
  if (ec || !(args.is_array() || args.is_object()))
    co_return make_error(errc::invalid_argument,
                         "RPC params must be a JSON array or object, not: " + params);
  const std::string id = process_id() + "#" + std::to_string(++request_counter) + "::" + method;
  std::string request;
  {
    json::object o;
    o["jsonrpc"] = "2.0";
    o["id"] = id;
    o["method"] = method;
    o["params"] = std::move(args);
    request = json::serialize(o);
  }
  const auto timed_out = [&key] {
    return make_error(errc::timeout, "RPC endpoint operation timed out: " + key);
  };
  const auto absent = [&key] {
    return make_error(errc::endpoint_absent, "endpoint document does not exist: " + key);
  };

  // 1. The endpoint document exists (a worker that is starting binds its key soon).
  consul::kv_pair doc;
  for (;;) {
    auto r = co_await read_key(s.kv, key);
    if (!r)
      co_return from_consul(r.error());
    if (r->value) {
      doc = std::move(*r->value);
      break;
    }
    const auto now = steady::now();
    if (now >= deadline)
      co_return absent();
    const bool waited =
        co_await delay(std::min<steady::duration>(s.options.absent_poll, deadline - now));
    if (!waited)
      co_return make_error(errc::cancelled, "RPC call cancelled");
  }

  // 2. Append the request, CAS on the document read; never create it.
  for (unsigned attempt = 0;; ++attempt) {
    auto there = has_request(doc.value, id);
    auto answered = find_response(doc.value, id);
    if (there && answered && (*there || *answered))
      break;  // an earlier write landed though its answer was lost
    if (there) {
      auto next = append_request(doc.value, request);
      auto put = co_await cas_put(s.kv, key, std::move(*next), doc.modify_index);
      if (put && *put)
        break;
      if (!put && !put.error().transient())
        co_return from_consul(put.error());
    }
    // Else the document is garbage: its server resets it.
    if (steady::now() >= deadline)
      co_return timed_out();
    const bool waited = co_await delay(
        std::min<steady::duration>(full_jitter(s.options, attempt), deadline - steady::now()));
    if (!waited)
      co_return make_error(errc::cancelled, "RPC call cancelled");
    auto r = co_await read_key(s.kv, key);
    if (!r) {
      if (!r.error().transient())
        co_return from_consul(r.error());
      continue;
    }
    if (!r->value)
      co_return absent();
    doc = std::move(*r->value);
  }

  // 3. Watch the key until the response is there. Our own write is newer than `doc`, so the
  // first blocking read returns at once.
  std::uint64_t index = doc.modify_index;
  std::string response;
  for (;;) {
    const auto now = steady::now();
    if (now >= deadline)
      co_return timed_out();
    consul::query_options poll;
    poll.index = index;
    poll.wait = std::max(milliseconds(1), std::chrono::ceil<milliseconds>(deadline - now));
    auto r = co_await s.kv.get(key, poll);
    if (!r)
      co_return from_consul(r.error());
    if (!r->value)
      co_return absent();
    index = consul::next_index(index, r->meta.index).next_index;
    auto found = find_response(r->value->value, id);
    if (found && *found) {
      response = std::move(**found);
      doc = std::move(*r->value);
      break;
    }
  }

  // 4. Remove the response. Best effort: one the server sees aged out goes with its next write.
  for (unsigned attempt = 0;; ++attempt) {
    auto next = remove_response(doc.value, id);
    if (!next)
      break;
    auto put = co_await cas_put(s.kv, key, std::move(*next), doc.modify_index);
    if ((put && *put) || (!put && !put.error().transient()) || steady::now() >= deadline)
      break;
    const bool waited = co_await delay(full_jitter(s.options, attempt));
    if (!waited)
      break;
    auto r = co_await read_key(s.kv, key);
    if (!r || !r->value)
      break;
    doc = std::move(*r->value);
  }
  co_return outcome_of(response);
}

asio::awaitable<result<std::map<std::string, result<std::string>>>> rpc_client::broadcast(
    std::string method, std::string params) {
  auto r = co_await broadcast(std::move(method), std::move(params), default_timeout);
  co_return r;
}

asio::awaitable<result<std::map<std::string, result<std::string>>>> rpc_client::broadcast(
    std::string method, std::string params, milliseconds timeout) {
  const auto keep = state_;
  const state& s = *keep;
  const std::string prefix = rpc_prefix(s.group);
  auto keys = co_await s.kv.keys(prefix);
  if (!keys)
    co_return from_consul(keys.error());
  std::map<std::string, std::string> each;
  for (const auto& key : keys->value)
    each.emplace(key.substr(prefix.size()), params);
  co_return co_await call_each(std::move(method), std::move(each), timeout);
}

asio::awaitable<std::map<std::string, result<std::string>>> rpc_client::call_each(
    std::string method, std::map<std::string, std::string> params_by_endpoint,
    milliseconds timeout) {
  auto ex = co_await asio::this_coro::executor;
  auto into = std::make_shared<gathered>(ex);
  into->pending = params_by_endpoint.size();
  for (auto& [endpoint, params] : params_by_endpoint)
    asio::co_spawn(ex, call_into(this, endpoint, method, std::move(params), timeout, into),
                   asio::detached);
  while (into->pending > 0)
    co_await into->done.async_wait(asio::as_tuple(asio::use_awaitable));
  co_return std::move(into->results);
}

}  // namespace cbes::group
