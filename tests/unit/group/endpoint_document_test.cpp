#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "cbes/group/endpoint_document.hpp"
#include "unit/group/result_printer.hpp"

using namespace cbes::group;
using namespace std::chrono_literals;

namespace {
constexpr auto five_minutes = std::chrono::nanoseconds(5min);
constexpr const char* ping =
    R"({"jsonrpc":"2.0","id":"p#1::worker.ping","method":"worker.ping","params":[]})";
}  // namespace

TEST_CASE("a request appended to the empty document the server binds with") {
  for (const char* empty : {"", "{}"}) {
    const auto next = append_request(empty, ping);
    REQUIRE(next);
    CHECK(*next == std::string(R"({"requests":[)") + ping + R"(],"responses":[]})");
  }
}

TEST_CASE("appending keeps earlier requests, their order and unknown fields") {
  const std::string doc =
      R"({"requests":[{"jsonrpc":"2.0","id":"a","method":"worker.status"}],"responses":[],"x":1})";
  const auto next = append_request(doc, ping);
  REQUIRE(next);
  CHECK(*next ==
        std::string(R"({"requests":[{"jsonrpc":"2.0","id":"a","method":"worker.status"},)") + ping +
            R"(],"responses":[],"x":1})");
}

TEST_CASE("documents that are not endpoint documents are refused as invalid") {
  for (const char* bad : {"garbage", "[]", R"({"requests":{}})", R"({"responses":"x"})"}) {
    INFO(bad);
    const auto a = append_request(bad, ping);
    REQUIRE_FALSE(a);
    CHECK(a.error().code == errc::invalid_document);
    CHECK_FALSE(first_request(bad));
    CHECK_FALSE(apply_response(bad, R"({"id":"x"})", 0ns, five_minutes));
  }
}

TEST_CASE("the client finds its response by id and removes only its own") {
  const std::string doc =
      R"({"requests":[],"responses":[{"jsonrpc":"2.0","id":"a","result":1,"timestamp":5},)"
      R"({"jsonrpc":"2.0","id":"b","result":2,"timestamp":6}]})";
  const auto b = find_response(doc, "b");
  REQUIRE(b);
  REQUIRE(*b);
  CHECK(**b == R"({"jsonrpc":"2.0","id":"b","result":2,"timestamp":6})");
  CHECK_FALSE(*find_response(doc, "c"));
  CHECK(*remove_response(doc, "b") ==
        R"({"requests":[],"responses":[{"jsonrpc":"2.0","id":"a","result":1,"timestamp":5}]})");
}

TEST_CASE("has_request tells whether a request id still waits") {
  const auto doc = *append_request("{}", ping);
  CHECK(*has_request(doc, "p#1::worker.ping"));
  CHECK_FALSE(*has_request(doc, "p#2::worker.ping"));
}

TEST_CASE("the server takes the first request, a string entry is given as its content") {
  CHECK_FALSE(*first_request("{}"));
  const std::string doc = R"({"requests":[{"id":"1"},{"id":"2"}]})";
  CHECK(**first_request(doc) == R"({"id":"1"})");
  CHECK(**first_request(R"({"requests":["{not json"]})") == "{not json");
}

TEST_CASE("apply_response appends the answer with the server's timestamp and drops the request") {
  const std::string doc = std::string(R"({"requests":[)") + ping + R"(]})";
  const auto next = apply_response(
      doc, R"({"jsonrpc":"2.0","id":"p#1::worker.ping","result":null})", 123456789ns, five_minutes);
  REQUIRE(next);
  CHECK(
      *next ==
      R"({"requests":[],"responses":[{"jsonrpc":"2.0","id":"p#1::worker.ping","result":null,"timestamp":123456789}]})");
}

TEST_CASE("apply_response drops the first request and every other request with the same id") {
  const std::string doc = R"({"requests":[{"id":"a"},{"id":"b"},{"id":"a"},{"id":"c"}]})";
  const auto next = apply_response(doc, R"({"id":"a","result":1})", 1ns, five_minutes);
  REQUIRE(next);
  CHECK(
      *next ==
      R"({"requests":[{"id":"b"},{"id":"c"}],"responses":[{"id":"a","result":1,"timestamp":1}]})");
}

TEST_CASE("apply_response answering a request without an id drops only that first request") {
  const std::string doc = R"({"requests":[{"method":"x"},{"method":"y"}]})";
  const auto next =
      apply_response(doc, R"({"id":null,"error":{"code":-32600}})", 1ns, five_minutes);
  REQUIRE(next);
  CHECK(
      *next ==
      R"({"requests":[{"method":"y"}],"responses":[{"id":null,"error":{"code":-32600},"timestamp":1}]})");
}

TEST_CASE("responses older than the maximum age by the server's clock are dropped") {
  const auto now = std::chrono::nanoseconds(10min);
  const auto old_stamp = std::to_string((now - five_minutes - 1ns).count());
  const auto edge_stamp = std::to_string((now - five_minutes).count());
  const std::string doc = R"({"requests":[{"id":"n"}],"responses":[)"
                          R"({"id":"old","timestamp":)" +
                          old_stamp +
                          R"(},)"
                          R"({"id":"edge","timestamp":)" +
                          edge_stamp +
                          R"(},)"
                          R"({"id":"unstamped"},)"
                          R"({"id":"text","timestamp":"soon"}]})";
  const auto next = apply_response(doc, R"({"id":"n","result":true})", now, five_minutes);
  REQUIRE(next);
  CHECK(*next == R"({"requests":[],"responses":[{"id":"edge","timestamp":)" + edge_stamp +
                     R"(},{"id":"unstamped"},{"id":"text","timestamp":"soon"},)"
                     R"({"id":"n","result":true,"timestamp":)" +
                     std::to_string(now.count()) + "}]}");
}
