#include "dcp_producer.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <charconv>
#include <cstdlib>

#include "cbes/mcbp/collection_key.hpp"
#include "cbes/mcbp/datatype.hpp"
#include "cbes/mcbp/snappy.hpp"
#include "cbes/mcbp/xattr.hpp"
#include "kv_session.hpp"

namespace cbes::testkit::couchbase {

namespace asio = boost::asio;
using mcbp::feature;
using mcbp::opcode;
using mcbp::status;
using mcbp::stream_end_reason;
namespace open_flag = mcbp::dcp_open_flags;
namespace stream_flag = mcbp::dcp_stream_flags;
namespace snap = mcbp::snapshot_flags;

namespace {

// Period of the NOOP / idle / pump tick; finer than any noop interval a consumer may set.
constexpr std::chrono::milliseconds tick_period{50};
// The producer stops filling the socket's queue beyond this (the rest waits in the streams).
constexpr std::size_t max_outbox_bytes = 4 * 1024 * 1024;

std::string ok(const mcbp::frame& f) {
  return mcbp::encode_dcp_response(f.opcode()).opaque(f.opaque()).build();
}

std::optional<bool> parse_bool(std::string_view v) {
  if (v == "true")
    return true;
  if (v == "false")
    return false;
  return std::nullopt;
}

mcbp::failover_log wire_log(const vbucket_store& store) {
  mcbp::failover_log log;
  for (const auto& e : store.failover_log())
    log.push_back({e.uuid, e.seqno});
  return log;
}

live_collections live_of(const bucket_state& b) {
  live_collections live;
  for (const auto& s : b.manifest.scopes)
    for (const auto& c : s.collections)
      live[c.uid] = s.uid;
  return live;
}

}  // namespace

dcp_producer::dcp_producer(kv_session& session, std::string name, std::uint32_t open_flags)
    : session_(session),
      name_(std::move(name)),
      open_flags_(open_flags),
      timer_(session.lowest().get_executor()) {}

// ------------------------------------------------------------------------------ DCP_OPEN

std::string dcp_producer::open(kv_session& s, const mcbp::frame& f) {
  auto req = mcbp::dcp_open_request::decode(f);
  if (!req)
    return s.error(f, status::einval, "DCP_OPEN needs 8 bytes of extras and a 1..200 byte name");
  // validator rules.
  if (s.dcp_)
    return s.error(f, status::einval, "The connection is already a DCP connection");
  const std::uint32_t flags = req->flags;
  if ((flags & ~open_flag::known) != 0 || (flags & open_flag::pitr) != 0)
    return s.error(f, status::einval, "Unknown DCP_OPEN flags");
  if ((flags & open_flag::no_value) && (flags & open_flag::no_value_with_underlying_datatype))
    return s.error(f, status::einval, "NoValue and NoValueWithUnderlyingDatatype are exclusive");
  if ((flags & open_flag::include_deleted_user_xattrs) && !(flags & open_flag::include_xattrs))
    return s.error(f, status::einval, "IncludeDeletedUserXattrs requires IncludeXattrs");
  if ((flags & open_flag::skip_deletes_in_initial_backfill) && !s.has(feature::collections))
    return s.error(f, status::einval, "SkipDeletesInInitialBackfill requires collections");
  if (!(flags & open_flag::producer))
    return s.error(f, status::not_supported, "The fake cluster only opens DCP producers");
  if (!s.ctx_.state.users.at(s.user_).dcp_reader)
    return s.error(f, status::eaccess, "The user lacks the Data DCP Reader role");
  if (s.ctx_.state.fail_dcp_opens_remaining > 0) {
    --s.ctx_.state.fail_dcp_opens_remaining;
    return s.error(f, static_cast<status>(s.ctx_.state.fail_dcp_opens_status), "injected failure");
  }
  // reusing a connection name kicks the older connection.
  auto sessions = s.ctx_.sessions;
  for (const auto& other : sessions)
    if (other.get() != &s && other->dcp_ && other->node_ == s.node_ &&
        other->bucket_ == s.bucket_ && other->dcp_->name() == req->name)
      other->close();
  s.dcp_ = std::make_unique<dcp_producer>(s, req->name, flags);
  s.dcp_->schedule_tick();
  return ok(f);
}

std::string dcp_producer::handle(const mcbp::frame& f, bucket_state& b) {
  switch (f.opcode()) {
    case opcode::dcp_open:
      return session_.error(f, status::einval, "The connection is already a DCP connection");
    case opcode::dcp_control:
      return handle_control(f);
    case opcode::dcp_stream_req:
      return handle_stream_req(f, b);
    case opcode::dcp_close_stream:
      return handle_close_stream(f);
    case opcode::dcp_get_failover_log:
      return handle_failover_log(f, b);
    case opcode::dcp_buffer_acknowledgement:
      return handle_buffer_ack(f);
    default:
      return session_.error(f, status::einval, "Not a request a DCP producer accepts");
  }
}

void dcp_producer::on_response(const mcbp::frame& f) {
  if (f.opcode() == opcode::dcp_noop && noop_outstanding_ && f.opaque() == *noop_outstanding_)
    noop_outstanding_.reset();
  // Marker acks and anything else: nothing to do.
}

// ------------------------------------------------------------------------------ DCP_CONTROL

std::string dcp_producer::handle_control(const mcbp::frame& f) {
  auto req = mcbp::dcp_control_request::decode(f);
  if (!req || req->key.empty() || req->value.empty())
    return session_.error(f, status::einval, "DCP_CONTROL needs a key and a value");
  const std::string& key = req->key;
  const std::string& value = req->value;
  auto einval = [&](std::string_view why) { return session_.error(f, status::einval, why); };
  auto unsupported = [&] {
    return session_.error(f, status::not_supported, "Control not supported by the fake cluster");
  };
  auto flag = parse_bool(value);
  if (key == "enable_noop") {
    if (!flag)
      return einval("enable_noop takes true/false");
    noop_enabled_ = *flag;
    last_noop_ = clock::now();
    return ok(f);
  }
  if (key == "set_noop_interval") {
    char* end = nullptr;
    double secs = std::strtod(value.c_str(), &end);
    auto ms = std::chrono::milliseconds(static_cast<std::int64_t>(secs * 1000.0));
    const auto& settings = session_.ctx_.dcp;
    if (end != value.c_str() + value.size() || !(secs > 0) || secs > 10800 ||
        ms < settings.min_noop_interval)
      return einval("set_noop_interval must be seconds ≥ the connection manager interval");
    noop_interval_ = ms;
    return ok(f);
  }
  if (key == "connection_buffer_size") {
    std::uint32_t n = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc{} || p != value.data() + value.size())
      return einval("connection_buffer_size takes a u32 byte count");
    buffer_size_ = n;
    return ok(f);
  }
  if (key == "stream_buffer_size")
    return unsupported();
  if (key == "set_priority") {
    if (value != "high" && value != "medium" && value != "low")
      return einval("set_priority takes high/medium/low");
    return ok(f);
  }
  if (key == "supports_cursor_dropping" || key == "supports_cursor_dropping_vulcan" ||
      key == "supports_hifi_MFU") {
    if (!flag)
      return einval("takes true/false");
    return ok(f);
  }
  if (key == "send_stream_end_on_client_close_stream") {
    if (value != "true")  // one-way switch
      return einval("send_stream_end_on_client_close_stream only takes true");
    stream_end_on_close_ = true;
    return ok(f);
  }
  if (key == "enable_expiry_opcode") {
    if (value != "true")
      return einval("enable_expiry_opcode only takes true");
    // only effective with IncludeDeleteTimes, Success either way.
    expiry_opcode_ = true;
    return ok(f);
  }
  if (key == "force_value_compression") {
    if (!flag)
      return einval("force_value_compression takes true/false");
    if (!session_.has(feature::snappy))
      return einval("force_value_compression needs HELLO Snappy");
    force_compression_ = *flag;
    return ok(f);
  }
  if (key == "enable_out_of_order_snapshots") {
    if (value != "true" && value != "true_with_seqno_advanced")
      return einval("enable_out_of_order_snapshots takes true/true_with_seqno_advanced");
    if (!session_.has(feature::collections))
      return einval("out-of-order snapshots need collections");
    // used for disk backfills of streams filtered to one collection (fill_oso).
    oso_ = value == "true" ? 1 : 2;
    return ok(f);
  }
  if (key == "backfill_order") {
    if (value != "round-robin" && value != "sequential")
      return einval("backfill_order takes round-robin/sequential");
    return ok(f);
  }
  if (key == "v7_dcp_status_codes") {
    if (value != "true")
      return einval("v7_dcp_status_codes only takes true");
    v7_status_codes_ = true;
    return ok(f);
  }
  if (key == "max_marker_version") {
    if (value != "2.2" || !session_.has(feature::collections))
      return einval("max_marker_version takes 2.2 (collections only)");
    marker_v2_2_ = true;
    return ok(f);
  }
  if (key == "consumer_name")
    return ok(f);
  if (key == "include_deleted_user_xattrs") {
    if (value != "true" || !(open_flags_ & open_flag::include_deleted_user_xattrs))
      return einval("include_deleted_user_xattrs needs DCP_OPEN IncludeDeletedUserXattrs");
    return ok(f);
  }
  // Stream ids, FlatBuffers events, change streams (Magma only), sync replication and cache
  // transfer are not implemented by the fake.
  if (key == "enable_stream_id" || key == "flatbuffers_system_events" || key == "change_streams" ||
      key == "enable_sync_writes" || key == "cache_transfer")
    return unsupported();
  return einval("Unknown DCP control");
}

