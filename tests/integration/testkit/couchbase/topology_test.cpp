// Topology changes of the fake cluster: vbucket moves (NOT_MY_VBUCKET + pushed configs),
// failover (failover log, lost unreplicated items), node add/remove, seqno commands.
#include "cbes/mcbp/bucket_config.hpp"
#include "cbes/mcbp/cluster_config.hpp"
#include "cbes/mcbp/document.hpp"
#include "cbes/mcbp/vbucket_seqnos.hpp"
#include "cbes/util/crc32.hpp"
#include "kv_client.hpp"

using namespace cbfake_test;

namespace {

couchbase_cluster_options two_nodes(int replicas = 1) {
  couchbase_cluster_options o;
  o.nodes = 2;
  o.buckets = {{"default", 64, replicas}};
  return o;
}

std::uint16_t vb_of(std::string_view key) {
  return cbes::util::vbucket_for_key(key, 64);
}

}  // namespace

TEST_CASE("a moved vbucket answers NOT_MY_VBUCKET with the new config and pushes it") {
  couchbase_cluster cluster{two_nodes()};
  cluster.start();
  cluster.upsert("default", "doc", R"({"v":1})");
  auto vb = vb_of("doc");
  auto from = cluster.active_node("default", vb);
  auto to = 1 - from;
  kv_client c{cluster.kv_port(from)};
  c.bootstrap();
  auto before = c.call(get_cluster_config_request{}.encode());
  auto rev_before = parse_bucket_config(before.view().value, "127.0.0.1")->rev;

  cluster.move_vbucket("default", vb, to);

  auto push = c.next_push();
  REQUIRE(push);
  CHECK(push->view().server_opcode() == server_opcode::clustermap_change_notification);
  auto note = clustermap_change_notification::decode(push->view());
  REQUIRE(note);
  CHECK(note->bucket == "default");
  CHECK(note->version.revision > rev_before);

  auto r = c.call(get_request{c.key("doc")}.encode().vbucket(vb));
  CHECK(r.view().status() == status::not_my_vbucket);
  auto cfg = parse_bucket_config(r.view().value, "127.0.0.1");
  REQUIRE(cfg);
  CHECK(cfg->rev > rev_before);
  CHECK(cfg->active_server(vb) == to);

  kv_client other{cluster.kv_port(to)};
  other.bootstrap();
  CHECK(other.call(get_request{other.key("doc")}.encode().vbucket(vb)).view().status() ==
        status::success);
  CHECK(cluster.failover_log("default", vb).size() == 2);  // takeover = new branch
}

TEST_CASE("failover promotes the replica and adds a failover-log entry with a new uuid") {
  couchbase_cluster cluster{two_nodes()};
  cluster.start();
  cluster.upsert("default", "k", "1");
  auto vb = vb_of("k");
  auto victim = cluster.active_node("default", vb);
  auto old_log = cluster.failover_log("default", vb);
  REQUIRE(old_log.size() == 1);

  cluster.failover(victim);
  auto log = cluster.failover_log("default", vb);
  REQUIRE(log.size() == 2);
  CHECK(log[0].uuid != old_log[0].uuid);
  CHECK(log[0].seqno == 1);
  CHECK(log[1] == old_log[0]);
  CHECK(cluster.active_node("default", vb) == 1 - victim);
  CHECK(cluster.nodes() == std::vector<std::size_t>{1 - victim});
  CHECK(cluster.get("default", "k"));

  // OBSERVE_SEQNO with the old uuid reports the hard failover (format 1).
  kv_client c{cluster.kv_port(1 - victim)};
  c.bootstrap();
  auto r = c.call(observe_seqno_request{old_log[0].uuid}.encode().vbucket(vb));
  REQUIRE(r.view().status() == status::success);
  auto obs = observe_seqno_response::decode(r.view());
  REQUIRE(obs);
  REQUIRE(obs->hard_failover);
  CHECK(obs->vbucket_uuid == log[0].uuid);
  CHECK(obs->hard_failover->old_vbucket_uuid == old_log[0].uuid);
  CHECK(obs->hard_failover->last_seqno_of_old_uuid == 1);
  CHECK(c.call(observe_seqno_request{12345}.encode().vbucket(vb)).view().status() ==
        status::key_enoent);
}

