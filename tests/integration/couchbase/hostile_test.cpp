// The Couchbase connection against a lying server (raw sockets, none of our mcbp code on its
// side): an oversize body length, a truncated frame then silence, a wrong magic, a wrong
// opcode, a flood of frames nobody asked for. Bootstrap must end with an error within its
// deadlines, without buffering what it was promised, and close the connection.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include "integration/couchbase/harness.hpp"
#include "support/liar.hpp"

using namespace couchbase_it;
using cb::errc;
using cbes::test::liar;

namespace {

cb::result<std::shared_ptr<cb::connection>> open_to(liar& l) {
  asio::io_context io;
  cb::connection_options o;
  o.address = {"127.0.0.1", l.port()};
  o.username = "Administrator";
  o.password = "password";
  o.bucket = "default";
  o.connect_timeout = 3s;
  o.bootstrap_timeout = 3s;
  auto r = run(io, cb::connection::open(io.get_executor(), o));
  if (r)
    (*r)->close();
  drain(io);
  return r;
}

}  // namespace

TEST_CASE("hostile Couchbase: a body length past the frame limit is refused at the header") {
  liar l([](liar::conn& c) {
    auto [op, opaque] = c.read_mcbp_request();
    c.write(liar::mcbp_response_header(op, 0xfffffff0U, opaque));
    const std::string junk(65536, 'x');
    while (c.write(junk)) {
    }
  });
  auto r = open_to(l);
  REQUIRE_FALSE(r);
  INFO(r.error().what());
  CHECK(r.error().code == errc::protocol_error);
  CHECK(l.wait_hung_up(10s));
  CHECK(l.bytes_written() < 32u * 1024 * 1024);  // 4 GiB promised, next to nothing read
}

TEST_CASE("hostile Couchbase: a truncated frame, then silence, ends at the bootstrap deadline") {
  liar l([](liar::conn& c) {
    auto [op, opaque] = c.read_mcbp_request();
    c.write(liar::mcbp_response_header(op, 100, opaque) + "only ten b");
  });
  const auto began = std::chrono::steady_clock::now();
  auto r = open_to(l);
  REQUIRE_FALSE(r);
  INFO(r.error().what());
  CHECK(r.error().code == errc::timeout);
  CHECK(std::chrono::steady_clock::now() - began < 20s);
  CHECK(l.wait_hung_up(10s));
}

TEST_CASE("hostile Couchbase: a wrong magic byte is a protocol error") {
  liar l([](liar::conn& c) {
    c.read_mcbp_request();
    c.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
  });
  auto r = open_to(l);
  REQUIRE_FALSE(r);
  INFO(r.error().what());
  CHECK(r.error().code == errc::protocol_error);
  CHECK(l.wait_hung_up(10s));
}

TEST_CASE("hostile Couchbase: an answer with another opcode is not taken for HELLO's") {
  liar l([](liar::conn& c) {
    auto [op, opaque] = c.read_mcbp_request();
    (void)op;
    c.write(liar::mcbp_response_header(0x00 /* GET */, 0, opaque));
  });
  const auto began = std::chrono::steady_clock::now();
  auto r = open_to(l);
  REQUIRE_FALSE(r);
  INFO(r.error().what());
  CHECK((r.error().code == errc::protocol_error || r.error().code == errc::timeout));
  CHECK(std::chrono::steady_clock::now() - began < 20s);
  CHECK(l.wait_hung_up(10s));
}

TEST_CASE("hostile Couchbase: a flood of frames nobody asked for neither grows nor hangs") {
  liar l([](liar::conn& c) { c.flood_unsolicited_mcbp_frames(); });
  const auto began = std::chrono::steady_clock::now();
  auto r = open_to(l);
  REQUIRE_FALSE(r);
  INFO(r.error().what());
  CHECK(std::chrono::steady_clock::now() - began < 20s);
  CHECK(l.wait_hung_up(10s));
}
