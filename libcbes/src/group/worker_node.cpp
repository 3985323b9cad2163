#include "cbes/group/worker_node.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "cbes/group/layout.hpp"
#include "cbes/group/rpc.hpp"
#include "consul/client.hpp"

namespace cbes::group {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// Arms the member's kill switch while the connector streams, disarms it when it stops: the
// switch only matters while this worker writes.
class armed_streamer : public streamer {
 public:
  armed_streamer(std::shared_ptr<streamer> inner, member& m) : inner_(std::move(inner)), m_(m) {}

  void set_service(std::weak_ptr<worker_service> s) { service_ = std::move(s); }

  asio::awaitable<result<void>> start(std::string config, std::vector<std::uint16_t> vbuckets,
                                      std::optional<membership> share) override {
    auto r = co_await inner_->start(std::move(config), std::move(vbuckets), share);
    if (r)
      m_.arm([s = service_, &m = m_] {
        // The fence closed at alive_until() (writes were refused from then on), which may be
        // earlier than now when the process was stopped: the record says when writing ended.
        const auto late = std::max(std::chrono::steady_clock::now() - m.alive_until(),
                                   std::chrono::steady_clock::duration::zero());
        if (auto service = s.lock())
          service->kill(std::chrono::system_clock::now() - late);
      });
    co_return r;
  }
  asio::awaitable<result<void>> add(std::vector<std::uint16_t> vbuckets) override {
    auto r = co_await inner_->add(std::move(vbuckets));
    co_return r;
  }
  asio::awaitable<result<void>> release(std::vector<std::uint16_t> vbuckets) override {
    auto r = co_await inner_->release(std::move(vbuckets));
    co_return r;
  }
  asio::awaitable<void> stop() override {
    m_.disarm();
    co_await inner_->stop();
  }
  void abort() override {
    m_.disarm();
    inner_->abort();
  }
  bool running() const override { return inner_->running(); }
  std::vector<std::uint16_t> vbuckets() const override { return inner_->vbuckets(); }
  void set_write_gate(std::function<bool()> gate) override {
    inner_->set_write_gate(std::move(gate));
  }
  asio::awaitable<std::optional<std::uint64_t>> backlog() override {
    auto b = co_await inner_->backlog();
    co_return b;
  }
  std::optional<std::uint64_t> written() const override { return inner_->written(); }
  std::optional<std::string> metrics_json() const override { return inner_->metrics_json(); }

 private:
  std::shared_ptr<streamer> inner_;
  member& m_;
  std::weak_ptr<worker_service> service_;
};

}  // namespace

struct worker_node::impl : std::enable_shared_from_this<impl> {
  impl(consul::client& c, worker_node_options o)
      : consul(c), opts(std::move(o)), wake(c.get_executor()) {}

  consul::client& consul;
  worker_node_options opts;
  std::unique_ptr<member> presence;
  std::shared_ptr<armed_streamer> armed;
  std::shared_ptr<worker_service> service;
  std::shared_ptr<rpc_server> server;
  // run() waits on this for: the endpoint's serve() ending, a rejoin, shutdown.
  asio::steady_timer wake;
  std::optional<result<void>> served;  // how the current server's serve() ended
  std::uint64_t serve_generation = 0;
  bool rebind = false;  // the member has a new session: the endpoint must be bound with it
  bool closing = false;

  // Serves the current server in the background; its end wakes run(). An older server's end
  // (replaced after a rejoin) is ignored.
  void spawn_serve() {
    const auto generation = ++serve_generation;
    asio::co_spawn(wake.get_executor(), server->serve(),
                   [w = weak_from_this(), generation](std::exception_ptr e, result<void> r) {
                     auto self = w.lock();
                     if (!self || generation != self->serve_generation)
                       return;
                     self->served =
                         e ? result<void>(make_error(errc::cancelled, "serving the endpoint threw"))
                           : std::move(r);
                     self->wake.cancel();
                   });
  }

  std::shared_ptr<rpc_server> make_server() {
    rpc_server_options o;
    o.group = opts.member.group;
    o.endpoint_id = presence->endpoint_id();
    o.session = presence->session();
    o.wait = opts.rpc_wait;
    o.retry_interval = opts.rpc_retry;
    if (opts.member.log)
      o.on_warning = [log = opts.member.log](std::string_view line) { log("warning", line); };
    auto s = std::make_shared<rpc_server>(consul, o);
    service->install(*s);
    return s;
  }
};

worker_node::worker_node(std::shared_ptr<impl> p) : impl_(std::move(p)) {}

worker_node::~worker_node() {
  impl_->closing = true;
  if (impl_->presence)
    impl_->presence->stop();
  if (impl_->server)
    impl_->server->stop();
  impl_->wake.cancel();
}

