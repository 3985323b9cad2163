#include "cbes/group/error.hpp"

#include <iterator>

namespace cbes::group {
namespace {

// Indexed by errc value.
constexpr const char* messages[] = {
    "success",
    "invalid argument",
    "invalid document",
    "endpoint already in use",
    "endpoint document does not exist",
    "RPC endpoint operation timed out",
    "the RPC endpoint answered with an error",
    "Consul request failed",
    "cancelled",
    "the connector could not start, add or release vbuckets",
};
static_assert(std::size(messages) == static_cast<std::size_t>(errc::streamer_failed) + 1);

std::string describe(int ev) {
  if (ev < 0 || static_cast<std::size_t>(ev) >= std::size(messages))
    return "unknown group error";
  return messages[ev];
}

}  // namespace

const boost::system::error_category& error_category() noexcept {
  return util::area_category<describe>("cbes.group");
}

}  // namespace cbes::group
