#include <catch2/catch.hpp>

#include <string>

#include "cbes/util/base64.hpp"

using cbes::util::base64_decode;
using cbes::util::base64_encode;

// The test vectors of RFC 4648 section 10.
TEST_CASE("base64 encodes the RFC 4648 test vectors") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
}

TEST_CASE("base64 decodes the RFC 4648 test vectors") {
  CHECK(base64_decode("") == std::string());
  CHECK(base64_decode("Zg==") == std::string("f"));
  CHECK(base64_decode("Zm8=") == std::string("fo"));
  CHECK(base64_decode("Zm9v") == std::string("foo"));
  CHECK(base64_decode("Zm9vYg==") == std::string("foob"));
  CHECK(base64_decode("Zm9vYmE=") == std::string("fooba"));
  CHECK(base64_decode("Zm9vYmFy") == std::string("foobar"));
}

TEST_CASE("base64 round-trips every byte value and uses both high characters") {
  std::string all;
  for (int i = 0; i < 256; ++i)
    all += static_cast<char>(i);
  CHECK(base64_decode(base64_encode(all)) == all);
  CHECK(base64_encode("\xfb\xff") == "+/8=");
  CHECK(base64_decode("+/8=") == std::string("\xfb\xff"));
}

TEST_CASE("base64 decoding rejects unpadded text, foreign characters and misplaced padding") {
  CHECK_FALSE(base64_decode("Zg"));         // padding missing
  CHECK_FALSE(base64_decode("Zm9vY"));      // length not a multiple of four
  CHECK_FALSE(base64_decode("Zm9v YmFy"));  // whitespace
  CHECK_FALSE(base64_decode("Zm9-"));       // URL-safe alphabet is another encoding
  CHECK_FALSE(base64_decode("Zm9_"));
  CHECK_FALSE(base64_decode("Zm=v"));      // '=' inside a group
  CHECK_FALSE(base64_decode("Zg==Zm9v"));  // '=' before the last group
  CHECK_FALSE(base64_decode("Z==="));      // three padding characters
  CHECK_FALSE(base64_decode("===="));
  CHECK_FALSE(base64_decode(std::string("Zm9\0", 4)));
}
