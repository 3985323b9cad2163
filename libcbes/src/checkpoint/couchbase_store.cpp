#include "cbes/checkpoint/couchbase_store.hpp"

#include <algorithm>
#include <utility>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cbes/checkpoint/document_key.hpp"

namespace cbes::checkpoint {
namespace asio = boost::asio;
using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// The Java connector's xattr name.
constexpr const char* xattr_name = "cbes";

// The body's flags as the Java connector writes them (Java SDK 3's RawBinaryTranscoder:
// CodecFlags.BINARY_COMPAT_FLAGS = common flags "binary" 3 << 24 | legacy binary 8 << 8), so SDKs
// and tools that decode a body by its flags see binary, not JSON.
constexpr std::uint32_t java_binary_flags = (3U << 24) | (8U << 8);

// Truncated exponential backoff with full jitter, bounded by the pass deadline: retry k waits a
// uniform draw in [0, min(seed * 2^(k-1), cap)], and none starts after the deadline.
class retry_schedule {
 public:
  retry_schedule(const couchbase_store_options& o, clock::time_point deadline)
      : seed_(o.backoff_seed), cap_(o.backoff_cap), deadline_(deadline) {}

  std::optional<milliseconds> next_delay(std::mt19937_64& rng) {
    const auto now = clock::now();
    if (now >= deadline_)
      return std::nullopt;
    milliseconds ceiling = seed_;
    for (unsigned i = 1; i < retries_ && ceiling < cap_; ++i)
      ceiling *= 2;
    ceiling = std::min(ceiling, cap_);
    ++retries_;
    std::uniform_int_distribution<milliseconds::rep> draw(0, ceiling.count());
    const auto left = std::chrono::duration_cast<milliseconds>(deadline_ - now);
    return std::min(milliseconds{draw(rng)}, left);
  }

 private:
  milliseconds seed_;
  milliseconds cap_;
  clock::time_point deadline_;
  unsigned retries_ = 1;
};

// Failures that may pass: connection trouble, timeouts, Etmpfail/Ebusy after the client's own
// retries, and writes with an unknown outcome (every write here may safely run twice).
bool retryable(const couchbase::error& e) {
  return e.transient() || e.code == couchbase::errc::ambiguous;
}

asio::awaitable<void> sleep_for(milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(d);
  co_await timer.async_wait(asio::use_awaitable);
}

std::string describe(std::uint16_t vb, const std::string& key) {
  return "vbucket " + std::to_string(vb) + " (document " + key + ")";
}

}  // namespace

result<std::shared_ptr<couchbase_store>> couchbase_store::open(
    std::shared_ptr<couchbase::cluster> cluster, couchbase_store_options options) {
  if (!cluster)
    return make_error(errc::invalid_argument, "the checkpoint store needs a connected cluster");
  if (options.group.empty())
    return make_error(errc::invalid_argument,
                      "the group name is empty: set [group] name in the connector config");
  const std::size_t v = cluster->current_topology()->num_vbuckets();
  if (v == 0 || (v & (v - 1)) != 0 || v > 0x10000)
    return make_error(errc::invalid_argument,
                      "the metadata bucket has " + std::to_string(v) +
                          " vbuckets; checkpoints need a Couchbase bucket (a power of two)");
  auto keys = document_keys(options.group, v);
  return std::shared_ptr<couchbase_store>(
      new couchbase_store(std::move(cluster), std::move(options), std::move(keys)));
}

couchbase_store::couchbase_store(std::shared_ptr<couchbase::cluster> cluster,
                                 couchbase_store_options options,
                                 std::shared_ptr<const std::vector<std::string>> keys)
    : cluster_(std::move(cluster)),
      options_(std::move(options)),
      keys_(std::move(keys)),
      rng_(std::random_device{}()) {}

