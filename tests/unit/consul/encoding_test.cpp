#include <catch2/catch.hpp>

#include "consul/encoding.hpp"

using namespace std::chrono_literals;

TEST_CASE("base64 round-trips binary values as Consul's KV JSON carries them") {
  CHECK(consul::base64_encode("test") == "dGVzdA==");
  CHECK(consul::base64_encode("") == "");
  CHECK(consul::base64_encode("ab") == "YWI=");
  std::string all;
  for (int i = 0; i < 256; ++i)
    all += static_cast<char>(i);
  CHECK(consul::base64_decode(consul::base64_encode(all)) == all);
}

TEST_CASE("base64 decoding rejects malformed text") {
  CHECK_FALSE(consul::base64_decode("abc"));
  CHECK_FALSE(consul::base64_decode("a=bc"));
  CHECK_FALSE(consul::base64_decode("ab!c"));
  CHECK(consul::base64_decode("YWI=") == std::string("ab"));
}

TEST_CASE("Go durations parse as time.ParseDuration does") {
  CHECK(consul::parse_go_duration("15s") == 15s);
  CHECK(consul::parse_go_duration("15000ms") == 15s);
  CHECK(consul::parse_go_duration("1m30s") == 90s);
  CHECK(consul::parse_go_duration("9.98s") == 9980ms);
  CHECK(consul::parse_go_duration("0.001s") == 1ms);
  CHECK(consul::parse_go_duration("0") == 0s);
  CHECK(consul::parse_go_duration("1h") == 1h);
  CHECK(consul::parse_go_duration("3\xC2\xB5s") == 3us);
  CHECK_FALSE(consul::parse_go_duration("15"));
  CHECK_FALSE(consul::parse_go_duration(""));
  CHECK_FALSE(consul::parse_go_duration("s"));
  CHECK_FALSE(consul::parse_go_duration("1x"));
}

TEST_CASE("Go durations format exactly and parse back") {
  CHECK(consul::format_go_duration(15s) == "15s");
  CHECK(consul::format_go_duration(90s) == "1m30s");
  CHECK(consul::format_go_duration(0s) == "0s");
  CHECK(consul::format_go_duration(1500ms) == "1500ms");
  CHECK(consul::format_go_duration(250ms) == "250ms");
  for (std::chrono::nanoseconds d :
       std::initializer_list<std::chrono::nanoseconds>{1ns, 999us, 15s, 61min, 86400s, 1234567ms})
    CHECK(consul::parse_go_duration(consul::format_go_duration(d)) == d);
}
