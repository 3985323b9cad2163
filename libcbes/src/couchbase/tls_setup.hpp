#pragma once
// TLS client setup shared by the KV connection and the HTTP config fetch (private).
#include <memory>
#include <string>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl.hpp>

#include "../util/pkcs12_keystore.hpp"
#include "cbes/couchbase/connection.hpp"
#include "cbes/couchbase/error.hpp"

namespace cbes::couchbase::detail {

// A client context that verifies the peer against `tls.ca_file` (or the system store) and
// presents the client certificate of `tls.client_keystore`, if any.
inline result<std::unique_ptr<boost::asio::ssl::context>> make_tls_context(const tls_options& tls) {
  auto ctx = std::make_unique<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
  ctx->set_verify_mode(boost::asio::ssl::verify_peer);
  boost::system::error_code ec;
  if (!tls.ca_file.empty())
    ctx->load_verify_file(tls.ca_file, ec);
  else
    ctx->set_default_verify_paths(ec);
  if (ec)
    return make_error(errc::invalid_argument,
                      "cannot load CA file '" + tls.ca_file + "': " + ec.message());
  if (!tls.client_keystore.empty()) {
    auto loaded = util::detail::use_pkcs12_keystore(
        *ctx, tls.client_keystore, tls.client_keystore_password, "couchbase.clientCertificate");
    if (!loaded)
      return make_error(errc::invalid_argument, loaded.error());
  }
  return ctx;
}

// SNI (host names only, RFC 6066 §3) and hostname verification for one stream.
template <class Stream>
void prepare_tls_stream(Stream& stream, const tls_options& tls, const std::string& host) {
  const std::string name = tls.server_name.empty() ? host : tls.server_name;
  boost::system::error_code not_ip;
  boost::asio::ip::make_address(name, not_ip);
  if (not_ip)
    SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
             static_cast<void*>(const_cast<char*>(name.c_str())));
  if (tls.verify_hostname)
    stream.set_verify_callback(boost::asio::ssl::host_name_verification(name));
}

}  // namespace cbes::couchbase::detail