asio::awaitable<couchbase::result<void>> couchbase_store::write(std::uint16_t vbucket,
                                                                std::string xattr) {
  const std::string& id = key(vbucket);
  std::vector<mcbp::subdoc_mutation_spec> specs;
  specs.push_back(
      {mcbp::opcode::subdoc_dict_upsert, mcbp::subdoc_path_flag::xattr, xattr_name, xattr});
  couchbase::mutate_in_options no_create;
  auto r = co_await cluster_->mutate_in(options_.collection, id, specs, no_create);
  if (r)
    co_return couchbase::result<void>{};
  if (r.error().code != couchbase::errc::document_not_found)
    co_return r.error();
  // The Java connector's shape: an empty binary body (not the `{}` JSON body that a mkdoc
  // mutation would create), then the xattr on it.
  couchbase::upsert_options binary;
  binary.datatype = 0;
  binary.flags = java_binary_flags;
  auto created = co_await cluster_->upsert(options_.collection, id, std::string{}, binary);
  if (!created)
    co_return created.error();
  auto again = co_await cluster_->mutate_in(options_.collection, id, std::move(specs), no_create);
  if (!again)
    co_return again.error();
  co_return couchbase::result<void>{};
}

asio::awaitable<save_report> couchbase_store::save(checkpoint_map checkpoints) {
  save_report report;
  retry_schedule retries(options_, clock::now() + options_.pass_budget);
  for (const auto& [vb, cp] : checkpoints) {
    auto valid = check_vbuckets({vb}, num_vbuckets());
    if (!valid) {
      report.failed.emplace(vb, valid.error());
      ++save_failures_;
      continue;
    }
    // The running connector, restore and catch-up all write an empty bucketUuid (Java's too).
    const std::string xattr = encode_xattr(cp);
    for (;;) {
      auto w = co_await write(vb, xattr);
      if (w) {
        report.saved.push_back(vb);
        ++saves_;
        break;
      }
      std::optional<milliseconds> delay;
      if (retryable(w.error()))
        delay = retries.next_delay(rng_);
      if (!delay) {
        report.failed.emplace(
            vb, make_error(errc::store_failed, "saving the checkpoint of " + describe(vb, key(vb)) +
                                                   " failed: " + w.error().what()));
        ++save_failures_;
        break;
      }
      ++retries_;
      co_await sleep_for(*delay);
    }
  }
  co_return report;
}

asio::awaitable<result<loaded_map>> couchbase_store::load(std::vector<std::uint16_t> vbuckets) {
  auto valid = check_vbuckets(vbuckets, num_vbuckets());
  if (!valid)
    co_return valid.error();
  loaded_map out;
  for (auto vb : vbuckets) {
    auto r = co_await cluster_->lookup_xattr(options_.collection, key(vb), xattr_name);
    ++loads_;
    if (!r)
      co_return make_error(
          errc::store_failed,
          "reading the checkpoint of " + describe(vb, key(vb)) + " failed: " + r.error().what());
    if (!*r) {
      out[vb] = std::nullopt;
      continue;
    }
    auto cp = decode_xattr(**r);
    if (!cp)
      co_return make_error(errc::invalid_document,
                           "the checkpoint of " + describe(vb, key(vb)) +
                               " is unreadable: " + cp.error().message +
                               "; restore a backup or clear the group's checkpoints");
    out[vb] = *cp;
  }
  co_return out;
}

asio::awaitable<result<void>> couchbase_store::clear(std::size_t num_vbuckets) {
  std::optional<error> first;
  retry_schedule retries(options_, clock::now() + options_.pass_budget);
  const std::size_t n = std::min(num_vbuckets, this->num_vbuckets());
  for (std::size_t i = 0; i < n; ++i) {
    const auto vb = static_cast<std::uint16_t>(i);
    for (;;) {
      auto r = co_await cluster_->remove(options_.collection, key(vb));
      if (r || r.error().code == couchbase::errc::document_not_found)
        break;
      std::optional<milliseconds> delay;
      if (retryable(r.error()))
        delay = retries.next_delay(rng_);
      if (!delay) {
        if (!first)
          first =
              make_error(errc::store_failed, "removing the checkpoint of " + describe(vb, key(vb)) +
                                                 " failed: " + r.error().what());
        break;
      }
      ++retries_;
      co_await sleep_for(*delay);
    }
  }
  if (first)
    co_return *first;
  co_return result<void>{};
}

}  // namespace cbes::checkpoint