TEST_CASE("failover can lose the items the replica never received") {
  couchbase_cluster cluster{two_nodes()};
  cluster.start();
  cluster.upsert("default", "k", "replicated");
  auto vb = vb_of("k");
  cluster.pause_replication("default");
  cluster.upsert("default", "k", "lost");
  REQUIRE(cluster.high_seqno("default", vb) == 2);
  cluster.failover(cluster.active_node("default", vb), true);
  CHECK(cluster.high_seqno("default", vb) == 1);
  CHECK(cluster.get("default", "k")->value == "replicated");
  CHECK(cluster.failover_log("default", vb).at(0).seqno == 1);
}

TEST_CASE("GET_ALL_VB_SEQNOS lists this node's vbuckets by state") {
  couchbase_cluster cluster{two_nodes()};
  cluster.start();
  cluster.upsert("default", "a", "1");
  auto vb = vb_of("a");
  auto owner = cluster.active_node("default", vb);
  kv_client c{cluster.kv_port(owner)};
  c.bootstrap();
  auto r = c.call(get_all_vb_seqnos_request{vbucket_state::active, std::nullopt}.encode());
  auto seqnos = get_all_vb_seqnos_response::decode(r.view());
  REQUIRE(seqnos);
  CHECK(seqnos->entries.size() == 32);
  bool found = false;
  for (auto e : seqnos->entries)
    found = found || (e.vbucket == vb && e.seqno == 1);
  CHECK(found);
  auto replicas = get_all_vb_seqnos_response::decode(
      c.call(get_all_vb_seqnos_request{vbucket_state::replica, std::nullopt}.encode()).view());
  CHECK(replicas->entries.size() == 32);
}

TEST_CASE("adding and removing a node rebalances the vbucket map") {
  couchbase_cluster_options o;
  o.buckets = {{"default", 64, 0}};
  couchbase_cluster cluster{o};
  cluster.start();
  auto rev = cluster.config_rev();
  auto id = cluster.add_node();
  CHECK(id == 1);
  CHECK(cluster.config_rev() > rev);
  CHECK(cluster.kv_port(1) != 0);
  std::size_t on_new = 0;
  for (std::uint16_t vb = 0; vb < 64; ++vb)
    on_new += cluster.active_node("default", vb) == 1;
  CHECK(on_new == 32);

  kv_client c{cluster.kv_port(1)};
  c.bootstrap();
  cluster.remove_node(1);
  for (std::uint16_t vb = 0; vb < 64; ++vb)
    CHECK(cluster.active_node("default", vb) == 0);
  // The removed node's connections are closed.
  bool closed = false;
  for (int i = 0; i < 10 && !closed; ++i)
    closed = !c.read_frame();
  CHECK(closed);
}

TEST_CASE("compaction purges old tombstones and moves the purge seqno") {
  couchbase_cluster cluster;
  cluster.start();
  auto vb = cbes::util::vbucket_for_key("p", 1024);
  cluster.upsert("default", "p", "1");
  cluster.upsert("default", "p", "2");
  cluster.remove("default", "p");
  cluster.upsert("default", "p", "3");
  cluster.remove("default", "p");
  REQUIRE(cluster.history("default", vb).size() == 5);
  cluster.compact("default", vb, 4);
  CHECK(cluster.history("default", vb).size() == 1);  // only the latest tombstone (seqno 5)
  CHECK(cluster.purge_seqno("default", vb) == 0);
  cluster.compact("default", vb, 5);
  CHECK(cluster.history("default", vb).empty());
  CHECK(cluster.purge_seqno("default", vb) == 5);
  CHECK(cluster.high_seqno("default", vb) == 5);
}
