// The dashboard's parts that need no server: what /status.json answers for a reading, how
// readings are shared between the pages polling it, and the page being self-contained.
#include <catch2/catch.hpp>

#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "dashboard.hpp"
#include "support/run_coroutine.hpp"

using namespace cbes::consul_cli;
namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// A reader that counts its readings and takes `latency` (of the io_context's time) for each.
struct counting_reader {
  asio::io_context& io;
  std::chrono::milliseconds latency{0};
  int readings = 0;
  bool fail = false;

  asio::awaitable<status_reading> read() {
    const int n = ++readings;
    if (latency.count() > 0) {
      asio::steady_timer t(io, latency);
      co_await t.async_wait(asio::use_awaitable);
    }
    status_reading r;
    if (fail) {
      r.error = "Failed to connect to Consul at h:1 ; refused";
      co_return r;
    }
    group_status s;
    s.group = "g" + std::to_string(n);
    r.status = s;
    co_return r;
  }
};

}  // namespace

TEST_CASE("status.json is status --json's object, or 502 with the error as JSON") {
  status_reading ok;
  group_status s;
  s.group = "g";
  s.paused = true;
  ok.status = s;
  CHECK(answer_for(ok) ==
        status_answer{200, R"({"group":"g","leader":null,"paused":true,"workers":[]})"});
  status_reading failed;
  failed.error = "Failed to connect to Consul at h:1 ; \"refused\"";
  const auto a = answer_for(failed);
  CHECK(a.http_status == 502);
  CHECK(json::parse(a.body) ==
        json::parse(R"({"error":"Failed to connect to Consul at h:1 ; \"refused\""})"));
}

TEST_CASE("requests while a reading is in flight share it, and a fresh one answers from memory") {
  asio::io_context io;
  counting_reader reader{io, 50ms};
  status_cache cache(
      io.get_executor(), [&reader] { return reader.read(); }, std::chrono::hours(1));
  std::vector<std::string> bodies;
  for (int i = 0; i < 3; ++i)
    asio::co_spawn(io, cache.get(), [&bodies](std::exception_ptr e, status_answer a) {
      REQUIRE_FALSE(e);
      bodies.push_back(a.body);
    });
  io.run();
  CHECK(reader.readings == 1);
  REQUIRE(bodies.size() == 3);
  for (const auto& b : bodies)
    CHECK(json::parse(b).at("group") == "g1");
  // Within max_age: no new reading.
  const auto again = cbes::test::run(io, cache.get());
  CHECK(reader.readings == 1);
  CHECK(json::parse(again.body).at("group") == "g1");
}

TEST_CASE("a reading older than max_age is replaced, and errors are answers too") {
  asio::io_context io;
  counting_reader reader{io};
  status_cache cache(
      io.get_executor(), [&reader] { return reader.read(); }, 0ms);
  CHECK(json::parse(cbes::test::run(io, cache.get()).body).at("group") == "g1");
  CHECK(json::parse(cbes::test::run(io, cache.get()).body).at("group") == "g2");
  reader.fail = true;
  const auto failed = cbes::test::run(io, cache.get());
  CHECK(failed.http_status == 502);
  CHECK(json::parse(failed.body).at("error") == "Failed to connect to Consul at h:1 ; refused");
  reader.fail = false;  // Consul answers again: so does the dashboard
  const auto back = cbes::test::run(io, cache.get());
  CHECK(back.http_status == 200);
  CHECK(reader.readings == 4);
}

TEST_CASE("the page is one self-contained document with the elements tests read") {
  const std::string page(dashboard_page());
  CHECK(page.starts_with("<!DOCTYPE html>"));
  CHECK(page.find("</html>") != std::string::npos);
  // No external assets: no script or style sheet by URL, no absolute URL at all.
  CHECK(page.find("<script src") == std::string::npos);
  CHECK(page.find("<link") == std::string::npos);
  CHECK(page.find("://") == std::string::npos);
  CHECK(page.find("@import") == std::string::npos);
  // It reads its data relative to where it is served, and never through innerHTML.
  CHECK(page.find(R"(fetch("status.json")") != std::string::npos);
  CHECK(page.find("innerHTML") == std::string::npos);
  for (const char* hook : {"data-member", "data-vbucket-count", "data-leader", "data-paused",
                           "data-owned", "data-conflicts", "id=\"banner\""})
    CHECK(page.find(hook) != std::string::npos);
}
