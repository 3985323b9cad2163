#include "cbes/connector/progress.hpp"

#include <stdexcept>

namespace cbes::connector {

progress::vbucket_state* progress::find(std::uint16_t vbucket) {
  return vbucket < vbuckets_.size() ? vbuckets_[vbucket].get() : nullptr;
}

const progress::vbucket_state* progress::find(std::uint16_t vbucket) const {
  return vbucket < vbuckets_.size() ? vbuckets_[vbucket].get() : nullptr;
}

progress::vbucket_state& progress::state(std::uint16_t vbucket) {
  auto* s = find(vbucket);
  if (!s)
    throw std::logic_error("connector::progress: vbucket " + std::to_string(vbucket) +
                           " is not tracked");
  return *s;
}

const progress::vbucket_state& progress::state(std::uint16_t vbucket) const {
  return const_cast<progress*>(this)->state(vbucket);
}

void progress::start(std::uint16_t vbucket, const checkpoint& from) {
  if (vbucket >= vbuckets_.size())
    vbuckets_.resize(vbucket + 1u);
  auto& slot = vbuckets_[vbucket];
  if (!slot)
    slot = std::make_unique<vbucket_state>();
  else if (!slot->fifo.empty())
    throw std::logic_error("connector::progress: vbucket " + std::to_string(vbucket) +
                           " restarted with events pending");
  slot->committed = from;
  slot->dirty = false;
}

std::optional<checkpoint> progress::stop(std::uint16_t vbucket) {
  auto* s = find(vbucket);
  if (!s)
    return std::nullopt;
  pending_documents_ -= s->pending_documents;
  auto cp = s->committed;
  vbuckets_[vbucket].reset();
  return cp;
}

bool progress::tracked(std::uint16_t vbucket) const {
  return find(vbucket) != nullptr;
}

std::uint64_t progress::add_document(std::uint16_t vbucket, const checkpoint& position,
                                     flow_ack ack, bool dirty, std::uint64_t stamp) {
  auto& s = state(vbucket);
  const auto token = s.next_token++;
  s.fifo.push_back({token, position, ack, s.generation, dirty, stamp});
  ++s.pending_documents;
  ++pending_documents_;
  return token;
}

void progress::add_done(std::uint16_t vbucket, const checkpoint& position, flow_ack ack,
                        std::vector<flow_ack>& acks, bool dirty) {
  auto& s = state(vbucket);
  if (ack.bytes)
    acks.push_back(ack);
  if (s.fifo.empty()) {
    s.committed = position;
    s.dirty = s.dirty || dirty;
    return;
  }
  s.fifo.push_back({0, position, {}, s.generation, dirty, 0});
}

void progress::advance(vbucket_state& s) {
  while (!s.fifo.empty() && s.fifo.front().token == 0) {
    const auto& e = s.fifo.front();
    if (e.generation == s.generation) {
      s.committed = e.position;
      s.dirty = s.dirty || e.dirty;
    }
    s.fifo.pop_front();
  }
}

bool progress::document_done(std::uint16_t vbucket, std::uint64_t token,
                             std::vector<flow_ack>& acks, std::uint64_t* stamp) {
  auto* found = find(vbucket);
  if (!found)
    return false;
  auto& s = *found;
  if (s.fifo.empty() || s.fifo.front().token != token)
    return false;
  auto& e = s.fifo.front();
  if (e.ack.bytes)
    acks.push_back(e.ack);
  if (stamp)
    *stamp = e.stamp;
  e.token = 0;  // done: passes like any other done entry
  --s.pending_documents;
  --pending_documents_;
  advance(s);
  return true;
}

void progress::rollback(std::uint16_t vbucket, const checkpoint& to, std::vector<flow_ack>& acks) {
  auto& s = state(vbucket);
  ++s.generation;
  add_done(vbucket, to, {}, acks, true);
}

std::uint64_t progress::generation(std::uint16_t vbucket) const {
  return state(vbucket).generation;
}

checkpoint progress::checkpoint_of(std::uint16_t vbucket) const {
  return state(vbucket).committed;
}

std::map<std::uint16_t, checkpoint> progress::checkpoints() const {
  std::map<std::uint16_t, checkpoint> out;
  for (std::size_t vb = 0; vb < vbuckets_.size(); ++vb)
    if (vbuckets_[vb])
      out.emplace(static_cast<std::uint16_t>(vb), vbuckets_[vb]->committed);
  return out;
}

bool progress::dirty(std::uint16_t vbucket) const {
  return state(vbucket).dirty;
}

std::map<std::uint16_t, checkpoint> progress::dirty_checkpoints() const {
  std::map<std::uint16_t, checkpoint> out;
  for (std::size_t vb = 0; vb < vbuckets_.size(); ++vb)
    if (vbuckets_[vb] && vbuckets_[vb]->dirty)
      out.emplace(static_cast<std::uint16_t>(vb), vbuckets_[vb]->committed);
  return out;
}

void progress::mark_saved(std::uint16_t vbucket, const checkpoint& saved) {
  if (auto* s = find(vbucket); s && s->committed == saved)
    s->dirty = false;
}

std::size_t progress::pending(std::uint16_t vbucket) const {
  const auto* s = find(vbucket);
  return s ? s->pending_documents : 0;
}

std::optional<std::uint64_t> progress::oldest_pending_stamp() const {
  std::optional<std::uint64_t> oldest;
  for (const auto& slot : vbuckets_) {
    if (!slot)
      continue;
    const auto& s = *slot;
    // After advance() the head of a FIFO is always a pending document.
    if (!s.fifo.empty() && s.fifo.front().token != 0 && (!oldest || s.fifo.front().stamp < *oldest))
      oldest = s.fifo.front().stamp;
  }
  return oldest;
}

std::vector<std::uint16_t> progress::vbuckets() const {
  std::vector<std::uint16_t> out;
  for (std::size_t vb = 0; vb < vbuckets_.size(); ++vb)
    if (vbuckets_[vb])
      out.push_back(static_cast<std::uint16_t>(vb));
  return out;
}

}  // namespace cbes::connector