// ------------------------------------------------------------------------------ STREAM_REQ

int dcp_producer::role(const bucket_state& b, std::uint16_t vb) const {
  if (vb >= b.vbucket_map.size())
    return 0;
  const auto& row = b.vbucket_map[vb];
  auto pos = std::find(row.begin(), row.end(), static_cast<int>(session_.node_));
  if (pos == row.end())
    return 0;
  return pos == row.begin() ? 1 : 2;
}

std::string dcp_producer::handle_stream_req(const mcbp::frame& f, bucket_state& b) {
  auto decoded = mcbp::dcp_stream_request::decode(f);
  if (!decoded)
    return session_.error(f, status::einval, "DCP_STREAM_REQ needs 48 bytes of extras, no key");
  auto req = *decoded;
  if ((req.flags & ~stream_flag::known) != 0 || (req.flags & stream_flag::no_value) != 0)
    return session_.error(f, status::einval, "Unknown DCP_STREAM_REQ flags");
  if (req.flags & (stream_flag::takeover | stream_flag::cache_transfer))
    return session_.error(f, status::not_supported, "Takeover / cache transfer streams");
  const std::uint16_t vb = f.vbucket();
  // checks, in the server's order.
  const int r = role(b, vb);
  if (r == 0 || (r == 2 && (req.flags & stream_flag::active_vb_only)))
    return session_.not_my_vbucket(f, b);
  if ((!f.value.empty() || (open_flags_ & open_flag::include_xattrs)) && !noop_enabled_)
    return session_.error(f, status::not_supported,
                          "enable_noop is required for collection or xattr streams");
  const auto& store = b.vbuckets[vb];
  const std::uint64_t high = r == 1 ? store.high_seqno() : store.replicated_seqno();
  if (req.flags & stream_flag::from_latest) {
    req.start_seqno = req.snapshot_start = req.snapshot_end = high;
    if (req.vbucket_uuid == 0)
      req.vbucket_uuid = store.uuid();
  }
  if (req.start_seqno > req.end_seqno)
    return session_.error(f, status::erange, "start seqno > end seqno");
  if (!(req.snapshot_start <= req.start_seqno && req.start_seqno <= req.snapshot_end))
    return session_.error(f, status::erange, "need snap_start <= start <= snap_end");
  item_filter filter;
  filter.collections_aware = session_.has(feature::collections);
  std::optional<std::uint64_t> client_purge;
  if (!f.value.empty()) {
    if (!session_.has(feature::collections))
      return session_.error(f, status::einval, "A stream filter needs HELLO Collections");
    if (f.datatype() != 0)
      return session_.error(f, status::einval, "The stream filter must be sent as raw");
    auto flt = mcbp::decode_stream_filter(f.value);
    if (!flt)
      return session_.error(f, status::einval, "Invalid stream filter JSON");
    if (flt->stream_id)
      return session_.error(f, status::dcp_stream_id_invalid, "Stream ids are not enabled");
    if (!flt->collections.empty()) {
      filter.type = item_filter::kind::collections;
      for (auto cid : flt->collections) {
        if (!b.collection(cid))
          return session_.unknown_collection(f, b);
        filter.collections.insert(cid);
      }
    } else if (flt->scope) {
      bool known = false;
      for (const auto& s : b.manifest.scopes)
        known = known || s.uid == *flt->scope;
      if (!known)
        return session_.unknown_collection(f, b, status::unknown_scope);
      filter.type = item_filter::kind::scope;
      filter.scope = *flt->scope;
    }
    client_purge = flt->purge_seqno;
  }
  if (streams_.count(vb))
    return session_.error(f, status::key_eexists, "A stream for this vbucket exists");
  rollback_request rb{req.start_seqno,
                      req.vbucket_uuid,
                      req.snapshot_start,
                      req.snapshot_end,
                      (req.flags & stream_flag::strict_vb_uuid) != 0,
                      (req.flags & stream_flag::ignore_purged_tombstones) != 0,
                      client_purge};
  if (auto to = rollback_seqno(store.failover_log(), high, store.purge_seqno(), rb))
    return mcbp::dcp_stream_response{status::rollback, {}, *to}.encode().opaque(f.opaque()).build();
  std::uint64_t end = req.end_seqno;
  if (req.flags & stream_flag::to_latest)
    end = filter.type == item_filter::kind::all ? high
                                                : filtered_high_seqno(store, filter, live_of(b));
  if (req.flags & stream_flag::disk_only)
    end = std::min(end, high);  // everything the fake holds is "persisted"
  if (req.start_seqno > end || req.start_seqno > high)
    return session_.error(f, status::erange, "start seqno beyond the end / high seqno");
  stream s;
  s.vb = vb;
  s.opaque = f.opaque();
  s.flags = req.flags;
  s.end_seqno = end;
  s.position = req.start_seqno;
  s.first_marker_start = req.snapshot_start;
  s.active = r == 1;
  s.filter = std::move(filter);
  auto& stored = streams_[vb] = std::move(s);
  if (stored.position >= stored.end_seqno)
    queue_end(stored, stream_end_reason::ok);  // start == end ends at once
  auto response = mcbp::dcp_stream_response{status::success, wire_log(store), 0}
                      .encode()
                      .opaque(f.opaque())
                      .build();
  auto& late = session_.ctx_.dcp.late_stream_response;
  if (late.erase({session_.bucket_, vb})) {
    fill(stored, b, live_of(b));
    message m;
    m.bytes = std::move(response);
    m.response = true;
    stored.pending.push_back(std::move(m));
    post_pump();
    return {};
  }
  return response;
}

