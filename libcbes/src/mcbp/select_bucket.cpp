#include "cbes/mcbp/select_bucket.hpp"

#include "body.hpp"

namespace cbes::mcbp {

frame_builder select_bucket_request::encode() const {
  return frame_builder::request(opcode::select_bucket).key(bucket);
}

result<select_bucket_request> select_bucket_request::decode(const frame& f) {
  if (auto ec = detail::expect_key_only(f, opcode::select_bucket, detail::direction::request))
    return ec;
  return select_bucket_request{std::string(f.key)};
}

}  // namespace cbes::mcbp
