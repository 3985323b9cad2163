#pragma once
// One document change as the sink sees it. The DCP layer fills it from a mutation, deletion or
// expiration; the sink only reads it.
//
//   cbes::sink::document_event ev;
//   ev.key = "airline_10";
//   ev.content = R"({"name":"40-Mile Air"})";
//   ev.cas = 0x16c3f1a2b3c4d5e6;
#include <cstdint>
#include <string>

namespace cbes::sink {

struct document_event {
  std::string key;  // Couchbase document ID (raw bytes, normally UTF-8, <= 250 bytes)
  std::string scope = "_default";
  std::string collection = "_default";
  std::string content;       // document value (already decompressed); empty for deletions
  bool is_deletion = false;  // deletions and expirations
  std::uint64_t cas = 0;
  std::uint64_t rev_seqno = 0;
  std::uint32_t expiry = 0;
  std::uint32_t flags = 0;
  std::uint32_t lock_time = 0;
  std::uint16_t vbucket = 0;
  std::uint64_t vbuuid = 0;
  std::uint64_t seqno = 0;
  // The caller's own value, echoed in event_done: the connector puts the position it will
  // checkpoint there (inside an Out-of-Order snapshot the seqno is not that position).
  std::uint64_t token = 0;
};

// `<scope>.<collection>.<id>`, the key type rules match when matchOnQualifiedKey = true.
std::string qualified_key(const document_event& event);

}  // namespace cbes::sink
