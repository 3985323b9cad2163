#pragma once
// One connector worker: streams a set of vbuckets of a Couchbase bucket over DCP, shapes each
// change into an Elasticsearch action (or hands it to the embedder's callback), and moves
// each vbucket's checkpoint only when the destination has finished with its events. Used by
// the `cbes` app (a static group member) and by the Consul coordinator (which adds and
// releases vbuckets as the group changes).
//
//   cbes::connector::worker_options o;
//   o.group = "example-group";
//   o.couchbase.seeds = "127.0.0.1";  o.couchbase.bucket = "travel-sample";  ...
//   o.elasticsearch.hosts = {"127.0.0.1:9200"};
//   o.vbuckets = cbes::connector::member_vbuckets(1, 1, 1024);   // or leave empty: this member's
//   auto w = co_await cbes::connector::worker::start(ex, o);
//   if (!w) { std::cerr << w.error().what() << '\n'; return 1; }
//   // on SIGTERM: (*w)->stop();
//   auto end = co_await (*w)->wait();   // ok after a graceful stop, the error after a fatal one
//
// Data flow, per vbucket in DCP order: event → (metadata keys of the connector are never
// written) → destination → done → progress (connector/progress.hpp) → DCP flow-control ack.
// Memory stays within the DCP flow-control buffer plus the sink's bulk limits.
// Thread model: one executor (a thread or a strand); every member function is called from it.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include "cbes/checkpoint/checkpoint.hpp"
#include "cbes/checkpoint/store.hpp"
#include "cbes/couchbase/cluster.hpp"
#include "cbes/dcp/consumer.hpp"
#include "cbes/sink/event.hpp"
#include "cbes/sink/settings.hpp"
#include "cbes/sink/sink.hpp"
#include "cbes/util/error.hpp"

namespace cbes::metrics {
struct connector_metrics;
}

namespace cbes::connector {

// A failure that ends the worker, as one line naming the problem and the fix.
struct error {
  std::string message;
  std::string what() const { return message; }
};
using util::throw_exception_from_error;
template <class T>
using result = boost::system::result<T, error>;

// Where vbuckets start that have no checkpoint yet (`[couchbase] defaultCheckpoint`).
enum class default_checkpoint { zero, now };

// The vbuckets of member `member` (1-based) of `total` in a static group: the Java
// connector's split, contiguous ranges whose sizes differ by at most one.
//
//   member_vbuckets(1, 2, 1024);   // 0..511
std::vector<std::uint16_t> member_vbuckets(int member, int total, std::uint16_t num_vbuckets);

// Where documents go instead of Elasticsearch, for embedders: called once per document event
// in DCP order per vbucket; the event is done when the call returns (throwing stops the
// worker with the exception's message).
using document_callback = std::function<void(const sink::document_event&)>;

struct worker_options {
  std::string group = "example-group";  // checkpoint namespace
  couchbase::cluster_options couchbase{};
  dcp::consumer_options dcp{};
  // Elasticsearch; unused when `callback` is set.
  sink::sink_settings sink{};
  sink::connection_settings elasticsearch{};
  sink::sniff_settings sniffing{};
  document_callback callback{};
  // The vbuckets to stream; empty = member `member_number` of `total_members`.
  std::vector<std::uint16_t> vbuckets{};
  int member_number = 1;
  int total_members = 1;
  default_checkpoint start_from = default_checkpoint::zero;
  // Metadata bucket (empty: the source bucket) and collection of the checkpoint documents.
  std::string metadata_bucket{};
  std::string metadata_scope = "_default";
  std::string metadata_collection = "_default";
  // Where checkpoints are kept; null: cbes::checkpoint::couchbase_store on the metadata collection
  // (the Java connector's documents). An embedder may pass a cbes::checkpoint::memory_store.
  std::shared_ptr<cbes::checkpoint::store> store{};
  // How long start() keeps retrying a Couchbase cluster that does not answer yet (refused
  // connections, timeouts); credentials and missing buckets fail at once.
  std::chrono::milliseconds startup_timeout = std::chrono::seconds{30};
  // Checkpoints of changed vbuckets are saved this often (Java: 10 s).
  std::chrono::milliseconds checkpoint_interval = std::chrono::seconds{10};
  // A graceful stop waits this long for writes in flight before saving what is done.
  std::chrono::milliseconds drain_timeout = std::chrono::seconds{10};
  // Meters to keep up to date (latency, write queue, backlog, Elasticsearch wait, the sink's and
  // the checkpoint store's counters); null: none. Must outlive the worker.
  metrics::connector_metrics* metrics = nullptr;
  // `[logging] logDocumentLifecycle`: one JSON line per document milestone at info
  // (RECEIVED_FROM_COUCHBASE, then ELASTICSEARCH_WRITE_SUCCEEDED, ..._PERMANENTLY_REJECTED,
  // SKIPPED_BECAUSE_MATCHED_NO_RULES_OR_IGNORED or SKIPPED_BECAUSE_NEWER_VERSION_RECEIVED), the
  // Java connector's milestone names. Costs a log line per event: for tracing, not for speed.
  bool log_document_lifecycle = false;
  // Asked before every bulk request to Elasticsearch (sink_callbacks::may_write) and every
  // checkpoint save: false ends the worker with an error instead of writing, and saves nothing.
  // Empty: always write.
  std::function<bool()> may_write{};
  // Called with one line for the log: startup steps, warnings, checkpoint save failures.
  std::function<void(std::string_view level, std::string_view line)> log{};
};

struct worker_stats {
  std::uint64_t events = 0;           // DCP events handled
  std::uint64_t documents = 0;        // documents handed to the destination
  std::uint64_t documents_done = 0;   // ... and finished
  std::uint64_t metadata_events = 0;  // the connector's own documents, never written
  std::uint64_t dropped_stale = 0;    // queued events dropped after a rollback
  std::uint64_t rollbacks = 0;
  std::uint64_t checkpoint_saves = 0;          // checkpoint documents written
  std::uint64_t checkpoint_save_failures = 0;  // `cbes.save.state.fail`
  std::size_t queued = 0;                      // events received, not yet given to the destination
  std::size_t in_flight = 0;                   // documents given to the destination, not done yet
};

class worker {
 public:
  // Connects to Elasticsearch (sniffs it: version, credentials) and then to Couchbase,
  // resolves the vbuckets, reads their checkpoints, creates missing ones (`start_from`)
  // and opens the streams. Every failure before streaming is returned as one line.
  static boost::asio::awaitable<result<std::shared_ptr<worker>>> start(
      boost::asio::any_io_executor executor, worker_options options);

