// Every response of the Couchbase fake carries its request's opcode and opaque, as an independent
// decoder sees them: clients match responses to requests by opaque and then trust the opcode (the
// official Node.js SDK aborts the process when a GET_AND_TOUCH is answered as a GET). A blocking
// client drives every opcode the fake serves (kv_session's dispatch and the DCP producer's)
// through a tcp_recorder; tshark decodes the capture, and the test pairs each response with the
// request of the same opaque on the same connection.
#include <catch2/catch.hpp>

#include <boost/asio.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cbes/mcbp/cluster_config.hpp"
#include "cbes/mcbp/collections_manifest.hpp"
#include "cbes/mcbp/dcp.hpp"
#include "cbes/mcbp/document.hpp"
#include "cbes/mcbp/error_map.hpp"
#include "cbes/mcbp/feature.hpp"
#include "cbes/mcbp/hello.hpp"
#include "cbes/mcbp/parser.hpp"
#include "cbes/mcbp/sasl.hpp"
#include "cbes/mcbp/select_bucket.hpp"
#include "cbes/mcbp/subdoc.hpp"
#include "cbes/mcbp/vbucket_seqnos.hpp"
#include "cbes/testkit/couchbase_cluster.hpp"
#include "cbes/testkit/tcp_recorder.hpp"
#include "cbes/util/crc32.hpp"
#include "integration/wireshark/tshark.hpp"

using namespace wireshark_it;
namespace asio = boost::asio;
namespace mcbp = cbes::mcbp;
using mcbp::frame_builder;
using mcbp::opcode;
using mcbp::status;
using tcp = asio::ip::tcp;

namespace {

constexpr std::uint16_t vbuckets = 16;

// A blocking mcbp client: each call sends one request under a fresh opaque and reads frames until
// the response with that opaque (DCP messages the producer sends meanwhile are skipped).
class blocking_client {
 public:
  explicit blocking_client(std::uint16_t port) : socket_(io_) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
  }

  // The response; fails the test when the connection ends first.
  mcbp::owned_frame exchange(frame_builder request) {
    const std::uint32_t opaque = next_opaque_;
    send(std::move(request));
    for (;;) {
      auto next = parser_.next();
      REQUIRE(next.has_value());
      if (!*next) {
        std::array<char, 16 * 1024> buf{};
        boost::system::error_code ec;
        const auto n = socket_.read_some(asio::buffer(buf), ec);
        INFO("waiting for the answer to opaque " << opaque << ": " << ec.message());
        REQUIRE(!ec);
        parser_.feed(std::string_view(buf.data(), n));
        continue;
      }
      if ((*next)->is_response() && (*next)->opaque() == opaque)
        return mcbp::owned_frame{**next};
    }
  }

  status call(frame_builder request) { return exchange(std::move(request)).view().status(); }

  // Sends a request that is not answered on success (DCP_BUFFER_ACKNOWLEDGEMENT).
  void send(frame_builder request) {
    asio::write(socket_, asio::buffer(request.opaque(next_opaque_++).build()));
  }

  // HELLO, PLAIN authentication (SASL_AUTH, then a SASL_STEP the fake also accepts), bucket.
  void bootstrap() {
    mcbp::hello_request hello{
        "cbes-opcodes-test",
        {mcbp::feature::xerror, mcbp::feature::select_bucket, mcbp::feature::json,
         mcbp::feature::mutation_seqno, mcbp::feature::xattr}};
    CHECK(call(hello.encode()) == status::success);
    const auto plain = mcbp::plain_auth_payload("Administrator", "password");
    CHECK(call(mcbp::sasl_auth_request{"PLAIN", plain}.encode()) == status::success);
    CHECK(call(mcbp::sasl_step_request{"PLAIN", plain}.encode()) == status::success);
    CHECK(call(mcbp::select_bucket_request{"default"}.encode()) == status::success);
  }

  void close() { socket_.close(); }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  mcbp::parser parser_;
  std::uint32_t next_opaque_ = 0x100;
};

std::uint16_t vb_of(const std::string& key) {
  return cbes::util::vbucket_for_key(key, vbuckets);
}

std::string be32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::uint64_t be64(std::string_view s) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8 && i < s.size(); ++i)
    v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}

