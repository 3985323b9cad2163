#include <catch2/catch.hpp>

#include "cbes/util/units.hpp"

using namespace std::chrono_literals;
using cbes::util::parse_duration;
using cbes::util::parse_size;

TEST_CASE("config durations accept Go syntax, any case, spaces and legacy units") {
  CHECK(parse_duration("100ms") == 100ms);
  CHECK(parse_duration("1h30m") == 90min);
  CHECK(parse_duration("0") == 0ns);
  CHECK(parse_duration("10 S") == 10s);
  CHECK(parse_duration("5nanos") == 5ns);
  CHECK(parse_duration("7micros") == 7us);
}

TEST_CASE("config durations reject missing units, negatives and garbage") {
  CHECK_FALSE(parse_duration("10"));
  CHECK_FALSE(parse_duration("-1s"));
  CHECK_FALSE(parse_duration(""));
  CHECK_FALSE(parse_duration("ten seconds"));
}

TEST_CASE("config sizes are powers of 1024 and need a unit") {
  CHECK(parse_size("10mb") == 10u << 20);
  CHECK(parse_size("1 K") == 1024u);
  CHECK(parse_size("3b") == 3u);
  CHECK(parse_size("2g") == 2ull << 30);
  CHECK_FALSE(parse_size("10"));
  CHECK_FALSE(parse_size("mb"));
  CHECK_FALSE(parse_size("99999999999999999999kb"));
  CHECK_FALSE(parse_size("20000000pb"));
}
