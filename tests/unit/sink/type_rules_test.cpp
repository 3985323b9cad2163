#include <catch2/catch.hpp>

#include "cbes/sink/type_rules.hpp"

using namespace cbes::sink;

namespace {

type_rules compile(std::vector<type_rule_settings> types, type_defaults defaults = {}) {
  sink_settings s;
  s.types = std::move(types);
  s.defaults = std::move(defaults);
  auto rules = type_rules::compile(s);
  REQUIRE(rules.has_value());
  return std::move(*rules);
}

document_event mutation(std::string key, std::string content = R"({"a":1})") {
  document_event ev;
  ev.key = std::move(key);
  ev.content = std::move(content);
  return ev;
}

document_event deletion(std::string key) {
  document_event ev;
  ev.key = std::move(key);
  ev.is_deletion = true;
  return ev;
}

// The example connector's rules (the Java connector's behaviour).
type_rules example_rules() {
  return compile({
      {.prefix = "_sync:", .ignore = true},
      {.prefix = "airline_", .index = "airlines"},
      {.regex = ".*port_.*", .index = "airports"},
      {.regex = "(?<index>.+?)::.*"},
      {.prefix = "route_", .index = "airlines", .routing = "/airlineid", .ignore_deletes = true},
      {.prefix = "", .index = "etc"},
  });
}

}  // namespace

TEST_CASE("type rules: first matching rule wins, in configuration order") {
  const auto rules = example_rules();
  auto m = rules.match(mutation("airline_10"));
  CHECK(m.kind == match_kind::index);
  CHECK(m.index == "airlines");
  CHECK(m.rule == 1);
  m = rules.match(mutation("airport_1254"));
  CHECK(m.index == "airports");
  CHECK(m.rule == 2);
  m = rules.match(mutation("hotel_99"));
  CHECK(m.index == "etc");
  CHECK(m.rule == 5);
}

TEST_CASE("type rules: an empty prefix matches every key") {
  const auto rules = compile({{.prefix = "", .index = "all"}});
  CHECK(rules.match(mutation("")).index == "all");
  CHECK(rules.match(mutation("anything")).index == "all");
}

TEST_CASE("type rules: a regex must match the whole key") {
  const auto rules = compile({{.regex = "port_[0-9]+", .index = "p"}});
  CHECK(rules.match(mutation("port_12")).kind == match_kind::index);
  CHECK(rules.match(mutation("airport_12")).kind == match_kind::skip_no_rule);
  CHECK(rules.match(mutation("port_12x")).kind == match_kind::skip_no_rule);
}

TEST_CASE("type rules: the index group names the index, sanitised and lower-cased") {
  const auto rules = example_rules();
  CHECK(rules.match(mutation("widget::123")).index == "widget");
  CHECK(rules.match(mutation("widget::foo::bar")).index == "widget");
  CHECK(rules.match(mutation("Gadget::1")).index == "gadget");
  CHECK(rules.match(mutation("_Hidden::1")).index == "@hidden");
  CHECK(rules.match(mutation("-dash::1")).index == "@dash");
}

TEST_CASE("type rules: index sanitising only touches the first character and case") {
  CHECK(sanitize_index_name("_default._default") == "@default._default");
  CHECK(sanitize_index_name("-x_-Y") == "@x_-y");
  CHECK(sanitize_index_name("ok") == "ok");
  CHECK(sanitize_index_name("") == "");
}

TEST_CASE("type rules: matchOnQualifiedKey matches <scope>.<collection>.<id>") {
  const auto rules = compile({
      {.regex = "(?<index>[^.]+.[^.]+).*", .match_on_qualified_key = true},
  });
  auto ev = mutation("doc1");
  CHECK(rules.match(ev).index == "@default._default");
  ev.scope = "inventory";
  ev.collection = "Hotel";
  CHECK(rules.match(ev).index == "inventory.hotel");
  CHECK(qualified_key(ev) == "inventory.Hotel.doc1");

  const auto collection_only = compile({
      {.regex = "[^.]+.(?<index>[^.]+).*", .match_on_qualified_key = true},
  });
  CHECK(collection_only.match(ev).index == "hotel");
}

TEST_CASE("type rules: matchOnQualifiedKey is inherited from typeDefaults") {
  const auto rules =
      compile({{.prefix = "inventory.", .index = "inv"}}, {.match_on_qualified_key = true});
  auto ev = mutation("doc1");
  CHECK(rules.match(ev).kind == match_kind::skip_no_rule);
  ev.scope = "inventory";
  CHECK(rules.match(ev).index == "inv");
}

