#pragma once
// The extras of a successful mutation response (private to the mcbp sources): the mutation's
// vbucket uuid and seqno, 8 bytes each, big-endian. Servers send them only on connections that
// negotiated MutationSeqno, so the extras may also be empty.
#include <optional>
#include <string>
#include <string_view>

#include "bytes.hpp"
#include "cbes/mcbp/document.hpp"
#include "cbes/mcbp/error.hpp"

namespace cbes::mcbp::detail {

inline std::string encode_token_extras(const mutation_token& t) {
  std::string extras;
  put_u64(extras, t.vbucket_uuid);
  put_u64(extras, t.seqno);
  return extras;
}

// 16 bytes → the token, no bytes → no token, any other length → errc::bad_extras.
inline result<std::optional<mutation_token>> decode_token_extras(std::string_view extras) {
  if (extras.empty())
    return std::optional<mutation_token>{};
  if (extras.size() != 16)
    return errc::bad_extras;
  return std::optional<mutation_token>{mutation_token{load_u64(extras, 0), load_u64(extras, 8)}};
}

}  // namespace cbes::mcbp::detail
