#include "cbes/sink/error.hpp"

#include "cbes/util/area_error.hpp"

namespace cbes::sink {
namespace {

std::string describe(int ev) {
  switch (static_cast<errc>(ev)) {
    case errc::bad_response:
      return "bad response";
    case errc::authentication_failed:
      return "authentication failed";
    case errc::unsupported_server:
      return "unsupported server version";
    case errc::bulk_failed:
      return "bulk request failed";
    case errc::closed:
      return "sink closed";
    default:  // and the transport codes, which the category describes
      return "unknown sink error";
  }
}

}  // namespace

const boost::system::error_category& error_category() noexcept {
  return util::transport_area_category<errc, describe>("cbes.sink");
}

bool area_transient(const boost::system::error_code& code, errc) noexcept {
  return util::transport_transient<errc>(code) || code == errc::bad_response;
}

}  // namespace cbes::sink
