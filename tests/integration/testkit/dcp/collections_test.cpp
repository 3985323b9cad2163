// Collections filtering, system events, SEQNO_ADVANCED, xattrs and Snappy on the fake's DCP
// producer (kv_engine's protocol docs), plus the pure rollback rule.
#include "../../../../testkit/src/couchbase/dcp_stream.hpp"
#include "cbes/mcbp/datatype.hpp"
#include "cbes/mcbp/document.hpp"
#include "cbes/mcbp/snappy.hpp"
#include "cbes/mcbp/xattr.hpp"
#include "dcp_client.hpp"

using namespace dcp_test;
namespace of = cbes::mcbp::dcp_open_flags;
namespace tk = cbes::testkit::couchbase;

TEST_CASE("rollback_seqno follows the documented procedure") {
  std::vector<tk::failover_entry> log{{30, 100}, {20, 50}, {10, 0}};  // newest first
  auto decide = [&](std::uint64_t s, std::uint64_t u, std::uint64_t ss, std::uint64_t se,
                    std::uint64_t purge = 0, bool strict = false) {
    return tk::rollback_seqno(log, 120, purge, {s, u, ss, se, strict, false, std::nullopt});
  };
  CHECK_FALSE(decide(0, 0, 0, 0));
  CHECK_FALSE(decide(0, 999, 0, 0));           // start 0, not strict
  CHECK(decide(0, 999, 0, 0, 0, true) == 0u);  // strict: uuid unknown
  CHECK(decide(40, 999, 40, 40) == 0u);        // unknown uuid
  CHECK_FALSE(decide(40, 10, 40, 40));         // within branch 10 (ends at 50)
  CHECK(decide(60, 10, 60, 60) == 50u);        // past the branch end
  CHECK(decide(45, 10, 40, 60) == 40u);        // partial snapshot crossing it: to snap start
  CHECK_FALSE(decide(110, 30, 110, 110));      // newest branch, below high seqno
  CHECK(decide(130, 30, 130, 130) == 120u);    // beyond the high seqno
  CHECK(decide(5, 10, 5, 5, 7) == 0u);         // purge seqno rule
  CHECK_FALSE(tk::rollback_seqno(log, 120, 7, {5, 10, 5, 5, false, true, std::nullopt}));
  CHECK_FALSE(tk::rollback_seqno(log, 120, 7, {5, 10, 5, 5, false, false, 7}));
}

TEST_CASE("Collection filter: only its items and events, SEQNO_ADVANCED, FilterEmpty on drop") {
  couchbase_cluster cluster{fake_options(1, 1)};
  cluster.start();
  auto sid = cluster.create_scope("default", "inv");              // seqno 1
  auto cid = cluster.create_collection("default", "inv", "air");  // 2
  auto other = cluster.create_collection("default", "inv", "hotel");
  cluster.upsert("default", "a1", "1", "inv.air");
  cluster.upsert("default", "h1", "1", "inv.hotel");
  cluster.upsert("default", "d1", "1");  // default collection
  dcp_client c{cluster.kv_port()};
  c.start("coll");
  stream_filter flt;
  flt.collections = {cid};
  auto req = from(0, 0);
  req.value = encode_stream_filter(flt);
  REQUIRE(c.stream(0, req).status == status::success);
  auto ms = c.drain();
  auto events = only<dcp_system_event>(ms);
  REQUIRE(events.size() == 1);
  auto created = collection_created::decode(events[0]);
  REQUIRE(created);
  CHECK(created->collection_id == cid);
  CHECK(created->scope_id == sid);
  CHECK(created->name == "air");
  auto muts = only<dcp_mutation>(ms);
  REQUIRE(muts.size() == 1);
  CHECK(muts[0].key == encode_collection_key(cid, "a1"));
  auto adv = only<dcp_seqno_advanced>(ms);
  REQUIRE(adv.size() == 1);
  CHECK(adv[0].by_seqno == cluster.high_seqno("default", 0));

  // Live: another collection's write → marker + SEQNO_ADVANCED only.
  cluster.upsert("default", "h2", "1", "inv.hotel");
  auto live = c.drain();
  CHECK(only<dcp_mutation>(live).empty());
  REQUIRE(only<dcp_seqno_advanced>(live).size() == 1);

  // Unknown collection / scope; both collections and scope → Einval.
  dcp_client d{cluster.kv_port()};
  d.start("coll2");
  auto bad = from(0, 0);
  bad.value = R"({"collections":["ff"]})";
  CHECK(d.stream(0, bad).status == status::unknown_collection);
  bad.value = R"({"scope":"ff"})";
  CHECK(d.stream(0, bad).status == status::unknown_scope);
  bad.value = R"({"scope":"8","collections":["9"]})";
  CHECK(d.stream(0, bad).status == status::einval);
  (void)other;

  cluster.drop_collection("default", "inv", "air");
  auto dropped = c.until_end(0);
  auto ev = only<dcp_system_event>(dropped);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].event == system_event_id::end_collection);
  CHECK(only<dcp_stream_end>(dropped).at(0).reason == stream_end_reason::filter_empty);
}

