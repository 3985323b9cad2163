// The Elasticsearch client against a lying server (raw sockets, none of our HTTP code on its
// side): endless chunked bodies, absurd Content-Lengths, endless headers, truncated responses,
// silence. Each request must end with an error within its deadline, having read no more than
// its limit, and the connection must be closed (the client stopped reading).
#include "integration/sink/scripted_es.hpp"  // first: warning pragmas

#include <catch2/catch.hpp>

#include "cbes/sink/http_pool.hpp"
#include "support/liar.hpp"

using namespace cbes::sink;
using namespace sink_it;
using cbes::test::liar;

namespace {

constexpr std::size_t limit = 1024 * 1024;

// One POST /_bulk to the liar, with a 1 MiB response limit and a 3 s deadline.
result<http_response> bulk_to(liar& l) {
  asio::io_context io;
  connection_settings cs;
  cs.hosts = {"http://" + l.address()};
  cs.max_response_bytes = limit;
  auto pool = http_pool::create(io.get_executor(), cs);
  REQUIRE(pool);
  auto r = run(io, (*pool)->request(http_method::post, "/_bulk", "{}\n", "application/x-ndjson",
                                    std::chrono::milliseconds(3000)));
  (*pool)->close();
  return r;
}

void read_request(liar::conn& c) {
  c.read_until("\r\n\r\n");
}

}  // namespace

TEST_CASE("hostile Elasticsearch: an endless chunked body stops at the response limit") {
  liar l([](liar::conn& c) { c.endless_chunked_response(); });
  auto r = bulk_to(l);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("body limit") != std::string::npos);
  CHECK(l.wait_hung_up(10s));
  // Read up to the limit, plus what the kernel's socket buffers held when it hung up.
  CHECK(l.bytes_written() < limit + 16 * 1024 * 1024);
}

TEST_CASE("hostile Elasticsearch: the root document is read up to 1 MiB, not the bulk limit") {
  liar l([](liar::conn& c) { c.endless_chunked_response(); });
  asio::io_context io;
  connection_settings cs;  // the default limit: 256 MiB
  cs.hosts = {"http://" + l.address()};
  auto pool = http_pool::create(io.get_executor(), cs);
  REQUIRE(pool);
  auto r = run(io, (*pool)->request_host(0, http_method::get, "/"));
  (*pool)->close();
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("body limit") != std::string::npos);
  CHECK(l.wait_hung_up(10s));
  CHECK(l.bytes_written() < 1024 * 1024 + 16 * 1024 * 1024);
}

TEST_CASE("hostile Elasticsearch: a Content-Length beyond the limit is refused before the body") {
  liar l([](liar::conn& c) {
    read_request(c);
    c.write(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
        "99999999999999\r\n\r\n{");
  });
  auto r = bulk_to(l);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("body limit") != std::string::npos);
  CHECK(l.wait_hung_up(10s));
}

TEST_CASE("hostile Elasticsearch: endless headers stop at the header limit") {
  liar l([](liar::conn& c) {
    read_request(c);
    c.write("HTTP/1.1 200 OK\r\n");
    while (c.write("X-Lie: " + std::string(1000, 'a') + "\r\n")) {
    }
  });
  auto r = bulk_to(l);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("header limit") != std::string::npos);
  CHECK(l.wait_hung_up(10s));
  CHECK(l.bytes_written() < 16 * 1024 * 1024);
}

TEST_CASE("hostile Elasticsearch: a response cut short, then silence, ends at the deadline") {
  liar l([](liar::conn& c) {
    read_request(c);
    c.write(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
        "100\r\n\r\n{\"took\"");
  });
  const auto began = std::chrono::steady_clock::now();
  auto r = bulk_to(l);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::timeout);
  CHECK(std::chrono::steady_clock::now() - began < 20s);  // the deadline, not a hang
  CHECK(l.wait_hung_up(10s));
}

TEST_CASE("hostile Elasticsearch: garbage instead of HTTP is an error, not a hang") {
  liar l([](liar::conn& c) {
    read_request(c);
    c.write(std::string("\x81\x00\x00\x00garbage\r\n\r\n", 15));
  });
  auto r = bulk_to(l);
  REQUIRE_FALSE(r);
  CHECK(r.error().code != errc::timeout);
  CHECK(l.wait_hung_up(10s));
}
