// The Couchbase checkpoint store and the tool operations against the fake cluster: documents
// shaped like the Java connector's (empty binary body, xattr `cbes`, keys on their own vbucket),
// create-when-missing, retries of temporary failures, refusals that change nothing, catch-up.
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "cbes/checkpoint/couchbase_store.hpp"
#include "cbes/checkpoint/operations.hpp"
#include "cbes/testkit/couchbase_cluster.hpp"
#include "integration/couchbase/harness.hpp"
#include "unit/checkpoint/result_printer.hpp"

using namespace cbes::checkpoint;
using namespace couchbase_it;

namespace {

// Source bucket "default" and metadata bucket "meta", both with 1024 vbuckets on two nodes.
struct fixture {
  cbes::testkit::couchbase_cluster fake;
  asio::io_context io;
  std::shared_ptr<cb::cluster> meta;

  fixture() : fake(options()) {
    fake.start();
    meta = connect_to("meta", 30s);
  }
  ~fixture() {
    meta->close();
    drain(io);
  }

  static cbes::testkit::couchbase_cluster_options options() {
    auto o = fake_options(2, 1024);
    o.buckets.push_back(cbes::testkit::couchbase_bucket_options{"meta", 1024, 0});
    return o;
  }

  std::shared_ptr<cb::cluster> connect_to(const std::string& bucket,
                                          std::chrono::milliseconds op_timeout) {
    auto o = client_options(fake);
    o.bucket = bucket;
    o.operation_timeout = op_timeout;
    return connect_client(io, o);
  }

  std::shared_ptr<couchbase_store> open_store(std::shared_ptr<cb::cluster> c,
                                              const std::string& group = "example-group") {
    couchbase_store_options o;
    o.group = group;
    auto s = couchbase_store::open(std::move(c), o);
    REQUIRE(s);
    return *s;
  }

  std::optional<std::string> xattr(const std::string& key) {
    auto doc = fake.get("meta", key);
    if (!doc)
      return std::nullopt;
    for (const auto& [k, v] : doc->xattrs)
      if (k == "cbes")
        return v;
    return std::string("<no cbes xattr>");
  }
};

checkpoint sample(std::uint16_t vb) {
  return checkpoint{0x8000000000000000ULL + vb, 100U + vb, {90U + vb, 100U + vb}};
}

}  // namespace

TEST_CASE("save, load and clear round-trip the checkpoints of 1024 vbuckets") {
  fixture f;
  auto store = f.open_store(f.meta);
  REQUIRE(store->num_vbuckets() == 1024);
  checkpoint_map all;
  std::vector<std::uint16_t> vbs;
  for (std::uint16_t vb = 0; vb < 1024; ++vb) {
    all[vb] = sample(vb);
    vbs.push_back(vb);
  }
  auto before = run(f.io, store->load(vbs));
  REQUIRE(before);
  for (const auto& [vb, cp] : *before)
    REQUIRE(cp == std::nullopt);

  auto report = run(f.io, store->save(all));
  REQUIRE(report.ok());
  CHECK(report.saved.size() == 1024);
  CHECK(store->counters().saves == 1024);

  auto loaded = run(f.io, store->load(vbs));
  REQUIRE(loaded);
  for (const auto& [vb, cp] : *loaded) {
    INFO("vbucket " << vb);
    REQUIRE(cp == all[vb]);
  }

  REQUIRE(run(f.io, store->clear(1024)));
  for (std::uint16_t vb = 0; vb < 1024; vb += 97)
    CHECK_FALSE(f.fake.get("meta", store->key(vb)));
  auto after = run(f.io, store->load(vbs));
  REQUIRE(after);
  for (const auto& [vb, cp] : *after)
    REQUIRE(cp == std::nullopt);
  // Clearing again: absent documents are fine.
  CHECK(run(f.io, store->clear(1024)));
}

