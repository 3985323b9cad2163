#pragma once
// SCRAM-SHA1/256/512 as Couchbase speaks it (RFC 5802 without SASLprep and without channel
// binding; kv_engine's protocol docs): both the client and the server state machines. Nonces
// may hold any printable ASCII but ',' *including space*, as Couchbase's cbsasl accepts (the
// C++/Node.js SDKs send "0x0c 0x40 ..."); RFC 5802 §7 would exclude the space.
//
//   scram_client c{sasl_mechanism::scram_sha512, "user", "pencil"};
//   send(sasl_auth_request{"SCRAM-SHA512", c.client_first()});
//   auto final_msg = c.client_final(challenge);          // after status AuthContinue
//   send(sasl_step_request{"SCRAM-SHA512", *final_msg});
//   if (auto ec = c.verify_server_final(success_value)) fail(ec);   // server must prove itself
//
//   scram_server s{sasl_mechanism::scram_sha512, lookup};   // lookup(user) -> credentials
//   auto challenge = s.server_first(client_first);           // reply AuthContinue
//   auto verdict = s.server_final(client_final);              // reply Success "v=..." or AuthError
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "cbes/mcbp/error.hpp"
#include "cbes/mcbp/sasl.hpp"

namespace cbes::mcbp {

// What a server stores per user and mechanism (Couchbase keeps salt, iterations, stored_key and
// server_key); all byte strings are raw (not base64).
struct scram_credentials {
  std::string salt;
  std::uint32_t iterations = 0;
  std::string stored_key;
  std::string server_key;

  // PBKDF2 + HMAC derivation of RFC 5802 §3. `m` must be a SCRAM mechanism.
  static scram_credentials derive(sasl_mechanism m, std::string_view password,
                                  std::string_view salt, std::uint32_t iterations);
};

// `=` → `=3D`, `,` → `=2C` (RFC 5802 §5.1 saslname).
std::string scram_escape_username(std::string_view username);
// Inverse; nullopt for a lone `=` or an unknown escape.
std::optional<std::string> scram_unescape_username(std::string_view saslname);

class scram_client {
 public:
  // `client_nonce` empty → 24 random bytes, base64. Tests pass the RFC's nonce.
  scram_client(sasl_mechanism m, std::string username, std::string password,
               std::string client_nonce = {});

  sasl_mechanism mechanism() const noexcept { return mechanism_; }

  // "n,,n=<user>,r=<cnonce>" — the SASL_AUTH payload.
  const std::string& client_first() const noexcept { return client_first_; }

  // Given the AuthContinue value "r=..,s=..,i=..": the SASL_STEP payload "c=biws,r=..,p=..".
  // errc::bad_sasl_message / nonce_mismatch on a malformed or foreign challenge.
  result<std::string> client_final(std::string_view server_first);

  // Checks "v=<ServerSignature>" from the final Success response. An "e=..." server error
  // → authentication_failed; a wrong signature → bad_server_signature.
  boost::system::error_code verify_server_final(std::string_view server_final) const;

 private:
  sasl_mechanism mechanism_;
  std::string username_, password_, client_nonce_, client_first_;
  std::string expected_server_signature_;
};

class scram_server {
 public:
  using credentials_lookup =
      std::function<std::optional<scram_credentials>(std::string_view username)>;

  // `server_nonce` empty → 24 random bytes, base64.
  scram_server(sasl_mechanism m, credentials_lookup lookup, std::string server_nonce = {});

  // Given "n,,n=<user>,r=<cnonce>": the challenge "r=<cnonce+snonce>,s=<salt>,i=<n>".
  // errc::authentication_failed for an unknown user, bad_sasl_message for a malformed message
  // (including channel binding requests, which Couchbase does not do over mcbp).
  result<std::string> server_first(std::string_view client_first);

  // Given "c=biws,r=<nonce>,p=<proof>": "v=<ServerSignature>" when the proof is right,
  // errc::authentication_failed when it is not.
  result<std::string> server_final(std::string_view client_final);

  // The authenticated (unescaped) user name, once server_first succeeded.
  const std::string& username() const noexcept { return username_; }

 private:
  sasl_mechanism mechanism_;
  credentials_lookup lookup_;
  std::string server_nonce_;
  std::string username_, gs2_header_, client_first_bare_, server_first_, nonce_;
  std::optional<scram_credentials> credentials_;
  bool done_ = false;
};

}  // namespace cbes::mcbp
