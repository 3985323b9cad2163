#include "cbes/mcbp/select_bucket.hpp"

#include "body.hpp"

namespace cbes::mcbp {

frame_builder select_bucket_request::encode() const {
  return frame_builder::request(opcode::select_bucket).key(bucket);
}

result<select_bucket_request> select_bucket_request::decode(const frame& f) {
  if (auto ec = detail::expect(f, opcode::select_bucket, detail::direction::request))
    return ec;
  if (!f.extras.empty())
    return errc::bad_extras;
  if (f.key.empty())
    return errc::bad_key;
  if (!f.value.empty())
    return errc::bad_value;
  return select_bucket_request{std::string(f.key)};
}

}  // namespace cbes::mcbp
