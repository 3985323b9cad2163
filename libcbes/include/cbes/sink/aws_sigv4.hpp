#pragma once
// AWS Signature Version 4 for Amazon OpenSearch Service (`[elasticsearch.aws] region`): the
// credentials of the AWS SDKs' default chain (environment, then the shared credentials file)
// and the headers that sign one HTTP request.
//
//   auto creds = cbes::sink::load_aws_credentials();      // AWS_ACCESS_KEY_ID, ...
//   if (!creds) return fail(creds.error().what());        // one line: where it looked
//   auto h = cbes::sink::sigv4_sign({.method = "POST", .host =
//   "search-x.us-east-1.es.amazonaws.com",
//                                    .target = "/_bulk?timeout=1m", .payload = body},
//                                   *creds, "us-east-1", "es", std::chrono::system_clock::now());
//   for (auto& [name, value] : h) req.set(name, value);   // Authorization, X-Amz-Date, ...
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cbes/sink/error.hpp"

namespace cbes::sink {

struct aws_credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials only
};

// Where the AWS SDKs' default chain looks first, in its order: the environment
// (AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY [+ AWS_SESSION_TOKEN]), then the shared
// credentials file (AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials) with the profile
// AWS_PROFILE (else "default"). Not read: container and instance-metadata credentials. The
// error (errc::invalid_argument) is one line saying where it looked.
result<aws_credentials> load_aws_credentials();

// One request as it goes on the wire: the target is the path and query as sent (already
// percent-encoded), the payload the body as sent (after compression).
struct sigv4_request {
  std::string_view method;  // "GET", "POST", ...
  std::string_view host;    // the Host header
  std::string_view target;  // "/_bulk?timeout=1m"
  std::string_view payload;
};

// The headers to add to the request: X-Amz-Date, X-Amz-Security-Token (temporary credentials)
// and Authorization (AWS4-HMAC-SHA256 over host, x-amz-date and the token). `service` is "es"
// for Amazon OpenSearch Service domains.
std::vector<std::pair<std::string, std::string>> sigv4_sign(
    const sigv4_request& request, const aws_credentials& credentials, std::string_view region,
    std::string_view service, std::chrono::system_clock::time_point now);

}  // namespace cbes::sink