std::string dcp_producer::handle_close_stream(const mcbp::frame& f) {
  auto req = mcbp::dcp_close_stream_request::decode(f);
  if (!req)
    return session_.error(f, status::einval, "DCP_CLOSE_STREAM takes no body");
  auto it = streams_.find(f.vbucket());
  if (it == streams_.end() || it->second.finished)
    return session_.error(f, v7_status_codes_ ? status::dcp_stream_not_found : status::key_enoent,
                          "No stream for this vbucket");
  if (stream_end_on_close_) {
    it->second.pending.clear();
    queue_end(it->second, stream_end_reason::closed);
  } else {
    streams_.erase(it);
  }
  return ok(f);
}

std::string dcp_producer::handle_failover_log(const mcbp::frame& f, bucket_state& b) {
  auto req = mcbp::dcp_get_failover_log_request::decode(f);
  if (!req)
    return session_.error(f, status::einval, "DCP_GET_FAILOVER_LOG takes no body");
  if (role(b, f.vbucket()) == 0)
    return session_.not_my_vbucket(f, b);
  return mcbp::dcp_get_failover_log_response{status::success, wire_log(b.vbuckets[f.vbucket()])}
      .encode()
      .opaque(f.opaque())
      .build();
}

std::string dcp_producer::handle_buffer_ack(const mcbp::frame& f) {
  auto req = mcbp::dcp_buffer_ack::decode(f);
  if (!req)
    return session_.error(f, status::einval, "DCP_BUFFER_ACKNOWLEDGEMENT needs 4 bytes of extras");
  // tolerate acks that do not sum up exactly. kv_engine never answers a successful BUFFER_ACK.
  unacked_ -= std::min<std::uint64_t>(unacked_, req->bytes);
  post_pump();
  return {};
}

