#include "vbucket_store.hpp"

#include <algorithm>

namespace cbes::testkit::couchbase {

const item* vbucket_store::find(const doc_key& id) const {
  auto it = latest_.find(id);
  if (it == latest_.end())
    return nullptr;
  return &history_.at(it->second);
}

const item& vbucket_store::append(item it) {
  std::uint64_t previous_rev = 0;
  if (auto cur = latest_.find(it.id); cur != latest_.end())
    previous_rev = history_.at(cur->second).rev_seqno;
  it.seqno = ++high_seqno_;
  it.rev_seqno = previous_rev + 1;
  latest_[it.id] = it.seqno;
  return history_.emplace(it.seqno, std::move(it)).first->second;
}

const item& vbucket_store::append_event(item it) {
  it.kind = item_kind::system_event;
  it.seqno = ++high_seqno_;
  return history_.emplace(it.seqno, std::move(it)).first->second;
}

void vbucket_store::truncate(std::uint64_t seqno) {
  history_.erase(history_.upper_bound(seqno), history_.end());
  high_seqno_ = std::min(high_seqno_, seqno);
  replicated_seqno_ = std::min(replicated_seqno_, seqno);
  latest_.clear();
  for (const auto& [s, it] : history_)
    if (!it.is_system_event())
      latest_[it.id] = s;
}

void vbucket_store::compact(std::uint64_t purge_upto) {
  for (auto it = history_.begin(); it != history_.end();) {
    if (it->second.is_system_event()) {  // kept: streams need the collection lifecycle
      ++it;
      continue;
    }
    bool superseded = latest_.at(it->second.id) != it->first;
    bool purgeable = it->second.deleted() && it->first <= purge_upto;
    if (purgeable && !superseded) {
      purge_seqno_ = std::max(purge_seqno_, it->first);
      latest_.erase(it->second.id);
    }
    it = superseded || purgeable ? history_.erase(it) : std::next(it);
  }
}

}  // namespace cbes::testkit::couchbase
