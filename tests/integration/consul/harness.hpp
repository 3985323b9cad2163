#pragma once
// Runs libconsul coroutines against the in-process fake agent (cbes::testkit::consul_agent).
#include <chrono>
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
