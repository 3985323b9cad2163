#include "cbes/couchbase/error.hpp"

#include "cbes/util/area_error.hpp"

namespace cbes::couchbase {
namespace {

std::string describe(int ev) {
  switch (static_cast<errc>(ev)) {
    case errc::authentication_failed:
      return "authentication failed";
    case errc::no_sasl_mechanism:
      return "no usable SASL mechanism";
    case errc::bucket_not_found:
      return "bucket not found";
    case errc::access_denied:
      return "access denied";
    case errc::unknown_collection:
      return "unknown collection";
    case errc::document_not_found:
      return "document not found";
    case errc::document_exists:
      return "document exists";
    case errc::path_not_found:
      return "sub-document path not found";
    case errc::temporary_failure:
      return "temporary failure";
    case errc::protocol_error:
      return "protocol error";
    case errc::no_config:
      return "no usable bucket config";
    case errc::server_error:
      return "server error";
    case errc::closed:
      return "client closed";
    case errc::ambiguous:
      return "request sent without an answer: it may or may not have been applied";
    default:  // and the transport codes, which the category describes
      return "unknown couchbase error";
  }
}

}  // namespace

const boost::system::error_category& error_category() noexcept {
  return util::transport_area_category<errc, describe>("cbes.couchbase");
}

std::string error::what() const {
  return util::area_what("couchbase", message, code);
}

bool error::transient() const noexcept {
  return util::transport_transient<errc>(code) || code == errc::temporary_failure;
}

error make_error(errc e, std::string message, std::optional<mcbp::status> status) {
  return error{make_error_code(e), status, std::move(message)};
}

}  // namespace cbes::couchbase
