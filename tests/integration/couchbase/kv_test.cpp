#include <catch2/catch.hpp>

#include "integration/couchbase/harness.hpp"

using namespace couchbase_it;
using cb::errc;

namespace {

struct fixture {
  cbes::testkit::couchbase_cluster fake;
  asio::io_context io;
  std::shared_ptr<cb::cluster> client;

  explicit fixture(std::size_t nodes = 1, cb::cluster_options tweak = {}, bool tweak_set = false)
      : fake(fake_options(nodes)) {
    fake.start();
    auto o = client_options(fake);
    if (tweak_set) {
      o.operation_timeout = tweak.operation_timeout;
      o.config_push = tweak.config_push;
    }
    client = connect_client(io, o);
  }
  ~fixture() {
    client->close();
    client.reset();
    drain(io);
  }
};

}  // namespace

TEST_CASE("upsert get and remove round-trip a document") {
  fixture f;
  run(f.io, [&]() -> asio::awaitable<void> {
    auto& c = *f.client;
    auto up = co_await c.upsert({}, "airline_1", R"({"name":"A"})", {.flags = 0x02000006});
    REQUIRE(up);
    CHECK(up->cas != 0);
    auto doc = f.fake.get("default", "airline_1");
    REQUIRE(doc);
    CHECK(doc->value == R"({"name":"A"})");
    CHECK(doc->cas == up->cas);

    auto got = co_await c.get({}, "airline_1");
    REQUIRE(got);
    CHECK(got->value == R"({"name":"A"})");
    CHECK(got->flags == 0x02000006u);
    CHECK(got->cas == up->cas);

    auto awaited1 = co_await c.remove({}, "airline_1");
    REQUIRE(awaited1);
    CHECK_FALSE(f.fake.get("default", "airline_1"));
    auto gone = co_await c.get({}, "airline_1");
    REQUIRE_FALSE(gone);
    CHECK(gone.error().code == errc::document_not_found);
    auto again = co_await c.remove({}, "airline_1");
    REQUIRE_FALSE(again);
    CHECK(again.error().code == errc::document_not_found);
  }());
}

TEST_CASE("upsert with a stale CAS is refused as document_exists") {
  fixture f;
  run(f.io, [&]() -> asio::awaitable<void> {
    auto& c = *f.client;
    auto first = co_await c.upsert({}, "k", "1");
    REQUIRE(first);
    auto awaited2 = co_await c.upsert({}, "k", "2");
    REQUIRE(awaited2);
    auto stale = co_await c.upsert({}, "k", "3", {.cas = first->cas});
    REQUIRE_FALSE(stale);
    CHECK(stale.error().code == errc::document_exists);
    CHECK(f.fake.get("default", "k")->value == "2");
  }());
}

TEST_CASE("an xattr is created with mkdoc then read back and updated") {
  fixture f;
  run(f.io, [&]() -> asio::awaitable<void> {
    auto& c = *f.client;
    auto missing = co_await c.lookup_xattr({}, "_cbes::checkpoint::7", "cbes");
    REQUIRE(missing);
    CHECK_FALSE(*missing);

    auto awaited3 = co_await c.upsert_xattr({}, "_cbes::checkpoint::7", "cbes", R"({"seqno":42})");
    REQUIRE(awaited3);
    auto doc = f.fake.get("default", "_cbes::checkpoint::7");
    REQUIRE(doc);
    REQUIRE(doc->xattrs.size() == 1);
    CHECK(doc->xattrs[0].first == "cbes");
    CHECK(doc->xattrs[0].second == R"({"seqno":42})");

    auto read = co_await c.lookup_xattr({}, "_cbes::checkpoint::7", "cbes");
    REQUIRE(read);
    REQUIRE(*read);
    CHECK(**read == R"({"seqno":42})");

    auto awaited4 = co_await c.upsert_xattr({}, "_cbes::checkpoint::7", "cbes", R"({"seqno":43})");
    REQUIRE(awaited4);
    auto again = co_await c.lookup_xattr({}, "_cbes::checkpoint::7", "cbes");
    REQUIRE(again);
    REQUIRE(*again);
    CHECK(**again == R"({"seqno":43})");
  }());
}

TEST_CASE("a document without the xattr reads as absent and not as an error") {
  fixture f;
  f.fake.upsert("default", "plain", R"({"x":1})");
  run(f.io, [&]() -> asio::awaitable<void> {
    auto r = co_await f.client->lookup_xattr({}, "plain", "cbes");
    REQUIRE(r);
    CHECK_FALSE(*r);
  }());
}

