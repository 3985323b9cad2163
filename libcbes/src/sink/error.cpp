#include "cbes/sink/error.hpp"

#include <stdexcept>

#include <boost/throw_exception.hpp>

namespace cbes::sink {
namespace {

// boost::system::error_category has a protected non-virtual destructor by design.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "cbes.sink"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok:
        return "success";
      case errc::invalid_argument:
        return "invalid argument";
      case errc::connection_failed:
        return "connection failed";
      case errc::connection_closed:
        return "connection closed";
      case errc::timeout:
        return "timed out";
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
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const category c;
  return c;
}

std::string error::what() const {
  return "elasticsearch: " + (message.empty() ? code.message() : message);
}

bool error::transient() const noexcept {
  return code == errc::connection_failed || code == errc::connection_closed ||
         code == errc::timeout || code == errc::bad_response;
}

error make_error(errc e, std::string message) {
  return error{make_error_code(e), std::move(message)};
}

void throw_exception_from_error(const error& e, const boost::source_location& loc) {
  boost::throw_exception(std::runtime_error(e.what()), loc);
}

}  // namespace cbes::sink
