#pragma once
// A tiny synchronous HTTP/1.1 client for tests: one connection per call, a hard timeout, the
// target sent verbatim (so tests can send `//`, `%0A` or other hostile paths on purpose).
//
//   auto r = cbes::testkit::http_request(agent.url(), "PUT", "/v1/kv/a", "value");
//   REQUIRE(r);                           // transport succeeded
//   CHECK(r->status == 200);
//   CHECK(r->body == "true");
//   CHECK(r->header("X-Consul-Index").empty());
#include <boost/system/result.hpp>

#include <chrono>
#include <iosfwd>
#include <string>
#include <string_view>

#include "cbes/testkit/http_server.hpp"

namespace cbes::testkit {

struct http_result {
  int status = 0;
  http_headers headers;
  std::string body;

  // Value of the first header with this name (case-insensitive), "" when absent.
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
};

// "404 <body>" for test failure messages.
std::ostream& operator<<(std::ostream& os, const http_result& r);

// Sends one request to `base_url` ("http://127.0.0.1:8500" or "https://...": TLS without
// certificate verification) and reads the answer. A body, when given, is sent with a
// Content-Length. Fails with an error code when the connection fails, is closed without an
// answer, or `timeout` passes.
boost::system::result<http_result> http_request(
    std::string_view base_url, std::string_view method, std::string_view target,
    std::string_view body = {}, const http_headers& headers = {},
    std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace cbes::testkit
