#include <catch2/catch.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "cbes/util/go_duration.hpp"

using namespace std::chrono_literals;
using cbes::util::parse_go_duration;

namespace {

// The error message of a duration that must not parse.
std::string error_of(std::string_view text) {
  auto r = parse_go_duration(text);
  REQUIRE_FALSE(r);
  return r.error().message;
}

}  // namespace

TEST_CASE("go durations add up several numbers, each with its unit and fraction") {
  CHECK(parse_go_duration("1h2m3.5s").value() == 1h + 2min + 3500ms);
  CHECK(parse_go_duration("300ms").value() == 300ms);
  CHECK(parse_go_duration("1.5h").value() == 90min);
  CHECK(parse_go_duration(".5s").value() == 500ms);
  CHECK(parse_go_duration("5.s").value() == 5s);
  CHECK(parse_go_duration("2h45m").value() == 165min);
  CHECK(parse_go_duration("0").value() == 0ns);
  CHECK(parse_go_duration("0s").value() == 0ns);
}

TEST_CASE("go durations know every unit, microseconds in three spellings") {
  CHECK(parse_go_duration("7ns").value() == 7ns);
  CHECK(parse_go_duration("1us").value() == 1us);
  CHECK(parse_go_duration("1\xC2\xB5s").value() == 1us);  // U+00B5 micro sign
  CHECK(parse_go_duration("1\xCE\xBCs").value() == 1us);  // U+03BC Greek mu
  CHECK(parse_go_duration("1ms").value() == 1ms);
  CHECK(parse_go_duration("1m").value() == 1min);
}

TEST_CASE("go durations take a sign as Go does") {
  CHECK(parse_go_duration("-1s").value() == -1s);
  CHECK(parse_go_duration("+1s").value() == 1s);
  CHECK(parse_go_duration("-1.5m").value() == -90s);
  CHECK(parse_go_duration("-0").value() == 0ns);
}

TEST_CASE("go durations keep nanosecond precision where floating point would not") {
  CHECK(parse_go_duration("2562047h47m16.854775807s").value().count() == INT64_MAX);
  CHECK(parse_go_duration("-2562047h47m16.854775808s").value().count() == INT64_MIN);
  CHECK(parse_go_duration("9007199254740993ns").value().count() == 9007199254740993);
  // Fraction digits past what 63 bits hold are read and ignored.
  CHECK(parse_go_duration("0.1000000000000000000000001s").value() == 100ms);
}

TEST_CASE("go durations reject bad text with a message that names the text and the fault") {
  CHECK(error_of("15") == "invalid duration \"15\": missing unit (use ns, us, ms, s, m or h)");
  CHECK(error_of("1x") ==
        "invalid duration \"1x\": unknown unit \"x\" (use ns, us, ms, s, m or h)");
  CHECK(error_of("") == "invalid duration \"\": expected a number and a unit, e.g. 10s");
  CHECK(error_of("-") == "invalid duration \"-\": expected a number and a unit, e.g. 10s");
  CHECK(error_of("s") == "invalid duration \"s\": expected a number before each unit");
  CHECK(error_of(".s") == "invalid duration \".s\": expected digits around '.'");
  CHECK(error_of("1s 2m") ==
        "invalid duration \"1s 2m\": unknown unit \"s \" (use ns, us, ms, s, m or h)");
  CHECK(error_of("2562047h47m16.854775808s") ==
        "invalid duration \"2562047h47m16.854775808s\": out of range");
  CHECK(error_of("9223372036854775809ns") ==
        "invalid duration \"9223372036854775809ns\": out of range");
  CHECK(error_of("1\n") ==
        "invalid duration \"1?\": unknown unit \"?\" (use ns, us, ms, s, m or h)");
}

TEST_CASE("a go duration's value() throws invalid_argument carrying the message") {
  CHECK_THROWS_AS(parse_go_duration("soon").value(), std::invalid_argument);
  CHECK_THROWS_WITH(parse_go_duration("soon").value(),
                    "invalid duration \"soon\": expected a number before each unit");
}
