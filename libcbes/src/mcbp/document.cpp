#include "cbes/mcbp/document.hpp"

#include "body.hpp"
#include "bytes.hpp"
#include "token_extras.hpp"

namespace cbes::mcbp {

using detail::direction;

frame_builder get_request::encode() const {
  return frame_builder::request(opcode::get).key(key);
}

result<get_request> get_request::decode(const frame& f) {
  if (auto ec = detail::expect_key_only(f, opcode::get, direction::request))
    return ec;
  return get_request{std::string(f.key)};
}

frame_builder get_response::encode(opcode op, status s) const {
  auto b = frame_builder::response(op, s).cas(cas).datatype(datatype).value(value);
  if (s == status::success) {
    std::string extras;
    detail::put_u32(extras, flags);
    b.extras(extras);
  }
  return b;
}

namespace {

bool is_get_family(opcode op) {
  return op == opcode::get || op == opcode::get_and_touch || op == opcode::get_locked ||
         op == opcode::get_replica;
}

}  // namespace

result<get_response> get_response::decode(const frame& f) {
  if (!is_get_family(f.opcode()))
    return errc::unexpected_opcode;
  if (auto ec = detail::expect(f, f.opcode(), direction::response))
    return ec;
  get_response r;
  if (f.extras.size() == 4)
    r.flags = detail::load_u32(f.extras, 0);
  else if (!f.extras.empty() || f.status() == status::success)
    return errc::bad_extras;
  r.value = f.value;
  r.datatype = f.datatype();
  r.cas = f.cas();
  return r;
}

frame_builder store_request::encode() const {
  std::string extras;
  detail::put_u32(extras, flags);
  detail::put_u32(extras, expiry);
  return frame_builder::request(static_cast<opcode>(operation))
      .extras(extras)
      .key(key)
      .value(value)
      .datatype(datatype)
      .cas(cas);
}

result<store_request> store_request::decode(const frame& f) {
  const auto op = f.opcode();
  if (op != opcode::set && op != opcode::add && op != opcode::replace)
    return errc::unexpected_opcode;
  if (auto ec = detail::expect(f, op, direction::request))
    return ec;
  if (f.extras.size() != 8)
    return errc::bad_extras;
  if (f.key.empty())
    return errc::bad_key;
  store_request r;
  r.operation = static_cast<store_operation>(op);
  r.key = f.key;
  r.value = f.value;
  r.flags = detail::load_u32(f.extras, 0);
  r.expiry = detail::load_u32(f.extras, 4);
  r.datatype = f.datatype();
  r.cas = f.cas();
  return r;
}

frame_builder mutation_response::encode(opcode op, status s) const {
  auto b = frame_builder::response(op, s).cas(cas);
  if (token && s == status::success)
    b.extras(detail::encode_token_extras(*token));
  return b;
}

result<mutation_response> mutation_response::decode(const frame& f) {
  if (!f.is_response() || f.magic() == magic::server_response)
    return errc::unexpected_magic;
  mutation_response r;
  r.cas = f.cas();
  const auto token = detail::decode_token_extras(f.extras);
  if (!token)
    return token.error();
  r.token = *token;
  return r;
}

frame_builder remove_request::encode() const {
  return frame_builder::request(opcode::remove).key(key).cas(cas);
}

result<remove_request> remove_request::decode(const frame& f) {
  if (auto ec = detail::expect_key_only(f, opcode::remove, direction::request))
    return ec;
  return remove_request{std::string(f.key), f.cas()};
}

frame_builder touch_request::encode() const {
  std::string extras;
  detail::put_u32(extras, expiry);
  return frame_builder::request(opcode::touch).extras(extras).key(key);
}

result<touch_request> touch_request::decode(const frame& f) {
  if (auto ec = detail::expect(f, opcode::touch, direction::request))
    return ec;
  if (f.extras.size() != 4)
    return errc::bad_extras;
  if (f.key.empty())
    return errc::bad_key;
  if (!f.value.empty())
    return errc::bad_value;
  return touch_request{std::string(f.key), detail::load_u32(f.extras, 0)};
}

}  // namespace cbes::mcbp
