// libFuzzer target: values a Couchbase server sends inside frames — bucket config, collections
// manifest, error map, xattrs, Snappy, failover log, stream filter, collection keys. The first
// byte picks the decoder; a value no decoder accepts must be refused, never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cbes/mcbp/bucket_config.hpp"
#include "cbes/mcbp/collection_key.hpp"
#include "cbes/mcbp/collections_manifest.hpp"
#include "cbes/mcbp/datatype.hpp"
#include "cbes/mcbp/dcp.hpp"
#include "cbes/mcbp/error_map.hpp"
#include "cbes/mcbp/sasl.hpp"
#include "cbes/mcbp/snappy.hpp"
#include "cbes/mcbp/xattr.hpp"

namespace mcbp = cbes::mcbp;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1)
    return 0;
  const std::string_view v(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 10) {
    case 0:
      static_cast<void>(mcbp::parse_bucket_config(v, "127.0.0.1"));
      break;
    case 1:
      static_cast<void>(mcbp::parse_collections_manifest(v));
      break;
    case 2:
      static_cast<void>(mcbp::parse_error_map(v));
      break;
    case 3:
      static_cast<void>(mcbp::decode_xattrs(v));
      break;
    case 4:
      // A bounded inflate: a declared length over the limit must be refused before allocating.
      static_cast<void>(mcbp::snappy_decompress(v, 1u << 20));
      break;
    case 5:
      static_cast<void>(mcbp::decode_failover_log(v));
      break;
    case 6:
      static_cast<void>(mcbp::decode_stream_filter(v));
      break;
    case 7:
      static_cast<void>(mcbp::decode_collection_key(v));
      static_cast<void>(mcbp::parse_hex_id(v));
      break;
    case 8:
      static_cast<void>(mcbp::parse_mechanism_list(v));
      static_cast<void>(mcbp::choose_mechanism(v, false));
      static_cast<void>(mcbp::parse_plain_auth_payload(v));
      break;
    default:
      static_cast<void>(mcbp::inflate_value(mcbp::datatype::snappy, v, 1u << 20));
      break;
  }
  return 0;
}