// ------------------------------------------------------------------------------ streaming

void dcp_producer::queue_end(stream& s, stream_end_reason reason) {
  message m;
  m.bytes = mcbp::dcp_stream_end{reason}.encode().vbucket(s.vb).opaque(s.opaque).build();
  m.stream_end = true;
  s.pending.push_back(std::move(m));
  s.finished = true;
}

std::string dcp_producer::wire_key(const item& it) const {
  if (session_.has(feature::collections))
    return mcbp::encode_collection_key(it.id.collection_id, it.id.key);
  return it.id.key;
}

std::string dcp_producer::value_of(const item& it, std::uint8_t& datatype) const {
  // the datatype describes what is sent.
  const bool xattrs = (open_flags_ & open_flag::include_xattrs) != 0;
  const bool no_value =
      (open_flags_ & (open_flag::no_value | open_flag::no_value_with_underlying_datatype)) != 0;
  std::vector<mcbp::xattr> sent_xattrs;
  if (xattrs)
    for (const auto& x : it.xattrs)
      if (!it.deleted() || mcbp::is_system_xattr(x.key) ||
          (open_flags_ & open_flag::include_deleted_user_xattrs))
        sent_xattrs.push_back(x);
  std::string body = it.deleted() || no_value ? std::string() : it.body;
  datatype = 0;
  if (!it.deleted() && it.json &&
      (!no_value || (open_flags_ & open_flag::no_value_with_underlying_datatype)))
    datatype |= mcbp::datatype::json;
  std::string out;
  if (!sent_xattrs.empty()) {
    out = mcbp::encode_xattrs(sent_xattrs, body);
    datatype |= mcbp::datatype::xattr;
  } else {
    out = std::move(body);
  }
  if (no_value && sent_xattrs.empty() &&
      !(open_flags_ & open_flag::no_value_with_underlying_datatype))
    datatype = 0;
  if (force_compression_ && !out.empty()) {
    auto small = mcbp::snappy_compress(out);
    if (small.size() < out.size()) {  // unless that grows the value
      out = std::move(small);
      datatype |= mcbp::datatype::snappy;
    }
  }
  return out;
}

