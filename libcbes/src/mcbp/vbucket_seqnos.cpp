#include "cbes/mcbp/vbucket_seqnos.hpp"

#include "body.hpp"
#include "bytes.hpp"

namespace cbes::mcbp {

using detail::direction;

frame_builder get_all_vb_seqnos_request::encode() const {
  std::string extras;
  if (state) {
    detail::put_u32(extras, static_cast<std::uint32_t>(*state));
    if (collection_id)
      detail::put_u32(extras, *collection_id);
  }
  return frame_builder::request(opcode::get_all_vb_seqnos).extras(extras);
}

result<get_all_vb_seqnos_request> get_all_vb_seqnos_request::decode(const frame& f) {
  if (auto ec = detail::expect(f, opcode::get_all_vb_seqnos, direction::request))
    return ec;
  if (!f.key.empty())
    return errc::bad_key;
  if (!f.value.empty())
    return errc::bad_value;
  get_all_vb_seqnos_request r;
  if (f.extras.size() != 0 && f.extras.size() != 4 && f.extras.size() != 8)
    return errc::bad_extras;
  if (f.extras.size() >= 4) {
    const auto state = static_cast<std::int32_t>(detail::load_u32(f.extras, 0));
    if (state < 0 || state > 4)
      return errc::bad_extras;
    r.state = static_cast<vbucket_state>(state);
  }
  if (f.extras.size() == 8)
    r.collection_id = detail::load_u32(f.extras, 4);
  return r;
}

frame_builder get_all_vb_seqnos_response::encode(status s) const {
  std::string value;
  for (const auto& e : entries) {
    detail::put_u16(value, e.vbucket);
    detail::put_u64(value, e.seqno);
  }
  return frame_builder::response(opcode::get_all_vb_seqnos, s).value(value);
}

result<get_all_vb_seqnos_response> get_all_vb_seqnos_response::decode(const frame& f) {
  if (auto ec = detail::expect_bare(f, opcode::get_all_vb_seqnos, direction::response))
    return ec;
  if (f.value.size() % 10 != 0)
    return errc::bad_value;
  get_all_vb_seqnos_response r;
  r.entries.reserve(f.value.size() / 10);
  for (std::size_t at = 0; at < f.value.size(); at += 10)
    r.entries.push_back({detail::load_u16(f.value, at), detail::load_u64(f.value, at + 2)});
  return r;
}

frame_builder observe_seqno_request::encode() const {
  std::string value;
  detail::put_u64(value, vbucket_uuid);
  return frame_builder::request(opcode::observe_seqno).value(value);
}

result<observe_seqno_request> observe_seqno_request::decode(const frame& f) {
  if (auto ec = detail::expect_bare(f, opcode::observe_seqno, direction::request))
    return ec;
  if (f.value.size() != 8)
    return errc::bad_value;
  return observe_seqno_request{detail::load_u64(f.value, 0)};
}

frame_builder observe_seqno_response::encode(status s) const {
  std::string value;
  detail::put_u8(value, hard_failover ? 1 : 0);
  detail::put_u16(value, vbucket);
  detail::put_u64(value, vbucket_uuid);
  detail::put_u64(value, last_persisted_seqno);
  detail::put_u64(value, current_seqno);
  if (hard_failover) {
    detail::put_u64(value, hard_failover->old_vbucket_uuid);
    detail::put_u64(value, hard_failover->last_seqno_of_old_uuid);
  }
  return frame_builder::response(opcode::observe_seqno, s).value(value);
}

result<observe_seqno_response> observe_seqno_response::decode(const frame& f) {
  if (auto ec = detail::expect_bare(f, opcode::observe_seqno, direction::response))
    return ec;
  const std::string_view v = f.value;
  if (v.empty())
    return errc::bad_value;
  const auto format = static_cast<std::uint8_t>(v[0]);
  if (!((format == 0 && v.size() == 27) || (format == 1 && v.size() == 43)))
    return errc::bad_value;
  observe_seqno_response r;
  r.vbucket = detail::load_u16(v, 1);
  r.vbucket_uuid = detail::load_u64(v, 3);
  r.last_persisted_seqno = detail::load_u64(v, 11);
  r.current_seqno = detail::load_u64(v, 19);
  if (format == 1)
    r.hard_failover = failover{detail::load_u64(v, 27), detail::load_u64(v, 35)};
  return r;
}

}  // namespace cbes::mcbp
