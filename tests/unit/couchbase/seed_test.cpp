#include <catch2/catch.hpp>

#include "cbes/couchbase/seed.hpp"
#include "unit/couchbase/result_printer.hpp"

using cbes::couchbase::errc;
using cbes::couchbase::parse_seeds;
using cbes::couchbase::seed;
using cbes::couchbase::seed_kind;

TEST_CASE("a bare host gets the KV port or the TLS KV port with TLS") {
  auto plain = parse_seeds("cb1.local", false);
  REQUIRE(plain);
  REQUIRE(plain->size() == 1);
  CHECK(plain->front() == seed{"cb1.local", 11210, seed_kind::kv});
  auto tls = parse_seeds("cb1.local", true);
  REQUIRE(tls);
  CHECK(tls->front() == seed{"cb1.local", 11207, seed_kind::kv});
}

TEST_CASE("host:port=kind sets the kind explicitly") {
  auto s = parse_seeds("a:12000=kv, b:9000=manager ,c:8091", false);
  REQUIRE(s);
  REQUIRE(s->size() == 3);
  CHECK(s->at(0) == seed{"a", 12000, seed_kind::kv});
  CHECK(s->at(1) == seed{"b", 9000, seed_kind::manager});
  CHECK(s->at(2) == seed{"c", 8091, seed_kind::manager});  // 8091 without a kind: the manager
}

TEST_CASE("a port without a kind is a KV port unless it is a manager default port") {
  auto s = parse_seeds("a:11999,b:18091", false);
  REQUIRE(s);
  CHECK(s->at(0).kind == seed_kind::kv);
  CHECK(s->at(1).kind == seed_kind::manager);
}

TEST_CASE("a manager seed without a port gets the manager port") {
  auto s = parse_seeds("a=manager", true);
  REQUIRE(s);
  CHECK(s->front() == seed{"a", 18091, seed_kind::manager});
}

TEST_CASE("couchbases:// forces TLS ports and options after ? are ignored") {
  auto s = parse_seeds("couchbases://h1,h2?network=external", false);
  REQUIRE(s);
  REQUIRE(s->size() == 2);
  CHECK(s->at(0) == seed{"h1", 11207, seed_kind::kv});
  CHECK(s->at(1) == seed{"h2", 11207, seed_kind::kv});
  auto plain = parse_seeds("couchbase://h1", false);
  REQUIRE(plain);
  CHECK(plain->front().port == 11210);
}

TEST_CASE("IPv6 seeds with and without brackets") {
  auto s = parse_seeds("[::1]:12000=kv,fe80::1", false);
  REQUIRE(s);
  CHECK(s->at(0) == seed{"::1", 12000, seed_kind::kv});
  CHECK(s->at(1) == seed{"fe80::1", 11210, seed_kind::kv});
  CHECK(cbes::couchbase::format_host_port("::1", 1) == "[::1]:1");
  CHECK(cbes::couchbase::format_host_port("h", 2) == "h:2");
}

TEST_CASE("bad seeds are refused with the offending entry in the message") {
  for (const char* bad : {"h:", "h:0", "h:65536", "h:12x", "h:1=query", ":11210", "[::1", ""}) {
    INFO(bad);
    auto s = parse_seeds(bad, false);
    REQUIRE_FALSE(s);
    CHECK(s.error().code == errc::invalid_argument);
  }
  auto s = parse_seeds("ok, h:99999", false);
  REQUIRE_FALSE(s);
  CHECK(s.error().message.find("'h:99999'") != std::string::npos);
}