void dcp_producer::encode_item(stream& s, const item& it, bool from_disk) {
  message m;
  if (it.is_system_event()) {
    const auto& e = *it.event;
    mcbp::dcp_system_event ev;
    switch (e.event) {
      case 0:
        ev =
            mcbp::collection_created{e.manifest_uid, e.scope_id, e.collection_id, e.max_ttl, e.name}
                .to_event(it.seqno);
        break;
      case 1:
        ev = mcbp::collection_dropped{e.manifest_uid, e.scope_id, e.collection_id}.to_event(
            it.seqno);
        break;
      case 3:
        ev = mcbp::scope_created{e.manifest_uid, e.scope_id, e.name}.to_event(it.seqno);
        break;
      default:
        ev = mcbp::scope_dropped{e.manifest_uid, e.scope_id}.to_event(it.seqno);
        break;
    }
    m.bytes = ev.encode().vbucket(s.vb).opaque(s.opaque).build();
  } else if (it.kind == item_kind::mutation) {
    mcbp::dcp_mutation mu;
    mu.by_seqno = it.seqno;
    mu.rev_seqno = it.rev_seqno;
    mu.flags = it.flags;
    mu.expiration = it.expiry;
    mu.key = wire_key(it);
    mu.value = value_of(it, mu.datatype);
    mu.cas = it.cas;
    m.bytes = mu.encode().vbucket(s.vb).opaque(s.opaque).build();
  } else {
    const bool delete_times = (open_flags_ & open_flag::include_delete_times) != 0;
    if (it.kind == item_kind::expiration && expiry_opcode_ && delete_times) {
      mcbp::dcp_expiration ex;
      ex.by_seqno = it.seqno;
      ex.rev_seqno = it.rev_seqno;
      ex.delete_time = it.delete_time;
      ex.key = wire_key(it);
      ex.value = value_of(it, ex.datatype);
      ex.cas = it.cas;
      m.bytes = ex.encode().vbucket(s.vb).opaque(s.opaque).build();
    } else {
      mcbp::dcp_deletion del;
      del.by_seqno = it.seqno;
      del.rev_seqno = it.rev_seqno;
      // V2 carries the delete time, 0 for deletes streamed from memory.
      if (delete_times)
        del.delete_time = from_disk ? it.delete_time : 0;
      del.key = wire_key(it);
      del.value = value_of(it, del.datatype);
      del.cas = it.cas;
      m.bytes = del.encode().vbucket(s.vb).opaque(s.opaque).build();
    }
  }
  s.pending.push_back(std::move(m));
}

