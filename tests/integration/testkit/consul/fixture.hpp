#pragma once
// Shared helpers for the consul_agent integration tests: a started fake and one-line HTTP
// calls with JSON parsing.
#include <boost/json.hpp>

#include <chrono>
#include <future>
#include <string>

#include "cbes/testkit/consul_agent.hpp"
#include "cbes/testkit/http_client.hpp"

namespace consul_agent_test {

using namespace std::chrono_literals;

struct agent_fixture {
  explicit agent_fixture(cbes::testkit::consul_agent_options o = default_options()) : agent(o) {
    agent.start();
  }

  static cbes::testkit::consul_agent_options default_options() {
    cbes::testkit::consul_agent_options o;
    o.jitter = false;
    return o;
  }

  static cbes::testkit::consul_agent_options manual() {
    auto o = default_options();
    o.manual_clock = true;
    return o;
  }

  cbes::testkit::http_result call(std::string_view method, std::string_view target,
                                  std::string_view body = {},
                                  const cbes::testkit::http_headers& headers = {},
                                  std::chrono::milliseconds timeout = 60s) {
    auto r = cbes::testkit::http_request(agent.url(), method, target, body, headers, timeout);
    if (!r)
      throw std::runtime_error("transport failed: " + r.error().message());
    return *r;
  }

  // Starts a request on another thread (for blocking queries) and, when `parks`, returns
  // once the agent holds it parked, so the test's next step cannot overtake it.
  std::future<boost::system::result<cbes::testkit::http_result>> call_async(
      std::string method, std::string target, bool parks = true,
      std::chrono::milliseconds timeout = 60s) {
    const auto mark = agent.queries_parked();
    auto f = std::async(std::launch::async, [url = agent.url(), method, target, timeout] {
      return cbes::testkit::http_request(url, method, target, {}, {}, timeout);
    });
    if (parks && !agent.wait_until_parked(mark + 1, 30s))
      throw std::runtime_error(method + " " + target + " never parked in the agent");
    return f;
  }

  boost::json::value json(std::string_view method, std::string_view target,
                          std::string_view body = {}) {
    auto r = call(method, target, body);
    return boost::json::parse(r.body);
  }

  std::uint64_t index_of(const cbes::testkit::http_result& r) {
    return std::stoull(r.header("X-Consul-Index"));
  }

  std::string create_session(std::string_view body = "{}") {
    auto r = call("PUT", "/v1/session/create", body);
    if (r.status != 200)
      throw std::runtime_error("session create failed: " + r.body);
    return std::string(boost::json::parse(r.body).at("ID").as_string());
  }

  cbes::testkit::consul_agent agent;
};

// Blocks until the future is ready or `limit` passes; true when ready.
template <class F>
bool ready_within(F& f, std::chrono::milliseconds limit) {
  return f.wait_for(limit) == std::future_status::ready;
}

}  // namespace consul_agent_test
