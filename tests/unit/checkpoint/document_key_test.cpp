// Checkpoint document keys: `_connector:cbes:<group>:checkpoint:<vb>#<hex salt>` with the
// smallest salt that makes the key hash to its own vbucket. The expected keys were computed
// independently (Python's zlib.crc32 over the same rule).
#include <catch2/catch.hpp>

#include "unit/checkpoint/result_printer.hpp"

#include "cbes/checkpoint/document_key.hpp"
#include "cbes/util/crc32.hpp"

using namespace cbes::checkpoint;

TEST_CASE("the Java connector's example key: vbucket 0 of example-group with 64 vbuckets") {
  // The example in the Java connector's tests comes from a 64-vbucket bucket: with 128 the
  // smallest salt is the same, with 1024 it is 0x292.
  CHECK(document_key("example-group", 0, 64) == "_connector:cbes:example-group:checkpoint:0#86");
  CHECK(document_key("example-group", 0, 128) == "_connector:cbes:example-group:checkpoint:0#86");
  CHECK(document_key("example-group", 0, 1024) == "_connector:cbes:example-group:checkpoint:0#292");
}

TEST_CASE("checkpoint keys for 1024, 128 and 64 vbuckets take the smallest fitting salt") {
  struct expected {
    std::size_t num_vbuckets;
    std::uint16_t vb;
    const char* key;
  };
  for (const auto& e : {
           expected{1024, 1, "_connector:cbes:example-group:checkpoint:1#1211"},
           expected{1024, 511, "_connector:cbes:example-group:checkpoint:511#8bf"},
           expected{1024, 1023, "_connector:cbes:example-group:checkpoint:1023#fd9"},
           expected{128, 77, "_connector:cbes:example-group:checkpoint:77#2f"},
           expected{128, 127, "_connector:cbes:example-group:checkpoint:127#28"},
           expected{64, 5, "_connector:cbes:example-group:checkpoint:5#96"},
           expected{64, 63, "_connector:cbes:example-group:checkpoint:63#36"},
       }) {
    INFO(e.key);
    CHECK(document_key("example-group", e.vb, e.num_vbuckets) == e.key);
    CHECK(cbes::util::vbucket_for_key(e.key, e.num_vbuckets) == e.vb);
  }
}

TEST_CASE("every cached key of a group hashes to its own vbucket, and the cache is shared") {
  auto keys = document_keys("g1", 1024);
  REQUIRE(keys->size() == 1024);
  for (std::size_t vb = 0; vb < keys->size(); ++vb) {
    INFO((*keys)[vb]);
    REQUIRE(cbes::util::vbucket_for_key((*keys)[vb], 1024) == vb);
    REQUIRE((*keys)[vb].starts_with("_connector:cbes:g1:checkpoint:" + std::to_string(vb) + "#"));
  }
  CHECK(document_keys("g1", 1024) == keys);              // same table, not recomputed
  CHECK(document_keys("g1", 64) != keys);                // another vbucket count, other salts
  CHECK((*document_keys("g2", 1024))[0] != (*keys)[0]);  // another group, other keys
}

TEST_CASE("a salt is only forced onto a vbucket that exists") {
  CHECK_FALSE(force_key_to_vbucket("k", 64, 64));
  CHECK_FALSE(force_key_to_vbucket("k", 0, 0));
  CHECK(document_key("g", 70, 64) == "_connector:cbes:g:checkpoint:70");
}

TEST_CASE("crc32 continues over more bytes like zlib's crc32(crc, buf)") {
  CHECK(cbes::util::crc32("6789", cbes::util::crc32("12345")) == cbes::util::crc32("123456789"));
  CHECK(cbes::util::crc32("123456789", 0) == 0xcbf43926U);
}
