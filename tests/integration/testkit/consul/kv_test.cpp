#include <catch2/catch.hpp>

#include "consul/encoding.hpp"
#include "integration/testkit/consul/fixture.hpp"

using namespace consul_agent_test;
namespace json = boost::json;

TEST_CASE("kv put then get returns the base64 value with create and modify indexes") {
  agent_fixture f;
  auto put = f.call("PUT", "/v1/kv/app/config", "test");
  CHECK(put.status == 200);
  CHECK(put.body == "true");
  CHECK(put.header("Content-Type") == "application/json");
  CHECK_FALSE(put.has_header("X-Consul-Index"));  // writes carry no index
  auto get = f.call("GET", "/v1/kv/app/config");
  REQUIRE(get.status == 200);
  auto e = json::parse(get.body).as_array().at(0).as_object();
  CHECK(e.at("Key") == "app/config");
  CHECK(e.at("Value") == "dGVzdA==");
  CHECK(e.at("Flags") == 0);
  CHECK(e.at("LockIndex") == 0);
  CHECK_FALSE(e.contains("Session"));
  CHECK(e.at("CreateIndex") == e.at("ModifyIndex"));
  CHECK(f.index_of(get) == e.at("ModifyIndex").to_number<std::uint64_t>());
  CHECK(get.header("X-Consul-KnownLeader") == "true");
  CHECK(get.header("X-Consul-LastContact") == "0");
  CHECK(get.header("X-Consul-Default-ACL-Policy") == "allow");
  CHECK(get.header("Vary") == "Accept-Encoding");
}

TEST_CASE("kv get of a missing key is 404 with an empty body and a non-zero index") {
  agent_fixture f;
  auto r = f.call("GET", "/v1/kv/nope");
  CHECK(r.status == 404);
  CHECK(r.body.empty());
  REQUIRE(r.has_header("X-Consul-Index"));
  CHECK(f.index_of(r) >= 1);
  CHECK(r.header("X-Consul-KnownLeader") == "true");
}

TEST_CASE("the index counter starts above 1 like a dev agent") {
  agent_fixture f;
  CHECK(f.agent.current_index() >= 2);
  auto nodes = f.call("GET", "/v1/catalog/nodes");
  CHECK(f.index_of(nodes) >= 2);
}

TEST_CASE("kv empty value is null in JSON and empty with raw") {
  agent_fixture f;
  f.call("PUT", "/v1/kv/empty", "");
  auto e = f.json("GET", "/v1/kv/empty").as_array().at(0).as_object();
  CHECK(e.at("Value").is_null());
  auto raw = f.call("GET", "/v1/kv/empty?raw");
  CHECK(raw.status == 200);
  CHECK(raw.body.empty());
  CHECK(raw.header("Content-Length") == "0");
}

TEST_CASE("kv raw returns the bytes with nosniff and sandbox headers") {
  agent_fixture f;
  std::string binary("\x00\x01\xff\xfe", 4);
  f.call("PUT", "/v1/kv/bin", binary);
  auto raw = f.call("GET", "/v1/kv/bin?raw");
  CHECK(raw.body == binary);
  CHECK(raw.header("X-Content-Type-Options") == "nosniff");
  CHECK(raw.header("Content-Security-Policy") == "sandbox");
  auto e = f.json("GET", "/v1/kv/bin").as_array().at(0).as_object();
  CHECK(consul::base64_decode(e.at("Value").as_string()) == binary);
}

TEST_CASE("kv flags keep the full unsigned 64-bit range") {
  agent_fixture f;
  f.call("PUT", "/v1/kv/sem?flags=16210313421097356768", "x");
  auto r = f.call("GET", "/v1/kv/sem");
  CHECK(r.body.find("\"Flags\":16210313421097356768") != std::string::npos);
  auto bad = f.call("PUT", "/v1/kv/sem?flags=abc", "x");
  CHECK(bad.status == 500);
  CHECK(bad.body == "strconv.ParseUint: parsing \"abc\": invalid syntax");
}

TEST_CASE("kv keys are routed on the percent-decoded path") {
  agent_fixture f;
  f.call("PUT", "/v1/kv/a%2Fb", "1");
  CHECK(f.call("GET", "/v1/kv/a/b").status == 200);
  f.call("PUT", "/v1/kv/sp%20ce%3Fq%23h%25p+plus:colon", "2");
  auto keys = f.json("GET", "/v1/kv/?keys").as_array();
  CHECK(keys == json::array{"a/b", "sp ce?q#h%p+plus:colon"});
}

