#include <catch2/catch.hpp>

#include <boost/asio.hpp>

#include <array>
#include <chrono>
#include <functional>

#include "fixture.hpp"

using namespace es_fake_test;
using cbes::testkit::elasticsearch_flavor;

namespace {

std::string three_docs() {
  std::string body;
  for (int i = 1; i <= 3; ++i)
    body += "{\"index\":{\"_index\":\"f\",\"_id\":\"" + std::to_string(i) +
            "\"}}\n{\"i\":" + std::to_string(i) + "}\n";
  return body;
}

}  // namespace

TEST_CASE("injected item 429s fail only the next n items, which are not written") {
  es_fixture f;
  f.es.fail_next_items(2, 429);
  auto v = f.json("POST", "/_bulk", three_docs());
  CHECK(v.at("errors") == true);
  CHECK(num(v, "/items/0/index/status") == 429);
  CHECK(str(v, "/items/0/index/error/type") == "es_rejected_execution_exception");
  CHECK(num(v, "/items/1/index/status") == 429);
  CHECK(num(v, "/items/2/index/status") == 201);
  CHECK_FALSE(f.es.document("f", "1"));
  CHECK(f.es.document("f", "3"));
  auto s = f.es.stats();
  CHECK(s.bulk_items == 3);
  CHECK(s.failed_items == 2);
  auto again = f.json("POST", "/_bulk", three_docs());
  CHECK(again.at("errors") == false);
}

TEST_CASE(
    "OpenSearch names its rejection rejected_execution_exception, 503 items are unavailable "
    "shards") {
  es_fixture f(flavor(elasticsearch_flavor::opensearch_2));
  f.es.fail_next_items(1, 429);
  CHECK(str(f.json("POST", "/_bulk", three_docs()), "/items/0/index/error/type") ==
        "rejected_execution_exception");
  f.es.fail_next_items(1, 503);
  auto v = f.json("POST", "/_bulk", three_docs());
  CHECK(num(v, "/items/0/index/status") == 503);
  CHECK(str(v, "/items/0/index/error/type") == "unavailable_shards_exception");
}

TEST_CASE("injected whole-request failures hit only bulk requests by default") {
  es_fixture f;
  f.es.fail_next_requests(2, 429);
  CHECK(f.call("GET", "/").status == 200);
  auto r = f.call("POST", "/_bulk", three_docs());
  CHECK(r.status == 429);
  CHECK(str(boost::json::parse(r.body), "/error/type") == "es_rejected_execution_exception");
  f.es.fail_next_requests(1, 503);
  auto u = f.call("POST", "/_bulk", three_docs());
  CHECK(u.status == 503);
  CHECK(str(boost::json::parse(u.body), "/error/type") == "cluster_block_exception");
  f.es.fail_next_requests(1, 502, false);
  auto p = f.call("GET", "/");
  CHECK(p.status == 502);
  CHECK(p.body == "Bad Gateway");
  CHECK(f.es.indices().empty());
  CHECK(f.call("POST", "/_bulk", three_docs()).status == 200);
}

TEST_CASE("flood-stage block rejects writes with 429 cluster_block_exception but allows deletes") {
  es_fixture f;
  f.call("POST", "/_bulk", three_docs());
  f.es.block_writes(true);
  auto v = f.json("POST", "/_bulk",
                  "{\"index\":{\"_index\":\"f\",\"_id\":\"9\"}}\n{}\n"
                  "{\"delete\":{\"_index\":\"f\",\"_id\":\"1\"}}\n");
  CHECK(num(v, "/items/0/index/status") == 429);
  CHECK(str(v, "/items/0/index/error/type") == "cluster_block_exception");
  CHECK(str(v, "/items/0/index/error/reason").find("flood-stage watermark") != std::string::npos);
  CHECK(num(v, "/items/1/delete/status") == 200);
  f.es.block_writes(false);
  CHECK(f.json("POST", "/_bulk", three_docs()).at("errors") == false);
}

TEST_CASE("a dropped response closes the connection, with apply the write still happened") {
  es_fixture f;
  f.es.drop_next_responses(1, true);
  auto r = cbes::testkit::http_request(f.es.url(), "POST", "/_bulk", three_docs(),
                                       {{"Content-Type", "application/x-ndjson"}}, 30s);
  CHECK_FALSE(r);
  CHECK(f.es.document_count("f") == 3);
  f.es.drop_next_responses(1, false);
  auto n = cbes::testkit::http_request(f.es.url(), "POST", "/_bulk",
                                       "{\"index\":{\"_index\":\"g\",\"_id\":\"1\"}}\n{}\n",
                                       {{"Content-Type", "application/x-ndjson"}}, 30s);
  CHECK_FALSE(n);
  CHECK(f.es.document_count("g") == 0);
  CHECK(f.call("GET", "/").status == 200);
}

