#include "cbes/mcbp/error.hpp"

#include <string>

#include "cbes/util/error.hpp"

namespace cbes::mcbp {
namespace {

std::string describe(int ev) {
  switch (static_cast<errc>(ev)) {
    case errc::bad_magic:
      return "mcbp frame has an unknown magic byte (not a memcached binary protocol peer?)";
    case errc::frame_too_large:
      return "mcbp frame body is larger than the configured maximum";
    case errc::inconsistent_lengths:
      return "mcbp frame lengths lie: framing extras + extras + key exceed the body length";
    case errc::bad_datatype:
      return "mcbp frame has unknown datatype bits";
    case errc::truncated:
      return "mcbp data is truncated";
    case errc::trailing_bytes:
      return "mcbp data has bytes after the end of the frame";
    case errc::bad_frame_info:
      return "mcbp framing extras are not valid FrameInfo entries";
    case errc::unexpected_opcode:
      return "mcbp frame has a different opcode than the decoder expects";
    case errc::unexpected_magic:
      return "mcbp frame is a request where a response was expected, or vice versa";
    case errc::bad_extras:
      return "mcbp frame has an extras length this opcode does not allow";
    case errc::bad_key:
      return "mcbp frame key is missing, not allowed or malformed for this opcode";
    case errc::bad_value:
      return "mcbp frame value has the wrong length or layout for this opcode";
    case errc::bad_leb128:
      return "collection-id key prefix is not a canonical unsigned LEB128";
    case errc::bad_xattr:
      return "xattr section lengths are inconsistent or lack NUL terminators";
    case errc::bad_snappy:
      return "Snappy-compressed data is corrupt";
    case errc::decompressed_too_large:
      return "Snappy data would decompress beyond the allowed size";
    case errc::bad_json:
      return "JSON body does not parse";
    case errc::bad_bucket_config:
      return "bucket config JSON lacks or has invalid required members";
    case errc::bad_collections_manifest:
      return "collections manifest JSON lacks or has invalid required members";
    case errc::bad_error_map:
      return "error map JSON lacks or has invalid required members";
    case errc::unsupported_mechanism:
      return "no supported SASL mechanism (need SCRAM-SHA512/256/1, or PLAIN over TLS)";
    case errc::bad_sasl_message:
      return "SASL message is malformed";
    case errc::nonce_mismatch:
      return "SCRAM server nonce does not start with the client nonce";
    case errc::bad_server_signature:
      return "SCRAM server signature is wrong: the server does not know the password";
    case errc::authentication_failed:
      return "authentication failed: unknown user or wrong password";
    case errc::sasl_out_of_order:
      return "SASL step called out of order";
  }
  return "unknown mcbp codec error " + std::to_string(ev);
}

}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const util::named_error_category category{"cbes.mcbp", describe};
  return category;
}

}  // namespace cbes::mcbp