TEST_CASE("kv paths with double slashes or dot segments are redirected with 301") {
  agent_fixture f;
  auto r = f.call("PUT", "/v1/kv/a//b", "x");
  CHECK(r.status == 301);
  CHECK(r.header("Location") == "/v1/kv/a/b");
  auto dot = f.call("GET", "/v1/kv/a/./b?recurse");
  CHECK(dot.status == 301);
  CHECK(dot.header("Location") == "/v1/kv/a/b?recurse");
  CHECK(f.call("GET", "/v1/kv/a/b").status == 404);  // the redirected PUT stored nothing
}

TEST_CASE("kv paths with control characters are rejected with an empty 400") {
  agent_fixture f;
  auto r = f.call("PUT", "/v1/kv/bad%0Akey", "x");
  CHECK(r.status == 400);
  CHECK(r.body.empty());
  CHECK(f.call("GET", "/v1/kv/tab%09").status == 400);
}

TEST_CASE("kv trailing slash keys are ordinary keys") {
  agent_fixture f;
  f.call("PUT", "/v1/kv/folder/", "");
  CHECK(f.call("GET", "/v1/kv/folder/").status == 200);
  CHECK(f.call("GET", "/v1/kv/folder").status == 404);
}

TEST_CASE("kv recurse is a raw string prefix sorted by key and flags are presence based") {
  agent_fixture f;
  f.call("PUT", "/v1/kv/foobar", "1");
  f.call("PUT", "/v1/kv/foo/b", "2");
  f.call("PUT", "/v1/kv/foo/a", "3");
  f.call("PUT", "/v1/kv/other", "4");
  auto list = f.json("GET", "/v1/kv/foo?recurse=false").as_array();
  REQUIRE(list.size() == 3);
  CHECK(list[0].at("Key") == "foo/a");
  CHECK(list[1].at("Key") == "foo/b");
  CHECK(list[2].at("Key") == "foobar");
  CHECK(f.call("GET", "/v1/kv/zzz?recurse").status == 404);
  CHECK(f.json("GET", "/v1/kv/?recurse").as_array().size() == 4);
}

TEST_CASE("kv keys with a separator truncate after the first separator and deduplicate") {
  agent_fixture f;
  for (auto k : {"web/bar", "web/foo", "web/subdir/x", "web/subdir/y"})
    f.call("PUT", std::string("/v1/kv/") + k, "v");
  auto keys = f.json("GET", "/v1/kv/web/?keys&separator=/").as_array();
  CHECK(keys == json::array{"web/bar", "web/foo", "web/subdir/"});
  CHECK(f.call("GET", "/v1/kv/nothing/?keys").status == 404);
}

TEST_CASE("kv get and put without a key name are 400 Missing key name") {
  agent_fixture f;
  auto r = f.call("GET", "/v1/kv/");
  CHECK(r.status == 400);
  CHECK(r.body == "Missing key name");
  CHECK(f.call("PUT", "/v1/kv/", "x").body == "Missing key name");
  CHECK(f.call("DELETE", "/v1/kv/").body == "Missing key name");
}

TEST_CASE("kv post is 405 with an Allow header") {
  agent_fixture f;
  auto r = f.call("POST", "/v1/kv/a", "x");
  CHECK(r.status == 405);
  CHECK(r.body == "method POST not allowed");
  CHECK(r.header("Allow") == "OPTIONS,GET,PUT,DELETE");
  auto opt = f.call("OPTIONS", "/v1/kv/a");
  CHECK(opt.status == 200);
  CHECK(opt.header("Allow") == "OPTIONS,GET,PUT,DELETE");
  CHECK(opt.body.empty());
}

TEST_CASE("kv cas 0 creates only and cas N needs the current modify index") {
  agent_fixture f;
  CHECK(f.call("PUT", "/v1/kv/c?cas=0", "1").body == "true");
  CHECK(f.call("PUT", "/v1/kv/c?cas=0", "2").body == "false");
  auto idx = f.json("GET", "/v1/kv/c").as_array()[0].at("ModifyIndex").to_number<std::uint64_t>();
  CHECK(f.call("PUT", "/v1/kv/c?cas=" + std::to_string(idx + 100), "3").body == "false");
  CHECK(f.call("PUT", "/v1/kv/c?cas=" + std::to_string(idx), "4").body == "true");
  auto e = f.json("GET", "/v1/kv/c").as_array()[0];
  CHECK(e.at("Value") == "NA==");
  CHECK(e.at("CreateIndex").to_number<std::uint64_t>() == idx);
}

