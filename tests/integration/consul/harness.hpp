#pragma once
// Runs libconsul coroutines against the in-process fake agent (cbes::testkit::consul_agent).
#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>

#include <boost/asio.hpp>

#include "cbes/testkit/consul_agent.hpp"
#include "consul/client.hpp"
#include "unit/consul/result_printer.hpp"

namespace consul_it {
namespace asio = boost::asio;
using namespace std::chrono_literals;

// Runs `a` on `io` until it completes (other work such as lock renewers may keep running);
// rethrows Catch failures raised inside the coroutine. Fails after a generous deadline.
template <class T>
T run(asio::io_context& io, asio::awaitable<T> a, std::chrono::seconds limit = 120s) {
  std::optional<T> out;
  std::exception_ptr err;
  bool done = false;
  asio::co_spawn(io, std::move(a), [&](std::exception_ptr e, T v) {
    err = e;
    if (!e)
      out.emplace(std::move(v));
    done = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + limit;
  io.restart();
  while (!done && std::chrono::steady_clock::now() < deadline)
    io.run_one_for(100ms);
  if (err)
    std::rethrow_exception(err);
  if (!done)
    throw std::runtime_error("test coroutine did not finish in time");
  return std::move(*out);
}

inline void run(asio::io_context& io, asio::awaitable<void> a, std::chrono::seconds limit = 120s) {
  run(
      io,
      [](asio::awaitable<void> inner) -> asio::awaitable<int> {
        co_await std::move(inner);
        co_return 0;
      }(std::move(a)),
      limit);
}

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
