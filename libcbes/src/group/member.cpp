#include "cbes/group/member.hpp"

#include <atomic>
#include <optional>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

#include "cbes/group/layout.hpp"
#include "consul/client.hpp"

namespace cbes::group {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

namespace {

error consul_error(std::string_view what, const consul::error& e) {
  auto out = make_error(errc::consul_failed, std::string(what) + ": " + e.what());
  out.transient = e.transient();
  return out;
}

}  // namespace

struct member::impl : std::enable_shared_from_this<impl> {
  impl(consul::client& c, member_options o)
      : consul(c), opts(std::move(o)), tick(c.get_executor()), kill(c.get_executor()) {}

  consul::client& consul;
  member_options opts;
  std::string endpoint;
  std::string session;
  std::string uuid = boost::uuids::to_string(boost::uuids::random_generator()());
  asio::steady_timer tick;
  asio::steady_timer kill;
  clock::time_point last_success = clock::now();
  std::function<void()> on_expired;
  bool armed = false;
  bool stopped = false;
  std::atomic<std::uint64_t> heartbeats{0};
  std::atomic<std::uint64_t> rejoins{0};

  std::string check_id() const { return "service:" + opts.service_id; }
  std::string ok_note() const { return "(" + opts.service_id + ") OK"; }

  void log(std::string_view level, const std::string& line) const {
    if (opts.log)
      opts.log(level, line);
  }

  // Service + TTL check (Java: "Check" with TTL 2 × heartbeat), then one pass, then a session
  // bound to the check: the order matters, a session cannot name a check that is critical.
  asio::awaitable<result<void>> register_and_open_session() {
    consul::service_registration reg;
    reg.id = opts.service_id;
    reg.name = opts.group;
    reg.tags = {std::string(service_tag)};
    reg.meta = {{"uuid", uuid}};
    reg.replace_existing_checks = true;
    consul::ttl_check check;
    check.id = check_id();
    check.ttl = 2 * opts.heartbeat;
    check.deregister_critical_service_after = std::chrono::duration_cast<std::chrono::milliseconds>(
        opts.deregister_critical_service_after);
    reg.check = check;
    auto registered = co_await consul.agent().register_service(reg);
    if (!registered)
      co_return consul_error("registering service '" + opts.service_id + "'", registered.error());
    auto passed = co_await consul.agent().pass(check_id(), ok_note());
    if (!passed)
      co_return consul_error("passing check '" + check_id() + "'", passed.error());
    consul::session_options so;
    so.name = "couchbase:cbes:" + opts.service_id;
    so.behavior = consul::session_behavior::delete_keys;
    so.lock_delay = opts.lock_delay;
    so.node_checks = std::vector<std::string>{"serfHealth"};
    so.service_checks = {check_id()};
    auto created = co_await consul.session().create(so);
    if (!created)
      co_return consul_error("creating the session", created.error());
    session = *created;
    succeeded();
    co_return result<void>{};
  }

  void succeeded() {
    last_success = clock::now();
    ++heartbeats;
    if (armed)
      rearm_timer();
  }

  void rearm_timer() {
    kill.expires_at(last_success + opts.kill_switch);
    kill.async_wait([w = weak_from_this(), gen = ++kill_generation](boost::system::error_code ec) {
      auto self = w.lock();
      if (ec || !self || !self->armed || gen != self->kill_generation)
        return;
      self->armed = false;
      self->log("error", "no Consul heartbeat succeeded for " +
                             std::to_string(self->opts.kill_switch.count()) +
                             " ms: streaming stops before the session can expire");
      if (auto f = std::exchange(self->on_expired, nullptr))
        f();
    });
  }
  std::uint64_t kill_generation = 0;

  void expire_now() {
    if (!armed)
      return;
    armed = false;
    ++kill_generation;
    kill.cancel();
    if (auto f = std::exchange(on_expired, nullptr))
      f();
  }