void dcp_producer::fill(stream& s, bucket_state& b, const live_collections& live) {
  if (s.finished || !s.pending.empty())
    return;
  const auto& store = b.vbuckets[s.vb];
  if (store.high_seqno() < s.position) {
    // The vbucket lost items this stream already sent (rolled back under it).
    queue_end(s, stream_end_reason::rollback);
    return;
  }
  const std::uint64_t visible = s.active ? store.high_seqno() : store.replicated_seqno();
  const std::uint64_t upto = std::min(s.end_seqno, visible);
  if (upto <= s.position) {
    if (s.position >= s.end_seqno)
      queue_end(s, stream_end_reason::ok);
    return;
  }
  // the first snapshot comes from disk (backfill), later ones from memory.
  const bool disk = !s.backfill_done;
  s.backfill_done = true;
  auto items =
      snapshot_items(store, s.position, upto, s.filter, live,
                     disk && (open_flags_ & open_flag::skip_deletes_in_initial_backfill) != 0);
  if (items.empty() && !s.filter.collections_aware) {
    s.position = upto;  // nothing this consumer may see; no SEQNO_ADVANCED without collections
    if (s.position >= s.end_seqno)
      queue_end(s, stream_end_reason::ok);
    return;
  }
  if (disk && fill_oso(s, items, upto))
    return;
  const bool checkpoint = disk || !s.memory_started;
  mcbp::dcp_snapshot_marker marker;
  if (s.first_marker)
    marker.start = std::min(s.first_marker_start, s.position + 1);
  else if (checkpoint || items.empty())
    marker.start = s.position + 1;
  else
    marker.start = items.front().seqno;
  marker.end = upto;
  marker.flags =
      disk ? snap::disk | snap::checkpoint : snap::memory | (checkpoint ? snap::checkpoint : 0U);
  if (marker_v2_2_) {
    marker.version = mcbp::snapshot_marker_version::v2_2;
    marker.max_visible_seqno = upto;
    marker.purge_seqno = store.purge_seqno();
  }
  message mm;
  mm.bytes = marker.encode().vbucket(s.vb).opaque(s.opaque).build();
  mm.marker = true;
  s.pending.push_back(std::move(mm));
  s.first_marker = false;
  if (!disk)
    s.memory_started = true;
  std::uint64_t last = 0;
  for (const auto& it : items) {
    encode_item(s, it, disk);
    last = it.seqno;
    if (!it.is_system_event())
      continue;
    // FilterEmpty: every filtered collection (or the scope) is gone.
    const auto& e = *it.event;
    bool empty = false;
    if (s.filter.type == item_filter::kind::collections && e.event == 1) {
      s.filter.collections.erase(e.collection_id);
      empty = s.filter.collections.empty();
    } else if (s.filter.type == item_filter::kind::scope && e.event == 4) {
      empty = e.scope_id == s.filter.scope;
    }
    if (empty) {
      s.position = it.seqno;
      queue_end(s, stream_end_reason::filter_empty);
      return;
    }
  }
  // tell a collection-aware consumer the snapshot end was reached.
  if (s.filter.collections_aware && last < upto) {
    message adv;
    adv.bytes = mcbp::dcp_seqno_advanced{upto}.encode().vbucket(s.vb).opaque(s.opaque).build();
    s.pending.push_back(std::move(adv));
  }
  s.position = upto;
  if (s.position >= s.end_seqno)
    queue_end(s, stream_end_reason::ok);
}

