#include "cbes/checkpoint/store.hpp"

#include <string>

namespace cbes::checkpoint {
namespace asio = boost::asio;

result<void> save_report::first_error() const {
  if (failed.empty())
    return {};
  return failed.begin()->second;
}

store_counters store::counters() const {
  store_counters c;
  c.saves = saves_.load();
  c.save_failures = save_failures_.load();
  c.retries = retries_.load();
  c.loads = loads_.load();
  return c;
}

result<void> check_vbuckets(const std::vector<std::uint16_t>& vbuckets, std::size_t num_vbuckets) {
  for (auto vb : vbuckets)
    if (vb >= num_vbuckets)
      return make_error(errc::invalid_argument, "vbucket " + std::to_string(vb) +
                                                    " does not exist: the bucket has " +
                                                    std::to_string(num_vbuckets) + " vbuckets");
  return {};
}

asio::awaitable<result<loaded_map>> memory_store::load(std::vector<std::uint16_t> vbuckets) {
  auto valid = check_vbuckets(vbuckets, num_vbuckets_);
  if (!valid)
    co_return valid.error();
  loaded_map out;
  std::lock_guard lock(mutex_);
  for (auto vb : vbuckets) {
    auto it = checkpoints_.find(vb);
    out[vb] = it == checkpoints_.end() ? std::nullopt : std::optional<checkpoint>(it->second);
    ++loads_;
  }
  co_return out;
}

asio::awaitable<save_report> memory_store::save(checkpoint_map checkpoints) {
  save_report report;
  std::lock_guard lock(mutex_);
  for (const auto& [vb, cp] : checkpoints) {
    auto valid = check_vbuckets({vb}, num_vbuckets_);
    if (!valid) {
      report.failed.emplace(vb, valid.error());
      ++save_failures_;
      continue;
    }
    checkpoints_[vb] = cp;
    report.saved.push_back(vb);
    ++saves_;
  }
  co_return report;
}

asio::awaitable<result<void>> memory_store::clear(std::size_t num_vbuckets) {
  std::lock_guard lock(mutex_);
  std::erase_if(checkpoints_, [&](const auto& e) { return e.first < num_vbuckets; });
  co_return result<void>{};
}

std::optional<checkpoint> memory_store::get(std::uint16_t vbucket) const {
  std::lock_guard lock(mutex_);
  auto it = checkpoints_.find(vbucket);
  if (it == checkpoints_.end())
    return std::nullopt;
  return it->second;
}

void memory_store::put(std::uint16_t vbucket, const checkpoint& cp) {
  std::lock_guard lock(mutex_);
  checkpoints_[vbucket] = cp;
}

checkpoint_map memory_store::snapshot() const {
  std::lock_guard lock(mutex_);
  return checkpoints_;
}

}  // namespace cbes::checkpoint
