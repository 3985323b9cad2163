#pragma once
// The sandbox's control API: the faults the fakes know in-process, injected over HTTP from
// another process (a system test, a chaos script, an operator trying the connector's retries).
//
//   cbes-sandbox --services=couchbase,elasticsearch --control-port=0
//   # ready: control http://127.0.0.1:40123
//   curl -X POST 'http://127.0.0.1:40123/elasticsearch/fail-requests-for?seconds=30&status=503'
//   curl http://127.0.0.1:40123/        # every endpoint with its parameters
//
// Every fault is a POST with its parameters in the query string, every read (stats) a GET; they
// answer 200 with a JSON object, 400 with {"error": "<one line>"} for a bad parameter, 404 for
// an unknown action or a service the sandbox does not run, 405 for the wrong method, 409 when
// the fake refuses (failing over the last node, ...).
#include <memory>
#include <string>

#include "cbes/testkit/http_server.hpp"

namespace cbes::testkit {
class consul_agent;
class couchbase_cluster;
class elasticsearch;
}  // namespace cbes::testkit

namespace cbes::sandbox {

// The running fakes the control API acts on; null for a service the sandbox does not run.
struct control_targets {
  testkit::consul_agent* consul = nullptr;
  testkit::couchbase_cluster* couchbase = nullptr;
  testkit::elasticsearch* elasticsearch = nullptr;
  std::string bucket = "default";  // the bucket of --bucket, for per-bucket Couchbase faults
};

// The control server on 127.0.0.1:`port` (0 = ephemeral), not started yet.
std::unique_ptr<testkit::http_server> make_control_server(control_targets targets,
                                                          std::uint16_t port);

}  // namespace cbes::sandbox