bool dcp_producer::fill_oso(stream& s, std::vector<item>& items, std::uint64_t upto) {
  if (oso_ == 0 || items.empty() || s.filter.type != item_filter::kind::collections ||
      s.filter.collections.size() != 1)
    return false;
  // A drop inside the backfill ends the stream FilterEmpty: keep the seqno-ordered path there.
  for (const auto& it : items)
    if (it.is_system_event() && it.event && it.event->event == 1)
      return false;
  // kv_engine scans the collection's by-key index: system events (the collection's create)
  // come first, then documents in key order, tombstones included.
  std::stable_sort(items.begin(), items.end(), [](const item& a, const item& b) {
    if (a.is_system_event() != b.is_system_event())
      return a.is_system_event();
    if (a.is_system_event())
      return a.seqno < b.seqno;
    return a.id.key < b.id.key;
  });
  auto oso_message = [&](std::uint32_t flags, bool marker) {
    message m;
    m.bytes = mcbp::dcp_oso_snapshot{flags}.encode().vbucket(s.vb).opaque(s.opaque).build();
    m.marker = marker;  // the test hooks (drop/move after marker) apply to OSO starts too
    s.pending.push_back(std::move(m));
  };
  oso_message(mcbp::oso_flags::start, true);
  s.first_marker = false;
  for (const auto& it : items)
    encode_item(s, it, true);
  // true_with_seqno_advanced: the consumer learns the snapshot's max seqno when
  // the last item in key order does not carry it.
  if (oso_ == 2 && items.back().seqno != upto) {
    message adv;
    adv.bytes = mcbp::dcp_seqno_advanced{upto}.encode().vbucket(s.vb).opaque(s.opaque).build();
    s.pending.push_back(std::move(adv));
  }
  oso_message(mcbp::oso_flags::end, false);
  s.position = upto;
  if (s.position >= s.end_seqno)
    queue_end(s, stream_end_reason::ok);
  return true;
}

