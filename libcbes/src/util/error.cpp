#include "cbes/util/error.hpp"

namespace cbes::util {

std::string transport_message(int ev) {
  switch (static_cast<transport_errc>(ev)) {
    case transport_errc::ok:
      return "success";
    case transport_errc::invalid_argument:
      return "invalid argument";
    case transport_errc::connection_failed:
      return "connection failed";
    case transport_errc::connection_closed:
      return "connection closed";
    case transport_errc::timeout:
      return "timed out";
  }
  return "unknown error";
}

std::string exception_message(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
  }
  return "unknown exception";
}

}  // namespace cbes::util
