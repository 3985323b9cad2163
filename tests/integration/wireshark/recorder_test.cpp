// tcp_recorder on its own: bytes pass through unchanged in both directions and the pcap holds a
// well-formed TCP conversation (handshake, contiguous seq/ack, segments ≤ 65000 bytes, valid IP
// checksums, FINs) that tshark reads without complaint.
#include <catch2/catch.hpp>

#include <boost/asio.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "cbes/testkit/tcp_recorder.hpp"
#include "integration/wireshark/tshark.hpp"
#include "support/dead_port.hpp"

using namespace wireshark_it;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Echoes every connection until the peer half-closes.
struct echo_server {
  asio::io_context io{1};
  tcp::acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), 0}};
  std::thread thread;

  echo_server() {
    asio::co_spawn(io, accept(), asio::detached);
    thread = std::thread([this] { io.run(); });
  }
  ~echo_server() {
    asio::post(io, [this] { acceptor.close(); });
    thread.join();
  }
  std::uint16_t port() const { return acceptor.local_endpoint().port(); }

  asio::awaitable<void> accept() {
    for (;;) {
      auto [ec, s] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec)
        co_return;
      asio::co_spawn(io, echo(std::move(s)), asio::detached);
    }
  }
  static asio::awaitable<void> echo(tcp::socket s) {
    std::array<char, 8192> buf{};
    for (;;) {
      auto [ec, n] =
          co_await s.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
      if (n > 0)
        co_await asio::async_write(s, asio::buffer(buf.data(), n),
                                   asio::as_tuple(asio::use_awaitable));
      if (ec)
        break;
    }
    boost::system::error_code ignored;
    s.shutdown(tcp::socket::shutdown_send, ignored);
  }
};

std::uint32_t be32(const std::string& s, std::size_t at) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(s[at])) << 24 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

std::uint16_t be16(const std::string& s, std::size_t at) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(s[at]) << 8 |
                                    static_cast<unsigned char>(s[at + 1]));
}

struct segment {
  int dir = 0;  // 0 = client → server
  std::uint8_t flags = 0;
  std::uint32_t seq = 0, ack = 0;
  std::string payload;
};

// Parses the pcap the recorder wrote (host byte order records, Ethernet/IPv4/TCP frames).
std::vector<segment> read_pcap(const std::string& path, std::uint16_t server_port) {
  std::ifstream in(path, std::ios::binary);
  const std::string data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  REQUIRE(data.size() >= 24);
  std::uint32_t magic = 0, linktype = 0;
  std::memcpy(&magic, data.data(), 4);
  std::memcpy(&linktype, data.data() + 20, 4);
  REQUIRE(magic == 0xa1b2c3d4);
  REQUIRE(linktype == 1);
  std::vector<segment> out;
  std::size_t at = 24;
  while (at < data.size()) {
    REQUIRE(at + 16 <= data.size());
    std::uint32_t incl = 0, orig = 0;
    std::memcpy(&incl, data.data() + at + 8, 4);
    std::memcpy(&orig, data.data() + at + 12, 4);
    REQUIRE(incl == orig);
    REQUIRE(incl <= 65535);
    const std::string frame = data.substr(at + 16, incl);
    REQUIRE(frame.size() == incl);
    at += 16 + incl;
    REQUIRE(be16(frame, 12) == 0x0800);
    const std::string ip = frame.substr(14, 20);
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i < 20; i += 2)
      sum += be16(ip, i);
    while (sum >> 16)
      sum = (sum & 0xffff) + (sum >> 16);
    CHECK(sum == 0xffff);  // header checksum verifies
    REQUIRE(be16(ip, 2) == incl - 14);
    const std::string tcph = frame.substr(34, 20);
    segment s;
    s.dir = be16(tcph, 2) == server_port ? 0 : 1;
    s.seq = be32(tcph, 4);
    s.ack = be32(tcph, 8);
    s.flags = static_cast<std::uint8_t>(tcph[13]);
    s.payload = frame.substr(54);
    out.push_back(std::move(s));
  }
  return out;
}

