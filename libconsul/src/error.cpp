#include "consul/error.hpp"

#include <stdexcept>

#include <boost/throw_exception.hpp>

namespace consul {
namespace {

// boost::system::error_category has a protected non-virtual destructor by design.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "consul"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok:
        return "success";
      case errc::connection_failed:
        return "connection to the Consul agent failed";
      case errc::timeout:
        return "Consul request timed out";
      case errc::http_status:
        return "Consul answered with an error status";
      case errc::bad_request:
        return "Consul rejected the request";
      case errc::not_found:
        return "not found";
      case errc::acl_denied:
        return "ACL denied";
      case errc::no_leader:
        return "no cluster leader";
      case errc::rate_limited:
        return "rate limited by Consul";
      case errc::invalid_response:
        return "invalid response from Consul";
      case errc::invalid_argument:
        return "invalid argument";
      case errc::session_not_found:
        return "session not found";
      case errc::cancelled:
        return "cancelled";
      case errc::lock_lost:
        return "lock lost";
      case errc::tls_failed:
        return "TLS with the Consul agent failed";
    }
    return "unknown consul error";
  }
};
#pragma GCC diagnostic pop

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
    s.remove_suffix(1);
  return s;
}

}  // namespace

const boost::system::error_category& consul_category() noexcept {
  static const category_impl instance;
  return instance;
}

std::string error::what() const {
  std::string out = "consul: " + code.message();
  if (http_status != 0)
    out += " (HTTP " + std::to_string(http_status) + ")";
  if (!message.empty())
    out += ": " + message;
  return out;
}

bool error::transient() const noexcept {
  if (code.category() != consul_category())
    return false;
  switch (static_cast<errc>(code.value())) {
    case errc::connection_failed:
    case errc::timeout:
    case errc::no_leader:
    case errc::rate_limited:
      return true;
    case errc::http_status:
      return http_status >= 500;
    default:
      return false;
  }
}

error make_error(errc e, std::string message, int http_status) {
  return error{make_error_code(e), http_status, std::move(message)};
}

error error_from_http(int status, std::string_view body) {
  std::string text(trim(body));
  errc e = errc::http_status;
  if (status == 403)
    e = errc::acl_denied;
  else if (status == 404)
    e = errc::not_found;
  else if (status == 400 || status == 405 || status == 413)
    e = errc::bad_request;
  else if (status == 429)
    e = errc::rate_limited;
  else if (status >= 500 && text.find("No cluster leader") != std::string::npos)
    e = errc::no_leader;
  return make_error(e, std::move(text), status);
}

void throw_exception_from_error(const error& e, const boost::source_location& loc) {
  boost::throw_exception(std::runtime_error(e.what()), loc);
}

}  // namespace consul
