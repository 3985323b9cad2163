#pragma once
// Keys of the checkpoint documents, the Java connector's way: `_connector:cbes:<group>:checkpoint:
// <vb>#<salt>`, where the salt (lowercase hex, no padding) is the smallest non-negative integer
// that makes the key hash (CRC32, Couchbase's vbucket hash) to vbucket <vb> itself, so each
// checkpoint lives on the node that owns its vbucket. The prefix `_connector:cbes:` marks
// metadata that the connector never indexes.
//
//   document_key("example-group", 0, 1024) == "_connector:cbes:example-group:checkpoint:0#86"
//   auto keys = document_keys("example-group", 1024);   // (*keys)[vb], computed once per process
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cbes::checkpoint {

// Every metadata document key starts with this (DCP events for such keys are not indexed).
inline constexpr std::string_view metadata_key_prefix = "_connector:cbes:";

// `base + "#" + hex salt` hashing to `vbucket` among `num_vbuckets` (a power of two), trying
// salts 0 .. 10^7-1 like the Java connector; nullopt when none fits (or on a bad argument).
std::optional<std::string> force_key_to_vbucket(std::string_view base, std::uint16_t vbucket,
                                                std::size_t num_vbuckets);

// The checkpoint document key of one vbucket (the bare base key when no salt fits, as in Java).
std::string document_key(std::string_view group, std::uint16_t vbucket, std::size_t num_vbuckets);

// The keys of vbuckets 0..num_vbuckets-1, computed once per (group, num_vbuckets) and shared:
// finding the salts of 1024 vbuckets takes about a million CRC steps. Thread-safe.
std::shared_ptr<const std::vector<std::string>> document_keys(std::string_view group,
                                                              std::size_t num_vbuckets);

}  // namespace cbes::checkpoint
