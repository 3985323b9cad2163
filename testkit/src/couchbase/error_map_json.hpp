#pragma once
// The GET_ERROR_MAP (0xfe) answer (kv_engine's protocol docs): every status the fake can send,
// with kv_engine's names and attributes so SDKs classify retries the same way.
#include <cstdint>
#include <string>

namespace cbes::testkit::couchbase {

// JSON for the requested version (1 or 2; higher asks get 2).
std::string error_map_json(std::uint16_t version);

}  // namespace cbes::testkit::couchbase
