// libconsul against a lying agent (raw sockets, none of our HTTP code on its side): an endless
// chunked body, an absurd Content-Length, endless headers, a blocking query that never ends,
// garbage. Each call ends with an error within its deadline and the connection is closed.
#include <catch2/catch.hpp>

#include "consul/client.hpp"
#include "integration/consul/harness.hpp"
#include "support/liar.hpp"

using namespace consul_it;
using cbes::test::liar;

namespace {

// GET /v1/kv/k from the liar, with short deadlines and no retry.
consul::result<std::optional<consul::kv_pair>> get_from(liar& l, consul::query_options q = {}) {
  asio::io_context io;
  consul::client_options o;
  o.address = l.address();
  o.request_timeout = 3s;
  o.retry_deadline = 0ms;
  consul::client c(io.get_executor(), o);
  auto r = run(io, [&]() -> asio::awaitable<consul::result<std::optional<consul::kv_pair>>> {
    auto got = co_await c.kv().get("k", q);
    if (!got)
      co_return got.error();
    co_return std::move(got->value);
  }());
  c.close();
  cbes::test::drain(io);
  return r;
}

void read_request(liar::conn& c) {
  c.read_until("\r\n\r\n");
}

const std::string ok_head =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Consul-Index: 5\r\n";

}  // namespace

TEST_CASE("hostile Consul: an endless chunked body stops at the 64 MiB limit") {
  liar l([](liar::conn& c) { c.endless_chunked_response(); });
  auto r = get_from(l);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("body limit") != std::string::npos);
  CHECK(l.wait_hung_up(30s));
  CHECK(l.bytes_written() < 64u * 1024 * 1024 + 16 * 1024 * 1024);
}

TEST_CASE("hostile Consul: a Content-Length beyond the limit is refused before the body") {
  liar l([](liar::conn& c) {
    read_request(c);
    c.write(ok_head + "Content-Length: 99999999999999\r\n\r\n[");
  });
  auto r = get_from(l);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("body limit") != std::string::npos);
  CHECK(l.wait_hung_up(10s));
}

TEST_CASE("hostile Consul: endless headers stop at the header limit") {
  liar l([](liar::conn& c) {
    read_request(c);
    c.write("HTTP/1.1 200 OK\r\n");
    while (c.write("X-Lie: " + std::string(1000, 'a') + "\r\n")) {
    }
  });
  auto r = get_from(l);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("header limit") != std::string::npos);
  CHECK(l.wait_hung_up(10s));
}

TEST_CASE("hostile Consul: a blocking query never answered ends at its wait plus Consul's margin") {
  liar l([](liar::conn& c) { read_request(c); });  // then silence
  const auto began = std::chrono::steady_clock::now();
  auto r = get_from(l, blocking(5, 1s));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == consul::errc::timeout);
  // wait 1 s + wait/16 + 10 s (libconsul's blocking_read_timeout), not for ever.
  CHECK(std::chrono::steady_clock::now() - began < 30s);
  CHECK(l.wait_hung_up(10s));
}

TEST_CASE("hostile Consul: a truncated body, then silence, ends at the request deadline") {
  liar l([](liar::conn& c) {
    read_request(c);
    c.write(ok_head + "Content-Length: 500\r\n\r\n[{\"Key\":\"k\"");
  });
  auto r = get_from(l);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == consul::errc::timeout);
  CHECK(l.wait_hung_up(10s));
}

TEST_CASE("hostile Consul: a body that is not Consul's JSON is an invalid response") {
  liar l([](liar::conn& c) {
    read_request(c);
    const std::string body = R"([{"Key":"k","Value":12,"ModifyIndex":"x"}])";
    c.write(ok_head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  });
  auto r = get_from(l);
  REQUIRE_FALSE(r);
  CHECK(r.error().code != consul::errc::timeout);
}
