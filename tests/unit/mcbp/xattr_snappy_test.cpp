#include <catch2/catch.hpp>

#include "cbes/mcbp/datatype.hpp"
#include "cbes/mcbp/snappy.hpp"
#include "cbes/mcbp/xattr.hpp"
#include "unit/mcbp/support.hpp"

using namespace cbes::mcbp;
using test::from_hex;
using test::to_hex;

TEST_CASE("xattr section encodes total length then NUL-terminated pairs, then the body") {
  const auto v = encode_xattrs({{"a", "1"}, {"_s", "{}"}}, "body");
  // total = (4+1+1+1+1) + (4+2+1+2+1) = 8 + 10 = 18.
  CHECK(to_hex(v) == to_hex(from_hex("00000012 00000004 61 00 31 00 00000006 5f73 00 7b7d 00"
                                     "626f6479")));
  const auto doc = decode_xattrs(v);
  REQUIRE(doc);
  REQUIRE(doc->xattrs.size() == 2);
  CHECK(doc->xattrs[0].key == "a");
  CHECK(doc->xattrs[0].value == "1");
  CHECK(doc->find("_s")->value == "{}");
  CHECK(is_system_xattr(doc->xattrs[1].key));
  CHECK_FALSE(doc->find("missing"));
  CHECK(doc->body == "body");
}

TEST_CASE("an empty xattr value and an empty body are fine") {
  const auto v = encode_xattrs({{"cbes", ""}}, "");
  const auto doc = decode_xattrs(v);
  REQUIRE(doc);
  CHECK(doc->xattrs[0].value.empty());
  CHECK(doc->body.empty());
  CHECK(decode_xattrs(encode_xattrs({}, "x"))->body == "x");
}

TEST_CASE("xattr sections whose lengths lie are refused") {
  CHECK(decode_xattrs("").error() == errc::bad_xattr);
  CHECK(decode_xattrs(from_hex("000000")).error() == errc::bad_xattr);
  // total beyond the value.
  CHECK(decode_xattrs(from_hex("00000010 00000004 61003100")).error() == errc::bad_xattr);
  // pair length beyond the section.
  CHECK(decode_xattrs(from_hex("00000008 00000009 61003100")).error() == errc::bad_xattr);
  // missing terminators / missing value NUL / empty key.
  CHECK(decode_xattrs(from_hex("00000008 00000004 61313131")).error() == errc::bad_xattr);
  CHECK(decode_xattrs(from_hex("00000008 00000004 61003131")).error() == errc::bad_xattr);
  CHECK(decode_xattrs(from_hex("00000008 00000004 00310000")).error() == errc::bad_xattr);
  // section too short for a pair length.
  CHECK(decode_xattrs(from_hex("00000002 0000")).error() == errc::bad_xattr);
}

TEST_CASE("snappy round-trips and inflate_value honours the datatype bit") {
  const std::string json(10000, 'a');
  const auto small = snappy_compress(json);
  CHECK(small.size() < json.size());
  CHECK(snappy_decompress(small, json.size()).value() == json);
  CHECK(inflate_value(datatype::json | datatype::snappy, small, 1 << 20).value() == json);
  CHECK(inflate_value(datatype::json, "{}", 10).value() == "{}");
  CHECK(inflate_value(datatype::json, "{}", 1).error() == errc::decompressed_too_large);
}

TEST_CASE("snappy refuses data that would inflate beyond the limit, before allocating") {
  const auto small = snappy_compress(std::string(10000, 'a'));
  CHECK(snappy_decompress(small, 9999).error() == errc::decompressed_too_large);
  // A header claiming ~4 GiB with no data behind it.
  CHECK(snappy_decompress(from_hex("ff ff ff ff 0f"), 20 << 20).error() ==
        errc::decompressed_too_large);
}

TEST_CASE("corrupt snappy data is an error, not a crash") {
  CHECK(snappy_decompress(from_hex("ff ff ff ff ff ff"), 1 << 20).error() == errc::bad_snappy);
  auto small = snappy_compress(std::string(1000, 'b'));
  small.resize(small.size() / 2);
  CHECK(snappy_decompress(small, 1 << 20).error() == errc::bad_snappy);
  CHECK(snappy_decompress("", 1 << 20).error() == errc::bad_snappy);
}
