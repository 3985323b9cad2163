#pragma once
// Whether a failed TLS handshake failed because the peer's certificate did not verify (an
// unknown CA, an expired certificate, a host name it was not issued for). That is a settings
// problem no retry fixes, so the Couchbase client and the Elasticsearch pool report it as such
// (private to libcbes).
//
//   if (util::certificate_rejected(ec)) return make_error(errc::invalid_argument, ...);
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <boost/asio/ssl/error.hpp>
#include <boost/system/error_code.hpp>

namespace cbes::util {

inline bool certificate_rejected(const boost::system::error_code& ec) noexcept {
  return ec.category() == boost::asio::error::get_ssl_category() &&
         ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == SSL_R_CERTIFICATE_VERIFY_FAILED;
}

}  // namespace cbes::util
