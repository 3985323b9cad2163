// Every DCP body the codec writes, in both directions, decodes cleanly in Wireshark's Couchbase
// dissector: the frames are written into a synthetic pcap (one TCP segment per frame on port
// 11210) and read back with `tshark`. Without tshark the test fails, or is skipped when
// CBES_ALLOW_SKIP=tshark (tests/support/require_tool.hpp).
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "cbes/mcbp/dcp.hpp"
#include "cbes/mcbp/snappy.hpp"
#include "cbes/mcbp/xattr.hpp"
#include "support/require_tool.hpp"

using namespace cbes::mcbp;

namespace {

void le32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void be16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}
void be32(std::string& out, std::uint32_t v) {
  be16(out, static_cast<std::uint16_t>(v >> 16));
  be16(out, static_cast<std::uint16_t>(v & 0xffff));
}

// A pcap (Ethernet/IPv4/TCP) with one segment per frame; `to_server` picks the direction.
class pcap_writer {
 public:
  pcap_writer() {
    le32(bytes_, 0xa1b2c3d4);
    bytes_ += std::string("\x02\x00\x04\x00", 4);
    le32(bytes_, 0);
    le32(bytes_, 0);
    le32(bytes_, 65535);
    le32(bytes_, 1);
  }
  void add(const std::string& payload, bool to_server) {
    std::string pkt(12, '\x00');
    pkt += std::string("\x08\x00", 2);
    std::string ip = std::string("\x45\x00", 2);
    be16(ip, static_cast<std::uint16_t>(20 + 20 + payload.size()));
    be16(ip, static_cast<std::uint16_t>(++id_));
    ip += std::string("\x40\x00\x40\x06\x00\x00\x7f\x00\x00\x01\x7f\x00\x00\x01", 14);
    std::string tcp;
    be16(tcp, to_server ? 50000 : 11210);
    be16(tcp, to_server ? 11210 : 50000);
    auto& seq = to_server ? c2s_ : s2c_;
    be32(tcp, seq);
    be32(tcp, to_server ? s2c_ : c2s_);
    tcp += std::string("\x50\x18\xff\xff\x00\x00\x00\x00", 8);
    seq += static_cast<std::uint32_t>(payload.size());
    pkt += ip + tcp + payload;
    le32(bytes_, ++ts_);
    le32(bytes_, 0);
    le32(bytes_, static_cast<std::uint32_t>(pkt.size()));
    le32(bytes_, static_cast<std::uint32_t>(pkt.size()));
    bytes_ += pkt;
    ++frames_;
  }
  const std::string& bytes() const { return bytes_; }
  int frames() const { return frames_; }

 private:
  std::string bytes_;
  std::uint32_t c2s_ = 1000, s2c_ = 5000, ts_ = 1;
  int id_ = 0, frames_ = 0;
};

std::string shell(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::array<char, 4096> buf{};
  while (auto n = std::fread(buf.data(), 1, buf.size(), p))
    out.append(buf.data(), n);
  ::pclose(p);
  return out;
}

}  // namespace

TEST_CASE("DCP frames of the codec decode cleanly in Wireshark's Couchbase dissector") {
  cbes::test::require_program("tshark");
  pcap_writer w;
  std::uint32_t op = 1;
  auto c2p = [&](frame_builder b) { w.add(b.opaque(op++).build(), true); };
  auto p2c = [&](frame_builder b) { w.add(b.opaque(7).build(), false); };

  c2p(dcp_open_request{R"({"a":"cbes","i":"x"})", 0x21, {}}.encode());
  p2c(encode_dcp_response(opcode::dcp_open));
  c2p(dcp_control_request{"connection_buffer_size", "65536"}.encode());
  p2c(encode_dcp_response(opcode::dcp_control));
  dcp_stream_request req;
  req.start_seqno = 5;
  req.snapshot_start = 5;
  req.snapshot_end = 5;
  req.vbucket_uuid = 0xabc;
  stream_filter filter;
  filter.manifest_uid = 3;
  filter.collections = {8};
  req.value = encode_stream_filter(filter);
  c2p(req.encode().vbucket(12));
  p2c(dcp_stream_response{status::success, {{0xabc, 0}}, 0}.encode());
  p2c(dcp_stream_response{status::rollback, {}, 4}.encode());
  c2p(dcp_get_failover_log_request{}.encode().vbucket(12));
  p2c(dcp_get_failover_log_response{status::success, {{0xabc, 0}, {0x1, 0}}}.encode());
  p2c(dcp_snapshot_marker{6, 9, snapshot_flags::memory | snapshot_flags::checkpoint}
          .encode()
          .vbucket(12));
  dcp_snapshot_marker v2{6, 9, snapshot_flags::disk, snapshot_marker_version::v2_0, 9, 0};
  p2c(v2.encode().vbucket(12));
  dcp_mutation m;
  m.by_seqno = 6;
  m.rev_seqno = 1;
  m.key =
      "\x08"
      "airline_10";
  m.value = snappy_compress(encode_xattrs({{"_sync", R"({"rev":1})"}}, R"({"name":"x"})"));
  m.datatype = 0x07;
  m.cas = 0x1234;
  p2c(m.encode().vbucket(12));
  p2c(dcp_deletion{7, 2, std::nullopt, "\x08k1", {}, 0, 0x99}.encode().vbucket(12));
  p2c(dcp_deletion{8, 2, 1700000000u, "\x08k2", {}, 0, 0x9a}.encode().vbucket(12));
  p2c(dcp_expiration{9, 3, 1700000001u, "\x08k3", {}, 0, 0x9b}.encode().vbucket(12));
  p2c(collection_created{0x10, 8, 9, std::nullopt, "c"}.to_event(10).encode().vbucket(12));
  p2c(collection_dropped{0x11, 8, 9}.to_event(11).encode().vbucket(12));
  p2c(scope_created{0x12, 8, "s"}.to_event(12).encode().vbucket(12));
  p2c(scope_dropped{0x13, 8}.to_event(13).encode().vbucket(12));
  p2c(dcp_seqno_advanced{14}.encode().vbucket(12));
  p2c(dcp_oso_snapshot{oso_flags::start}.encode().vbucket(12));
  p2c(dcp_stream_end{stream_end_reason::state_changed}.encode().vbucket(12));
  w.add(dcp_noop_request{}.encode().opaque(10000001).build(), false);
  w.add(encode_dcp_response(opcode::dcp_noop).opaque(10000001).build(), true);
  c2p(dcp_buffer_ack{4096}.encode());
  c2p(dcp_close_stream_request{}.encode().vbucket(12));
  p2c(encode_dcp_response(opcode::dcp_close_stream));

  const std::string path = std::string(CBES_BINARY_DIR) + "/dcp-codec-wireshark.pcap";
  std::ofstream(path, std::ios::binary) << w.bytes();
  const std::string base = "tshark -r " + path + " -d tcp.port==11210,couchbase ";
  const auto opcodes = shell(base + "-T fields -e couchbase.opcode 2>/dev/null");
  std::size_t lines = 0;
  for (char c : opcodes)
    lines += c == '\n';
  CHECK(lines == static_cast<std::size_t>(w.frames()));
  CHECK(opcodes.find("0x57") != std::string::npos);
  const auto malformed = shell(base + "-Y '_ws.malformed' 2>/dev/null");
  INFO(malformed);
  CHECK(malformed.empty());
  const auto expert = shell(base + "-q -z expert,error 2>/dev/null");
  INFO(expert);
  CHECK(expert.find("Errors") == std::string::npos);
}
