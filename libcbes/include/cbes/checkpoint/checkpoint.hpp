#pragma once
// One vbucket's resume position, stored the Java connector's way: the content of the user xattr
// `cbes` of an empty binary document per vbucket in the metadata bucket.
//
//   cbes::checkpoint::checkpoint cp{uuid, 1234, {1200, 1234}};
//   std::string x = cbes::checkpoint::encode_xattr(cp);   // {"checkpoint":{...},"bucketUuid":""}
//   auto back = cbes::checkpoint::decode_xattr(x);        // == cp
//   auto state = cbes::checkpoint::to_stream_state(cp);   // what the DCP consumer resumes from
#include <cstdint>
#include <string>
#include <string_view>

#include "cbes/checkpoint/error.hpp"
#include "cbes/dcp/stream_state.hpp"

namespace cbes::checkpoint {

// The snapshot the checkpoint's seqno belongs to.
struct snapshot_marker {
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  bool operator==(const snapshot_marker&) const = default;
};

// vbuuid and seqnos are unsigned here; on the wire they are Java longs (two's complement), so a
// vbuuid >= 2^63 is written negative and read back unchanged.
struct checkpoint {
  std::uint64_t vbuuid = 0;
  std::uint64_t seqno = 0;
  snapshot_marker snapshot;
  bool operator==(const checkpoint&) const = default;

  // "vbuuid@seqno[start-end]", Java's toString.
  std::string to_string() const;
};

// The Java connector's Checkpoint.ZERO: stream everything from the beginning.
inline constexpr checkpoint zero{};

// The xattr value the Java connector writes: its document is a java.util.HashMap, whose
// iteration order puts "checkpoint" before "bucketUuid"; Jackson writes the checkpoint's fields
// in constructor order (vbuuid, seqno, snapshot{startSeqno, endSeqno}); compact, no newline.
//
//   encode_xattr(cp) == R"({"checkpoint":{"vbuuid":-1,"seqno":5,"snapshot":{"startSeqno":5,)"
//                       R"("endSeqno":5}},"bucketUuid":""})"
std::string encode_xattr(const checkpoint& cp, std::string_view bucket_uuid = {});

// Reads an xattr value in any key order; numbers may be signed or unsigned 64-bit integers;
// bucketUuid is ignored (the Java connector ignores it too). errc::invalid_document naming the
// key and the problem otherwise.
//
//   auto cp = decode_xattr(R"({"checkpoint":{"vbuuid":1,"seqno":2,"snapshot":{...}}})");
result<checkpoint> decode_xattr(std::string_view json);

// The DCP position a checkpoint resumes from: seqno and snapshot as stored, and a one-entry
// failover log [(vbuuid, 2^64-1)] so that the stream request carries the checkpoint's vbuuid and
// the synthetic entry is always pruned when the server answers with a rollback (the Java
// connector's behaviour).
//
//   consumer.start(vb, to_stream_state(cp));
dcp::stream_state to_stream_state(const checkpoint& cp);

// The checkpoint of a stream position (its uuid, seqno and snapshot).
//
//   store.save({{vb, from_stream_state(tracker.state())}});
checkpoint from_stream_state(const dcp::stream_state& state);

}  // namespace cbes::checkpoint
