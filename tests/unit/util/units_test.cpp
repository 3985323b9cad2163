#include <catch2/catch.hpp>

#include "cbes/util/units.hpp"

using namespace std::chrono_literals;
using cbes::util::parse_duration;
using cbes::util::parse_size;

TEST_CASE("config durations accept Go syntax, any case, spaces and legacy units") {
  CHECK(parse_duration("100ms").value() == 100ms);
  CHECK(parse_duration("1h30m").value() == 90min);
  CHECK(parse_duration("0").value() == 0ns);
  CHECK(parse_duration("10 S").value() == 10s);
  CHECK(parse_duration("5nanos").value() == 5ns);
  CHECK(parse_duration("7micros").value() == 7us);
}

TEST_CASE("config durations reject missing units, negatives and garbage") {
  CHECK_FALSE(parse_duration("10"));
  CHECK_FALSE(parse_duration(""));
  CHECK_FALSE(parse_duration("ten seconds"));
  auto negative = parse_duration("-1s");
  REQUIRE_FALSE(negative);
  CHECK(negative.error().message == "invalid duration \"-1s\": a duration has no sign");
}

TEST_CASE("config sizes are powers of 1024 and need a unit") {
  CHECK(parse_size("10mb").value() == 10u << 20);
  CHECK(parse_size("1 K").value() == 1024u);
  CHECK(parse_size("3b").value() == 3u);
  CHECK(parse_size("2g").value() == 2ull << 30);
  CHECK_FALSE(parse_size("mb"));
  CHECK_FALSE(parse_size("99999999999999999999kb"));
  CHECK_FALSE(parse_size("20000000pb"));
}

TEST_CASE("a config size that does not parse says why in one line") {
  CHECK(parse_size("10").error().message ==
        "invalid size \"10\": missing unit (use b, kb, mb, gb, tb or pb)");
  CHECK(parse_size("10 X").error().message ==
        "invalid size \"10x\": unknown unit \"x\" (use b, kb, mb, gb, tb or pb)");
  CHECK(parse_size("20000000pb").error().message == "invalid size \"20000000pb\": out of range");
}
