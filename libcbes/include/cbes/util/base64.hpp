#pragma once
// Standard base64 with padding (RFC 4648 section 4), the form SCRAM (RFC 5802: nonces, salts,
// proofs) and HTTP Basic authentication (RFC 7617: "user:password") carry bytes in.
//
//   std::string text = cbes::util::base64_encode("foob");     // "Zm9vYg=="
//   auto bytes = cbes::util::base64_decode("Zm9vYg==");       // "foob"
//   if (!cbes::util::base64_decode("Zm9vYg")) { /* not padded: rejected */ }
#include <optional>
#include <string>
#include <string_view>

namespace cbes::util {

std::string base64_encode(std::string_view bytes);

// nullopt unless `text` is padded standard base64: a length that is a multiple of four, only
// the characters A-Z a-z 0-9 + /, and '=' only as the last one or two characters. Like Go's and
// Java's standard decoders, the unused bits of the last character are not checked.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace cbes::util
