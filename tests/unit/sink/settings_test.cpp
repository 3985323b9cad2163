#include <catch2/catch.hpp>

#include "cbes/sink/settings.hpp"

using namespace cbes::sink;

namespace {

sink_settings with_rule(type_rule_settings rule) {
  sink_settings s;
  s.types.push_back(std::move(rule));
  return s;
}

}  // namespace

TEST_CASE("sink settings carry the Java connector's code defaults") {
  const sink_settings s;
  CHECK(s.doc_structure.metadata_field_name.empty());
  CHECK_FALSE(s.doc_structure.document_content_at_top_level);
  CHECK_FALSE(s.doc_structure.wrap_counters);
  CHECK(s.limits.actions == 1000);
  CHECK(s.limits.bytes == 10u * 1024 * 1024);
  CHECK(s.limits.timeout == std::chrono::minutes(1));
  CHECK(s.limits.concurrent_requests == 2);
  CHECK(s.rejection_log.index.empty());
  CHECK(s.retry.first_delay == std::chrono::milliseconds(100));
  CHECK(s.retry.max_delay == std::chrono::minutes(5));
  CHECK_FALSE(s.retry.max_attempts);
  CHECK_FALSE(s.defaults.ignore);
  CHECK_FALSE(s.defaults.ignore_deletes);
  CHECK_FALSE(s.defaults.match_on_qualified_key);
}

TEST_CASE("validation accepts the example connector's type rules") {
  sink_settings s;
  s.types = {
      {.prefix = "_sync:", .ignore = true},
      {.prefix = "airline_", .index = "airlines"},
      {.regex = ".*port_.*", .index = "airports"},
      {.regex = "(?<index>.+?)::.*"},
      {.prefix = "route_", .index = "airlines", .routing = "/airlineid", .ignore_deletes = true},
      {.regex = "(?<index>[^.]+.[^.]+).*", .match_on_qualified_key = true},
      {.prefix = "", .index = "etc"},
  };
  CHECK_FALSE(validate(s));
}

TEST_CASE("validation requires at least one type rule") {
  const auto err = validate(sink_settings{});
  REQUIRE(err);
  CHECK(err->find("at least one") != std::string::npos);
}

TEST_CASE("validation rejects a rule with both prefix and regex") {
  const auto err = validate(with_rule({.prefix = "a", .regex = "a.*", .index = "x"}));
  REQUIRE(err);
  CHECK(*err == "elasticsearch.type #1: set exactly one of 'prefix' or 'regex', not both");
}

TEST_CASE("validation rejects a rule with neither prefix nor regex") {
  const auto err = validate(with_rule({.index = "x"}));
  REQUIRE(err);
  CHECK(*err == "elasticsearch.type #1: set one of 'prefix' or 'regex'");
}

TEST_CASE("validation reports an invalid regex with its position") {
  const auto err = validate(with_rule({.regex = "abc(def", .index = "x"}));
  REQUIRE(err);
  CHECK(err->starts_with("elasticsearch.type #1: invalid regex 'abc(def' at position "));
  CHECK(err->find('\n') == std::string::npos);
  const auto pos = check_regex("abc(def");
  REQUIRE(pos);
  CHECK(pos->position >= 3);
  CHECK_FALSE(check_regex("(?<index>.+?)::.*"));
}

TEST_CASE("validation rejects routing without ignoreDeletes") {
  const auto err =
      validate(with_rule({.prefix = "route_", .index = "airlines", .routing = "/airlineid"}));
  REQUIRE(err);
  CHECK(err->starts_with("elasticsearch.type #1: 'routing' requires 'ignoreDeletes = true'"));
}

TEST_CASE("validation takes ignoreDeletes for routing from typeDefaults") {
  auto s = with_rule({.prefix = "route_", .index = "airlines", .routing = "/airlineid"});
  s.defaults.ignore_deletes = true;
  CHECK_FALSE(validate(s));
}

TEST_CASE("validation reports an invalid routing JSON pointer with its position") {
  auto err = validate(
      with_rule({.prefix = "r", .index = "x", .routing = "airlineid", .ignore_deletes = true}));
  REQUIRE(err);
  CHECK(err->find("invalid JSON pointer 'airlineid' in 'routing' at position 0") !=
        std::string::npos);
  err = validate(
      with_rule({.prefix = "r", .index = "x", .routing = "/a~2b", .ignore_deletes = true}));
  REQUIRE(err);
  CHECK(err->find("at position 2") != std::string::npos);
  CHECK_FALSE(check_json_pointer("/a~0b/~1c/0"));
  CHECK_FALSE(check_json_pointer(""));
}

TEST_CASE("validation requires an index unless the rule is ignored or takes it from the key") {
  CHECK(validate(with_rule({.prefix = "a"})));
  CHECK_FALSE(validate(with_rule({.prefix = "a", .ignore = true})));
  CHECK_FALSE(validate(with_rule({.regex = "(?<index>[^:]+):.*"})));
  auto s = with_rule({.prefix = "a"});
  s.defaults.index = "from-defaults";
  CHECK_FALSE(validate(s));
  // An explicit empty string means "none", overriding the default.
  s.types[0].index = "";
  CHECK(validate(s));
}

TEST_CASE("validation rejects an index group together with an explicit index") {
  const auto err = validate(with_rule({.regex = "(?<index>[^:]+):.*", .index = "x"}));
  REQUIRE(err);
  CHECK(err->find("must not also set 'index'") != std::string::npos);
}

TEST_CASE("validation checks bulk limits and retry settings") {
  auto s = with_rule({.prefix = "", .index = "x"});
  s.limits.concurrent_requests = 17;
  CHECK(validate(s) ==
        std::optional<std::string>(
            "elasticsearch.bulkRequestLimits.concurrentRequests must be between 1 and 16, got 17"));
  s.limits.concurrent_requests = 16;
  CHECK_FALSE(validate(s));
  s.limits.actions = 0;
  CHECK(validate(s));
  s.limits.actions = 1;
  s.limits.bytes = 0;
  CHECK(validate(s));
  s.limits.bytes = 1;
  s.retry.max_attempts = 0;
  CHECK(validate(s));
}