TEST_CASE("a checkpoint document has an empty binary body, the Java xattr and its own vbucket") {
  fixture f;
  auto store = f.open_store(f.meta);
  const std::uint16_t vb = 0;
  const std::string key = store->key(vb);
  CHECK(key == "_connector:cbes:example-group:checkpoint:0#292");
  REQUIRE_FALSE(f.fake.get("meta", key));  // the create-when-missing path

  checkpoint_map one{{vb, checkpoint{11413926783177085143ULL, 1234, {1200, 1234}}}};
  REQUIRE(run(f.io, store->save(one)).ok());
  auto doc = f.fake.get("meta", key);
  REQUIRE(doc);
  CHECK(doc->value.empty());
  CHECK_FALSE(doc->json);            // datatype raw, not the `{}` a mkdoc mutation would create
  CHECK(doc->flags == 0x03000800U);  // Java SDK 3's RawBinaryTranscoder flags (binary)
  CHECK(f.xattr(key) == R"({"checkpoint":{"vbuuid":-7032817290532466473,"seqno":1234,)"
                        R"("snapshot":{"startSeqno":1200,"endSeqno":1234}},"bucketUuid":""})");
  CHECK(f.fake.vbucket_of("meta", key) == vb);
  bool in_own_vbucket = false;
  for (const auto& item : f.fake.history("meta", vb))
    in_own_vbucket = in_own_vbucket || item.key == key;
  CHECK(in_own_vbucket);

  // The update path keeps the document as it is and replaces the xattr.
  const auto cas = doc->cas;
  one[vb] = checkpoint{1, 2, {2, 2}};
  REQUIRE(run(f.io, store->save(one)).ok());
  auto updated = f.fake.get("meta", key);
  REQUIRE(updated);
  CHECK(updated->cas != cas);
  CHECK(updated->value.empty());
  CHECK_FALSE(updated->json);
  CHECK(f.xattr(key) == encode_xattr(checkpoint{1, 2, {2, 2}}));

  // Keys of other vbuckets land on their own vbucket too.
  checkpoint_map some{{5, zero}, {511, zero}, {1023, zero}};
  REQUIRE(run(f.io, store->save(some)).ok());
  for (std::uint16_t v : {5, 511, 1023}) {
    INFO(store->key(v));
    CHECK(f.fake.vbucket_of("meta", store->key(v)) == v);
    CHECK(f.fake.get("meta", store->key(v)));
  }
}

TEST_CASE("a document without the xattr is no checkpoint, a malformed one is an error") {
  fixture f;
  auto store = f.open_store(f.meta);
  f.fake.upsert("meta", store->key(3), "");
  auto none = run(f.io, store->load({3}));
  REQUIRE(none);
  CHECK(none->at(3) == std::nullopt);

  std::vector<cbes::mcbp::subdoc_mutation_spec> specs;
  specs.push_back({cbes::mcbp::opcode::subdoc_dict_upsert, cbes::mcbp::subdoc_path_flag::xattr,
                   "cbes", R"({"checkpoint":{"vbuuid":"x"}})"});
  cb::mutate_in_options create;
  create.doc_flags = cbes::mcbp::subdoc_doc_flag::mkdoc;
  REQUIRE(run(f.io, f.meta->mutate_in({}, store->key(4), specs, create)));
  auto bad = run(f.io, store->load({3, 4}));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == errc::invalid_document);
  CHECK_THAT(bad.error().message, Catch::Contains("vbucket 4") && Catch::Contains(store->key(4)) &&
                                      Catch::Contains("checkpoint.vbuuid"));
}

TEST_CASE("a temporary failure is retried with backoff and counted") {
  fixture f;
  // A short client timeout: Etmpfail outlasts the client's own retries and reaches the store.
  auto impatient = f.connect_to("meta", 20ms);
  couchbase_store_options o;
  o.group = "example-group";
  o.backoff_seed = 1ms;
  o.backoff_cap = 10ms;
  auto store = couchbase_store::open(impatient, o);
  REQUIRE(store);
  // More failures than the client can absorb in 20 ms (it retries after 2, 4, 8 ms).
  f.fake.fail_next_ops(12);
  checkpoint_map one{{7, sample(7)}};
  auto report = run(f.io, (*store)->save(one));
  CHECK(report.ok());
  CHECK((*store)->counters().retries >= 1);
  CHECK((*store)->counters().save_failures == 0);
  CHECK(f.xattr((*store)->key(7)) == encode_xattr(sample(7)));
  impatient->close();
}

