#pragma once
// Internal: a client certificate from a PKCS12 keystore (`clientCertificate.path`, the Java
// connector's format) into a TLS client context, shared by the Couchbase connections and the
// Elasticsearch pool. OpenSSL stays out of the public headers.
//
//   auto loaded = util::detail::use_pkcs12_keystore(ctx, path, password,
//                                                   "couchbase.clientCertificate");
//   if (!loaded) return make_error(errc::invalid_argument, loaded.error());
#include <string>
#include <string_view>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/result.hpp>

namespace cbes::util::detail {

// Puts the keystore's certificate, private key and further certificates (the chain sent to the
// server) into `ctx`. The error is one line naming the file and what to fix, with `setting` (e.g.
// "elasticsearch.clientCertificate") as the config keys to look at: unreadable file, not PKCS12
// (a JKS keystore is recognised and a conversion suggested), wrong password, no certificate or
// no private key, or a key that does not belong to the certificate. Keystores written with
// OpenSSL 1.x or older JDKs (RC2/3DES) are read too: OpenSSL's legacy provider is loaded for them.
boost::system::result<void, std::string> use_pkcs12_keystore(boost::asio::ssl::context& ctx,
                                                             const std::string& path,
                                                             const std::string& password,
                                                             std::string_view setting);

}  // namespace cbes::util::detail
