#pragma once
// Bucket config over the cluster manager's REST API, the bootstrap fallback when no KV node
// serves CCCP (private to the couchbase folder).
#include <chrono>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "cbes/couchbase/connection.hpp"
#include "cbes/couchbase/error.hpp"
#include "cbes/couchbase/topology.hpp"

namespace cbes::couchbase::detail {

// GET /pools/default/b/<bucket> with basic auth. 401 → authentication_failed, 404 →
// bucket_not_found, anything else not 200 → server_error; bodies above 16 MiB are refused.
boost::asio::awaitable<result<std::string>> fetch_http_config(boost::asio::any_io_executor ex,
                                                              endpoint manager, std::string bucket,
                                                              std::string username,
                                                              std::string password, tls_options tls,
                                                              std::chrono::milliseconds timeout);

// GET `target` of the cluster manager with basic auth (none with tls.client_keystore: the
// certificate authenticates): the body of a 200. 401 →
// authentication_failed, 404 → bucket_not_found when `bucket` is not empty (the target is the
// bucket's), anything else not 200 → server_error.
boost::asio::awaitable<result<std::string>> fetch_manager(boost::asio::any_io_executor ex,
                                                          endpoint manager, std::string target,
                                                          std::string bucket, std::string username,
                                                          std::string password, tls_options tls,
                                                          std::chrono::milliseconds timeout);

}  // namespace cbes::couchbase::detail
