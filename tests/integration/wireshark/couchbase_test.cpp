// The couchbase client's bytes as Wireshark sees them: a connection bootstraps through
// tcp_recorder against the fake cluster (HELLO, SASL SCRAM, SELECT_BUCKET, GET_ERROR_MAP,
// GET_CLUSTER_CONFIG) and runs KV get/upsert/remove and sub-document xattr operations; tshark's
// Couchbase dissector must decode every frame without malformed packets or expert errors.
#include <catch2/catch.hpp>

#include <set>

#include "cbes/mcbp/collection_key.hpp"
#include "cbes/mcbp/document.hpp"
#include "cbes/mcbp/feature.hpp"
#include "cbes/mcbp/subdoc.hpp"
#include "cbes/testkit/tcp_recorder.hpp"
#include "cbes/util/crc32.hpp"
#include "integration/couchbase/harness.hpp"
#include "integration/wireshark/tshark.hpp"

using namespace couchbase_it;
using namespace wireshark_it;
namespace mcbp = cbes::mcbp;

namespace {

// Runs the whole client conversation through a recorder; returns the pcap path.
std::string record_kv_session(cbes::testkit::couchbase_cluster& fake, mcbp::sasl_mechanism mech) {
  const auto path = pcap_path("couchbase");
  cbes::testkit::tcp_recorder rec("127.0.0.1", fake.kv_port(), path);
  asio::io_context io;
  run(io, [&]() -> asio::awaitable<void> {
    auto o = connection_options_for(fake);
    o.address = {"127.0.0.1", rec.port()};
    o.sasl_mechanisms = {mech};
    auto opened = co_await cb::connection::open(io.get_executor(), o);
    REQUIRE(opened);
    auto c = *opened;
    const bool collections = c->has_feature(mcbp::feature::collections);
    auto wire_key = [&](const std::string& k) {
      return collections ? mcbp::encode_collection_key(0, k) : k;
    };
    auto vb = [](const std::string& k) {
      return static_cast<std::uint16_t>(cbes::util::vbucket_for_key(k, 64));
    };
    auto expect = [](const cb::result<mcbp::owned_frame>& r, mcbp::status s) {
      REQUIRE(r);
      CHECK(r->view().status() == s);
    };

    mcbp::store_request up;
    up.key = wire_key("airline_10");
    up.value = R"({"type":"airline","name":"40-Mile Air","iata":"Q5"})";
    up.datatype = 0x01;
    up.flags = 0x02000006;
    auto stored = co_await c->execute(up.encode().vbucket(vb("airline_10")), 20s);
    expect(stored, mcbp::status::success);

    mcbp::get_request get_doc{wire_key("airline_10")};
    auto got = co_await c->execute(get_doc.encode().vbucket(vb("airline_10")), 20s);
    expect(got, mcbp::status::success);
    mcbp::get_request get_missing{wire_key("nope")};
    auto missing = co_await c->execute(get_missing.encode().vbucket(vb("nope")), 20s);
    expect(missing, mcbp::status::key_enoent);

    mcbp::subdoc_multi_mutation_request m;
    m.key = wire_key("checkpoint");
    m.doc_flags = mcbp::subdoc_doc_flag::mkdoc;
    m.specs = {
        {mcbp::opcode::subdoc_dict_upsert,
         mcbp::subdoc_path_flag::xattr | mcbp::subdoc_path_flag::mkdir_p, "cbes.seqno", "42"},
        {mcbp::opcode::subdoc_dict_upsert, 0, "state", R"("ok")"}};
    auto mutated = co_await c->execute(m.encode().vbucket(vb("checkpoint")), 20s);
    expect(mutated, mcbp::status::success);

    mcbp::subdoc_multi_lookup_request l;
    l.key = wire_key("checkpoint");
    l.specs = {{mcbp::opcode::subdoc_get, mcbp::subdoc_path_flag::xattr, "cbes"},
               {mcbp::opcode::subdoc_get, 0, "state"},
               {mcbp::opcode::subdoc_get, 0, "absent"}};
    auto looked = co_await c->execute(l.encode().vbucket(vb("checkpoint")), 20s);
    expect(looked, mcbp::status::subdoc_multi_path_failure);

    mcbp::remove_request remove_doc{wire_key("airline_10")};
    auto removed = co_await c->execute(remove_doc.encode().vbucket(vb("airline_10")), 20s);
    expect(removed, mcbp::status::success);
    c->close();
  }());
  drain(io);
  rec.stop();
  CHECK(rec.connections() == 1);
  CHECK(rec.bytes_recorded() > 0);
  return path;
}

}  // namespace

TEST_CASE("tshark decodes the client's bootstrap and KV traffic without errors") {
  require_tshark();
  auto o = fake_options(1, 64);
  cbes::testkit::couchbase_cluster fake(o);
  fake.start();
  for (auto mech : {mcbp::sasl_mechanism::scram_sha512, mcbp::sasl_mechanism::scram_sha1}) {
    INFO(mcbp::to_string(mech));
    const auto path = record_kv_session(fake, mech);
    const std::string decode = " -d tcp.port==" + std::to_string(fake.kv_port()) + ",couchbase";
    const auto problems = tshark("-n -r " + path + decode + " -Y '" + problems_filter + "' -V");
    INFO(problems);
    CHECK(problems.empty());
    const auto packets = tshark("-n -r " + path + decode + " -Y couchbase");
    CHECK(count_lines(packets) > 0);
    const auto ops =
        decoded_opcodes(path, " -d tcp.port==" + std::to_string(fake.kv_port()) + ",couchbase");
    INFO(packets);
    // HELLO, SASL list/auth/step, SELECT_BUCKET, error map, config, SET, GET, DELETE, subdoc.
    for (const char* op : {"0x1f", "0x20", "0x21", "0x22", "0x89", "0xfe", "0xb5", "0x01", "0x00",
                           "0x04", "0xd0", "0xd1"}) {
      INFO(op);
      CHECK(ops.count(op) == 1);
    }
  }
}
