// The checkpoint xattr as the Java connector 4.4 writes it (a HashMap {bucketUuid, checkpoint}
// serialized by Jackson: "checkpoint" iterates first; Checkpoint fields in constructor order;
// longs signed) and the DCP position a checkpoint resumes from.
#include <limits>

#include <catch2/catch.hpp>

#include "unit/checkpoint/result_printer.hpp"

#include "cbes/checkpoint/checkpoint.hpp"

using namespace cbes::checkpoint;

TEST_CASE("the checkpoint xattr has the Java connector's exact bytes, vbuuid >= 2^63 negative") {
  // -7032817290532466473 as an unsigned 64-bit vbuuid.
  const checkpoint cp{11413926783177085143ULL, 1234, {1200, 1234}};
  CHECK(encode_xattr(cp) == R"({"checkpoint":{"vbuuid":-7032817290532466473,"seqno":1234,)"
                            R"("snapshot":{"startSeqno":1200,"endSeqno":1234}},"bucketUuid":""})");
  CHECK(encode_xattr(zero) ==
        R"({"checkpoint":{"vbuuid":0,"seqno":0,"snapshot":{"startSeqno":0,"endSeqno":0}},)"
        R"("bucketUuid":""})");
  CHECK(encode_xattr(cp, "a\"b") ==
        R"({"checkpoint":{"vbuuid":-7032817290532466473,"seqno":1234,)"
        R"("snapshot":{"startSeqno":1200,"endSeqno":1234}},"bucketUuid":"a\"b"})");
}

TEST_CASE("the checkpoint xattr reads back what it wrote, at every 64-bit extreme") {
  const auto max = std::numeric_limits<std::uint64_t>::max();
  for (const checkpoint cp : {zero, checkpoint{1, 2, {3, 4}}, checkpoint{max, max, {max, max}},
                              checkpoint{1ULL << 63, (1ULL << 63) - 1, {0, 1ULL << 63}}}) {
    INFO(cp.to_string());
    auto back = decode_xattr(encode_xattr(cp));
    REQUIRE(back);
    CHECK(*back == cp);
  }
}

TEST_CASE("the checkpoint xattr is read in any key order, from signed or unsigned numbers") {
  auto cp =
      decode_xattr(R"({"bucketUuid":"x","checkpoint":{"snapshot":{"endSeqno":9,"startSeqno":-1},)"
                   R"("seqno":18446744073709551615,"vbuuid":11413926783177085143}})");
  REQUIRE(cp);
  CHECK(cp->vbuuid == 11413926783177085143ULL);
  CHECK(cp->seqno == std::numeric_limits<std::uint64_t>::max());
  CHECK(cp->snapshot.start == std::numeric_limits<std::uint64_t>::max());
  CHECK(cp->snapshot.end == 9);
  // bucketUuid is ignored on load (Java ignores it too), even when absent.
  CHECK(decode_xattr(R"({"checkpoint":{"vbuuid":1,"seqno":2,"snapshot":{"startSeqno":2,)"
                     R"("endSeqno":2}}})"));
}

TEST_CASE("a malformed checkpoint xattr is an error naming the key and the problem") {
  struct bad {
    const char* json;
    const char* says;
  };
  for (const auto& b : {
           bad{"", "not valid JSON"},
           bad{"{\"checkpoint\":", "not valid JSON"},
           bad{"[1]", "must be a JSON object"},
           bad{R"({"bucketUuid":""})", "lacks the key checkpoint"},
           bad{R"({"checkpoint":7})", "checkpoint must be an object, not 7"},
           bad{R"({"checkpoint":{"seqno":1,"snapshot":{"startSeqno":1,"endSeqno":1}}})",
               "missing key checkpoint.vbuuid"},
           bad{R"({"checkpoint":{"vbuuid":"1","seqno":1,"snapshot":{}}})",
               "checkpoint.vbuuid must be a 64-bit integer, not \"1\""},
           bad{R"({"checkpoint":{"vbuuid":1,"seqno":1.5,"snapshot":{}}})",
               "checkpoint.seqno must be a 64-bit integer"},
           bad{R"({"checkpoint":{"vbuuid":1,"seqno":1}})", "missing key checkpoint.snapshot"},
           bad{R"({"checkpoint":{"vbuuid":1,"seqno":1,"snapshot":[]}})",
               "checkpoint.snapshot must be an object"},
           bad{R"({"checkpoint":{"vbuuid":1,"seqno":1,"snapshot":{"startSeqno":1}}})",
               "missing key checkpoint.snapshot.endSeqno"},
           bad{R"({"checkpoint":{"vbuuid":1,"seqno":1,"snapshot":{"startSeqno":1,)"
               R"("endSeqno":18446744073709551616}}})",
               "checkpoint.snapshot.endSeqno must be a 64-bit integer"},
       }) {
    INFO(b.json);
    auto r = decode_xattr(b.json);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_document);
    CHECK_THAT(r.error().message, Catch::Contains(b.says));
    CHECK(r.error().message.find('\n') == std::string::npos);
  }
}

TEST_CASE("a checkpoint resumes DCP with its vbuuid and a synthetic failover entry at 2^64-1") {
  const checkpoint cp{0xfeedULL, 42, {40, 45}};
  auto s = to_stream_state(cp);
  CHECK(s.vbucket_uuid == 0xfeed);
  CHECK(s.seqno == 42);
  CHECK(s.snapshot_start == 40);
  CHECK(s.snapshot_end == 45);
  REQUIRE(s.failover_log.size() == 1);
  CHECK(s.failover_log[0].vbucket_uuid == 0xfeed);
  CHECK(s.failover_log[0].seqno == std::numeric_limits<std::uint64_t>::max());
  auto req = cbes::dcp::make_stream_request(s);
  CHECK(req.vbucket_uuid == 0xfeed);
  CHECK(req.start_seqno == 42);
  // A rollback prunes the synthetic entry (its seqno is above any rollback point).
  auto rolled = cbes::dcp::rollback_state(s, 10);
  CHECK(rolled.failover_log.empty());
  CHECK(rolled.seqno == 10);
  CHECK(from_stream_state(s) == cp);
  CHECK(from_stream_state(cbes::dcp::stream_state::from_beginning()) == zero);
}

TEST_CASE("a checkpoint prints like Java's toString") {
  CHECK(checkpoint{7, 9, {8, 10}}.to_string() == "7@9[8-10]");
}