// Bootstrap commands and whole-document, sub-document and vbucket commands, each answered with
// success (so the success encoders run, not only the error path).
void drive_kv(blocking_client& c) {
  c.bootstrap();
  CHECK(c.call(frame_builder::request(opcode::sasl_list_mechs)) == status::success);
  CHECK(c.call(mcbp::get_error_map_request{2}.encode()) == status::success);
  CHECK(c.call(mcbp::get_cluster_config_request{}.encode()) == status::success);
  CHECK(c.call(frame_builder::request(opcode::version)) == status::success);
  CHECK(c.call(frame_builder::request(opcode::noop)) == status::success);
  CHECK(c.call(frame_builder::request(opcode::get_collections_manifest)) == status::success);
  CHECK(c.call(mcbp::get_collection_id_request{"_default._default"}.encode()) == status::success);

  const std::string key = "opcodes";
  const auto vb = vb_of(key);
  mcbp::store_request store{mcbp::store_operation::add, key, R"({"n":1})"};
  CHECK(c.call(store.encode().vbucket(vb)) == status::success);
  store.operation = mcbp::store_operation::set;
  CHECK(c.call(store.encode().vbucket(vb)) == status::success);
  store.operation = mcbp::store_operation::replace;
  CHECK(c.call(store.encode().vbucket(vb)) == status::success);
  CHECK(c.call(mcbp::get_request{key}.encode().vbucket(vb)) == status::success);
  CHECK(c.call(mcbp::touch_request{key, 3600}.encode().vbucket(vb)) == status::success);
  // GET_AND_TOUCH: TOUCH's body (extras u32 expiry, key) under its own opcode.
  CHECK(
      c.call(
          frame_builder::request(opcode::get_and_touch).vbucket(vb).extras(be32(7200)).key(key)) ==
      status::success);
  mcbp::subdoc_multi_mutation_request mutate;
  mutate.key = key;
  mutate.specs = {{opcode::subdoc_dict_upsert, 0, "m", "2"}};
  CHECK(c.call(mutate.encode().vbucket(vb)) == status::success);
  mcbp::subdoc_multi_lookup_request lookup;
  lookup.key = key;
  lookup.specs = {{opcode::subdoc_get, 0, "m"}};
  CHECK(c.call(lookup.encode().vbucket(vb)) == status::success);
  CHECK(c.call(mcbp::remove_request{key}.encode().vbucket(vb)) == status::success);

  CHECK(c.call(mcbp::get_all_vb_seqnos_request{}.encode()) == status::success);
  // The vbucket uuid for OBSERVE_SEQNO comes from GET_FAILOVER_LOG (u64 uuid, u64 seqno pairs,
  // newest first).
  const auto log = c.exchange(frame_builder::request(opcode::get_failover_log).vbucket(vb));
  CHECK(log.view().status() == status::success);
  const std::uint64_t uuid = be64(log.view().value);
  CHECK(c.call(mcbp::observe_seqno_request{uuid}.encode().vbucket(vb)) == status::success);
  // An opcode the fake does not implement is still answered under its own opcode.
  CHECK(c.call(frame_builder::request(opcode::get_locked).vbucket(vb).key(key)) ==
        status::unknown_command);
}

// A DCP producer connection: DCP_OPEN, DCP_CONTROL, DCP_STREAM_REQ, DCP_GET_FAILOVER_LOG,
// DCP_BUFFER_ACKNOWLEDGEMENT (never answered on success) and DCP_CLOSE_STREAM.
void drive_dcp(blocking_client& c) {
  c.bootstrap();
  CHECK(
      c.call(mcbp::dcp_open_request{"opcodes-test", mcbp::dcp_open_flags::producer, {}}.encode()) ==
      status::success);
  CHECK(c.call(mcbp::dcp_control_request{"connection_buffer_size", "1048576"}.encode()) ==
        status::success);
  CHECK(c.call(mcbp::dcp_stream_request{}.encode().vbucket(0)) == status::success);
  CHECK(c.call(mcbp::dcp_get_failover_log_request{}.encode().vbucket(0)) == status::success);
  c.send(mcbp::dcp_buffer_ack{16}.encode());
  CHECK(c.call(mcbp::dcp_close_stream_request{}.encode().vbucket(0)) == status::success);
  // A DCP opcode the producer does not accept from a client.
  CHECK(c.call(mcbp::dcp_noop_request{}.encode()) == status::einval);
}

// Every opcode with an empty body: mostly error answers, which must echo the opcode as well.
void drive_every_opcode(blocking_client& c) {
  c.bootstrap();
  for (int op = 0; op <= 0xff; ++op) {
    INFO("opcode " << op);
    c.call(frame_builder{mcbp::magic::client_request, static_cast<std::uint8_t>(op)});
  }
}

// One mcbp header as tshark decoded it.
struct decoded_pdu {
  std::string stream;  // tcp.stream: one per connection
  bool from_server = false;
  unsigned magic = 0, opcode = 0;
  std::uint32_t opaque = 0;
};