TEST_CASE("type rules: ignore skips mutations and deletions") {
  const auto rules = example_rules();
  auto m = rules.match(mutation("_sync:att:1"));
  CHECK(m.kind == match_kind::skip_ignored);
  CHECK(m.rule == 0);
  CHECK(rules.match(deletion("_sync:att:1")).kind == match_kind::skip_ignored);
}

TEST_CASE("type rules: ignoreDeletes skips deletions but indexes mutations") {
  const auto rules = example_rules();
  CHECK(rules.match(deletion("route_10000")).kind == match_kind::skip_ignored_delete);
  CHECK(rules.match(mutation("route_10000", R"({"airlineid":"airline_137"})")).kind ==
        match_kind::index);
}

TEST_CASE("type rules: a deletion becomes a delete action without routing or pipeline") {
  const auto rules = compile({{.prefix = "", .index = "etc", .pipeline = "p"}});
  const auto m = rules.match(deletion("k"));
  CHECK(m.kind == match_kind::remove);
  CHECK(m.index == "etc");
  CHECK_FALSE(m.routing);
}

TEST_CASE("type rules: connector checkpoint keys are never replicated") {
  const auto rules = example_rules();
  CHECK(rules.match(mutation("_connector:cbes:group:checkpoint:0")).kind ==
        match_kind::skip_connector_key);
  CHECK(rules.match(deletion("_connector:cbes:x")).kind == match_kind::skip_connector_key);
}

TEST_CASE("type rules: no matching rule skips the document") {
  const auto rules = compile({{.prefix = "a", .index = "x"}});
  CHECK(rules.match(mutation("b")).kind == match_kind::skip_no_rule);
}

TEST_CASE("type rules: pipeline comes from the rule or typeDefaults, empty means none") {
  auto rules =
      compile({{.prefix = "a", .index = "x", .pipeline = "mine"}, {.prefix = "", .index = "y"}},
              {.pipeline = "default-pipe"});
  CHECK(rules.match(mutation("a1")).pipeline == std::optional<std::string>("mine"));
  CHECK(rules.match(mutation("b1")).pipeline == std::optional<std::string>("default-pipe"));
  rules = compile({{.prefix = "", .index = "y", .pipeline = ""}}, {.pipeline = "default-pipe"});
  CHECK_FALSE(rules.match(mutation("b1")).pipeline);
}

TEST_CASE("type rules: routing is read from the document with a JSON pointer") {
  const auto rules = example_rules();
  const auto m = rules.match(mutation("route_10000", R"({"id":1,"airlineid":"airline_137"})"));
  CHECK(m.index == "airlines");
  CHECK(m.routing == std::optional<std::string>("airline_137"));
  CHECK(m.warning.empty());
}

TEST_CASE("type rules: routing from scalars uses their text form") {
  CHECK(resolve_routing(R"({"a":137})", "/a").value == std::optional<std::string>("137"));
  CHECK(resolve_routing(R"({"a":-5})", "/a").value == std::optional<std::string>("-5"));
  CHECK(resolve_routing(R"({"a":true})", "/a").value == std::optional<std::string>("true"));
  CHECK(resolve_routing(R"({"a":1.5})", "/a").value == std::optional<std::string>("1.5"));
  CHECK(resolve_routing(R"({"a":{"b":["x","y"]}})", "/a/b/1").value ==
        std::optional<std::string>("y"));
  CHECK(resolve_routing(R"({"a/b":{"m~n":"z"}})", "/a~1b/m~0n").value ==
        std::optional<std::string>("z"));
}

TEST_CASE("type rules: unresolvable routing warns and sends no routing") {
  for (const char* content :
       {R"({"b":1})", R"({"a":null})", R"({"a":{}})", R"({"a":[1]})", "not json", R"({"a":[1]})"}) {
    const auto r = resolve_routing(content, "/a");
    CHECK_FALSE(r.value);
    CHECK_FALSE(r.problem.empty());
  }
  const auto rules = example_rules();
  const auto m = rules.match(mutation("route_1", R"({"other":1})"));
  CHECK(m.kind == match_kind::index);
  CHECK_FALSE(m.routing);
  CHECK(m.warning == "routing field '/airlineid' is missing");
}

TEST_CASE("type rules: compile reports the validation error") {
  sink_settings s;
  s.types = {{.prefix = "a", .regex = "b", .index = "x"}};
  const auto rules = type_rules::compile(s);
  REQUIRE_FALSE(rules.has_value());
  CHECK(rules.error() == "elasticsearch.type #1: set exactly one of 'prefix' or 'regex', not both");
}
