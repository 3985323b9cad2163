#include "cbes/sink/error.hpp"

#include "cbes/util/area_error.hpp"

namespace cbes::sink {
namespace {

static_assert(util::same_transport_codes<errc>(), "errc must start with util::transport_errc");

std::string describe(int ev) {
  switch (static_cast<errc>(ev)) {
    case errc::ok:
    case errc::invalid_argument:
    case errc::connection_failed:
    case errc::connection_closed:
    case errc::timeout:
      return util::transport_message(ev);
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
  }
  return "unknown sink error";
}

}  // namespace

const boost::system::error_category& error_category() noexcept {
  return util::area_category<describe>("cbes.sink");
}

std::string error::what() const {
  return util::area_what("elasticsearch", message, code);
}

bool error::transient() const noexcept {
  return util::transport_transient<errc>(code) || code == errc::bad_response;
}

error make_error(errc e, std::string message) {
  return error{make_error_code(e), std::move(message)};
}

}  // namespace cbes::sink