asio::awaitable<result<std::shared_ptr<worker_node>>> worker_node::start(
    consul::client& consul, worker_node_options options, std::shared_ptr<streamer> s) {
  auto p = std::make_shared<impl>(consul, std::move(options));
  std::weak_ptr<impl> weak = p;
  auto user_rejoined = p->opts.member.on_rejoined;
  p->opts.member.on_rejoined = [weak, user_rejoined](const std::string& session) {
    if (auto self = weak.lock()) {
      self->rebind = true;
      self->wake.cancel();
    }
    if (user_rejoined)
      user_rejoined(session);
  };
  auto joined = co_await member::join(consul, p->opts.member);
  if (!joined)
    co_return joined.error();
  p->presence = std::move(*joined);
  p->armed = std::make_shared<armed_streamer>(std::move(s), *p->presence);
  // Writes stop the moment the kill switch's deadline passes, even before its timer runs (a
  // process resumed after SIGSTOP handles its sockets before its timers).
  p->armed->set_write_gate([weak] {
    auto self = weak.lock();
    return self && self->presence && self->presence->alive();
  });
  p->service = std::make_shared<worker_service>(p->armed, p->opts.member.log);
  p->armed->set_service(p->service);
  p->service->set_fence_clock([weak]() -> std::optional<std::chrono::system_clock::time_point> {
    auto self = weak.lock();
    if (!self || !self->presence || self->presence->alive())
      return std::nullopt;
    const auto late = std::chrono::steady_clock::now() - self->presence->alive_until();
    return std::chrono::system_clock::now() -
           std::max(late, std::chrono::steady_clock::duration::zero());
  });
  p->server = p->make_server();
  auto bound = co_await p->server->bind();
  if (!bound) {
    co_await p->presence->leave(false, "Could not bind the RPC endpoint: " + bound.error().message);
    co_return bound.error();
  }
  co_return std::shared_ptr<worker_node>(new worker_node(std::move(p)));
}

asio::awaitable<result<void>> worker_node::run() {
  auto p = impl_;
  auto ex = co_await asio::this_coro::executor;
  asio::co_spawn(ex, p->presence->run(), asio::detached);
  p->spawn_serve();
  for (;;) {
    if (!p->closing && !p->rebind && !p->served) {
      p->wake.expires_at(asio::steady_timer::time_point::max());
      boost::system::error_code ec;
      co_await p->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    if (p->closing)
      break;
    if (p->rebind) {
      // The old session is gone and its endpoint key with it: bind with the new one.
      p->rebind = false;
      // The old server's serve() ends once stopped (cancelled, maybe mid-way through binding
      // its key again): that end is not news about the server this replaces it with.
      ++p->serve_generation;
      p->served.reset();
      p->server->stop();
      p->server = p->make_server();
      auto bound = co_await p->server->bind();
      if (!bound && !p->closing && !p->rebind)
        co_return bound.error();
      if (bound)
        p->spawn_serve();
      continue;
    }
    if (p->served) {
      auto r = std::move(*p->served);
      p->served.reset();
      if (!r)
        co_return r.error();
      if (p->closing)
        break;  // unbound by shutdown()
      // Not closing, yet the endpoint key is gone: its session ended (the member notices at its
      // next heartbeat, joins again, and on_rejoined asks for a rebind — ending here would take
      // a self-healing worker out of its group for good) or someone deleted the key. Wait for
      // the rejoin; if none comes within two heartbeats, bind again with the session we have.
      p->wake.expires_after(2 * p->opts.member.heartbeat);
      boost::system::error_code ec;
      co_await p->wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (!p->closing)
        p->rebind = true;
      continue;
    }
  }
  co_return result<void>{};
}

asio::awaitable<void> worker_node::shutdown() {
  auto p = impl_;
  if (p->closing)
    co_return;
  p->closing = true;
  p->wake.cancel();
  // Stop streaming first (checkpoints saved), then let go of the endpoint and the group. No
  // grant may start anything once the stop has begun.
  p->service->leave();
  const auto streamed =
      p->armed && p->armed->running() ? p->armed->vbuckets() : std::vector<std::uint16_t>{};
  co_await p->service->stop_streaming("[]");
  // Only now that its streams ended: the record lets the leader give them out at once (a
  // worker that vanishes leaves none, and the leader waits out its kill switch instead).
  if (!streamed.empty() && !p->armed->running()) {
    json::object record;
    record["vbuckets"] = json::value_from(streamed);
    auto put = co_await p->consul.kv().put(released_key(p->opts.member.group, endpoint_id()),
                                           json::serialize(record));
    if (!put && p->opts.member.log)
      p->opts.member.log("warning", "could not record the vbuckets this worker released (" +
                                        put.error().what() +
                                        "); the leader waits for its kill switch instead");
  }
  p->presence->stop();
  auto server = p->server;
  co_await server->unbind();
  server->stop();
  co_await p->presence->leave(true, "Graceful shutdown complete.");
}

const std::string& worker_node::endpoint_id() const noexcept {
  return impl_->presence->endpoint_id();
}

const member& worker_node::presence() const noexcept {
  return *impl_->presence;
}

worker_service& worker_node::service() noexcept {
  return *impl_->service;
}

}  // namespace cbes::group
