#pragma once
// Shared checks of the per-opcode body decoders (private).
#include "cbes/mcbp/frame.hpp"

namespace cbes::mcbp::detail {

enum class direction { request, response };

// The frame must carry `op` in the expected direction (client magics only).
inline boost::system::error_code expect(const frame& f, opcode op, direction d) {
  if (f.opcode() != op)
    return errc::unexpected_opcode;
  const bool want_request = d == direction::request;
  const magic m = f.magic();
  if (m == magic::server_request || m == magic::server_response || f.is_request() != want_request)
    return errc::unexpected_magic;
  return {};
}

// Same, plus "no extras, no key" — the shape of most bootstrap commands.
inline boost::system::error_code expect_bare(const frame& f, opcode op, direction d) {
  if (auto ec = expect(f, op, d))
    return ec;
  if (!f.extras.empty())
    return errc::bad_extras;
  if (!f.key.empty())
    return errc::bad_key;
  return {};
}

// "No extras, a key, no value" — the shape of requests that name only a key (GET, DELETE,
// SELECT_BUCKET).
inline boost::system::error_code expect_key_only(const frame& f, opcode op, direction d) {
  if (auto ec = expect(f, op, d))
    return ec;
  if (!f.extras.empty())
    return errc::bad_extras;
  if (f.key.empty())
    return errc::bad_key;
  if (!f.value.empty())
    return errc::bad_value;
  return {};
}

}  // namespace cbes::mcbp::detail
