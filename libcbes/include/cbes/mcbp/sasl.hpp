#pragma once
// SASL over mcbp (kv_engine's protocol docs): mechanism names, the bodies of SASL_LIST_MECHS,
// SASL_AUTH and SASL_STEP, and PLAIN (RFC 4616). SCRAM lives in scram.hpp.
//
//   auto mech = cbes::mcbp::choose_mechanism("SCRAM-SHA512 SCRAM-SHA256 PLAIN", false);
//   auto req = sasl_auth_request{"PLAIN", plain_auth_payload("user", "pw")}.encode().opaque(1);
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cbes/mcbp/frame.hpp"
#include "cbes/mcbp/frame_builder.hpp"

namespace cbes::mcbp {

enum class sasl_mechanism { plain, scram_sha1, scram_sha256, scram_sha512 };

// Wire names: "PLAIN", "SCRAM-SHA1", "SCRAM-SHA256", "SCRAM-SHA512" (no dash before the digits).
std::string_view to_string(sasl_mechanism m) noexcept;
std::optional<sasl_mechanism> parse_sasl_mechanism(std::string_view name) noexcept;

// The known mechanisms of a space-separated SASL_LIST_MECHS value, in server order.
std::vector<sasl_mechanism> parse_mechanism_list(std::string_view list);

// Strongest SCRAM the server offers; PLAIN only when `allow_plain` (TLS, as the Java
// refuses PLAIN on plain TCP). errc::unsupported_mechanism when nothing fits.
result<sasl_mechanism> choose_mechanism(std::string_view server_list, bool allow_plain);

// SASL_LIST_MECHS (0x20): empty request.
struct sasl_list_mechs_request {
  frame_builder encode() const;
  static result<sasl_list_mechs_request> decode(const frame& f);
};

// Response value: space-separated mechanism names.
struct sasl_list_mechs_response {
  std::string mechanisms;
  frame_builder encode(status s = status::success) const;
  static result<sasl_list_mechs_response> decode(const frame& f);
};

// SASL_AUTH (0x21): key = mechanism name, value = initial client message.
struct sasl_auth_request {
  std::string mechanism;
  std::string payload;
  frame_builder encode() const;
  static result<sasl_auth_request> decode(const frame& f);
};

// SASL_STEP (0x22): same layout as SASL_AUTH.
struct sasl_step_request {
  std::string mechanism;
  std::string payload;
  frame_builder encode() const;
  static result<sasl_step_request> decode(const frame& f);
};

// Response to SASL_AUTH / SASL_STEP: status Success (payload = server-final, may be empty),
// AuthContinue (payload = challenge), AuthError, AuthStale.
struct sasl_response {
  std::string payload;
  frame_builder encode(opcode op, status s) const;
  static result<sasl_response> decode(const frame& f);
};

// PLAIN: `authzid NUL user NUL password` with an empty authzid.
std::string plain_auth_payload(std::string_view username, std::string_view password);

struct plain_credentials {
  std::string authzid;
  std::string username;
  std::string password;
};
// Server side; errc::bad_sasl_message unless there are exactly two NUL separators.
result<plain_credentials> parse_plain_auth_payload(std::string_view payload);

}  // namespace cbes::mcbp