// Splits tshark's comma-separated occurrences of one field (several PDUs in one segment).
std::vector<std::string> occurrences(const std::string& field) {
  std::vector<std::string> out;
  std::istringstream in(field);
  std::string item;
  while (std::getline(in, item, ','))
    out.push_back(item);
  return out;
}

std::vector<decoded_pdu> decode_with_tshark(const std::string& path, std::uint16_t server_port) {
  const auto out = tshark("-n -r " + path + " -d tcp.port==" + std::to_string(server_port) +
                          ",couchbase -Y couchbase -T fields -e tcp.stream -e tcp.srcport"
                          " -e couchbase.magic -e couchbase.opcode -e couchbase.opaque");
  std::vector<decoded_pdu> pdus;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    INFO("tshark line: " << line);
    std::istringstream cols(line);
    std::string stream, port, magics, opcodes, opaques;
    std::getline(cols, stream, '\t');
    std::getline(cols, port, '\t');
    std::getline(cols, magics, '\t');
    std::getline(cols, opcodes, '\t');
    std::getline(cols, opaques, '\t');
    const auto m = occurrences(magics), o = occurrences(opcodes), q = occurrences(opaques);
    REQUIRE(!m.empty());
    REQUIRE(m.size() == o.size());
    REQUIRE(m.size() == q.size());
    for (std::size_t i = 0; i < m.size(); ++i)
      pdus.push_back({stream, port == std::to_string(server_port),
                      static_cast<unsigned>(std::stoul(m[i], nullptr, 16)),
                      static_cast<unsigned>(std::stoul(o[i], nullptr, 16)),
                      static_cast<std::uint32_t>(std::stoul(q[i], nullptr, 16))});
  }
  return pdus;
}

std::string hex(unsigned v) {
  std::ostringstream out;
  out << "0x" << std::hex << v;
  return out.str();
}

bool is_request(unsigned magic) {
  return magic == 0x80 || magic == 0x08;  // client request, with flexible framing extras
}
bool is_response(unsigned magic) {
  return magic == 0x81 || magic == 0x18;
}

}  // namespace

TEST_CASE("every response of the Couchbase fake carries its request's opcode and opaque") {
  require_tshark();
  cbes::testkit::couchbase_cluster_options o;
  o.buckets = {cbes::testkit::couchbase_bucket_options{"default", vbuckets, 0}};
  o.users = {{"Administrator", "password", {}}};
  o.scram_iterations = 64;
  cbes::testkit::couchbase_cluster fake(o);
  fake.start();
  const auto path = pcap_path("opcodes");
  {
    cbes::testkit::tcp_recorder rec("127.0.0.1", fake.kv_port(), path);
    blocking_client kv(rec.port()), dcp(rec.port()), every(rec.port());
    drive_kv(kv);
    drive_dcp(dcp);
    drive_every_opcode(every);
    kv.close();
    dcp.close();
    every.close();
    rec.stop();
    CHECK(rec.connections() == 3);
  }

  // Pair each response from the fake with the client's request of the same opaque on the same
  // connection (every request carries a fresh opaque). Wireshark 4.0 shows the opaque byte-swapped;
  // the pairing only compares its values with each other.
  std::map<std::pair<std::string, std::uint32_t>, unsigned> outstanding;  // → request opcode
  std::set<unsigned> answered;
  std::vector<std::string> wrong;
  const auto pdus = decode_with_tshark(path, fake.kv_port());
  for (const auto& p : pdus) {
    const auto key = std::make_pair(p.stream, p.opaque);
    if (!p.from_server && is_request(p.magic)) {
      CHECK(outstanding.emplace(key, p.opcode).second);
    } else if (p.from_server && is_response(p.magic)) {
      const auto it = outstanding.find(key);
      const auto what = "response opcode " + hex(p.opcode) + " opaque " + hex(p.opaque);
      if (it == outstanding.end()) {
        wrong.push_back(what + " answers no outstanding request");
        continue;
      }
      if (it->second != p.opcode)
        wrong.push_back(what + " answers a request with opcode " + hex(it->second));
      else
        answered.insert(p.opcode);
      outstanding.erase(it);
    }
  }
  std::string all_wrong;
  for (const auto& w : wrong)
    all_wrong += w + "\n";
  INFO(all_wrong);
  CHECK(wrong.empty());
  // Only the buffer acknowledgement goes unanswered (a producer never answers one that succeeds).
  REQUIRE(outstanding.size() == 1);
  CHECK(outstanding.begin()->second == static_cast<unsigned>(opcode::dcp_buffer_acknowledgement));
  // The sweep reached every opcode, so each of the 256 was answered under its own opcode.
  CHECK(answered.size() == 256);
}
