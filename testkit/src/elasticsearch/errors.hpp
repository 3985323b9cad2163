#pragma once
// Elasticsearch's JSON error envelopes, as every API of the fake reports a failure.
#include <boost/json/object.hpp>

#include <string_view>

namespace cbes::testkit::es {

// A JSON error envelope member: {"type":..,"reason":..,...}.
boost::json::object error_cause(std::string_view type, std::string_view reason);
// The standard whole-request body {"error":{"root_cause":[..],...},"status":S}.
boost::json::object error_body(boost::json::object cause, int status);
// `index_not_found_exception` with its resource keys.
boost::json::object index_not_found(std::string_view index, std::string_view reason = {});

}  // namespace cbes::testkit::es
