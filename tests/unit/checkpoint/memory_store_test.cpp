// The in-memory store and the tool operations on it (backup, restore, clear).
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include "unit/checkpoint/result_printer.hpp"

#include "cbes/checkpoint/operations.hpp"
#include "cbes/checkpoint/store.hpp"
#include "support/run_coroutine.hpp"

using namespace cbes::checkpoint;
namespace asio = boost::asio;

TEST_CASE("the memory store loads what it saved and nothing for other vbuckets") {
  asio::io_context io;
  memory_store store(64);
  checkpoint_map in{{1, checkpoint{5, 6, {6, 6}}}, {63, checkpoint{7, 8, {1, 9}}}};
  auto report = cbes::test::run(io, store.save(in));
  CHECK(report.ok());
  CHECK(report.saved == std::vector<std::uint16_t>{1, 63});
  auto loaded = cbes::test::run(io, store.load({0, 1, 63}));
  REQUIRE(loaded);
  CHECK((*loaded)[0] == std::nullopt);
  CHECK((*loaded)[1] == in[1]);
  CHECK((*loaded)[63] == in[63]);
  CHECK(store.counters().saves == 2);
  CHECK(store.counters().loads == 3);
}

TEST_CASE("a store refuses vbuckets the bucket does not have, per vbucket on save") {
  asio::io_context io;
  memory_store store(64);
  checkpoint_map in{{3, zero}, {64, zero}};
  auto report = cbes::test::run(io, store.save(in));
  CHECK(report.saved == std::vector<std::uint16_t>{3});
  REQUIRE(report.failed.count(64) == 1);
  CHECK(report.failed.at(64).code == errc::invalid_argument);
  CHECK_FALSE(report.first_error());
  CHECK(store.counters().save_failures == 1);
  auto loaded = cbes::test::run(io, store.load({64}));
  REQUIRE_FALSE(loaded);
  CHECK(loaded.error().code == errc::invalid_argument);
}

TEST_CASE("backup, clear and restore through the operations round-trip every vbucket") {
  asio::io_context io;
  memory_store store(8);
  store.put(2, checkpoint{9, 10, {10, 10}});
  const bucket_info bucket{"uuid-1", 8};
  auto b = cbes::test::run(io, take_backup(store, bucket));
  REQUIRE(b);
  CHECK(b->bucket_uuid == "uuid-1");
  REQUIRE(b->vbuckets.size() == 8);
  CHECK(b->vbuckets.at(2) == checkpoint{9, 10, {10, 10}});
  CHECK(b->vbuckets.at(0) == zero);  // no checkpoint → zero, as the Java tool writes it

  REQUIRE(cbes::test::run(io, store.clear(8)));
  CHECK(store.snapshot().empty());

  REQUIRE(cbes::test::run(io, restore_backup(store, *b, bucket)));
  CHECK(store.snapshot() == b->vbuckets);
}

TEST_CASE("a refused restore changes nothing") {
  asio::io_context io;
  memory_store store(8);
  store.put(1, checkpoint{1, 1, {1, 1}});
  const auto before = store.snapshot();
  backup b;
  b.bucket_uuid = "uuid-1";
  for (std::uint16_t vb = 0; vb < 8; ++vb)
    b.vbuckets[vb] = checkpoint{2, 2, {2, 2}};
  auto wrong_uuid = cbes::test::run(io, restore_backup(store, b, bucket_info{"uuid-2", 8}));
  REQUIRE_FALSE(wrong_uuid);
  CHECK(wrong_uuid.error().code == errc::bucket_uuid_mismatch);
  auto wrong_count = cbes::test::run(io, restore_backup(store, b, bucket_info{"uuid-1", 16}));
  REQUIRE_FALSE(wrong_count);
  CHECK(wrong_count.error().code == errc::vbucket_count_mismatch);
  CHECK(store.snapshot() == before);
  CHECK(store.counters().saves == 0);
}
