#pragma once
// SELECT_BUCKET (0x89; kv_engine's protocol docs): key = bucket name; the response is status only
// (KeyEnoent: no such bucket, Eaccess: no access).
//
//   auto bytes = select_bucket_request{"travel-sample"}.encode().opaque(4).build();
#include <string>

#include "cbes/mcbp/frame.hpp"
#include "cbes/mcbp/frame_builder.hpp"

namespace cbes::mcbp {

// Deselects the current bucket.
inline constexpr std::string_view no_bucket_name = "@no bucket@";

struct select_bucket_request {
  std::string bucket;

  frame_builder encode() const;
  static result<select_bucket_request> decode(const frame& f);
};

}  // namespace cbes::mcbp
