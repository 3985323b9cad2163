#include <catch2/catch.hpp>

#include <cstdio>

#include "cbes/mcbp/collection_key.hpp"
#include "cbes/util/crc32.hpp"
#include "cbes/util/leb128.hpp"
#include "unit/mcbp/support.hpp"

using cbes::mcbp::test::from_hex;
using cbes::mcbp::test::to_hex;

TEST_CASE("crc32 matches the IEEE check value") {
  CHECK(cbes::util::crc32("123456789") == 0xcbf43926U);
  CHECK(cbes::util::crc32("") == 0U);
}

TEST_CASE("vbucket hash puts the Java connector's example checkpoint key on vbucket 0") {
  // the Java connector's behaviour: the salt is the smallest one whose key lands on the
  // vbucket, so "#86" maps to 0 and no smaller salt does. The example holds for a bucket of
  // 64 vbuckets (as on development clusters); zlib.crc32 agrees, and finds 0x292 for 1024.
  const std::string base = "_connector:cbes:example-group:checkpoint:0#";
  const auto smallest_salt = [&](std::size_t vbuckets) {
    for (int salt = 0;; ++salt) {
      char hex[16];
      std::snprintf(hex, sizeof hex, "%x", salt);
      if (cbes::util::vbucket_for_key(base + hex, vbuckets) == 0)
        return salt;
    }
  };
  CHECK(cbes::util::vbucket_for_key(base + "86", 64) == 0);
  CHECK(smallest_salt(64) == 0x86);
  CHECK(smallest_salt(1024) == 0x292);
}

TEST_CASE("vbucket hash is ((crc32 >> 16) & 0x7fff) masked by the vbucket count") {
  const std::string key = "airline_10";
  const auto crc = cbes::util::crc32(key);
  CHECK(cbes::util::vbucket_for_key(key, 1024) == (((crc >> 16) & 0x7fff) & 1023));
  CHECK(cbes::util::vbucket_for_key(key, 64) == (((crc >> 16) & 0x7fff) & 63));
  CHECK(cbes::util::vbucket_for_key(key, 0) == 0);
}

TEST_CASE("uleb128 encodes the reference test vectors") {
  // the vectors of the collections key encoding in kv_engine's protocol docs
  CHECK(to_hex(cbes::util::encode_uleb128(0x00)) == "00");
  CHECK(to_hex(cbes::util::encode_uleb128(0x7f)) == "7f");
  CHECK(to_hex(cbes::util::encode_uleb128(0x80)) == "80 01");
  CHECK(to_hex(cbes::util::encode_uleb128(0x555)) == "d5 0a");
  CHECK(to_hex(cbes::util::encode_uleb128(0x7fff)) == "ff ff 01");
  CHECK(to_hex(cbes::util::encode_uleb128(0x8000)) == "80 80 02");
  CHECK(to_hex(cbes::util::encode_uleb128(0xcafef00d)) == "8d e0 fb d7 0c");
  CHECK(to_hex(cbes::util::encode_uleb128(0xffffffff)) == "ff ff ff ff 0f");
}

TEST_CASE("uleb128 decodes the reference vectors and reports the bytes consumed") {
  for (std::uint32_t v : {0x0U, 0x7fU, 0x80U, 0x555U, 0x7fffU, 0x8000U, 0xcafef00dU, 0xffffffffU}) {
    const auto wire = cbes::util::encode_uleb128(v) + "key";
    const auto d = cbes::util::decode_uleb128(wire);
    REQUIRE(d);
    CHECK(d->value == v);
    CHECK(d->size == wire.size() - 3);
  }
}

TEST_CASE("uleb128 refuses truncated, overlong, overflowing and non-canonical input") {
  CHECK_FALSE(cbes::util::decode_uleb128(""));
  CHECK_FALSE(cbes::util::decode_uleb128(from_hex("80")));
  CHECK_FALSE(cbes::util::decode_uleb128(from_hex("80 00")));           // 0 in two bytes
  CHECK_FALSE(cbes::util::decode_uleb128(from_hex("ff ff ff ff 1f")));  // > 32 bits
  CHECK_FALSE(cbes::util::decode_uleb128(from_hex("80 80 80 80 80 01")));
}

TEST_CASE("collection keys carry the collection id as a LEB128 prefix") {
  CHECK(to_hex(cbes::mcbp::encode_collection_key(8, "ab")) == "08 61 62");
  CHECK(to_hex(cbes::mcbp::encode_collection_key(0x555, "a")) == "d5 0a 61");
  const auto wire = from_hex("d5 0a 61");
  const auto k = cbes::mcbp::decode_collection_key(wire);
  REQUIRE(k);
  CHECK(k->collection_id == 0x555);
  CHECK(k->key == "a");
  CHECK(cbes::mcbp::decode_collection_key(from_hex("80 00 61")).error() ==
        cbes::mcbp::errc::bad_leb128);
}

TEST_CASE("hex ids are lowercase without 0x and parse strictly") {
  CHECK(cbes::mcbp::format_hex_id(0x1c) == "1c");
  CHECK(cbes::mcbp::format_hex_id(0) == "0");
  CHECK(cbes::mcbp::parse_hex_id("1C").value() == 0x1c);
  CHECK_FALSE(cbes::mcbp::parse_hex_id("0x1c"));
  CHECK_FALSE(cbes::mcbp::parse_hex_id(""));
  CHECK_FALSE(cbes::mcbp::parse_hex_id("12345678901234567"));
}