TEST_CASE("a failed vbucket does not stop the pass, and is reported and counted") {
  fixture f;
  auto store = f.open_store(f.meta);
  // Eaccess is not temporary: the first write (vbucket 0) fails at once, the others go on.
  f.fake.fail_next_ops(1, 0x24);
  checkpoint_map three{{0, sample(0)}, {1, sample(1)}, {2, sample(2)}};
  auto report = run(f.io, store->save(three));
  CHECK_FALSE(report.ok());
  CHECK(report.saved == std::vector<std::uint16_t>{1, 2});
  REQUIRE(report.failed.count(0) == 1);
  CHECK(report.failed.at(0).code == errc::store_failed);
  CHECK_THAT(report.failed.at(0).message, Catch::Contains(store->key(0)));
  CHECK_FALSE(report.first_error());
  CHECK(store->counters().save_failures == 1);
  CHECK(store->counters().saves == 2);
  CHECK_FALSE(f.fake.get("meta", store->key(0)));
}

TEST_CASE("backup and restore through the metadata bucket, a refused restore changes nothing") {
  fixture f;
  auto store = f.open_store(f.meta);
  const auto bucket = describe_bucket(*f.meta);
  CHECK(bucket.num_vbuckets == 1024);
  CHECK_FALSE(bucket.uuid.empty());
  checkpoint_map some{{1, sample(1)}, {900, sample(900)}};
  REQUIRE(run(f.io, store->save(some)).ok());
  auto b = run(f.io, take_backup(*store, bucket));
  REQUIRE(b);
  CHECK(b->bucket_uuid == bucket.uuid);
  REQUIRE(b->vbuckets.size() == 1024);
  CHECK(b->vbuckets.at(900) == sample(900));
  CHECK(b->vbuckets.at(2) == zero);

  checkpoint_map changed{{1, zero}, {900, zero}};
  REQUIRE(run(f.io, store->save(changed)).ok());
  const auto saves = store->counters().saves;
  const auto x1 = f.xattr(store->key(1));
  auto other = *b;
  other.bucket_uuid = "not-this-bucket";
  auto refused = run(f.io, restore_backup(*store, other, bucket));
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::bucket_uuid_mismatch);
  auto macos = *b;
  for (std::uint16_t vb = 64; vb < 1024; ++vb)
    macos.vbuckets.erase(vb);
  auto refused_count = run(f.io, restore_backup(*store, macos, bucket));
  REQUIRE_FALSE(refused_count);
  CHECK(refused_count.error().code == errc::vbucket_count_mismatch);
  CHECK(store->counters().saves == saves);
  CHECK(f.xattr(store->key(1)) == x1);
  CHECK_FALSE(f.fake.get("meta", store->key(2)));

  REQUIRE(run(f.io, restore_backup(*store, *b, bucket)));
  auto loaded = run(f.io, store->load({1, 2, 900}));
  REQUIRE(loaded);
  CHECK(loaded->at(1) == sample(1));
  CHECK(loaded->at(2) == zero);  // restore writes zero where the backup had none (Java's quirk)
  CHECK(loaded->at(900) == sample(900));
}

TEST_CASE("catch-up sets every vbucket to its newest failover uuid and high seqno") {
  fixture f;
  auto source = f.connect_to("default", 30s);
  f.fake.load_sample(300);
  f.fake.move_vbucket("default", 5, 1 - f.fake.active_node("default", 5));  // a second uuid
  auto store = f.open_store(f.meta);
  auto now = run(f.io, catch_up(*store, *source));
  REQUIRE(now);
  REQUIRE(now->size() == 1024);
  std::size_t with_data = 0;
  for (std::uint16_t vb = 0; vb < 1024; ++vb) {
    INFO("vbucket " << vb);
    const auto high = f.fake.high_seqno("default", vb);
    const auto log = f.fake.failover_log("default", vb);
    REQUIRE(now->at(vb) == checkpoint{log.front().uuid, high, {high, high}});
    with_data += high > 0 ? 1 : 0;
  }
  CHECK(with_data > 100);
  CHECK(f.fake.failover_log("default", 5).size() == 2);
  auto loaded = run(f.io, store->load({0, 5, 1023}));
  REQUIRE(loaded);
  for (std::uint16_t vb : {0, 5, 1023})
    CHECK(loaded->at(vb) == now->at(vb));
  source->close();
}