void dcp_producer::pump() {
  if (stopped_ || session_.closed_)
    return;
  auto& state = session_.ctx_.state;
  std::lock_guard lock(state.mutex);
  auto* b = state.find_bucket(session_.bucket_);
  if (!b)
    return;
  // A failed-over node is dead: it says nothing more, its connections are being closed (a
  // StateChanged end is what a *live* node sends when a vbucket leaves it).
  const auto node = session_.node();
  if (node >= state.nodes.size() || !state.nodes[node].in_cluster)
    return;
  const auto live = live_of(*b);
  // A vbucket that changed state here ends its streams (StateChanged).
  for (auto& [vb, s] : streams_) {
    if (s.finished)
      continue;
    if (role(*b, vb) != (s.active ? 1 : 2)) {
      s.pending.clear();
      queue_end(s, stream_end_reason::state_changed);
    }
  }
  auto& drops = session_.ctx_.dcp.drop_after_marker;
  for (bool progress = true; progress;) {
    progress = false;
    for (auto it = streams_.begin(); it != streams_.end();) {
      if (flow_blocked() || session_.outbox_bytes_ >= max_outbox_bytes)
        return;
      auto& s = it->second;
      fill(s, *b, live);
      if (s.pending.empty()) {
        ++it;
        continue;
      }
      message m = std::move(s.pending.front());
      s.pending.pop_front();
      if (m.response) {
        session_.enqueue(std::move(m.bytes));
        progress = true;
        ++it;
        continue;
      }
      // every stream message counts toward the window (NOOPs do not).
      unacked_ += m.bytes.size();
      bytes_sent_ += m.bytes.size();
      ++messages_sent_;
      session_.enqueue(std::move(m.bytes));
      progress = true;
      if (m.marker) {
        auto drop = drops.find({session_.bucket_, s.vb});
        if (drop != drops.end()) {
          drops.erase(drop);
          stopped_ = true;
          session_.close_when_flushed();
          return;
        }
        auto& moves = session_.ctx_.dcp.move_after_marker;
        auto move = moves.find({session_.bucket_, s.vb});
        if (move != moves.end()) {
          const auto to = static_cast<int>(move->second);
          moves.erase(move);
          // As move_vbucket() does (we hold the state mutex); the stream ends before the
          // snapshot's first item, as it would when the vbucket leaves this node.
          state.take_over(*b, s.vb, to);
          ++state.rev;
          if (session_.ctx_.dcp.push_configs)
            session_.ctx_.dcp.push_configs();
          s.pending.clear();
          queue_end(s, stream_end_reason::state_changed);
        }
      }
      it = m.stream_end ? streams_.erase(it) : std::next(it);
    }
  }
}

void dcp_producer::post_pump() {
  asio::post(timer_.get_executor(), [w = session_.weak_from_this()] {
    if (auto s = w.lock(); s && s->dcp_)
      s->dcp_->pump();
  });
}

void dcp_producer::end_stream(std::uint16_t vb, stream_end_reason reason) {
  auto it = streams_.find(vb);
  if (it == streams_.end() || it->second.finished)
    return;
  it->second.pending.clear();
  queue_end(it->second, reason);
  post_pump();
}

// ------------------------------------------------------------------------------ NOOP / timer

void dcp_producer::schedule_tick() {
  timer_.expires_after(tick_period);
  timer_.async_wait([w = session_.weak_from_this()](boost::system::error_code ec) {
    if (ec)
      return;
    auto s = w.lock();
    if (!s || s->closed_ || !s->dcp_)
      return;
    s->dcp_->tick();
    if (!s->closed_ && s->dcp_)
      s->dcp_->schedule_tick();
  });
}

void dcp_producer::tick() {
  const auto now = clock::now();
  if (noop_enabled_) {
    // a consumer silent for the idle timeout is dead.
    if (now - last_receive_ > session_.ctx_.dcp.idle_timeout) {
      session_.close();
      return;
    }
    if (!noop_outstanding_ && now - last_noop_ >= noop_interval_ && !stopped_) {
      noop_outstanding_ = next_noop_opaque_++;
      last_noop_ = now;
      ++noops_sent_;
      session_.enqueue(mcbp::dcp_noop_request{}.encode().opaque(*noop_outstanding_).build());
    }
  }
  pump();
}

dcp_producer::stats dcp_producer::get_stats() const {
  stats out;
  out.buffer_size = buffer_size_;
  out.unacked_bytes = unacked_;
  out.bytes_sent = bytes_sent_;
  out.messages_sent = messages_sent_;
  out.noops_sent = noops_sent_;
  out.paused = flow_blocked();
  out.streams = streams_.size();
  return out;
}

}  // namespace cbes::testkit::couchbase
