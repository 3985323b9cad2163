#include "cbes/dcp/stream_state.hpp"

#include <algorithm>
#include <type_traits>
#include <variant>

namespace cbes::dcp {

stream_state stream_state::at(const mcbp::failover_log& log, std::uint64_t high_seqno) {
  stream_state s;
  s.failover_log = log;
  s.vbucket_uuid = log.empty() ? 0 : log.front().vbucket_uuid;
  s.seqno = s.snapshot_start = s.snapshot_end = high_seqno;
  return s;
}

std::string stream_state::to_string() const {
  return std::to_string(vbucket_uuid) + ":" + std::to_string(seqno) + "[" +
         std::to_string(snapshot_start) + "," + std::to_string(snapshot_end) + "]";
}

mcbp::dcp_stream_request make_stream_request(const stream_state& state, std::uint32_t flags) {
  mcbp::dcp_stream_request r;
  r.flags = flags;
  r.start_seqno = state.seqno;
  r.end_seqno = mcbp::dcp_seqno_infinity;
  r.vbucket_uuid = state.vbucket_uuid;
  r.snapshot_start = state.snapshot_start;
  r.snapshot_end = state.snapshot_end;
  // the producer answers Erange unless snap_start ≤ start ≤ snap_end.
  if (!(r.snapshot_start <= r.start_seqno && r.start_seqno <= r.snapshot_end))
    r.snapshot_start = r.snapshot_end = r.start_seqno;
  return r;
}

stream_state rollback_state(const stream_state& state, std::uint64_t to) {
  stream_state s = state;
  // drop branch points newer than the rollback point; the newest remaining one names the
  // history we now share with the producer.
  std::erase_if(s.failover_log, [to](const failover_entry& e) { return e.seqno > to; });
  s.vbucket_uuid = s.failover_log.empty() ? 0 : s.failover_log.front().vbucket_uuid;
  s.seqno = s.snapshot_start = s.snapshot_end = to;
  return s;
}

end_action reaction(mcbp::stream_end_reason reason) noexcept {
  using r = mcbp::stream_end_reason;
  switch (reason) {
    case r::ok:
      return end_action::done;
    case r::closed:
      return end_action::closed;
    case r::filter_empty:
    case r::lost_privileges:
      return end_action::stop;
    case r::state_changed:
    case r::disconnected:
    case r::too_slow:
    case r::backfill_fail:
    case r::rollback:
      return end_action::reopen;
  }
  return end_action::reopen;
}

void stream_tracker::on_stream_opened(const mcbp::failover_log& log) {
  state_.failover_log = log;
  if (!log.empty())
    state_.vbucket_uuid = log.front().vbucket_uuid;
  pending_.reset();
  oso_max_.reset();
}

void stream_tracker::on_rollback(std::uint64_t to) {
  state_ = rollback_state(state_, to);
  pending_.reset();
  oso_max_.reset();
}

std::uint64_t stream_tracker::current_snapshot_start() const noexcept {
  return pending_ ? pending_->start : state_.snapshot_start;
}

std::uint64_t stream_tracker::current_snapshot_end() const noexcept {
  return pending_ ? pending_->end : state_.snapshot_end;
}

namespace {

std::uint64_t manifest_uid_of(const mcbp::dcp_message& m) {
  const auto* ev = std::get_if<mcbp::dcp_system_event>(&m);
  if (!ev)
    return 0;
  if (auto c = mcbp::collection_created::decode(*ev))
    return c->manifest_uid;
  if (auto d = mcbp::collection_dropped::decode(*ev))
    return d->manifest_uid;
  if (auto s = mcbp::scope_created::decode(*ev))
    return s->manifest_uid;
  if (auto sd = mcbp::scope_dropped::decode(*ev))
    return sd->manifest_uid;
  return 0;
}

}  // namespace

// inside OSO the seqnos come in key order, so only "above Y" can be checked; the
// position must not move until `end` (a resume before it must repeat the whole backfill).
bool stream_tracker::on_oso_item(std::uint64_t seqno, const mcbp::dcp_message& m) {
  if (seqno <= state_.seqno)
    return false;
  oso_max_ = std::max(*oso_max_, seqno);
  oso_manifest_uid_ = std::max(oso_manifest_uid_, manifest_uid_of(m));
  return true;
}

bool stream_tracker::on_message(const mcbp::dcp_message& m) {
  if (const auto* oso = std::get_if<mcbp::dcp_oso_snapshot>(&m)) {
    if (oso->flags & mcbp::oso_flags::start) {
      oso_max_ = 0;
      oso_manifest_uid_ = 0;
    } else if ((oso->flags & mcbp::oso_flags::end) && oso_max_) {
      const auto x = *oso_max_;
      oso_max_.reset();
      if (x > state_.seqno) {
        state_.seqno = state_.snapshot_start = state_.snapshot_end = x;
        if (pending_ && pending_->end <= x)
          pending_.reset();
      }
      state_.manifest_uid = std::max(state_.manifest_uid, oso_manifest_uid_);
    }
    return true;
  }
  if (oso_max_) {
    if (const auto* adv = std::get_if<mcbp::dcp_seqno_advanced>(&m))
      return on_oso_item(adv->by_seqno, m);
    if (const auto seqno = mcbp::seqno_of(m))
      return on_oso_item(*seqno, m);
  }
  if (const auto* marker = std::get_if<mcbp::dcp_snapshot_marker>(&m)) {
    if (marker->end < marker->start)
      return false;
    pending_ = *marker;
    return true;
  }
  if (const auto* adv = std::get_if<mcbp::dcp_seqno_advanced>(&m)) {
    if (adv->by_seqno < state_.seqno)
      return false;
    // / Java: after SEQNO_ADVANCED the position is consistent at that seqno.
    state_.seqno = state_.snapshot_start = state_.snapshot_end = adv->by_seqno;
    if (pending_ && pending_->end <= adv->by_seqno)
      pending_.reset();
    return true;
  }
  const auto seqno = mcbp::seqno_of(m);
  if (!seqno)
    return true;  // OSO marker, stream end: no position change
  if (*seqno <= state_.seqno)
    return false;
  if (pending_) {
    state_.snapshot_start = pending_->start;
    state_.snapshot_end = pending_->end;
    pending_.reset();
  }
  state_.seqno = *seqno;
  if (!(state_.snapshot_start <= *seqno && *seqno <= state_.snapshot_end))
    state_.snapshot_start = state_.snapshot_end = *seqno;  // no marker covered it: stay resumable
  state_.manifest_uid = std::max(state_.manifest_uid, manifest_uid_of(m));
  return true;
}

std::optional<std::uint32_t> flow_control::acknowledge(std::size_t bytes) noexcept {
  unacked_ -= std::min(bytes, unacked_);
  if (buffer_size_ == 0)
    return std::nullopt;
  released_ += bytes;
  const auto threshold = static_cast<std::size_t>(static_cast<double>(buffer_size_) * watermark_);
  if (released_ < std::max<std::size_t>(threshold, 1))
    return std::nullopt;
  const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(released_, UINT32_MAX));
  released_ -= n;
  return n;
}

bool flow_control::counted(mcbp::opcode op) noexcept {
  return mcbp::is_dcp(op) && op != mcbp::opcode::dcp_noop;
}

}  // namespace cbes::dcp
