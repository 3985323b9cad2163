#include "cbes/checkpoint/document_key.hpp"

#include <charconv>
#include <map>
#include <mutex>
#include <utility>

#include "cbes/util/crc32.hpp"

namespace cbes::checkpoint {
namespace {

// The Java connector gives up after this many salts and uses the bare key.
constexpr std::uint64_t max_salts = 10'000'000;

}  // namespace

std::optional<std::string> force_key_to_vbucket(std::string_view base, std::uint16_t vbucket,
                                                std::size_t num_vbuckets) {
  if (num_vbuckets == 0 || vbucket >= num_vbuckets)
    return std::nullopt;
  std::string key(base);
  key += '#';
  // CRC32 continues over the salt, so the common prefix is hashed once.
  const std::uint32_t prefix = util::crc32(key);
  char salt[17];
  for (std::uint64_t s = 0; s < max_salts; ++s) {
    // Lower-case hex like Java's Long.toHexString; to_chars, not snprintf, which made this
    // search a third of a short run's instructions (1024 vbuckets, hundreds of salts each).
    const auto end = std::to_chars(salt, salt + sizeof salt, s, 16).ptr;
    const std::string_view hex(salt, static_cast<std::size_t>(end - salt));
    const std::uint32_t hash = (util::crc32(hex, prefix) >> 16) & 0x7fffU;
    if ((hash & (num_vbuckets - 1)) == vbucket)
      return key.append(hex);
  }
  return std::nullopt;
}

std::string document_key(std::string_view group, std::uint16_t vbucket, std::size_t num_vbuckets) {
  std::string base(metadata_key_prefix);
  base.append(group).append(":checkpoint:").append(std::to_string(vbucket));
  auto forced = force_key_to_vbucket(base, vbucket, num_vbuckets);
  return forced ? std::move(*forced) : base;
}

std::shared_ptr<const std::vector<std::string>> document_keys(std::string_view group,
                                                              std::size_t num_vbuckets) {
  static std::mutex mutex;
  static std::map<std::pair<std::string, std::size_t>,
                  std::shared_ptr<const std::vector<std::string>>>
      cache;
  std::pair<std::string, std::size_t> id{std::string(group), num_vbuckets};
  {
    std::lock_guard lock(mutex);
    if (auto it = cache.find(id); it != cache.end())
      return it->second;
  }
  // Computed outside the lock: another thread asking for another group need not wait.
  auto keys = std::make_shared<std::vector<std::string>>();
  keys->reserve(num_vbuckets);
  for (std::size_t vb = 0; vb < num_vbuckets && vb <= 0xffff; ++vb)
    keys->push_back(document_key(group, static_cast<std::uint16_t>(vb), num_vbuckets));
  std::lock_guard lock(mutex);
  return cache.emplace(std::move(id), std::move(keys)).first->second;
}

}  // namespace cbes::checkpoint
