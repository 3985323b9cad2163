#include "cbes/mcbp/hello.hpp"

#include <algorithm>

#include "body.hpp"
#include "bytes.hpp"

namespace cbes::mcbp {
namespace {

std::string encode_features(const std::vector<feature>& features) {
  std::string out;
  for (auto f : features)
    detail::put_u16(out, static_cast<std::uint16_t>(f));
  return out;
}

result<std::vector<feature>> decode_features(std::string_view value) {
  if (value.size() % 2 != 0)
    return errc::bad_value;
  std::vector<feature> out;
  for (std::size_t i = 0; i < value.size(); i += 2)
    out.push_back(static_cast<feature>(detail::load_u16(value, i)));
  return out;
}

}  // namespace

frame_builder hello_request::encode() const {
  return frame_builder::request(opcode::hello).key(agent).value(encode_features(features));
}

result<hello_request> hello_request::decode(const frame& f) {
  if (auto ec = detail::expect(f, opcode::hello, detail::direction::request))
    return ec;
  if (!f.extras.empty())
    return errc::bad_extras;
  auto features = decode_features(f.value);
  if (!features)
    return features.error();
  return hello_request{std::string(f.key), std::move(*features)};
}

bool hello_request::has(feature x) const noexcept {
  return std::find(features.begin(), features.end(), x) != features.end();
}

frame_builder hello_response::encode(status s) const {
  return frame_builder::response(opcode::hello, s).value(encode_features(features));
}

result<hello_response> hello_response::decode(const frame& f) {
  if (auto ec = detail::expect_bare(f, opcode::hello, detail::direction::response))
    return ec;
  auto features = decode_features(f.value);
  if (!features)
    return features.error();
  return hello_response{std::move(*features)};
}

bool hello_response::has(feature x) const noexcept {
  return std::find(features.begin(), features.end(), x) != features.end();
}

}  // namespace cbes::mcbp
