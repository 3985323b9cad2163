// A request the server applied but never answered (the connection closed first): reads and
// mutations that land the same way twice are sent again; the others must not be, because the
// second attempt would report "not found" / "exists" for an operation that succeeded.
#include <catch2/catch.hpp>

#include "integration/couchbase/harness.hpp"

using namespace couchbase_it;
using cb::errc;

namespace {

struct fixture {
  cbes::testkit::couchbase_cluster fake;
  asio::io_context io;
  std::shared_ptr<cb::cluster> client;

  fixture() : fake(fake_options()) {
    fake.start();
    client = connect_client(io, client_options(fake));
  }
  ~fixture() {
    client->close();
    client.reset();
    drain(io);
  }
};

void check_ambiguous(const cb::error& e) {
  INFO(e.what());
  CHECK(e.code == errc::ambiguous);
  CHECK(e.message.find("may or may not have been applied") != std::string::npos);
}

}  // namespace

TEST_CASE("a remove applied but never answered is ambiguous, not document_not_found") {
  fixture f;
  f.fake.upsert("default", "gone", R"({"a":1})");
  f.fake.apply_then_drop_next_ops(1);
  run(f.io, [&]() -> asio::awaitable<void> {
    auto r = co_await f.client->remove({}, "gone");
    REQUIRE_FALSE(r);
    check_ambiguous(r.error());
  }());
  CHECK_FALSE(f.fake.get("default", "gone"));  // it did happen
}

TEST_CASE("a CAS upsert applied but never answered is ambiguous, not document_exists") {
  fixture f;
  const auto cas = f.fake.upsert("default", "k", "1");
  f.fake.apply_then_drop_next_ops(1);
  run(f.io, [&]() -> asio::awaitable<void> {
    cb::upsert_options o;
    o.cas = cas;
    auto r = co_await f.client->upsert({}, "k", "2", o);
    REQUIRE_FALSE(r);
    check_ambiguous(r.error());
  }());
  CHECK(f.fake.get("default", "k")->value == "2");
}

TEST_CASE("a mutate_in counter applied but never answered is ambiguous and counted once") {
  fixture f;
  f.fake.upsert("default", "c", R"({"n":0})");
  f.fake.apply_then_drop_next_ops(1);
  run(f.io, [&]() -> asio::awaitable<void> {
    std::vector<cbes::mcbp::subdoc_mutation_spec> specs;
    specs.push_back({cbes::mcbp::opcode::subdoc_counter, 0, "n", "1"});
    auto r = co_await f.client->mutate_in({}, "c", std::move(specs));
    REQUIRE_FALSE(r);
    check_ambiguous(r.error());
  }());
  CHECK(f.fake.get("default", "c")->value == R"({"n":1})");
}

TEST_CASE("a get whose connection closes before the answer is sent again and succeeds") {
  fixture f;
  f.fake.upsert("default", "k", R"({"v":1})");
  f.fake.apply_then_drop_next_ops(1);
  const auto opened = f.client->counters().connections_opened;
  run(f.io, [&]() -> asio::awaitable<void> {
    auto r = co_await f.client->get({}, "k");
    REQUIRE(r);
    CHECK(r->value == R"({"v":1})");
  }());
  CHECK(f.client->counters().connections_opened == opened + 1);  // answered on a new connection
}

TEST_CASE("a checkpoint xattr upsert whose connection closes before the answer is sent again") {
  fixture f;
  f.fake.apply_then_drop_next_ops(1);
  run(f.io, [&]() -> asio::awaitable<void> {
    auto r = co_await f.client->upsert_xattr({}, "cp", "cbes", R"({"seqno":7})");
    REQUIRE(r);
  }());
  auto doc = f.fake.get("default", "cp");
  REQUIRE(doc);
  REQUIRE(doc->xattrs.size() == 1);
  CHECK(doc->xattrs[0].second == R"({"seqno":7})");
}
