#include "agent_impl.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

namespace cbes::testkit {

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
    if (impl_->restart_timers) {
      impl_->restart_timers = false;
      impl_->st.restart_timers(impl_->now());
    }
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

void consul_agent::shut_down(bool keep_data) {
  const auto bound = port();
  stop();
  std::lock_guard lock(impl_->mu);
  if (bound != 0)
    impl_->opts.port = bound;  // start() listens where clients know to find it
  if (keep_data) {
    impl_->restart_timers = true;
    impl_->st.set_node_alive(true, impl_->now());  // the node is back when its agent is
  } else
    impl_->st = consul_fake::store(impl_->opts.node_name, impl_->opts.datacenter);
  impl_->fail_remaining = 0;
  impl_->response_delay = std::chrono::milliseconds(0);
  impl_->frozen = false;
  impl_->leader_lost = false;
  ++impl_->wake_epoch;
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

std::uint64_t consul_agent::queries_parked() const {
  std::lock_guard lock(impl_->mu);
  return impl_->parked_total;
}

bool consul_agent::wait_until_parked(std::uint64_t total, std::chrono::milliseconds limit) const {
  std::unique_lock lock(impl_->mu);
  return impl_->parked_changed.wait_for(lock, limit, [&] { return impl_->parked_total >= total; });
}

bool consul_agent::wait_until_waiting(std::size_t n, std::chrono::milliseconds limit) const {
  std::unique_lock lock(impl_->mu);
  return impl_->parked_changed.wait_for(lock, limit, [&] { return impl_->waiters.size() >= n; });
}

}  // namespace cbes::testkit
