#pragma once
// Runs libconsul coroutines against the in-process fake agent (cbes::testkit::consul_agent).
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>

#include <boost/asio.hpp>

#include "cbes/testkit/consul_agent.hpp"
#include "consul/client.hpp"
#include "support/run_coroutine.hpp"
#include "unit/consul/result_printer.hpp"

namespace consul_it {
namespace asio = boost::asio;
using namespace std::chrono_literals;

using cbes::test::run;

inline std::string address_of(const cbes::testkit::consul_agent& agent) {
  return "127.0.0.1:" + std::to_string(agent.port());
}

inline consul::client_options options_for(const cbes::testkit::consul_agent& agent) {
  consul::client_options o;
  o.address = address_of(agent);
  o.retry_deadline = 5s;
  o.retry_base = 20ms;
  o.retry_max = 500ms;
  return o;
}

inline asio::awaitable<void> sleep(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

// Runs one of the agent's blocking wait_until_* calls on a helper thread, so that this
// io_context keeps serving the clients meanwhile, and resumes when it returns.
inline asio::awaitable<bool> agent_signal(const std::function<bool()>& wait) {
  auto ex = co_await asio::this_coro::executor;
  // Shared with the posted handler, which may run after this frame is gone on a failure path.
  auto done = std::make_shared<asio::steady_timer>(ex, asio::steady_timer::time_point::max());
  auto outcome = std::async(std::launch::async, [&wait, ex, done] {
    const bool ok = wait();
    asio::post(ex, [done] { done->cancel(); });
    return ok;
  });
  co_await done->async_wait(asio::as_tuple(asio::use_awaitable));
  co_return outcome.get();
}

// Resumes once `total` requests have begun waiting in the agent (see
// consul_agent::queries_parked): take a mark before the step that starts a long poll.
inline asio::awaitable<bool> parked(const cbes::testkit::consul_agent& agent, std::uint64_t total) {
  const std::function<bool()> wait = [&agent, total] {
    return agent.wait_until_parked(total, std::chrono::seconds{30});
  };
  const bool ok = co_await agent_signal(wait);
  co_return ok;
}

// Resumes once `n` requests are parked in the agent at the same time.
inline asio::awaitable<bool> waiting(const cbes::testkit::consul_agent& agent, std::size_t n) {
  const std::function<bool()> wait = [&agent, n] {
    return agent.wait_until_waiting(n, std::chrono::seconds{30});
  };
  const bool ok = co_await agent_signal(wait);
  co_return ok;
}

inline consul::query_options blocking(std::uint64_t index, std::chrono::milliseconds wait) {
  consul::query_options q;
  q.index = index;
  q.wait = wait;
  return q;
}

struct agent_fixture {
  explicit agent_fixture(cbes::testkit::consul_agent_options o = {}) : agent(std::move(o)) {
    agent.start();
  }
  cbes::testkit::consul_agent agent;
  asio::io_context io;
};

}  // namespace consul_it
