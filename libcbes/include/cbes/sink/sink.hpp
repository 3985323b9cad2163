#pragma once
// The Elasticsearch sink: document events in, `_bulk` requests out, "done" per event back
// (the Java connector's behaviour-5.7, Elasticsearch's REST API docs).
//
// Events of one vbucket go to one lane (vbucket % concurrentRequests); a lane has at most one
// bulk request in flight and one batch filling behind it, so order per vbucket (hence per
// document) holds and memory stays within 2 x lanes x the bulk limits. A request's items are
// classified: done, rejected (-> rejection log, sent with the next round), or retried alone
// after the retry back-off; 413 halves the batch; 429 / 5xx / connection loss / timeout resend
// it whole; 401 / 403 and other 4xx are fatal. When every action of a batch is settled, the
// batch's events are reported done in submission order, so the caller may checkpoint them.
// Not thread-safe: use it (and get callbacks) on one thread or strand of its executor.
//
//   auto s = co_await cbes::sink::sink::connect(ex, settings, conn,
//       {.on_done = [&](std::span<const cbes::sink::event_done> d) { checkpoint(d); }});
//   co_await (*s)->write(event);      // waits while the lane's batches are full
//   co_await (*s)->flush();           // everything written so far is done
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "cbes/sink/error.hpp"
#include "cbes/sink/event.hpp"
#include "cbes/sink/http_pool.hpp"
#include "cbes/sink/server_info.hpp"
#include "cbes/sink/settings.hpp"

namespace cbes::sink {

enum class event_outcome {
  indexed,     // `index` action succeeded
  deleted,     // `delete` succeeded (or the document was already gone)
  rejected,    // permanent failure; written to the rejection log when it is enabled
  skipped,     // no type rule, ignored, ignored delete, not a JSON object
  superseded,  // a newer event for the same document replaced it in the batch
};

// One finished event; the connector moves the vbucket's checkpoint to (vbuuid, seqno).
struct event_done {
  std::uint16_t vbucket = 0;
  std::uint64_t vbuuid = 0;
  std::uint64_t seqno = 0;
  event_outcome outcome = event_outcome::indexed;
  std::uint64_t token = 0;  // the event's document_event::token
};

struct sink_counters {
  std::uint64_t docs_indexed = 0;
  std::uint64_t docs_deleted = 0;
  std::uint64_t docs_rejected = 0;
  std::uint64_t docs_skipped = 0;
  std::uint64_t docs_superseded = 0;
  std::uint64_t rejection_log_writes = 0;
  std::uint64_t rejection_log_failures = 0;  // `rejection.log.fail`
  std::uint64_t requests = 0;                // bulk requests sent, retries included
  std::uint64_t retried_requests = 0;        // whole-request resends (429/5xx/transport/bad body)
  std::uint64_t retried_items = 0;           // actions resent after a per-item failure
  std::uint64_t bytes_sent = 0;              // NDJSON bytes before compression
  std::uint64_t hosts_marked_down = 0;       // `es.conn.fail`: a host failed, skipped a while
};

// What one batch cost, reported once every action of it is settled (the timers of the Java
// connector's metrics: cbes.new.index.req, cbes.retry.delay, cbes.bulk.index.per.doc).
struct bulk_report {
  std::size_t actions = 0;  // documents of the batch (each counted once, however often resent)
  // Building the index requests of the batch (shaping each document into its action).
  std::size_t index_requests = 0;
  std::chrono::nanoseconds index_request_total{0};
  std::chrono::nanoseconds index_request_max{0};
  std::chrono::milliseconds retry_delay{0};  // back-off slept before its resends, in total
  std::chrono::milliseconds ingest_took{0};  // Σ `ingest_took` of its responses (pipelines)
};

struct sink_callbacks {
  // Events settled, per lane in the order they were written.
  std::function<void(std::span<const event_done>)> on_done{};
  // A batch is settled (just before its on_done): what it cost, for metrics.
  std::function<void(const bulk_report&)> on_bulk_written{};
  // Something to log at WARN: a retry round, an unresolvable routing, a rejection.
  std::function<void(std::string_view)> on_warning{};
  // The sink stopped for good (credentials, retries exhausted, fatal 4xx); events not reported
  // done must be replayed.
  std::function<void(const error&)> on_fatal{};
  // Asked right before every bulk request: false fails the sink (errc::closed) without
  // sending. A group worker's fence: once its Consul session may have lapsed, another worker
  // may own its vbuckets, and not one more write may go out.
  std::function<bool()> may_write{};
};

class sink {
 public:
  // Validates the settings, compiles the type rules, prepares the connection pool and sniffs
  // the server's version: Elasticsearch < 7.14 and OpenSearch < 1.3.3 are refused, as
  // are wrong credentials; other failures are retried until `sniffing.deadline`.
  //
  //   auto s = co_await sink::connect(ex, settings, {.hosts = {"es1:9200"}}, callbacks,
  //                                   {.deadline = std::chrono::seconds(30)});
  //   if (!s) return fail(s.error().what());
  static boost::asio::awaitable<result<std::shared_ptr<sink>>> connect(
      boost::asio::any_io_executor executor, sink_settings settings, connection_settings conn,
      sink_callbacks callbacks = {}, sniff_settings sniffing = {});
  ~sink();  // stops
  sink(const sink&) = delete;
  sink& operator=(const sink&) = delete;

  // What the sniff found, e.g. for a log line: s->server().describe() == "Elasticsearch 8.1.0".
  const server_info& server() const;

  // Queues one event; suspends while its lane already has a full batch waiting. Fails once the
  // sink has failed or stopped.
  //
  //   auto r = co_await s->write(std::move(ev));
  //   if (!r) stop_streaming(r.error());
  boost::asio::awaitable<result<void>> write(document_event event);

  // Completes when every event written before the call has been reported done.
  //
  //   auto r = co_await s->flush();
  //   if (!r) replay_from_checkpoint(r.error());
  boost::asio::awaitable<result<void>> flush();

  // Drops queued events (they are never reported done) and closes connections. Idempotent.
  void stop();

  sink_counters counters() const;
  std::optional<error> failure() const;
  std::size_t lanes() const;
  // Lane of a vbucket: vbucket % concurrentRequests.
  std::size_t lane_of(std::uint16_t vbucket) const;

 private:
  struct impl;
  sink(std::shared_ptr<impl> p, server_info server);
  std::shared_ptr<impl> impl_;
  server_info server_;
};

}  // namespace cbes::sink
