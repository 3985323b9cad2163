#pragma once
// Checkpoints in a Couchbase collection, readable and writable by the Java connector 4.4: one
// document per vbucket (document_key.hpp), with an empty binary body and the checkpoint in the
// user xattr `cbes` (checkpoint.hpp).
//
// save: a sub-document upsert of the whole xattr; when the document does not exist it is created
// with an empty binary body and the upsert is repeated. Temporary failures (and writes whose
// outcome is unknown: the upsert is idempotent) are retried with truncated exponential backoff
// (50 ms seed, 5 s cap, full jitter) within a 5 s budget per pass. load: a sub-document lookup;
// a missing document or xattr means "no checkpoint". clear: removes every document.
//
//   couchbase_store_options o;
//   o.collection = {"_default", "_default"}; o.group = "example-group";
//   auto s = couchbase_store::open(metadata_cluster, o);
//   if (!s) { std::cerr << s.error().what() << '\n'; co_return; }
//   auto report = co_await (*s)->save(positions);
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cbes/checkpoint/store.hpp"
#include "cbes/couchbase/cluster.hpp"

namespace cbes::checkpoint {

struct couchbase_store_options {
  couchbase::collection collection;  // the metadata collection (must exist)
  std::string group;                 // the connector group name, part of every key
  // Retry of temporary failures during a save pass (the Java connector's values).
  std::chrono::milliseconds backoff_seed = std::chrono::milliseconds{50};
  std::chrono::milliseconds backoff_cap = std::chrono::seconds{5};
  std::chrono::milliseconds pass_budget = std::chrono::seconds{5};
};

class couchbase_store final : public store {
 public:
  // A store on `cluster` (connected to the metadata bucket). The vbucket count and so the keys
  // come from the cluster's current topology. errc::invalid_argument for an empty group name or
  // a bucket without a vbucket map.
  //
  //   auto s = couchbase_store::open(cluster, options);
  static result<std::shared_ptr<couchbase_store>> open(std::shared_ptr<couchbase::cluster> cluster,
                                                       couchbase_store_options options);

  boost::asio::awaitable<result<loaded_map>> load(std::vector<std::uint16_t> vbuckets) override;
  boost::asio::awaitable<save_report> save(checkpoint_map checkpoints) override;
  boost::asio::awaitable<result<void>> clear(std::size_t num_vbuckets) override;
  std::size_t num_vbuckets() const override { return keys_->size(); }

  // The document key of a vbucket's checkpoint.
  const std::string& key(std::uint16_t vbucket) const { return (*keys_)[vbucket]; }

 private:
  couchbase_store(std::shared_ptr<couchbase::cluster> cluster, couchbase_store_options options,
                  std::shared_ptr<const std::vector<std::string>> keys);

  // One vbucket's write, create-when-missing included; couchbase errors as they came.
  boost::asio::awaitable<couchbase::result<void>> write(std::uint16_t vbucket, std::string xattr);

  std::shared_ptr<couchbase::cluster> cluster_;
  couchbase_store_options options_;
  std::shared_ptr<const std::vector<std::string>> keys_;
  std::mt19937_64 rng_;
};

}  // namespace cbes::checkpoint
