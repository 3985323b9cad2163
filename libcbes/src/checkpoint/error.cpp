#include "cbes/checkpoint/error.hpp"

#include "cbes/util/area_error.hpp"

namespace cbes::checkpoint {
namespace {

std::string describe(int ev) {
  switch (static_cast<errc>(ev)) {
    case errc::ok:
      return "success";
    case errc::invalid_argument:
      return "invalid argument";
    case errc::invalid_document:
      return "invalid checkpoint document";
    case errc::invalid_backup:
      return "invalid checkpoint file";
    case errc::format_version:
      return "unrecognized checkpoint format version";
    case errc::bucket_uuid_mismatch:
      return "bucket UUID mismatch";
    case errc::vbucket_count_mismatch:
      return "vbucket count mismatch";
    case errc::file_error:
      return "checkpoint file error";
    case errc::store_failed:
      return "checkpoint store failed";
  }
  return "unknown checkpoint error";
}

}  // namespace

const boost::system::error_category& error_category() noexcept {
  return util::area_category<describe>("cbes.checkpoint");
}

}  // namespace cbes::checkpoint
