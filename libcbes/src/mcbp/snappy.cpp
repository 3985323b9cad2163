#include "cbes/mcbp/snappy.hpp"

#include <snappy.h>

#include "cbes/mcbp/datatype.hpp"

namespace cbes::mcbp {

std::string snappy_compress(std::string_view data) {
  std::string out;
  snappy::Compress(data.data(), data.size(), &out);
  return out;
}

result<std::string> snappy_decompress(std::string_view compressed, std::size_t max_size) {
  std::size_t length = 0;
  if (!snappy::GetUncompressedLength(compressed.data(), compressed.size(), &length))
    return errc::bad_snappy;
  if (length > max_size)
    return errc::decompressed_too_large;
  std::string out(length, '\0');
  if (!snappy::RawUncompress(compressed.data(), compressed.size(), out.data()))
    return errc::bad_snappy;
  return out;
}

result<std::string> inflate_value(std::uint8_t dt, std::string_view value, std::size_t max_size) {
  if (has(dt, datatype::snappy))
    return snappy_decompress(value, max_size);
  if (value.size() > max_size)
    return errc::decompressed_too_large;
  return std::string(value);
}

}  // namespace cbes::mcbp
