// Out-of-order (OSO) backfills on the fake's DCP producer (kv_engine's protocol docs
// enable_out_of_order_snapshots): a disk backfill of a stream filtered to one
// collection arrives between OSO start/end in key order, de-duplicated, tombstones included.
#include "dcp_client.hpp"

using namespace dcp_test;

namespace {

struct oso_setup {
  couchbase_cluster cluster{fake_options(1, 1)};
  std::uint32_t cid = 0;

  oso_setup() {
    cluster.start();
    cluster.create_scope("default", "inv");
    cid = cluster.create_collection("default", "inv", "air");
    cluster.create_collection("default", "inv", "hotel");
    // Seqno order z, m, a, m(again), a deleted: key order is a, m, z.
    cluster.upsert("default", "z", R"({"v":1})", "inv.air");
    cluster.upsert("default", "m", R"({"v":1})", "inv.air");
    cluster.upsert("default", "a", R"({"v":1})", "inv.air");
    cluster.upsert("default", "m", R"({"v":2})", "inv.air");
    REQUIRE(cluster.remove("default", "a", "inv.air"));
    // Another collection's write last: the OSO's last item is not the snapshot's max seqno.
    cluster.upsert("default", "h", R"({"v":1})", "inv.hotel");
  }

  std::vector<dcp_message> backfill(const std::string& oso_mode) {
    dcp_client c{cluster.kv_port()};
    c.start("oso-" + oso_mode);
    if (!oso_mode.empty())
      REQUIRE(c.control("enable_out_of_order_snapshots", oso_mode) == status::success);
    stream_filter flt;
    flt.collections = {cid};
    auto req = from(0, 0);
    req.value = encode_stream_filter(flt);
    REQUIRE(c.stream(0, req).status == status::success);
    return c.drain();
  }
};

std::string key_of(const dcp_message& m) {
  if (const auto* x = std::get_if<dcp_mutation>(&m))
    return x->key;
  if (const auto* d = std::get_if<dcp_deletion>(&m))
    return d->key;
  return {};
}

}  // namespace

TEST_CASE("OSO backfill: start, system event, items in key order, SEQNO_ADVANCED, end") {
  oso_setup s;
  const auto high = s.cluster.high_seqno("default", 0);
  auto ms = s.backfill("true_with_seqno_advanced");
  REQUIRE(ms.size() == 7);
  auto oso0 = std::get_if<dcp_oso_snapshot>(&ms[0]);
  REQUIRE(oso0);
  CHECK(oso0->flags == oso_flags::start);
  REQUIRE(std::holds_alternative<dcp_system_event>(ms[1]));  // the collection's create
  // Key order, latest version per key, the tombstone included.
  CHECK(std::holds_alternative<dcp_deletion>(ms[2]));
  CHECK(key_of(ms[2]) == encode_collection_key(s.cid, "a"));
  REQUIRE(std::holds_alternative<dcp_mutation>(ms[3]));
  CHECK(key_of(ms[3]) == encode_collection_key(s.cid, "m"));
  CHECK(std::get<dcp_mutation>(ms[3]).value == R"({"v":2})");
  CHECK(key_of(ms[4]) == encode_collection_key(s.cid, "z"));
  CHECK(std::get<dcp_mutation>(ms[3]).by_seqno > std::get<dcp_mutation>(ms[4]).by_seqno);
  auto adv = std::get_if<dcp_seqno_advanced>(&ms[5]);
  REQUIRE(adv);
  CHECK(adv->by_seqno == high);
  auto oso1 = std::get_if<dcp_oso_snapshot>(&ms[6]);
  REQUIRE(oso1);
  CHECK(oso1->flags == oso_flags::end);
  CHECK(only<dcp_snapshot_marker>(ms).empty());  // OSO replaces the disk marker
}

TEST_CASE("OSO backfill: 'true' sends no SEQNO_ADVANCED, live writes follow as memory snapshots") {
  oso_setup s;
  dcp_client c{s.cluster.kv_port()};
  c.start("oso-true");
  REQUIRE(c.control("enable_out_of_order_snapshots", "true") == status::success);
  stream_filter flt;
  flt.collections = {s.cid};
  auto req = from(0, 0);
  req.value = encode_stream_filter(flt);
  REQUIRE(c.stream(0, req).status == status::success);
  auto ms = c.drain();
  REQUIRE(ms.size() == 6);
  CHECK(std::holds_alternative<dcp_oso_snapshot>(ms.front()));
  CHECK(std::holds_alternative<dcp_oso_snapshot>(ms.back()));
  CHECK(only<dcp_seqno_advanced>(ms).empty());
  CHECK(only<dcp_mutation>(ms).size() == 2);
  CHECK(only<dcp_deletion>(ms).size() == 1);

  s.cluster.upsert("default", "b", R"({"v":1})", "inv.air");
  auto live = c.drain();
  auto markers = only<dcp_snapshot_marker>(live);
  REQUIRE(markers.size() == 1);
  CHECK((markers[0].flags & snapshot_flags::memory) != 0);
  CHECK(only<dcp_oso_snapshot>(live).empty());
  REQUIRE(only<dcp_mutation>(live).size() == 1);
  CHECK(only<dcp_mutation>(live)[0].key == encode_collection_key(s.cid, "b"));
}

TEST_CASE("OSO backfill: only for one-collection streams with the control enabled") {
  oso_setup s;
  // Control off: the usual seqno-ordered disk snapshot.
  auto off = s.backfill("");
  CHECK(only<dcp_oso_snapshot>(off).empty());
  REQUIRE(only<dcp_snapshot_marker>(off).size() == 1);
  auto muts = only<dcp_mutation>(off);
  REQUIRE(muts.size() == 2);
  CHECK(muts[0].key == encode_collection_key(s.cid, "z"));
  // Control on but an unfiltered stream: no OSO either.
  dcp_client c{s.cluster.kv_port()};
  c.start("oso-all");
  REQUIRE(c.control("enable_out_of_order_snapshots", "true") == status::success);
  REQUIRE(c.stream(0, from(0, 0)).status == status::success);
  auto all = c.drain();
  CHECK(only<dcp_oso_snapshot>(all).empty());
  CHECK(only<dcp_snapshot_marker>(all).size() == 1);
}
