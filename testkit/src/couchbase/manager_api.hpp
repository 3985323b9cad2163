#pragma once
// The manager (ns_server) REST port of a fake node: the endpoints SDKs and DCP clients read
// during HTTP bootstrap (/pools, /pools/default, /pools/default/buckets[/<b>],
// /pools/default/b/<b>, /pools/default/nodeServices) behind HTTP basic auth.
#include <cstddef>

#include "cbes/testkit/http_server.hpp"
#include "cluster_state.hpp"

namespace cbes::testkit::couchbase {

http_server::response manager_response(cluster_state& state, std::size_t node,
                                       const http_server::request& req);

}  // namespace cbes::testkit::couchbase