TEST_CASE("delayed responses still arrive") {
  es_fixture f;
  f.es.delay_responses(std::chrono::milliseconds(200));
  auto before = std::chrono::steady_clock::now();
  CHECK(f.call("GET", "/").status == 200);
  CHECK(std::chrono::steady_clock::now() - before >= std::chrono::milliseconds(200));
}

TEST_CASE("count-only mode acknowledges items without storing them and counts them") {
  es_fixture f;
  f.es.set_count_only(true);
  auto v =
      f.json("POST", "/_bulk", three_docs() + "{\"delete\":{\"_index\":\"f\",\"_id\":\"1\"}}\n");
  CHECK(v.at("errors") == false);
  CHECK(num(v, "/items/0/index/status") == 201);
  CHECK(str(v, "/items/3/delete/result") == "deleted");
  CHECK(f.es.indices().empty());
  auto s = f.es.stats();
  CHECK(s.bulk_requests == 1);
  CHECK(s.bulk_items == 4);
  CHECK(s.requests == 1);
  CHECK(s.bytes_received == three_docs().size() + 36);
  f.es.reset_stats();
  CHECK(f.es.stats().bulk_items == 0);
}

namespace {

struct raw_answer {
  std::string wire;
  bool closed_by_server = false;  // EOF/reset seen, as opposed to our 30 s guard
};

// One raw HTTP exchange: sends `request` verbatim and reads until the server closes (or 30 s).
raw_answer raw_exchange(std::uint16_t port, const std::string& request) {
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(s, asio::buffer(request));
  raw_answer out;
  asio::steady_timer guard(io, 30s);
  bool timed_out = false;
  guard.async_wait([&](boost::system::error_code ec) {
    if (!ec) {
      timed_out = true;
      s.close();
    }
  });
  std::array<char, 4096> buf{};
  std::function<void()> read_more = [&] {
    s.async_read_some(asio::buffer(buf), [&](boost::system::error_code ec, std::size_t n) {
      out.wire.append(buf.data(), n);
      if (ec) {
        out.closed_by_server = !timed_out;
        guard.cancel();
        return;
      }
      read_more();
    });
  };
  read_more();
  io.run();
  return out;
}

std::string bulk_request(const std::string& body) {
  return "POST /_bulk HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::size_t content_length_of(const std::string& head) {
  auto lower = head;
  for (auto& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto at = lower.find("content-length: ");
  REQUIRE(at != std::string::npos);
  return std::stoul(lower.substr(at + 16));
}

}  // namespace

TEST_CASE("a response truncated mid-body sends the head and half the body, then closes") {
  es_fixture f;
  f.es.truncate_next_responses(1);
  const auto answer = raw_exchange(f.es.port(), bulk_request(three_docs()));
  const auto& wire = answer.wire;
  INFO(wire);
  CHECK(answer.closed_by_server);
  REQUIRE(wire.starts_with("HTTP/1.1 200 OK\r\n"));
  const auto head_end = wire.find("\r\n\r\n");
  REQUIRE(head_end != std::string::npos);
  const auto body = wire.substr(head_end + 4);
  const auto promised = content_length_of(wire.substr(0, head_end));
  CHECK(!body.empty());
  CHECK(body.size() == promised / 2);
  CHECK(body.starts_with("{\""));
  // The bulk was executed: the client cannot know, and must resend.
  CHECK(f.es.document_count("f") == 3);
  // Only bulk requests by default, and only n of them.
  CHECK(f.call("GET", "/").status == 200);
  auto next = f.call("POST", "/_bulk", three_docs());
  CHECK(next.status == 200);
  CHECK(boost::json::parse(next.body).at("errors") == false);
}

TEST_CASE("a truncated response fails the stock test client's read, any request when asked") {
  es_fixture f;
  f.es.truncate_next_responses(1, /*bulk_only=*/false);
  auto r = cbes::testkit::http_request(f.es.url(), "GET", "/", {}, {}, 30s);
  CHECK_FALSE(r);
  CHECK(f.call("GET", "/").status == 200);
}

TEST_CASE("413 above max_content_length says Connection: close and closes the connection") {
  auto o = flavor(elasticsearch_flavor::elasticsearch_8);
  o.max_content_length = 500;
  es_fixture f(o);
  const std::string big =
      "{\"index\":{\"_index\":\"z\"}}\n{\"pad\":\"" + std::string(1000, 'p') + "\"}\n";
  const auto answer = raw_exchange(f.es.port(), bulk_request(big));
  const auto& wire = answer.wire;
  INFO(wire);
  CHECK(answer.closed_by_server);
  REQUIRE(wire.starts_with("HTTP/1.1 413 "));
  auto lower = wire;
  for (auto& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  CHECK(lower.find("\r\nconnection: close\r\n") != std::string::npos);
  CHECK(content_length_of(wire) == 0);
  CHECK(wire.find("HTTP/1.1", 1) == std::string::npos);
  CHECK(f.es.indices().empty());
}
