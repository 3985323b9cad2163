#include <catch2/catch.hpp>

#include "consul/error.hpp"
#include "unit/consul/result_printer.hpp"

using consul::errc;

TEST_CASE("HTTP failures map to consul error codes with Consul's text verbatim") {
  auto leader = consul::error_from_http(500, "No cluster leader");
  CHECK(leader.code == errc::no_leader);
  CHECK(leader.http_status == 500);
  CHECK(leader.message == "No cluster leader");
  CHECK(leader.transient());

  // Through a client agent the text gains a prefix: match by substring.
  CHECK(consul::error_from_http(500, "rpc error making call: No cluster leader").code ==
        errc::no_leader);

  auto acl = consul::error_from_http(403, "ACL not found");
  CHECK(acl.code == errc::acl_denied);
  CHECK(acl.message == "ACL not found");
  CHECK_FALSE(acl.transient());

  auto session = consul::error_from_http(500, "invalid session \"x\"");
  CHECK(session.code == errc::http_status);
  CHECK(session.message == "invalid session \"x\"");
  CHECK(session.transient());

  CHECK(consul::error_from_http(400, "Missing key name").code == errc::bad_request);
  CHECK(consul::error_from_http(405, "method GET not allowed").code == errc::bad_request);
  CHECK(consul::error_from_http(404, "").code == errc::not_found);
  CHECK(consul::error_from_http(429, "").code == errc::rate_limited);
  CHECK(consul::error_from_http(429, "").transient());
  CHECK(consul::error_from_http(503, "Service Unavailable").transient());
}

TEST_CASE("error text drops a trailing newline and what() is one line") {
  auto e = consul::error_from_http(404, "Invalid URL path: not a recognized HTTP API endpoint\n");
  CHECK(e.message == "Invalid URL path: not a recognized HTTP API endpoint");
  CHECK(e.what() ==
        "consul: not found (HTTP 404): Invalid URL path: not a recognized HTTP API "
        "endpoint");
  CHECK(e.what().find('\n') == std::string::npos);
}

TEST_CASE("consul errors are error codes in the consul category") {
  boost::system::error_code ec = errc::session_not_found;
  CHECK(ec.category().name() == std::string("consul"));
  CHECK(ec.message() == "session not found");
  auto local = consul::make_error(errc::invalid_argument, "bad key");
  CHECK(local.http_status == 0);
  CHECK(local.what() == "consul: invalid argument: bad key");
}

TEST_CASE("result<T>::value() throws the error's description") {
  consul::result<int> r = consul::make_error(errc::timeout, "read timed out");
  CHECK_THROWS_WITH(r.value(), "consul: Consul request timed out: read timed out");
}
