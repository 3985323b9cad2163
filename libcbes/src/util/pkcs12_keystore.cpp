#include "pkcs12_keystore.hpp"

#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace cbes::util::detail {
namespace {

using load_result = boost::system::result<void, std::string>;

// A keystore holds a key and a few certificates; anything this large is not one.
constexpr std::size_t max_keystore_bytes = 1024 * 1024;

load_result failure(std::string why) {
  return load_result(boost::system::in_place_error, std::move(why));
}

struct free_pkcs12 {
  void operator()(PKCS12* p) const { PKCS12_free(p); }
};
struct free_key {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct free_x509 {
  void operator()(X509* p) const { X509_free(p); }
};
struct free_x509_stack {
  void operator()(STACK_OF(X509) * s) const {
    auto* stack = reinterpret_cast<OPENSSL_STACK*>(s);
    for (int i = 0; i < OPENSSL_sk_num(stack); ++i)
      X509_free(static_cast<X509*>(OPENSSL_sk_value(stack, i)));
    OPENSSL_sk_free(stack);
  }
};

// The reason of OpenSSL's most recent error ("unsupported"), and a clean error queue.
std::string openssl_reason() {
  const unsigned long e = ERR_peek_last_error();
  const char* reason = e != 0 ? ERR_reason_error_string(e) : nullptr;
  ERR_clear_error();
  return reason != nullptr ? reason : "unknown error";
}

// RC2-40 and 3DES (OpenSSL 1.x `pkcs12 -export`, keytool before JDK 8u301 / 11.0.12) live in
// OpenSSL 3's legacy provider; the default provider stays available next to it.
// The handle is released at exit, before OpenSSL's own cleanup (registered earlier, so it runs
// later): a handle kept for ever would outlive that cleanup and show up as a leak.
bool load_legacy_provider() {
  struct unload {
    void operator()(OSSL_PROVIDER* p) const { OSSL_PROVIDER_unload(p); }
  };
  static std::unique_ptr<OSSL_PROVIDER, unload> legacy(
      OSSL_PROVIDER_try_load(nullptr, "legacy", 1));
  return legacy != nullptr;
}

bool read_keystore(const std::string& path, std::string& out, std::string& why) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) {
    why = std::strerror(errno);
    return false;
  }
  char buf[16 * 1024];
  for (;;) {
    const std::size_t n = std::fread(buf, 1, sizeof buf, f.get());
    out.append(buf, n);
    if (out.size() > max_keystore_bytes) {
      why = "larger than " + std::to_string(max_keystore_bytes / 1024) + " KiB, not a keystore";
      return false;
    }
    if (n < sizeof buf) {
      if (std::ferror(f.get()) != 0) {
        why = std::strerror(errno);
        return false;
      }
      return true;
    }
  }
}

}  // namespace

boost::system::result<void, std::string> use_pkcs12_keystore(boost::asio::ssl::context& ctx,
                                                             const std::string& path,
                                                             const std::string& password,
                                                             std::string_view setting) {
  const std::string quoted = "'" + path + "'";
  const std::string key_path = std::string(setting) + ".path";
  std::string bytes;
  std::string why;
  if (!read_keystore(path, bytes, why))
    return failure("cannot read keystore " + quoted + ": " + why + "; check " + key_path);

  ERR_clear_error();
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  std::unique_ptr<PKCS12, free_pkcs12> p12(
      d2i_PKCS12(nullptr, &p, static_cast<long>(bytes.size())));
  if (!p12) {
    ERR_clear_error();
    if (bytes.starts_with("\xFE\xED\xFE\xED"))
      return failure("keystore " + quoted +
                     " is a Java KeyStore (JKS), not PKCS12; convert it with keytool "
                     "-importkeystore -srckeystore " +
                     path + " -destkeystore client.p12 -deststoretype PKCS12 and set " + key_path);
    return failure("keystore " + quoted +
                   " is not a PKCS12 file; make one with openssl pkcs12 -export -in cert.pem "
                   "-inkey key.pem -out client.p12 and set " +
                   key_path);
  }

  // The MAC tells a wrong password apart from a damaged file. An empty password may have been
  // written as "no password" (NULL), which is a different MAC key.
  const char* pass = password.c_str();
  if (PKCS12_mac_present(p12.get()) != 0 && PKCS12_verify_mac(p12.get(), pass, -1) != 1) {
    if (password.empty() && PKCS12_verify_mac(p12.get(), nullptr, 0) == 1) {
      pass = nullptr;
    } else {
      ERR_clear_error();
      return failure("cannot open keystore " + quoted + ": wrong password? check " +
                     std::string(setting) + ".pathToPassword");
    }
  }

  EVP_PKEY* raw_key = nullptr;
  X509* raw_cert = nullptr;
  STACK_OF(X509)* raw_chain = nullptr;
  bool parsed = PKCS12_parse(p12.get(), pass, &raw_key, &raw_cert, &raw_chain) == 1;
  std::string reason = parsed ? std::string() : openssl_reason();
  if (!parsed && load_legacy_provider()) {
    parsed = PKCS12_parse(p12.get(), pass, &raw_key, &raw_cert, &raw_chain) == 1;
    if (!parsed)
      reason = openssl_reason();
  }
  std::unique_ptr<EVP_PKEY, free_key> key(raw_key);
  std::unique_ptr<X509, free_x509> cert(raw_cert);
  std::unique_ptr<STACK_OF(X509), free_x509_stack> chain(raw_chain);
  if (!parsed)
    return failure("cannot decrypt keystore " + quoted + ": " + reason +
                   "; re-export it with openssl pkcs12 -export (AES) and set " + key_path);
  // First the key: PKCS12_parse returns a certificate only together with its key (one without a
  // key comes back among the chain).
  if (!key)
    return failure("keystore " + quoted +
                   " holds no private key; export the certificate together with its key "
                   "(openssl pkcs12 -export -in cert.pem -inkey key.pem) and set " +
                   key_path);
  if (!cert)
    return failure("keystore " + quoted +
                   " holds no certificate; export the client certificate into it (openssl "
                   "pkcs12 -export -in cert.pem -inkey key.pem) and set " +
                   key_path);

  SSL_CTX* native = ctx.native_handle();
  if (SSL_CTX_use_certificate(native, cert.get()) != 1 ||
      SSL_CTX_use_PrivateKey(native, key.get()) != 1)
    return failure("cannot use the certificate of keystore " + quoted + ": " + openssl_reason() +
                   "; check " + key_path);
  if (SSL_CTX_check_private_key(native) != 1)
    return failure("keystore " + quoted + ": the private key does not belong to the certificate (" +
                   openssl_reason() + "); re-export them together and set " + key_path);
  if (chain) {
    auto* stack = reinterpret_cast<OPENSSL_STACK*>(chain.get());
    for (int i = 0; i < OPENSSL_sk_num(stack); ++i) {
      // SSL_CTX_add1_chain_cert is a macro with a C cast.
      if (SSL_CTX_ctrl(native, SSL_CTRL_CHAIN_CERT, 1, OPENSSL_sk_value(stack, i)) != 1)
        return failure("cannot use the chain of keystore " + quoted + ": " + openssl_reason() +
                       "; check " + key_path);
    }
  }
  return {};
}

}  // namespace cbes::util::detail
