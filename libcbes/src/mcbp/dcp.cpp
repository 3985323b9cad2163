#include "cbes/mcbp/dcp.hpp"

#include <boost/json.hpp>

#include "body.hpp"
#include "bytes.hpp"
#include "cbes/mcbp/collection_key.hpp"

namespace cbes::mcbp {

using detail::direction;

result<failover_log> decode_failover_log(std::string_view v) {
  if (v.size() % 16 != 0)
    return errc::bad_value;
  failover_log log;
  log.reserve(v.size() / 16);
  for (std::size_t at = 0; at < v.size(); at += 16)
    log.push_back({detail::load_u64(v, at), detail::load_u64(v, at + 8)});
  return log;
}

namespace {

std::string encode_failover_log(const failover_log& log) {
  std::string value;
  value.reserve(log.size() * 16);
  for (const auto& e : log) {
    detail::put_u64(value, e.vbucket_uuid);
    detail::put_u64(value, e.seqno);
  }
  return value;
}

// A request with no extras, key or value.
boost::system::error_code expect_empty_request(const frame& f, opcode op) {
  if (auto ec = detail::expect_bare(f, op, direction::request))
    return ec;
  if (!f.value.empty())
    return errc::bad_value;
  return {};
}

// A request that carries fixed-size extras and nothing else (stream end, seqno advanced, OSO
// marker, buffer ack, set vbucket state).
boost::system::error_code expect_extras_only(const frame& f, opcode op, std::size_t extras) {
  if (auto ec = detail::expect(f, op, direction::request))
    return ec;
  if (f.extras.size() != extras)
    return errc::bad_extras;
  if (!f.key.empty())
    return errc::bad_key;
  if (!f.value.empty())
    return errc::bad_value;
  return {};
}

}  // namespace

// ---------------------------------------------------------------------------------------------

frame_builder encode_dcp_response(opcode op, status s) {
  return frame_builder::response(op, s);
}

result<status> decode_dcp_response(const frame& f, opcode op) {
  if (auto ec = detail::expect(f, op, direction::response))
    return ec;
  if (f.status() == status::success) {
    if (!f.extras.empty())
      return errc::bad_extras;
    if (!f.key.empty())
      return errc::bad_key;
  }
  return result<status>(boost::system::in_place_value, f.status());
}

// ---------------------------------------------------------------------------------------------

frame_builder dcp_open_request::encode() const {
  std::string extras;
  detail::put_u32(extras, 0);
  detail::put_u32(extras, flags);
  auto b = frame_builder::request(opcode::dcp_open).extras(extras).key(name);
  if (!value.empty())
    b.value(value).datatype(0x01);
  return b;
}

result<dcp_open_request> dcp_open_request::decode(const frame& f) {
  if (auto ec = detail::expect(f, opcode::dcp_open, direction::request))
    return ec;
  if (f.extras.size() != 8)
    return errc::bad_extras;
  if (f.key.empty() || f.key.size() > max_dcp_connection_name)
    return errc::bad_key;
  return dcp_open_request{std::string(f.key), detail::load_u32(f.extras, 4), std::string(f.value)};
}

// ---------------------------------------------------------------------------------------------

frame_builder dcp_control_request::encode() const {
  return frame_builder::request(opcode::dcp_control).key(key).value(value);
}

result<dcp_control_request> dcp_control_request::decode(const frame& f) {
  if (auto ec = detail::expect(f, opcode::dcp_control, direction::request))
    return ec;
  if (!f.extras.empty())
    return errc::bad_extras;
  if (f.key.empty())
    return errc::bad_key;
  if (f.value.empty())
    return errc::bad_value;
  return dcp_control_request{std::string(f.key), std::string(f.value)};
}

// ---------------------------------------------------------------------------------------------

frame_builder dcp_stream_request::encode() const {
  std::string extras;
  detail::put_u32(extras, flags);
  detail::put_u32(extras, 0);
  detail::put_u64(extras, start_seqno);
  detail::put_u64(extras, end_seqno);
  detail::put_u64(extras, vbucket_uuid);
  detail::put_u64(extras, snapshot_start);
  detail::put_u64(extras, snapshot_end);
  // the filter value is sent with datatype raw (0).
  return frame_builder::request(opcode::dcp_stream_req).extras(extras).value(value);
}

result<dcp_stream_request> dcp_stream_request::decode(const frame& f) {
  if (auto ec = detail::expect(f, opcode::dcp_stream_req, direction::request))
    return ec;
  if (f.extras.size() != 48)
    return errc::bad_extras;
  if (!f.key.empty())
    return errc::bad_key;
  dcp_stream_request r;
  r.flags = detail::load_u32(f.extras, 0);
  r.start_seqno = detail::load_u64(f.extras, 8);
  r.end_seqno = detail::load_u64(f.extras, 16);
  r.vbucket_uuid = detail::load_u64(f.extras, 24);
  r.snapshot_start = detail::load_u64(f.extras, 32);
  r.snapshot_end = detail::load_u64(f.extras, 40);
  r.value = std::string(f.value);
  return r;
}

std::string encode_stream_filter(const stream_filter& filter) {
  boost::json::object o;
  if (filter.manifest_uid)
    o["uid"] = format_hex_id(*filter.manifest_uid);
  if (!filter.collections.empty()) {
    boost::json::array a;
    for (auto cid : filter.collections)
      a.emplace_back(format_hex_id(cid));
    o["collections"] = std::move(a);
  }
  if (filter.scope)
    o["scope"] = format_hex_id(*filter.scope);
  if (filter.stream_id)
    o["sid"] = *filter.stream_id;
  if (filter.purge_seqno)
    o["purge_seqno"] = std::to_string(*filter.purge_seqno);
  return boost::json::serialize(o);
}

result<stream_filter> decode_stream_filter(std::string_view json) {
  boost::system::error_code ec;
  auto v = boost::json::parse(json, ec);
  if (ec || !v.is_object())
    return errc::bad_json;
  const auto& o = v.get_object();
  stream_filter out;
  auto hex = [](const boost::json::value& m) -> std::optional<std::uint64_t> {
    if (!m.is_string())
      return std::nullopt;
    auto id = parse_hex_id(m.get_string());
    if (!id)
      return std::nullopt;
    return *id;
  };
  if (const auto* m = o.if_contains("uid")) {
    auto id = hex(*m);
    if (!id)
      return errc::bad_value;
    out.manifest_uid = *id;
  }
  if (const auto* m = o.if_contains("collections")) {
    if (!m->is_array())
      return errc::bad_value;
    for (const auto& e : m->get_array()) {
      auto id = hex(e);
      if (!id || *id > 0xffffffffU)
        return errc::bad_value;
      out.collections.push_back(static_cast<std::uint32_t>(*id));
    }
  }
  if (const auto* m = o.if_contains("scope")) {
    auto id = hex(*m);
    if (!id || *id > 0xffffffffU || o.contains("collections"))
      return errc::bad_value;
    out.scope = static_cast<std::uint32_t>(*id);
  }
  if (const auto* m = o.if_contains("sid")) {
    std::uint64_t sid = 0;
    if (m->is_uint64())
      sid = m->get_uint64();
    else if (m->is_int64() && m->get_int64() >= 0)
      sid = static_cast<std::uint64_t>(m->get_int64());
    else
      return errc::bad_value;
    if (sid > 0xffff)
      return errc::bad_value;
    out.stream_id = static_cast<std::uint16_t>(sid);
  }
  if (const auto* m = o.if_contains("purge_seqno")) {
    if (!m->is_string())
      return errc::bad_value;
    std::string_view s = m->get_string();
    if (s.empty() || s.size() > 20)
      return errc::bad_value;
    std::uint64_t n = 0;
    for (char c : s) {
      if (c < '0' || c > '9')
        return errc::bad_value;
      const auto d = static_cast<std::uint64_t>(c - '0');
      if (n > (std::numeric_limits<std::uint64_t>::max() - d) / 10)
        return errc::bad_value;
      n = n * 10 + d;
    }
    out.purge_seqno = n;
  }
  return out;
}

frame_builder dcp_stream_response::encode() const {
  auto b = frame_builder::response(opcode::dcp_stream_req, status);
  if (status == status::success) {
    b.value(encode_failover_log(failover_log));
  } else if (status == status::rollback) {
    std::string v;
    detail::put_u64(v, rollback_seqno);
    b.value(v);
  }
  return b;
}

result<dcp_stream_response> dcp_stream_response::decode(const frame& f) {
  if (auto ec = detail::expect(f, opcode::dcp_stream_req, direction::response))
    return ec;
  dcp_stream_response r;
  r.status = f.status();
  if (r.status == status::success) {
    if (auto ec = detail::expect_bare(f, opcode::dcp_stream_req, direction::response))
      return ec;
    auto log = decode_failover_log(f.value);
    if (!log)
      return log.error();
    r.failover_log = std::move(*log);
  } else if (r.status == status::rollback) {
    if (auto ec = detail::expect_bare(f, opcode::dcp_stream_req, direction::response))
      return ec;
    if (f.value.size() != 8)
      return errc::bad_value;
    r.rollback_seqno = detail::load_u64(f.value, 0);
  }
  return r;
}

// ---------------------------------------------------------------------------------------------

frame_builder dcp_get_failover_log_request::encode() const {
  return frame_builder::request(opcode::dcp_get_failover_log);
}

result<dcp_get_failover_log_request> dcp_get_failover_log_request::decode(const frame& f) {
  if (auto ec = expect_empty_request(f, opcode::dcp_get_failover_log))
    return ec;
  return dcp_get_failover_log_request{};
}

frame_builder dcp_get_failover_log_response::encode() const {
  auto b = frame_builder::response(opcode::dcp_get_failover_log, status);
  if (status == status::success)
    b.value(encode_failover_log(failover_log));
  return b;
}

result<dcp_get_failover_log_response> dcp_get_failover_log_response::decode(const frame& f) {
  if (auto ec = detail::expect(f, opcode::dcp_get_failover_log, direction::response))
    return ec;
  dcp_get_failover_log_response r;
  r.status = f.status();
  if (r.status == status::success) {
    if (auto ec = detail::expect_bare(f, opcode::dcp_get_failover_log, direction::response))
      return ec;
    auto log = decode_failover_log(f.value);
    if (!log)
      return log.error();
    r.failover_log = std::move(*log);
  }
  return r;
}

// ---------------------------------------------------------------------------------------------

frame_builder dcp_close_stream_request::encode() const {
  return frame_builder::request(opcode::dcp_close_stream);
}

result<dcp_close_stream_request> dcp_close_stream_request::decode(const frame& f) {
  if (auto ec = expect_empty_request(f, opcode::dcp_close_stream))
    return ec;
  return dcp_close_stream_request{};
}

// ---------------------------------------------------------------------------------------------

std::string_view to_string(stream_end_reason r) noexcept {
  switch (r) {
    case stream_end_reason::ok:
      return "ok";
    case stream_end_reason::closed:
      return "closed";
    case stream_end_reason::state_changed:
      return "state_changed";
    case stream_end_reason::disconnected:
      return "disconnected";
    case stream_end_reason::too_slow:
      return "too_slow";
    case stream_end_reason::backfill_fail:
      return "backfill_fail";
    case stream_end_reason::rollback:
      return "rollback";
    case stream_end_reason::filter_empty:
      return "filter_empty";
    case stream_end_reason::lost_privileges:
      return "lost_privileges";
  }
  return "unknown";
}

frame_builder dcp_stream_end::encode() const {
  std::string extras;
  detail::put_u32(extras, static_cast<std::uint32_t>(reason));
  return frame_builder::request(opcode::dcp_stream_end).extras(extras);
}

result<dcp_stream_end> dcp_stream_end::decode(const frame& f) {
  if (auto ec = expect_extras_only(f, opcode::dcp_stream_end, 4))
    return ec;
  return dcp_stream_end{static_cast<stream_end_reason>(detail::load_u32(f.extras, 0))};
}

// ---------------------------------------------------------------------------------------------

frame_builder dcp_snapshot_marker::encode() const {
  auto b = frame_builder::request(opcode::dcp_snapshot_marker);
  std::string body;
  detail::put_u64(body, start);
  detail::put_u64(body, end);
  detail::put_u32(body, flags);
  if (version == snapshot_marker_version::v1)
    return b.extras(body);
  detail::put_u64(body, max_visible_seqno);
  detail::put_u64(body, high_completed_seqno);
  if (version == snapshot_marker_version::v2_1) {
    detail::put_u64(body, timestamp);
  } else if (version == snapshot_marker_version::v2_2) {
    detail::put_u64(body, purge_seqno);
    detail::put_u64(body, high_prepared_seqno);
  }
  std::string extras;
  detail::put_u8(extras, static_cast<std::uint8_t>(version));
  return b.extras(extras).value(body);
}

result<dcp_snapshot_marker> dcp_snapshot_marker::decode(const frame& f) {
  if (auto ec = detail::expect(f, opcode::dcp_snapshot_marker, direction::request))
    return ec;
  if (!f.key.empty())
    return errc::bad_key;
  dcp_snapshot_marker m;
  std::string_view fields;
  if (f.extras.size() == 20) {
    if (!f.value.empty())
      return errc::bad_value;
    fields = f.extras;
  } else if (f.extras.size() == 1) {
    const auto v = static_cast<std::uint8_t>(f.extras[0]);
    std::size_t want = 0;
    switch (v) {
      case 0x00:
        want = 36;
        break;
      case 0x01:
        want = 44;
        break;
      case 0x02:
        want = 52;
        break;
      default:
        return errc::bad_extras;
    }
    if (f.value.size() != want)
      return errc::bad_value;
    m.version = static_cast<snapshot_marker_version>(v);
    fields = f.value;
    m.max_visible_seqno = detail::load_u64(fields, 20);
    m.high_completed_seqno = detail::load_u64(fields, 28);
    if (v == 0x01)
      m.timestamp = detail::load_u64(fields, 36);
    if (v == 0x02) {
      m.purge_seqno = detail::load_u64(fields, 36);
      m.high_prepared_seqno = detail::load_u64(fields, 44);
    }
  } else {
    return errc::bad_extras;
  }
  m.start = detail::load_u64(fields, 0);
  m.end = detail::load_u64(fields, 8);
  m.flags = detail::load_u32(fields, 16);
  return m;
}

// ---------------------------------------------------------------------------------------------

frame_builder dcp_mutation::encode() const {
  std::string extras;
  detail::put_u64(extras, by_seqno);
  detail::put_u64(extras, rev_seqno);
  detail::put_u32(extras, flags);
  detail::put_u32(extras, expiration);
  detail::put_u32(extras, lock_time);
  detail::put_u16(extras, 0);
  detail::put_u8(extras, nru);
  return frame_builder::request(opcode::dcp_mutation)
      .extras(extras)
      .key(key)
      .value(value)
      .datatype(datatype)
      .cas(cas);
}

result<dcp_mutation> dcp_mutation::decode(const frame& f) {
  if (auto ec = detail::expect(f, opcode::dcp_mutation, direction::request))
    return ec;
  if (f.extras.size() != 31)
    return errc::bad_extras;
  if (f.key.empty())
    return errc::bad_key;
  const std::uint16_t nmeta = detail::load_u16(f.extras, 28);
  if (nmeta > f.value.size())
    return errc::bad_value;
  dcp_mutation m;
  m.by_seqno = detail::load_u64(f.extras, 0);
  m.rev_seqno = detail::load_u64(f.extras, 8);
  m.flags = detail::load_u32(f.extras, 16);
  m.expiration = detail::load_u32(f.extras, 20);
  m.lock_time = detail::load_u32(f.extras, 24);
  m.nru = static_cast<std::uint8_t>(f.extras[30]);
  m.key = std::string(f.key);
  m.value = std::string(f.value.substr(0, f.value.size() - nmeta));
  m.datatype = f.datatype();
  m.cas = f.cas();
  return m;
}

frame_builder dcp_deletion::encode() const {
  std::string extras;
  detail::put_u64(extras, by_seqno);
  detail::put_u64(extras, rev_seqno);
  if (delete_time) {
    detail::put_u32(extras, *delete_time);
    detail::put_u8(extras, 0);
  } else {
    detail::put_u16(extras, 0);
  }
  return frame_builder::request(opcode::dcp_deletion)
      .extras(extras)
      .key(key)
      .value(value)
      .datatype(datatype)
      .cas(cas);
}

result<dcp_deletion> dcp_deletion::decode(const frame& f) {
  if (auto ec = detail::expect(f, opcode::dcp_deletion, direction::request))
    return ec;
  if (f.extras.size() != 18 && f.extras.size() != 21)
    return errc::bad_extras;
  if (f.key.empty())
    return errc::bad_key;
  dcp_deletion d;
  d.by_seqno = detail::load_u64(f.extras, 0);
  d.rev_seqno = detail::load_u64(f.extras, 8);
  std::string_view value = f.value;
  if (f.extras.size() == 21) {
    d.delete_time = detail::load_u32(f.extras, 16);
  } else {
    const std::uint16_t nmeta = detail::load_u16(f.extras, 16);
    if (nmeta > value.size())
      return errc::bad_value;
    value = value.substr(0, value.size() - nmeta);
  }
  d.key = std::string(f.key);
  d.value = std::string(value);
  d.datatype = f.datatype();
  d.cas = f.cas();
  return d;
}

frame_builder dcp_expiration::encode() const {
  std::string extras;
  detail::put_u64(extras, by_seqno);
  detail::put_u64(extras, rev_seqno);
  detail::put_u32(extras, delete_time);
  return frame_builder::request(opcode::dcp_expiration)
      .extras(extras)
      .key(key)
      .value(value)
      .datatype(datatype)
      .cas(cas);
}

result<dcp_expiration> dcp_expiration::decode(const frame& f) {
  if (auto ec = detail::expect(f, opcode::dcp_expiration, direction::request))
    return ec;
  if (f.extras.size() != 20)
    return errc::bad_extras;
  if (f.key.empty())
    return errc::bad_key;
  dcp_expiration e;
  e.by_seqno = detail::load_u64(f.extras, 0);
  e.rev_seqno = detail::load_u64(f.extras, 8);
  e.delete_time = detail::load_u32(f.extras, 16);
  e.key = std::string(f.key);
  e.value = std::string(f.value);
  e.datatype = f.datatype();
  e.cas = f.cas();
  return e;
}

// ---------------------------------------------------------------------------------------------

std::string_view to_string(system_event_id e) noexcept {
  switch (e) {
    case system_event_id::begin_collection:
      return "begin_collection";
    case system_event_id::end_collection:
      return "end_collection";
    case system_event_id::flush_collection:
      return "flush_collection";
    case system_event_id::create_scope:
      return "create_scope";
    case system_event_id::drop_scope:
      return "drop_scope";
    case system_event_id::modify_collection:
      return "modify_collection";
  }
  return "unknown";
}

frame_builder dcp_system_event::encode() const {
  std::string extras;
  detail::put_u64(extras, by_seqno);
  detail::put_u32(extras, static_cast<std::uint32_t>(event));
  detail::put_u8(extras, version);
  return frame_builder::request(opcode::dcp_system_event).extras(extras).key(key).value(value);
}

result<dcp_system_event> dcp_system_event::decode(const frame& f) {
  if (auto ec = detail::expect(f, opcode::dcp_system_event, direction::request))
    return ec;
  if (f.extras.size() != 13)
    return errc::bad_extras;
  dcp_system_event e;
  e.by_seqno = detail::load_u64(f.extras, 0);
  e.event = static_cast<system_event_id>(detail::load_u32(f.extras, 8));
  e.version = static_cast<std::uint8_t>(f.extras[12]);
  e.key = std::string(f.key);
  e.value = std::string(f.value);
  return e;
}

dcp_system_event collection_created::to_event(std::uint64_t by_seqno) const {
  dcp_system_event e{by_seqno,
                     system_event_id::begin_collection,
                     max_ttl ? std::uint8_t{1} : std::uint8_t{0},
                     name,
                     {}};
  detail::put_u64(e.value, manifest_uid);
  detail::put_u32(e.value, scope_id);
  detail::put_u32(e.value, collection_id);
  if (max_ttl)
    detail::put_u32(e.value, *max_ttl);
  return e;
}

result<collection_created> collection_created::decode(const dcp_system_event& e) {
  if (e.event != system_event_id::begin_collection)
    return errc::unexpected_opcode;
  if (e.version > 1)
    return errc::bad_value;
  const std::size_t want = e.version == 0 ? 16 : 20;
  if (e.value.size() != want)
    return errc::bad_value;
  if (e.key.empty())
    return errc::bad_key;
  collection_created c;
  c.manifest_uid = detail::load_u64(e.value, 0);
  c.scope_id = detail::load_u32(e.value, 8);
  c.collection_id = detail::load_u32(e.value, 12);
  if (e.version == 1)
    c.max_ttl = detail::load_u32(e.value, 16);
  c.name = e.key;
  return c;
}

dcp_system_event collection_dropped::to_event(std::uint64_t by_seqno) const {
  dcp_system_event e{by_seqno, system_event_id::end_collection, 0, {}, {}};
  detail::put_u64(e.value, manifest_uid);
  detail::put_u32(e.value, scope_id);
  detail::put_u32(e.value, collection_id);
  return e;
}

result<collection_dropped> collection_dropped::decode(const dcp_system_event& e) {
  if (e.event != system_event_id::end_collection)
    return errc::unexpected_opcode;
  if (e.version > 1 || e.value.size() != 16)
    return errc::bad_value;
  return collection_dropped{detail::load_u64(e.value, 0), detail::load_u32(e.value, 8),
                            detail::load_u32(e.value, 12)};
}

dcp_system_event scope_created::to_event(std::uint64_t by_seqno) const {
  dcp_system_event e{by_seqno, system_event_id::create_scope, 0, name, {}};
  detail::put_u64(e.value, manifest_uid);
  detail::put_u32(e.value, scope_id);
  return e;
}

result<scope_created> scope_created::decode(const dcp_system_event& e) {
  if (e.event != system_event_id::create_scope)
    return errc::unexpected_opcode;
  if (e.version > 1 || e.value.size() != 12)
    return errc::bad_value;
  if (e.key.empty())
    return errc::bad_key;
  return scope_created{detail::load_u64(e.value, 0), detail::load_u32(e.value, 8), e.key};
}

dcp_system_event scope_dropped::to_event(std::uint64_t by_seqno) const {
  dcp_system_event e{by_seqno, system_event_id::drop_scope, 0, {}, {}};
  detail::put_u64(e.value, manifest_uid);
  detail::put_u32(e.value, scope_id);
  return e;
}

result<scope_dropped> scope_dropped::decode(const dcp_system_event& e) {
  if (e.event != system_event_id::drop_scope)
    return errc::unexpected_opcode;
  if (e.version > 1 || e.value.size() != 12)
    return errc::bad_value;
  return scope_dropped{detail::load_u64(e.value, 0), detail::load_u32(e.value, 8)};
}

// ---------------------------------------------------------------------------------------------

frame_builder dcp_seqno_advanced::encode() const {
  std::string extras;
  detail::put_u64(extras, by_seqno);
  return frame_builder::request(opcode::dcp_seqno_advanced).extras(extras);
}

result<dcp_seqno_advanced> dcp_seqno_advanced::decode(const frame& f) {
  if (auto ec = expect_extras_only(f, opcode::dcp_seqno_advanced, 8))
    return ec;
  return dcp_seqno_advanced{detail::load_u64(f.extras, 0)};
}

frame_builder dcp_oso_snapshot::encode() const {
  std::string extras;
  detail::put_u32(extras, flags);
  return frame_builder::request(opcode::dcp_oso_snapshot).extras(extras);
}

result<dcp_oso_snapshot> dcp_oso_snapshot::decode(const frame& f) {
  if (auto ec = expect_extras_only(f, opcode::dcp_oso_snapshot, 4))
    return ec;
  return dcp_oso_snapshot{detail::load_u32(f.extras, 0)};
}

frame_builder dcp_noop_request::encode() const {
  return frame_builder::request(opcode::dcp_noop);
}

result<dcp_noop_request> dcp_noop_request::decode(const frame& f) {
  if (auto ec = expect_empty_request(f, opcode::dcp_noop))
    return ec;
  return dcp_noop_request{};
}

frame_builder dcp_buffer_ack::encode() const {
  std::string extras;
  detail::put_u32(extras, bytes);
  return frame_builder::request(opcode::dcp_buffer_acknowledgement).extras(extras);
}

result<dcp_buffer_ack> dcp_buffer_ack::decode(const frame& f) {
  if (auto ec = expect_extras_only(f, opcode::dcp_buffer_acknowledgement, 4))
    return ec;
  return dcp_buffer_ack{detail::load_u32(f.extras, 0)};
}

frame_builder dcp_set_vbucket_state::encode() const {
  std::string extras;
  detail::put_u8(extras, state);
  return frame_builder::request(opcode::dcp_set_vbucket_state).extras(extras);
}

result<dcp_set_vbucket_state> dcp_set_vbucket_state::decode(const frame& f) {
  if (auto ec = expect_extras_only(f, opcode::dcp_set_vbucket_state, 1))
    return ec;
  const auto s = static_cast<std::uint8_t>(f.extras[0]);
  if (s < 1 || s > 4)
    return errc::bad_extras;
  return dcp_set_vbucket_state{s};
}

// ---------------------------------------------------------------------------------------------

namespace {
template <class T>
result<dcp_message> wrap(result<T> r) {
  if (!r)
    return r.error();
  return dcp_message{std::move(*r)};
}
}  // namespace

result<dcp_message> decode_dcp_message(const frame& f) {
  if (!f.is_request() || f.magic() == magic::server_request)
    return errc::unexpected_magic;
  switch (f.opcode()) {
    case opcode::dcp_snapshot_marker:
      return wrap(dcp_snapshot_marker::decode(f));
    case opcode::dcp_mutation:
      return wrap(dcp_mutation::decode(f));
    case opcode::dcp_deletion:
      return wrap(dcp_deletion::decode(f));
    case opcode::dcp_expiration:
      return wrap(dcp_expiration::decode(f));
    case opcode::dcp_system_event:
      return wrap(dcp_system_event::decode(f));
    case opcode::dcp_seqno_advanced:
      return wrap(dcp_seqno_advanced::decode(f));
    case opcode::dcp_oso_snapshot:
      return wrap(dcp_oso_snapshot::decode(f));
    case opcode::dcp_stream_end:
      return wrap(dcp_stream_end::decode(f));
    default:
      return errc::unexpected_opcode;
  }
}

std::optional<std::uint64_t> seqno_of(const dcp_message& m) noexcept {
  return std::visit(
      [](const auto& x) -> std::optional<std::uint64_t> {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, dcp_mutation> || std::is_same_v<T, dcp_deletion> ||
                      std::is_same_v<T, dcp_expiration> || std::is_same_v<T, dcp_system_event> ||
                      std::is_same_v<T, dcp_seqno_advanced>)
          return x.by_seqno;
        else
          return std::nullopt;
      },
      m);
}

}  // namespace cbes::mcbp
