#pragma once
// Internal: the server side of mutual TLS for the fakes (HTTP servers and the KV TLS port).
#include <string>

#include <boost/asio/ssl/context.hpp>

namespace cbes::testkit::detail {

// Verifies client certificates against the PEM CA in `ca_file`; with `required` a client without
// one fails the handshake (Elasticsearch's `client_authentication: required`), without it the
// certificate is optional (Couchbase's client certificate mode "enable"). Throws
// boost::system::system_error when the CA file cannot be loaded.
void verify_client_certificates(boost::asio::ssl::context& ctx, const std::string& ca_file,
                                bool required);

// The subject CN of the client certificate the handshake on `ssl` verified; empty when the
// client presented none (or it did not verify).
std::string verified_client_cn(SSL* ssl);

}  // namespace cbes::testkit::detail
