#pragma once
// Errors of the checkpoint area (xattr documents, stores, backup files): every expected failure
// is a value with a code to branch on and one line that names the problem and the fix.
//
//   auto b = cbes::checkpoint::read_backup_file("checkpoint.json");
//   if (!b) std::cerr << b.error().message << '\n';   // "Unrecognized checkpoint format version:
//   2"
#include <string>
#include <type_traits>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include "cbes/util/area_error.hpp"

namespace cbes::checkpoint {

// The "cbes.checkpoint" category. Values are stable; never reorder.
enum class errc {
  ok = 0,
  invalid_argument = 1,    // a vbucket outside the bucket, an empty group name, ...
  invalid_document,        // a checkpoint xattr that is not the Java connector's JSON shape
  invalid_backup,          // a backup file that is not valid JSON of the expected shape
  format_version,          // a backup file with formatVersion != 1
  bucket_uuid_mismatch,    // a backup taken from another bucket (or a re-created one)
  vbucket_count_mismatch,  // a backup from a bucket with another vbucket count
  file_error,              // reading or writing a backup file failed
  store_failed,            // the metadata bucket refused or did not answer
};

const boost::system::error_category& error_category() noexcept;
inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

// "checkpoint: <message>" in what(); see util::area_error.
constexpr const char* area_label(errc) noexcept {
  return "checkpoint";
}

using error = util::area_error<errc>;
inline error make_error(errc e, std::string message) {
  return util::make_area_error(e, std::move(message));
}

// What the area's operations return; value() throws std::runtime_error(what()).
template <class T>
using result = boost::system::result<T, error>;

}  // namespace cbes::checkpoint

template <>
struct boost::system::is_error_code_enum<cbes::checkpoint::errc> : std::true_type {};