  // One heartbeat: pass the check; when the agent forgot the check, or Consul dropped the
  // session, join again.
  asio::awaitable<bool> beat() {
    auto passed = co_await consul.agent().pass(check_id(), ok_note());
    if (!passed && passed.error().code != consul::errc::not_found) {
      log("warning", "Consul heartbeat failed (retrying): " + passed.error().what());
      co_return false;
    }
    bool session_alive = false;
    if (passed) {
      auto info = co_await consul.session().info(session);
      if (!info) {
        log("warning", "Consul session check failed (retrying): " + info.error().what());
        co_return false;
      }
      session_alive = info->value.has_value();
    }
    if (session_alive) {
      succeeded();
      co_return true;
    }
    log("warning",
        passed ? "the Consul session " + session + " is gone: joining again"
               : "the Consul agent lost service '" + opts.service_id + "': registering again");
    // Without the session the leader may grant this worker's vbuckets to another at any
    // moment: stop streaming now, not when the kill switch's deadline comes.
    expire_now();
    auto again = co_await register_and_open_session();
    if (!again) {
      log("warning", "rejoining failed (retrying): " + again.error().what());
      co_return false;
    }
    ++rejoins;
    if (opts.on_rejoined)
      opts.on_rejoined(session);
    co_return true;
  }
};

member::member(std::shared_ptr<impl> p) : impl_(std::move(p)) {}

member::~member() {
  stop();
}

asio::awaitable<result<std::unique_ptr<member>>> member::join(consul::client& consul,
                                                              member_options options) {
  if (options.group.empty())
    co_return make_error(errc::invalid_argument, "the group name is empty — pass --group");
  if (options.service_id.empty())
    options.service_id = options.group;
  if (options.heartbeat.count() <= 0 || options.kill_switch >= 2 * options.heartbeat)
    co_return make_error(errc::invalid_argument,
                         "the kill switch must be shorter than the check's TTL (2 × heartbeat)");
  auto p = std::make_shared<impl>(consul, std::move(options));
  auto self = co_await consul.agent().self();
  if (!self)
    co_return consul_error("reading the Consul agent's identity (/v1/agent/self)", self.error());
  p->endpoint = group::endpoint_id(self->node_name, self->member_address, p->opts.service_id);
  auto joined = co_await p->register_and_open_session();
  if (!joined)
    co_return joined.error();
  co_return std::unique_ptr<member>(new member(std::move(p)));
}

const std::string& member::endpoint_id() const noexcept {
  return impl_->endpoint;
}
const std::string& member::service_id() const noexcept {
  return impl_->opts.service_id;
}
const std::string& member::session() const noexcept {
  return impl_->session;
}
const std::string& member::instance_uuid() const noexcept {
  return impl_->uuid;
}
std::uint64_t member::heartbeats() const noexcept {
  return impl_->heartbeats;
}
std::uint64_t member::rejoins() const noexcept {
  return impl_->rejoins;
}

asio::awaitable<void> member::run() {
  auto p = impl_;
  while (!p->stopped) {
    const bool ok = co_await p->beat();
    if (p->stopped)
      break;
    p->tick.expires_after(ok ? p->opts.heartbeat : p->opts.retry);
    boost::system::error_code ec;
    co_await p->tick.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

void member::stop() {
  impl_->stopped = true;
  impl_->tick.cancel();
  disarm();
}

void member::arm(std::function<void()> on_expired) {
  impl_->on_expired = std::move(on_expired);
  impl_->armed = true;
  impl_->rearm_timer();
}

void member::disarm() {
  impl_->armed = false;
  impl_->on_expired = nullptr;
  ++impl_->kill_generation;
  impl_->kill.cancel();
}

std::chrono::steady_clock::time_point member::alive_until() const {
  return impl_->last_success + impl_->opts.kill_switch;
}

bool member::alive() const {
  return clock::now() - impl_->last_success < impl_->opts.kill_switch;
}

asio::awaitable<void> member::leave(bool graceful, std::string note) {
  auto p = impl_;
  const auto id = p->check_id();
  const auto full_note = "(" + p->opts.service_id + ") " + note;
  if (graceful && p->opts.deregister_on_graceful_shutdown) {
    // Removing the service removes its check, which ends the session bound to it.
    auto r = co_await p->consul.agent().deregister_service(p->opts.service_id);
    if (!r)
      p->log("warning",
             "deregistering service '" + p->opts.service_id + "' failed: " + r.error().what());
    co_return;
  }
  auto r = co_await p->consul.agent().fail(id, full_note);
  if (!r)
    p->log("warning", "failing check '" + id + "' failed: " + r.error().what());
}

}  // namespace cbes::group
