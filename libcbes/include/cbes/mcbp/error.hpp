#pragma once
// Errors of the pure mcbp codec: every malformed or lying byte sequence from the network maps to
// one of these values (never an exception), in the "cbes.mcbp" error category.
//
//   boost::system::error_code ec = cbes::mcbp::errc::bad_magic;
//   std::cout << ec.message();  // "mcbp frame has an unknown magic byte ..."
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace cbes::mcbp {

template <class T>
using result = boost::system::result<T>;

enum class errc {
  bad_magic = 1,             // byte 0 is not one of the mcbp magics
  frame_too_large,           // total body length above the parser's maximum
  inconsistent_lengths,      // framing extras + extras + key > total body length
  bad_datatype,              // datatype has bits other than JSON/Snappy/XATTR
  truncated,                 // fewer bytes than a complete frame / field
  trailing_bytes,            // more bytes than one frame where exactly one was expected
  bad_frame_info,            // framing extras do not decode as FrameInfo entries
  unexpected_opcode,         // body decoder given a frame of another opcode
  unexpected_magic,          // request decoder given a response or vice versa
  bad_extras,                // extras length not allowed for this opcode
  bad_key,                   // key missing / not allowed / malformed for this opcode
  bad_value,                 // value length or layout wrong for this opcode
  bad_leb128,                // collection-id prefix not canonical unsigned LEB128
  bad_xattr,                 // xattr section lengths lie or lack NUL terminators
  bad_snappy,                // Snappy data corrupt
  decompressed_too_large,    // Snappy data would inflate beyond the caller's limit
  bad_json,                  // JSON syntax error
  bad_bucket_config,         // config JSON well-formed but missing/invalid required members
  bad_collections_manifest,  // manifest JSON well-formed but missing/invalid members
  bad_error_map,             // error map JSON missing/invalid members
  unsupported_mechanism,     // no acceptable SASL mechanism / unknown mechanism name
  bad_sasl_message,          // SCRAM/PLAIN message does not follow RFC 5802 / RFC 4616 syntax
  nonce_mismatch,            // server nonce does not extend the client nonce
  bad_server_signature,      // SCRAM server-final `v=` does not match: do not trust this server
  authentication_failed,     // wrong password / unknown user (server side of SCRAM/PLAIN)
  sasl_out_of_order,         // SCRAM step called in the wrong state
};

const boost::system::error_category& error_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace cbes::mcbp

template <>
struct boost::system::is_error_code_enum<cbes::mcbp::errc> : std::true_type {};
