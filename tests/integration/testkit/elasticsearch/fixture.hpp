#pragma once
// Shared helpers for the Elasticsearch fake's integration tests: a started fake and one-line
// HTTP calls with JSON parsing.
#include <boost/json.hpp>

#include <chrono>
#include <stdexcept>
#include <string>

#include "cbes/testkit/elasticsearch.hpp"
#include "cbes/testkit/http_client.hpp"

namespace es_fake_test {

using namespace std::chrono_literals;

inline cbes::testkit::elasticsearch_options flavor(cbes::testkit::elasticsearch_flavor f) {
  cbes::testkit::elasticsearch_options o;
  o.flavor = f;
  return o;
}

struct es_fixture {
  explicit es_fixture(cbes::testkit::elasticsearch_options o = {}) : es(std::move(o)) {
    es.start();
  }

  cbes::testkit::http_result call(std::string_view method, std::string_view target,
                                  std::string_view body = {},
                                  cbes::testkit::http_headers headers = {}) {
    if (!body.empty() && !cbes::testkit::find_header(headers, "content-type"))
      headers.emplace_back("Content-Type", target.find("_bulk") != std::string_view::npos
                                               ? "application/x-ndjson"
                                               : "application/json");
    auto r = cbes::testkit::http_request(es.url(), method, target, body, headers, 60s);
    if (!r)
      throw std::runtime_error("transport failed: " + r.error().message());
    return *r;
  }

  boost::json::value json(std::string_view method, std::string_view target,
                          std::string_view body = {}, cbes::testkit::http_headers headers = {}) {
    auto r = call(method, target, body, std::move(headers));
    return boost::json::parse(r.body);
  }

  cbes::testkit::elasticsearch es;
};

// Shorthand: v.at_pointer("/items/0/index/status").
inline const boost::json::value& at(const boost::json::value& v, std::string_view pointer) {
  return v.at_pointer(pointer);
}

inline std::string str(const boost::json::value& v, std::string_view pointer) {
  return std::string(v.at_pointer(pointer).as_string());
}

inline std::int64_t num(const boost::json::value& v, std::string_view pointer) {
  return v.at_pointer(pointer).to_number<std::int64_t>();
}

}  // namespace es_fake_test
