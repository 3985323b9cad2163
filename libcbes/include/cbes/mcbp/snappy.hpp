#pragma once
// Snappy (raw format, as datatype bit 0x02 uses; kv_engine's protocol docs) with a bound on the
// inflated size, since the claimed length comes from the network.
//
//   std::string small = cbes::mcbp::snappy_compress(json);
//   auto back = cbes::mcbp::snappy_decompress(small, 20 << 20);   // result<std::string>
#include <cstddef>
#include <string>
#include <string_view>

#include "cbes/mcbp/error.hpp"

namespace cbes::mcbp {

std::string snappy_compress(std::string_view data);

// errc::decompressed_too_large when the encoded length exceeds `max_size` (checked before any
// allocation), errc::bad_snappy when the data is corrupt.
result<std::string> snappy_decompress(std::string_view compressed, std::size_t max_size);

// The inflated value of a frame: decompressed if `datatype` has the Snappy bit, copied otherwise.
result<std::string> inflate_value(std::uint8_t datatype, std::string_view value,
                                  std::size_t max_size);

}  // namespace cbes::mcbp
