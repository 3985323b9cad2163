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

// Reads one request (24-byte header, then its body); returns its opcode and opaque.
std::pair<std::uint8_t, std::uint32_t> read_frame(liar::conn& c) {
  const auto h = c.read_exactly(24);
  if (h.size() < 24)
    return {0, 0};
  auto be32 = [&](std::size_t at) {
    return (std::uint32_t{static_cast<unsigned char>(h[at])} << 24) |
           (std::uint32_t{static_cast<unsigned char>(h[at + 1])} << 16) |
           (std::uint32_t{static_cast<unsigned char>(h[at + 2])} << 8) |
           std::uint32_t{static_cast<unsigned char>(h[at + 3])};
  };
  c.read_exactly(be32(8));
  return {static_cast<std::uint8_t>(h[1]), be32(12)};
}

// A 24-byte response header: magic 0x81, `opcode`, success, body length, opaque.
std::string header(std::uint8_t opcode, std::uint32_t body_length, std::uint32_t opaque,
                   std::uint8_t magic = 0x81) {
  std::string h(24, '\0');
  h[0] = static_cast<char>(magic);
  h[1] = static_cast<char>(opcode);
  for (int i = 0; i < 4; ++i) {
    h[8 + i] = static_cast<char>(body_length >> (24 - 8 * i));
    h[12 + i] = static_cast<char>(opaque >> (24 - 8 * i));
  }
  return h;
}

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
    auto [op, opaque] = read_frame(c);
    c.write(header(op, 0xfffffff0U, opaque));
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
    auto [op, opaque] = read_frame(c);
    c.write(header(op, 100, opaque) + "only ten b");
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
    read_frame(c);
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
    auto [op, opaque] = read_frame(c);
    (void)op;
    c.write(header(0x00 /* GET */, 0, opaque));
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
  liar l([](liar::conn& c) {
    read_frame(c);
    // Responses with opaques the client never used, as fast as it reads them.
    const std::string frame = header(0x00, 1000, 0xdeadbeef) + std::string(1000, 'x');
    std::string burst;
    for (int i = 0; i < 64; ++i)
      burst += frame;
    while (c.write(burst)) {
    }
  });
  const auto began = std::chrono::steady_clock::now();
  auto r = open_to(l);
  REQUIRE_FALSE(r);
  INFO(r.error().what());
  CHECK(std::chrono::steady_clock::now() - began < 20s);
  CHECK(l.wait_hung_up(10s));
}
