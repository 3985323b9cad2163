#include "sasl_server.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "consul/encoding.hpp"

namespace cbes::testkit::couchbase {

namespace {

const EVP_MD* digest_of(mcbp::sasl_mechanism m) {
  switch (m) {
    case mcbp::sasl_mechanism::scram_sha1:
      return EVP_sha1();
    case mcbp::sasl_mechanism::scram_sha256:
      return EVP_sha256();
    default:
      return EVP_sha512();
  }
}

std::string hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return {reinterpret_cast<const char*>(out), len};
}

std::string hash(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  return {reinterpret_cast<const char*>(out), len};
}

// "a=v,b=w" → the value of attribute `name` (first occurrence), or nullopt.
std::optional<std::string_view> attribute(std::string_view msg, char name) {
  while (!msg.empty()) {
    auto comma = msg.find(',');
    auto part = msg.substr(0, comma);
    if (part.size() >= 2 && part[0] == name && part[1] == '=')
      return part.substr(2);
    if (comma == std::string_view::npos)
      break;
    msg.remove_prefix(comma + 1);
  }
  return std::nullopt;
}

}  // namespace

mcbp::result<std::string> scram_exchange::server_first(std::string_view client_first) {
  using mcbp::errc;
  // gs2 header "n,," / "y,," / "n,a=authzid," (no channel binding over mcbp).
  if (client_first.size() < 3 || (client_first[0] != 'n' && client_first[0] != 'y') ||
      client_first[1] != ',')
    return errc::bad_sasl_message;
  auto header_end = client_first.find(',', 2);
  if (header_end == std::string_view::npos)
    return errc::bad_sasl_message;
  gs2_header_ = client_first.substr(0, header_end + 1);
  client_first_bare_ = client_first.substr(header_end + 1);
  auto user = attribute(client_first_bare_, 'n');
  auto nonce = attribute(client_first_bare_, 'r');
  if (!user || !nonce || nonce->empty())
    return errc::bad_sasl_message;
  auto name = mcbp::scram_unescape_username(*user);
  if (!name || name->empty())
    return errc::bad_sasl_message;
  username_ = *name;
  credentials_ = lookup_(username_);
  if (!credentials_)
    return errc::authentication_failed;
  unsigned char random[18];
  RAND_bytes(random, sizeof random);
  nonce_ = std::string(*nonce) +
           consul::base64_encode({reinterpret_cast<const char*>(random), sizeof random});
  server_first_ = "r=" + nonce_ + ",s=" + consul::base64_encode(credentials_->salt) +
                  ",i=" + std::to_string(credentials_->iterations);
  return server_first_;
}

mcbp::result<std::string> scram_exchange::server_final(std::string_view client_final) {
  using mcbp::errc;
  if (!credentials_)
    return errc::sasl_out_of_order;
  auto proof_at = client_final.rfind(",p=");
  if (proof_at == std::string_view::npos)
    return errc::bad_sasl_message;
  auto without_proof = client_final.substr(0, proof_at);
  auto binding = attribute(without_proof, 'c');
  auto nonce = attribute(without_proof, 'r');
  if (!binding || !nonce || consul::base64_decode(*binding) != gs2_header_)
    return errc::bad_sasl_message;
  if (*nonce != nonce_)
    return errc::nonce_mismatch;
  auto proof = consul::base64_decode(client_final.substr(proof_at + 3));
  const EVP_MD* md = digest_of(mechanism_);
  if (!proof || proof->size() != static_cast<std::size_t>(EVP_MD_get_size(md)))
    return errc::bad_sasl_message;
  std::string auth_message =
      client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
  std::string signature = hmac(md, credentials_->stored_key, auth_message);
  std::string client_key(proof->size(), '\0');
  for (std::size_t i = 0; i < client_key.size(); ++i)
    client_key[i] = static_cast<char>((*proof)[i] ^ signature[i]);
  std::string stored = hash(md, client_key);
  if (stored.size() != credentials_->stored_key.size() ||
      CRYPTO_memcmp(stored.data(), credentials_->stored_key.data(), stored.size()) != 0)
    return errc::authentication_failed;
  std::string verdict =
      "v=" + consul::base64_encode(hmac(md, credentials_->server_key, auth_message));
  credentials_.reset();
  return verdict;
}

}  // namespace cbes::testkit::couchbase
