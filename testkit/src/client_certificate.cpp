#include "client_certificate.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>

namespace cbes::testkit::detail {

void verify_client_certificates(boost::asio::ssl::context& ctx, const std::string& ca_file,
                                bool required) {
  ctx.load_verify_file(ca_file);
  ctx.set_verify_mode(required ? boost::asio::ssl::verify_peer |
                                     boost::asio::ssl::verify_fail_if_no_peer_cert
                               : boost::asio::ssl::verify_peer);
}

std::string verified_client_cn(SSL* ssl) {
  std::unique_ptr<X509, void (*)(X509*)> cert(SSL_get1_peer_certificate(ssl), &X509_free);
  if (!cert || SSL_get_verify_result(ssl) != X509_V_OK)
    return {};
  X509_NAME* subject = X509_get_subject_name(cert.get());
  const int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (at < 0)
    return {};
  unsigned char* utf8 = nullptr;
  const int n =
      ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at)));
  if (n < 0)
    return {};
  std::string cn(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return cn;
}

}  // namespace cbes::testkit::detail