TEST_CASE("lookup_in returns one result per spec with its own status") {
  fixture f;
  f.fake.upsert("default", "multi", R"({"a":1})");
  run(f.io, [&]() -> asio::awaitable<void> {
    using namespace cbes::mcbp;
    std::vector<subdoc_lookup_spec> specs{{opcode::subdoc_get, subdoc_path_flag::xattr, "nope"},
                                          {opcode::subdoc_get, 0, "a"}};
    auto r = co_await f.client->lookup_in({}, "multi", std::move(specs));
    REQUIRE(r);
    REQUIRE(r->fields.size() == 2);
    CHECK(r->fields[0].status == status::subdoc_path_enoent);
    CHECK(r->fields[1].status == status::success);
    CHECK(r->fields[1].value == "1");
  }());
}

TEST_CASE("documents in a named collection use its id, an unknown collection is a clear error") {
  fixture f;
  f.fake.create_scope("default", "meta");
  const auto cid = f.fake.create_collection("default", "meta", "checkpoints");
  run(f.io, [&]() -> asio::awaitable<void> {
    auto& c = *f.client;
    const cb::collection meta{"meta", "checkpoints"};
    auto id = co_await c.collection_id(meta);
    REQUIRE(id);
    CHECK(*id == cid);
    auto awaited5 = co_await c.upsert_xattr(meta, "cp", "cbes", R"({"v":1})");
    REQUIRE(awaited5);
    auto doc = f.fake.get("default", "cp", "meta.checkpoints");
    REQUIRE(doc);
    CHECK(doc->xattrs.at(0).second == R"({"v":1})");
    CHECK_FALSE(f.fake.get("default", "cp"));  // not in the default collection

    auto unknown = co_await c.upsert({"meta", "nope"}, "x", "{}");
    REQUIRE_FALSE(unknown);
    CHECK(unknown.error().code == errc::unknown_collection);
    CHECK(unknown.error().message.find("'meta.nope'") != std::string::npos);
  }());
}

TEST_CASE("ETMPFAIL answers are retried until the operation succeeds") {
  fixture f;
  f.fake.fail_next_ops(5);
  run(f.io, [&]() -> asio::awaitable<void> {
    auto r = co_await f.client->upsert({}, "retry", R"({"n":1})");
    REQUIRE(r);
    CHECK(f.fake.get("default", "retry")->value == R"({"n":1})");
  }());
}

TEST_CASE("EBUSY is retried like ETMPFAIL") {
  fixture f;
  f.fake.fail_next_ops(3, 0x85);
  f.fake.upsert("default", "busy", "v");
  run(f.io, [&]() -> asio::awaitable<void> {
    auto r = co_await f.client->get({}, "busy");
    REQUIRE(r);
    CHECK(r->value == "v");
  }());
}

TEST_CASE("a temporary failure that outlasts the operation timeout is reported as such") {
  cb::cluster_options t;
  t.operation_timeout = 300ms;
  fixture f(1, t, true);
  f.fake.fail_next_ops(1000000);
  run(f.io, [&]() -> asio::awaitable<void> {
    auto r = co_await f.client->get({}, "x");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::temporary_failure);
    CHECK(r.error().message.find("Etmpfail") != std::string::npos);
  }());
  f.fake.fail_next_ops(0);
}

TEST_CASE("get_all_vb_seqnos covers every vbucket of every node") {
  fixture f(2);
  f.fake.upsert("default", "a", "1");
  f.fake.upsert("default", "a", "2");
  const auto vb = f.fake.vbucket_of("default", "a");
  run(f.io, [&]() -> asio::awaitable<void> {
    auto r = co_await f.client->get_all_vb_seqnos();
    REQUIRE(r);
    REQUIRE(r->size() == 64);
    for (std::size_t i = 0; i < r->size(); ++i) {
      CHECK(r->at(i).vbucket == i);
      CHECK(r->at(i).seqno == f.fake.high_seqno("default", static_cast<std::uint16_t>(i)));
    }
    CHECK(r->at(vb).seqno >= 2);
  }());
}

TEST_CASE("the failover log comes from the vbucket's active node") {
  fixture f(2);
  f.fake.move_vbucket("default", 3, 1 - f.fake.active_node("default", 3));  // adds an entry
  run(f.io, [&]() -> asio::awaitable<void> {
    co_await f.client->refresh_config();
    auto r = co_await f.client->failover_log(3);
    REQUIRE(r);
    const auto expected = f.fake.failover_log("default", 3);
    REQUIRE(r->size() == expected.size());
    CHECK(r->size() >= 2);
    for (std::size_t i = 0; i < expected.size(); ++i) {
      CHECK(r->at(i).vbucket_uuid == expected[i].uuid);
      CHECK(r->at(i).seqno == expected[i].seqno);
    }
  }());
}
