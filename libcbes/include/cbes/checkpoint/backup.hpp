#pragma once
// The checkpoint backup file of `cbes-checkpoint-backup` / `-restore`, byte-compatible with the
// Java connector 4.4: compact UTF-8 JSON
//
//   {"formatVersion":1,"bucketUuid":"<metadata bucket uuid>","vbuckets":{"0":{"vbuuid":..,
//    "seqno":..,"snapshot":{"startSeqno":..,"endSeqno":..}},"1":{..},..}}
//
// with every vbucket 0..V-1 in numeric order (vbuckets without a checkpoint as zero) and numbers
// as Java longs.
//
//   auto b = co_await take_backup(store, bucket);              // operations.hpp
//   if (auto w = write_backup_file("backups/cp.json", *b); !w) ...
//   auto in = read_backup_file("backups/cp.json");
//   if (auto v = validate(*in, bucket); !v) std::cerr << v.error().message << '\n';
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "cbes/checkpoint/checkpoint.hpp"
#include "cbes/checkpoint/error.hpp"

namespace cbes::checkpoint {

// The only backup format there is.
inline constexpr int backup_format_version = 1;

struct backup {
  std::string bucket_uuid;
  std::map<std::uint16_t, checkpoint> vbuckets;
  bool operator==(const backup&) const = default;
};

// The bucket a backup is checked against: the metadata bucket's uuid and vbucket count (the
// Java connector's quirk, kept for compatibility).
struct bucket_info {
  std::string uuid;
  std::size_t num_vbuckets = 0;
};

// The file's bytes (no trailing newline, like Jackson's writeValue).
std::string encode_backup(const backup& b);

// Parses a backup file's text. Checks, in the Java tool's order: valid JSON object,
// formatVersion == 1 ("Unrecognized checkpoint format version: N", errc::format_version), then
// the shape: bucketUuid a string, vbuckets an object whose keys are decimal vbucket numbers
// (0..65535) and whose values are checkpoints (errc::invalid_backup naming the key).
result<backup> decode_backup(std::string_view text);

// Whether `b` may be restored into `bucket`, with the Java tool's messages:
// "Bucket UUID mismatch; checkpoint is from a bucket with UUID X but this bucket has UUID Y",
// "Bucket has N vbuckets but the checkpoint file has M -- is it from a different operating
// system (for example, macOS vs Linux)?", and errc::invalid_backup for a vbucket >= N.
result<void> validate(const backup& b, const bucket_info& bucket);

// Writes the file atomically: parent folders are created, the bytes go to a temporary file in
// the destination folder, which is flushed to disk (fsync) and renamed over `path`; on any
// failure the temporary file is removed and `path` is untouched. errc::file_error.
result<void> write_backup_file(const std::filesystem::path& path, const backup& b);

// Reads and decodes a file (at most 64 MiB; a 1024-vbucket backup is about 100 KiB).
// errc::file_error when it cannot be read, else decode_backup's errors prefixed with the path.
result<backup> read_backup_file(const std::filesystem::path& path);

}  // namespace cbes::checkpoint