TEST_CASE("kv delete with cas on a missing key is true and on a mismatch false") {
  agent_fixture f;
  CHECK(f.call("DELETE", "/v1/kv/none?cas=5").body == "true");
  f.call("PUT", "/v1/kv/d", "x");
  auto idx = f.json("GET", "/v1/kv/d").as_array()[0].at("ModifyIndex").to_number<std::uint64_t>();
  CHECK(f.call("DELETE", "/v1/kv/d?cas=0").body == "false");
  CHECK(f.call("DELETE", "/v1/kv/d?cas=" + std::to_string(idx)).body == "true");
  CHECK(f.call("GET", "/v1/kv/d").status == 404);
}

TEST_CASE("kv delete recurse removes the prefix and conflicts with cas") {
  agent_fixture f;
  f.call("PUT", "/v1/kv/t/a", "x");
  f.call("PUT", "/v1/kv/t/b", "x");
  f.call("PUT", "/v1/kv/u", "x");
  auto bad = f.call("DELETE", "/v1/kv/t?recurse&cas=1");
  CHECK(bad.status == 400);
  CHECK(bad.body == "Conflicting flags: cas=1&recurse=");
  CHECK(f.call("DELETE", "/v1/kv/t/?recurse").body == "true");
  CHECK(f.call("GET", "/v1/kv/t/?recurse").status == 404);
  CHECK(f.call("GET", "/v1/kv/u").status == 200);
}

TEST_CASE("kv put with more than one of cas acquire release is Conflicting flags") {
  agent_fixture f;
  auto r = f.call("PUT", "/v1/kv/k?cas=0&acquire=x", "v");
  CHECK(r.status == 400);
  CHECK(r.body == "Conflicting flags: acquire=x&cas=0");
}

TEST_CASE("kv values up to 512 KiB are accepted and larger bodies are 413 by Content-Length") {
  agent_fixture f;
  std::string ok(524288, 'a');
  CHECK(f.call("PUT", "/v1/kv/big", ok).body == "true");
  auto r = f.call("PUT", "/v1/kv/big", ok + "b");
  CHECK(r.status == 413);
  CHECK(r.body ==
        "Request body(524289 bytes) too large, max size: 524288 bytes. See "
        "https://developer.hashicorp.com/docs/agent/config/config-files#kv_max_value_size.");
}

TEST_CASE("kv missing-key and prefix indexes include tombstones") {
  agent_fixture f;
  f.call("PUT", "/v1/kv/p/x", "1");
  f.call("DELETE", "/v1/kv/p/x");
  auto after_delete = f.agent.current_index();
  auto r = f.call("GET", "/v1/kv/p/?recurse");
  CHECK(r.status == 404);
  CHECK(f.index_of(r) == after_delete);
  auto missing = f.call("GET", "/v1/kv/whatever");
  CHECK(f.index_of(missing) == after_delete);
}

TEST_CASE("kv identical writes do not move the modify index") {
  agent_fixture f;
  f.call("PUT", "/v1/kv/same", "v");
  auto before = f.agent.current_index();
  f.call("PUT", "/v1/kv/same", "v");
  CHECK(f.agent.current_index() == before);
  f.call("PUT", "/v1/kv/same", "w");
  CHECK(f.agent.current_index() == before + 1);
}

TEST_CASE("unknown paths answer 404 with the Consul text") {
  agent_fixture f;
  auto r = f.call("GET", "/v1/nope");
  CHECK(r.status == 404);
  CHECK(r.body == "Invalid URL path: not a recognized HTTP API endpoint\n");
  CHECK(f.call("GET", "/nope").status == 404);
}

TEST_CASE("status leader and peers answer the raft address") {
  agent_fixture f;
  CHECK(f.call("GET", "/v1/status/leader").body == "\"127.0.0.1:8300\"");
  CHECK(f.call("GET", "/v1/status/peers").body == "[\"127.0.0.1:8300\"]");
}
