#pragma once
// CRC-32 (IEEE 802.3, the zlib/java.util.zip variant) and Couchbase's key → vbucket mapping
// built on it (kv_engine's protocol docs, the Java connector's behaviour).
//
//   std::uint32_t c = cbes::util::crc32("123456789");            // 0xcbf43926
//   std::uint16_t vb = cbes::util::vbucket_for_key("doc", 1024);
#include <cstdint>
#include <string_view>

namespace cbes::util {

// Reflected polynomial 0xedb88320, initial value and final xor 0xffffffff.
std::uint32_t crc32(std::string_view bytes);
// Continues a CRC over more bytes (zlib's `crc32(crc, buf, len)`): crc32(b, crc32(a)) ==
// crc32(a + b), so a common prefix is hashed once (checkpoint key salts try many suffixes).
std::uint32_t crc32(std::string_view bytes, std::uint32_t previous);

// `((crc32(key) >> 16) & 0x7fff) & (num_vbuckets - 1)`; `num_vbuckets` must be a power of two
// (Couchbase buckets have 1024, 128 or 64). Returns 0 when num_vbuckets is 0.
std::uint16_t vbucket_for_key(std::string_view key, std::size_t num_vbuckets);

}  // namespace cbes::util
