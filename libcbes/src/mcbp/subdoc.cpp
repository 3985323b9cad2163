#include "cbes/mcbp/subdoc.hpp"

#include "body.hpp"
#include "bytes.hpp"
#include "token_extras.hpp"

namespace cbes::mcbp {

using detail::direction;

namespace {

bool is_path_failure(status s) {
  return s == status::subdoc_multi_path_failure || s == status::subdoc_multi_path_failure_deleted;
}
bool has_lookup_results(status s) {
  return s == status::success || s == status::subdoc_success_deleted || is_path_failure(s);
}

}  // namespace

frame_builder subdoc_multi_lookup_request::encode() const {
  std::string value;
  for (const auto& s : specs) {
    detail::put_u8(value, static_cast<std::uint8_t>(s.op));
    detail::put_u8(value, s.flags);
    detail::put_u16(value, static_cast<std::uint16_t>(s.path.size()));
    value += s.path;
  }
  auto b = frame_builder::request(opcode::subdoc_multi_lookup).key(key).value(value);
  if (doc_flags != 0)
    b.extras(std::string(1, static_cast<char>(doc_flags)));
  return b;
}

result<subdoc_multi_lookup_request> subdoc_multi_lookup_request::decode(const frame& f) {
  if (auto ec = detail::expect(f, opcode::subdoc_multi_lookup, direction::request))
    return ec;
  if (f.extras.size() > 1)
    return errc::bad_extras;
  if (f.key.empty())
    return errc::bad_key;
  subdoc_multi_lookup_request r;
  r.key = f.key;
  r.doc_flags = f.extras.empty() ? 0 : static_cast<std::uint8_t>(f.extras[0]);
  detail::reader in{f.value};
  while (!in.empty()) {
    const auto op = in.u8();
    const auto flags = in.u8();
    const auto path_len = in.u16();
    if (!op || !flags || !path_len)
      return errc::bad_value;
    const auto path = in.take(*path_len);
    if (!path)
      return errc::bad_value;
    r.specs.push_back({static_cast<opcode>(*op), *flags, std::string(*path)});
  }
  if (r.specs.empty())
    return errc::bad_value;
  return r;
}

frame_builder subdoc_multi_lookup_response::encode(status s) const {
  std::string value;
  for (const auto& r : results) {
    detail::put_u16(value, static_cast<std::uint16_t>(r.status));
    detail::put_u32(value, static_cast<std::uint32_t>(r.value.size()));
    value += r.value;
  }
  return frame_builder::response(opcode::subdoc_multi_lookup, s).cas(cas).value(value);
}

result<subdoc_multi_lookup_response> subdoc_multi_lookup_response::decode(const frame& f) {
  if (auto ec = detail::expect(f, opcode::subdoc_multi_lookup, direction::response))
    return ec;
  subdoc_multi_lookup_response r;
  r.cas = f.cas();
  if (!has_lookup_results(f.status()))
    return r;
  detail::reader in{f.value};
  while (!in.empty()) {
    const auto st = in.u16();
    const auto len = in.u32();
    if (!st || !len)
      return errc::bad_value;
    const auto value = in.take(*len);
    if (!value)
      return errc::bad_value;
    r.results.push_back({static_cast<status>(*st), std::string(*value)});
  }
  return r;
}

frame_builder subdoc_multi_mutation_request::encode() const {
  std::string value;
  for (const auto& s : specs) {
    detail::put_u8(value, static_cast<std::uint8_t>(s.op));
    detail::put_u8(value, s.flags);
    detail::put_u16(value, static_cast<std::uint16_t>(s.path.size()));
    detail::put_u32(value, static_cast<std::uint32_t>(s.value.size()));
    value += s.path;
    value += s.value;
  }
  std::string extras;
  if (expiry)
    detail::put_u32(extras, *expiry);
  if (doc_flags != 0)
    detail::put_u8(extras, doc_flags);
  auto b = frame_builder::request(opcode::subdoc_multi_mutation)
               .key(key)
               .extras(extras)
               .cas(cas)
               .value(value);
  if (durability)
    b.durability(*durability);
  return b;
}

result<subdoc_multi_mutation_request> subdoc_multi_mutation_request::decode(const frame& f) {
  if (auto ec = detail::expect(f, opcode::subdoc_multi_mutation, direction::request))
    return ec;
  if (f.key.empty())
    return errc::bad_key;
  subdoc_multi_mutation_request r;
  r.key = f.key;
  r.cas = f.cas();
  switch (f.extras.size()) {
    case 0:
      break;
    case 1:
      r.doc_flags = static_cast<std::uint8_t>(f.extras[0]);
      break;
    case 4:
      r.expiry = detail::load_u32(f.extras, 0);
      break;
    case 5:
      r.expiry = detail::load_u32(f.extras, 0);
      r.doc_flags = static_cast<std::uint8_t>(f.extras[4]);
      break;
    default:
      return errc::bad_extras;
  }
  if (auto d = find_frame_info(f.framing_extras, request_frame_info::durability)) {
    auto level = decode_durability(*d);
    if (!level)
      return level.error();
    r.durability = *level;
  }
  detail::reader in{f.value};
  while (!in.empty()) {
    const auto op = in.u8();
    const auto flags = in.u8();
    const auto path_len = in.u16();
    const auto value_len = in.u32();
    if (!op || !flags || !path_len || !value_len)
      return errc::bad_value;
    const auto path = in.take(*path_len);
    const auto value = path ? in.take(*value_len) : std::nullopt;
    if (!path || !value)
      return errc::bad_value;
    r.specs.push_back({static_cast<opcode>(*op), *flags, std::string(*path), std::string(*value)});
  }
  if (r.specs.empty())
    return errc::bad_value;
  return r;
}

frame_builder subdoc_multi_mutation_response::encode(status s) const {
  std::string value;
  for (const auto& r : results) {
    detail::put_u8(value, r.index);
    detail::put_u16(value, static_cast<std::uint16_t>(r.status));
    if (is_path_failure(s))
      break;  // a failure body is exactly the first failing spec, without a value
    detail::put_u32(value, static_cast<std::uint32_t>(r.value.size()));
    value += r.value;
  }
  auto b = frame_builder::response(opcode::subdoc_multi_mutation, s).cas(cas).value(value);
  if (token && (s == status::success || s == status::subdoc_success_deleted))
    b.extras(detail::encode_token_extras(*token));
  return b;
}

result<subdoc_multi_mutation_response> subdoc_multi_mutation_response::decode(const frame& f) {
  if (auto ec = detail::expect(f, opcode::subdoc_multi_mutation, direction::response))
    return ec;
  subdoc_multi_mutation_response r;
  r.cas = f.cas();
  const auto token = detail::decode_token_extras(f.extras);
  if (!token)
    return token.error();
  r.token = *token;
  detail::reader in{f.value};
  if (is_path_failure(f.status())) {
    const auto index = in.u8();
    const auto st = in.u16();
    if (!index || !st || !in.empty())
      return errc::bad_value;
    r.results.push_back({*index, static_cast<status>(*st), {}});
    return r;
  }
  if (f.status() != status::success && f.status() != status::subdoc_success_deleted)
    return r;
  while (!in.empty()) {
    const auto index = in.u8();
    const auto st = in.u16();
    const auto len = in.u32();
    if (!index || !st || !len)
      return errc::bad_value;
    const auto value = in.take(*len);
    if (!value)
      return errc::bad_value;
    r.results.push_back({*index, static_cast<status>(*st), std::string(*value)});
  }
  return r;
}

}  // namespace cbes::mcbp