  ~worker();
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  // Completes when the worker has stopped: ok after stop(), the error after a fatal failure
  // (checkpoints were saved up to what the destination finished either way).
  boost::asio::awaitable<result<void>> wait();

  // Graceful stop: closes the streams, waits up to `drain_timeout` for writes in flight,
  // saves checkpoints, closes connections. Idempotent; wait() reports the end.
  void stop();

  // Stops streaming `vbuckets`, waits until the destination has finished their events, saves
  // their checkpoints and forgets them. Returns the checkpoints saved (for handing them over).
  //
  //   auto cps = co_await w->release({10, 11});
  boost::asio::awaitable<result<std::map<std::uint16_t, cbes::checkpoint::checkpoint>>> release(
      std::vector<std::uint16_t> vbuckets);

  // Starts streaming more vbuckets from their stored checkpoints (missing ones per
  // `start_from`).
  boost::asio::awaitable<result<void>> add(std::vector<std::uint16_t> vbuckets);

  // The vbuckets streamed now, sorted.
  std::vector<std::uint16_t> vbuckets() const;
  // Number of vbuckets of the source bucket.
  std::uint16_t bucket_vbuckets() const;
  // The Couchbase cluster's UUID (the `clusterUuid` tag of the metrics); empty when no cluster
  // manager port answered at start (a warning was logged).
  //
  //   registry.set_common_tags({{"bucket", bucket}, {"clusterUuid", w->cluster_uuid()}});
  const std::string& cluster_uuid() const;
  // Σ over streamed vbuckets of max(0, high seqno − checkpoint seqno) (one GET_ALL_VB_SEQNOS).
  boost::asio::awaitable<result<std::uint64_t>> backlog();
  // The current checkpoint of every streamed vbucket (what Elasticsearch has finished).
  std::map<std::uint16_t, cbes::checkpoint::checkpoint> checkpoints() const;
  // Saves every changed checkpoint now; returns the number of failures.
  boost::asio::awaitable<std::size_t> save_checkpoints();

  worker_stats stats() const;
  // The sink's counters (zero with a callback destination).
  sink::sink_counters sink_counters() const;
  dcp::consumer_stats dcp_stats() const;
  // True once connected to both sides and streaming, until stop.
  bool ready() const;

 private:
  struct impl;
  explicit worker(std::shared_ptr<impl> p);
  std::shared_ptr<impl> impl_;
};

}  // namespace cbes::connector