// Sends 200 kB through a recorder in front of `echo` and reads them back; returns what was sent.
std::string echo_through_recorder(const echo_server& echo, const std::string& path) {
  std::string sent(200'000, '\0');
  for (std::size_t i = 0; i < sent.size(); ++i)
    sent[i] = static_cast<char>('a' + i % 26);
  {
    cbes::testkit::tcp_recorder rec("127.0.0.1", echo.port(), path);
    CHECK(rec.target_port() == echo.port());
    asio::io_context io;
    tcp::socket s(io);
    s.connect({asio::ip::make_address("127.0.0.1"), rec.port()});
    // Write and read concurrently (the echo could block on a full window otherwise).
    std::thread writer([&] {
      asio::write(s, asio::buffer(sent));
      s.shutdown(tcp::socket::shutdown_send);
    });
    std::string got;
    boost::system::error_code ec;
    std::array<char, 8192> buf{};
    while (!ec) {
      auto n = s.read_some(asio::buffer(buf), ec);
      got.append(buf.data(), n);
    }
    writer.join();
    CHECK(ec == asio::error::eof);
    CHECK(got == sent);
    s.close();
    CHECK(rec.connections() == 1);
    rec.stop();
    CHECK(rec.bytes_recorded() == 2 * sent.size());
  }
  return sent;
}

}  // namespace

TEST_CASE("tcp_recorder forwards both directions and writes a consistent TCP conversation") {
  echo_server echo;
  const auto path = pcap_path("echo");
  const auto sent = echo_through_recorder(echo, path);

  const auto segs = read_pcap(path, echo.port());
  REQUIRE(segs.size() >= 3);
  CHECK(segs[0].flags == 0x02);  // SYN
  CHECK(segs[0].dir == 0);
  CHECK(segs[1].flags == 0x12);  // SYN-ACK
  CHECK(segs[1].ack == segs[0].seq + 1);
  CHECK(segs[2].flags == 0x10);  // ACK
  std::array<std::uint32_t, 2> next{segs[0].seq + 1, segs[1].seq + 1};
  std::array<std::string, 2> stream;
  std::array<bool, 2> fin{};
  for (std::size_t i = 2; i < segs.size(); ++i) {
    const auto& s = segs[i];
    INFO("segment " << i);
    const auto d = static_cast<std::size_t>(s.dir);
    CHECK(s.seq == next[d]);
    CHECK(s.ack == next[1 - d]);
    CHECK(s.payload.size() <= 65000);
    if (fin[d]) {  // after its FIN a side only acknowledges
      CHECK(s.payload.empty());
      CHECK(s.flags == 0x10);
    }
    stream[d] += s.payload;
    next[d] += static_cast<std::uint32_t>(s.payload.size());
    if (s.flags & 0x01) {
      fin[d] = true;
      ++next[d];
    }
  }
  CHECK(stream[0] == sent);
  CHECK(stream[1] == sent);
  CHECK(fin[0]);
  CHECK(fin[1]);
}

TEST_CASE("tshark reads the recorder's conversation without complaint, 200 kB each way") {
  require_tshark();
  echo_server echo;
  const auto path = pcap_path("echo");
  const auto sent = echo_through_recorder(echo, path);

  CHECK(tshark("-n -r " + path + " -Y '" + problems_filter + "'").empty());
  // One conversation, and tshark reassembles the full 200 kB in each direction.
  CHECK(tshark("-n -r " + path + " -T fields -e tcp.stream", " | sort -u") == "0\n");
  const auto lens = tshark("-n -r " + path + " -T fields -e tcp.srcport -e tcp.len");
  std::uint64_t total = 0;
  std::istringstream lines(lens);
  std::string line;
  while (std::getline(lines, line))
    total += std::stoul(line.substr(line.find('\t') + 1));
  CHECK(total == 2 * sent.size());
}

TEST_CASE("tcp_recorder on a caller's executor records a refused target as nothing") {
  asio::io_context io;
  const auto path = pcap_path("refused");
  cbes::testkit::tcp_recorder rec(io.get_executor(), "127.0.0.1", cbes::test::dead_port(), path);
  tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), rec.port()});
  // The recorder closes the client once the upstream connect fails.
  std::array<char, 16> buf{};
  boost::system::error_code ec;
  bool closed = false;
  s.async_read_some(asio::buffer(buf), [&](boost::system::error_code e, std::size_t) {
    ec = e;
    closed = true;
  });
  for (int i = 0; i < 3000 && !closed; ++i)
    io.run_one_for(std::chrono::milliseconds(10));
  CHECK(closed);
  CHECK(ec);
  rec.stop();
  io.restart();
  io.poll();
  CHECK(rec.connections() == 1);
  CHECK(rec.bytes_recorded() == 0);
  CHECK(std::filesystem::file_size(path) == 24);  // the pcap header only
}