TEST_CASE("Unfiltered collection-aware stream: every event, without collections none") {
  couchbase_cluster cluster{fake_options(1, 1)};
  cluster.start();
  cluster.create_scope("default", "s");
  auto cid = cluster.create_collection("default", "s", "c");
  cluster.upsert("default", "x", "1", "s.c");
  cluster.upsert("default", "y", "1");
  cluster.drop_scope("default", "s");
  const auto high = cluster.high_seqno("default", 0);
  dcp_client c{cluster.kv_port()};
  c.start("all");
  auto r = from(0, 0, high);
  r.value = R"({"uid":"0"})";
  REQUIRE(c.stream(0, r).status == status::success);
  auto ms = c.until_end(0);
  auto ev = only<dcp_system_event>(ms);
  // Creates are de-duplicated into their drops (same system-event key).
  REQUIRE(ev.size() == 2);
  CHECK(ev[0].event == system_event_id::end_collection);
  CHECK(collection_dropped::decode(ev[0])->collection_id == cid);
  CHECK(ev[1].event == system_event_id::drop_scope);
  auto muts = only<dcp_mutation>(ms);
  REQUIRE(muts.size() == 1);  // the dropped collection's item is gone
  CHECK(muts[0].key == encode_collection_key(0, "y"));

  dcp_client legacy{cluster.kv_port()};
  legacy.start("legacy", of::producer, dcp_features(false));
  REQUIRE(legacy.stream(0, from(0, 0, high)).status == status::success);
  auto lm = legacy.until_end(0);
  CHECK(only<dcp_system_event>(lm).empty());
  CHECK(only<dcp_seqno_advanced>(lm).empty());
  REQUIRE(only<dcp_mutation>(lm).size() == 1);
  CHECK(only<dcp_mutation>(lm)[0].key == "y");
}

TEST_CASE("IncludeXattrs sends the xattr section, force_value_compression sends Snappy") {
  couchbase_cluster cluster{fake_options(1, 1)};
  cluster.start();
  const std::string body = R"({"text":")" + std::string(300, 'a') + R"("})";
  {
    // A document with a user and a system xattr, written over KV.
    dcp_client w{cluster.kv_port()};
    w.bootstrap();
    store_request s{store_operation::set, w.key("doc"),
                    encode_xattrs({{"meta", R"({"m":1})"}, {"_sys", R"({"s":1})"}}, body)};
    s.datatype = datatype::xattr | datatype::json;
    auto f = w.call(s.encode().vbucket(0));
    REQUIRE(f.view().status() == status::success);
  }
  dcp_client c{cluster.kv_port()};
  c.start("xs", of::producer | of::include_xattrs);
  REQUIRE(c.control("force_value_compression", "true") == status::success);
  REQUIRE(c.stream(0, from(0, 0, 1)).status == status::success);
  auto muts = only<dcp_mutation>(c.until_end(0));
  REQUIRE(muts.size() == 1);
  CHECK((muts[0].datatype & datatype::snappy) != 0);
  CHECK((muts[0].datatype & datatype::xattr) != 0);
  CHECK((muts[0].datatype & datatype::json) != 0);
  auto plain = snappy_decompress(muts[0].value, 1 << 20);
  REQUIRE(plain);
  auto doc = decode_xattrs(*plain);
  REQUIRE(doc);
  CHECK(doc->body == body);
  REQUIRE(doc->find("meta"));
  REQUIRE(doc->find("_sys"));

  dcp_client n{cluster.kv_port()};
  n.start("no-xattrs");
  REQUIRE(n.stream(0, from(0, 0, 1)).status == status::success);
  auto nm = only<dcp_mutation>(n.until_end(0));
  REQUIRE(nm.size() == 1);
  CHECK(nm[0].datatype == datatype::json);
  CHECK(nm[0].value == body);
}
