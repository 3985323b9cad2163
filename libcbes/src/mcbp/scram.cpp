#include "cbes/mcbp/scram.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <charconv>
#include <stdexcept>
#include <utility>
#include <vector>

#include "cbes/util/base64.hpp"

namespace cbes::mcbp {
namespace {

// A hostile server could ask for billions of PBKDF2 rounds; Couchbase uses 15000 by default.
constexpr std::uint32_t max_iterations = 10'000'000;

const EVP_MD* digest_of(sasl_mechanism m) {
  switch (m) {
    case sasl_mechanism::scram_sha1:
      return EVP_sha1();
    case sasl_mechanism::scram_sha256:
      return EVP_sha256();
    case sasl_mechanism::scram_sha512:
      return EVP_sha512();
    case sasl_mechanism::plain:
      break;
  }
  throw std::invalid_argument("SCRAM needs a SCRAM-SHA* mechanism");
}

std::string hmac(const EVP_MD* md, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string hash(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string salted_password(const EVP_MD* md, std::string_view password, std::string_view salt,
                            std::uint32_t iterations) {
  std::string out(static_cast<std::size_t>(EVP_MD_get_size(md)), '\0');
  PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), static_cast<int>(iterations), md,
                    static_cast<int>(out.size()), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string xor_bytes(std::string_view a, std::string_view b) {
  std::string out(a);
  for (std::size_t i = 0; i < out.size() && i < b.size(); ++i)
    out[i] = static_cast<char>(out[i] ^ b[i]);
  return out;
}

bool equal_secret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_nonce() {
  unsigned char bytes[24];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  return util::base64_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

// RFC 5802 attributes: "a=value" separated by commas; values may contain '=' but not ','.
using attributes = std::vector<std::pair<char, std::string_view>>;

std::optional<attributes> parse_attributes(std::string_view msg) {
  attributes out;
  while (true) {
    const auto comma = msg.find(',');
    const auto part = msg.substr(0, comma);
    if (part.size() < 2 || part[1] != '=')
      return std::nullopt;
    out.emplace_back(part[0], part.substr(2));
    if (comma == std::string_view::npos)
      return out;
    msg.remove_prefix(comma + 1);
  }
}

std::optional<std::uint32_t> parse_iterations(std::string_view text) {
  std::uint32_t v = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc{} || r.ptr != text.data() + text.size() || v == 0 || v > max_iterations)
    return std::nullopt;
  return v;
}

// RFC 5802 §7 defines `printable` as %x21-2B / %x2D-7E, but Couchbase's cbsasl checks nonces with
// isprint() (%x20-7E) minus ',', and the C++ SDK (hence the Node.js/Python SDKs) sends its client
// nonce as space-separated hex bytes ("0x0c 0x40 ..."). A Couchbase-compatible server must take
// what Couchbase Server takes, so space is allowed; controls, DEL, non-ASCII and ',' are not.
bool valid_nonce(std::string_view nonce) {
  if (nonce.empty())
    return false;
  for (char c : nonce)
    if (c < 0x20 || c > 0x7e || c == ',')
      return false;
  return true;
}

struct scram_keys {
  std::string client_key, stored_key, server_key;
};

scram_keys keys_from_salted(const EVP_MD* md, std::string_view salted) {
  scram_keys k;
  k.client_key = hmac(md, salted, "Client Key");
  k.stored_key = hash(md, k.client_key);
  k.server_key = hmac(md, salted, "Server Key");
  return k;
}

}  // namespace

scram_credentials scram_credentials::derive(sasl_mechanism m, std::string_view password,
                                            std::string_view salt, std::uint32_t iterations) {
  const EVP_MD* md = digest_of(m);
  const auto k = keys_from_salted(md, salted_password(md, password, salt, iterations));
  return {std::string(salt), iterations, k.stored_key, k.server_key};
}

std::string scram_escape_username(std::string_view username) {
  std::string out;
  for (char c : username) {
    if (c == '=')
      out += "=3D";
    else if (c == ',')
      out += "=2C";
    else
      out += c;
  }
  return out;
}

std::optional<std::string> scram_unescape_username(std::string_view saslname) {
  std::string out;
  for (std::size_t i = 0; i < saslname.size(); ++i) {
    if (saslname[i] == ',')
      return std::nullopt;
    if (saslname[i] != '=') {
      out += saslname[i];
      continue;
    }
    const auto esc = saslname.substr(i, 3);
    if (esc == "=3D")
      out += '=';
    else if (esc == "=2C")
      out += ',';
    else
      return std::nullopt;
    i += 2;
  }
  return out;
}

scram_client::scram_client(sasl_mechanism m, std::string username, std::string password,
                           std::string client_nonce)
    : mechanism_(m),
      username_(std::move(username)),
      password_(std::move(password)),
      client_nonce_(client_nonce.empty() ? random_nonce() : std::move(client_nonce)) {
  (void)digest_of(m);
  client_first_ = "n,,n=" + scram_escape_username(username_) + ",r=" + client_nonce_;
}

result<std::string> scram_client::client_final(std::string_view server_first) {
  const auto attrs = parse_attributes(server_first);
  // RFC 5802 §7: server-first-message = [reserved-mext ","] nonce "," salt "," iteration-count
  // [","extensions]; a mandatory extension (m=) we do not know means failure.
  if (!attrs || attrs->size() < 3 || (*attrs)[0].first != 'r' || (*attrs)[1].first != 's' ||
      (*attrs)[2].first != 'i')
    return errc::bad_sasl_message;
  const std::string_view nonce = (*attrs)[0].second;
  if (!valid_nonce(nonce))
    return errc::bad_sasl_message;
  if (nonce.size() <= client_nonce_.size() ||
      nonce.substr(0, client_nonce_.size()) != client_nonce_)
    return errc::nonce_mismatch;
  const auto salt = util::base64_decode((*attrs)[1].second);
  const auto iterations = parse_iterations((*attrs)[2].second);
  if (!salt || salt->empty() || !iterations)
    return errc::bad_sasl_message;

  const EVP_MD* md = digest_of(mechanism_);
  const auto keys = keys_from_salted(md, salted_password(md, password_, *salt, *iterations));
  const std::string without_proof = "c=biws,r=" + std::string(nonce);
  const std::string auth_message =
      client_first_.substr(3) + "," + std::string(server_first) + "," + without_proof;
  const std::string proof = xor_bytes(keys.client_key, hmac(md, keys.stored_key, auth_message));
  expected_server_signature_ = hmac(md, keys.server_key, auth_message);
  return without_proof + ",p=" + util::base64_encode(proof);
}

boost::system::error_code scram_client::verify_server_final(std::string_view server_final) const {
  if (expected_server_signature_.empty())
    return errc::sasl_out_of_order;
  if (server_final.starts_with("e="))
    return errc::authentication_failed;
  const auto attrs = parse_attributes(server_final);
  if (!attrs || attrs->empty() || (*attrs)[0].first != 'v')
    return errc::bad_sasl_message;
  const auto signature = util::base64_decode((*attrs)[0].second);
  if (!signature)
    return errc::bad_sasl_message;
  if (!equal_secret(*signature, expected_server_signature_))
    return errc::bad_server_signature;
  return {};
}

scram_server::scram_server(sasl_mechanism m, credentials_lookup lookup, std::string server_nonce)
    : mechanism_(m),
      lookup_(std::move(lookup)),
      server_nonce_(server_nonce.empty() ? random_nonce() : std::move(server_nonce)) {
  (void)digest_of(m);
}

result<std::string> scram_server::server_first(std::string_view client_first) {
  if (!server_first_.empty())
    return errc::sasl_out_of_order;
  // gs2-header: "n" or "y" (no channel binding), optional "a=authzid", then ",".
  if (client_first.size() < 3 || (client_first[0] != 'n' && client_first[0] != 'y') ||
      client_first[1] != ',')
    return errc::bad_sasl_message;
  const auto header_end = client_first.find(',', 2);
  if (header_end == std::string_view::npos)
    return errc::bad_sasl_message;
  const std::string_view authzid = client_first.substr(2, header_end - 2);
  if (!authzid.empty() && !authzid.starts_with("a="))
    return errc::bad_sasl_message;
  gs2_header_ = client_first.substr(0, header_end + 1);
  client_first_bare_ = client_first.substr(header_end + 1);

  const auto attrs = parse_attributes(client_first_bare_);
  if (!attrs || attrs->size() < 2 || (*attrs)[0].first != 'n' || (*attrs)[1].first != 'r')
    return errc::bad_sasl_message;
  auto user = scram_unescape_username((*attrs)[0].second);
  if (!user || user->empty() || !valid_nonce((*attrs)[1].second))
    return errc::bad_sasl_message;
  username_ = std::move(*user);
  credentials_ = lookup_ ? lookup_(username_) : std::nullopt;
  if (!credentials_)
    return errc::authentication_failed;
  nonce_ = std::string((*attrs)[1].second) + server_nonce_;
  server_first_ = "r=" + nonce_ + ",s=" + util::base64_encode(credentials_->salt) +
                  ",i=" + std::to_string(credentials_->iterations);
  return server_first_;
}

result<std::string> scram_server::server_final(std::string_view client_final) {
  if (server_first_.empty() || done_)
    return errc::sasl_out_of_order;
  done_ = true;
  const auto proof_at = client_final.rfind(",p=");
  if (proof_at == std::string_view::npos)
    return errc::bad_sasl_message;
  const std::string_view without_proof = client_final.substr(0, proof_at);
  const auto attrs = parse_attributes(without_proof);
  if (!attrs || attrs->size() < 2 || (*attrs)[0].first != 'c' || (*attrs)[1].first != 'r')
    return errc::bad_sasl_message;
  if (util::base64_decode((*attrs)[0].second) != gs2_header_)
    return errc::bad_sasl_message;
  if ((*attrs)[1].second != nonce_)
    return errc::nonce_mismatch;
  const auto proof = util::base64_decode(client_final.substr(proof_at + 3));
  const EVP_MD* md = digest_of(mechanism_);
  if (!proof || proof->size() != static_cast<std::size_t>(EVP_MD_get_size(md)))
    return errc::bad_sasl_message;

  const std::string auth_message =
      client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
  const std::string client_key =
      xor_bytes(*proof, hmac(md, credentials_->stored_key, auth_message));
  if (!equal_secret(hash(md, client_key), credentials_->stored_key))
    return errc::authentication_failed;
  return "v=" + util::base64_encode(hmac(md, credentials_->server_key, auth_message));
}

}  // namespace cbes::mcbp
