#pragma once
// The connector's standard meters under the Java connector's names (its behaviour notes list
// them), registered once so that the pipeline records without lookups:
//
//   cbes::metrics::registry reg({{"bucket", "travel-sample"}, {"clusterUuid", uuid}});
//   cbes::metrics::connector_metrics m(reg);
//   m.latency.record(std::chrono::steady_clock::now() - received);  // per document
//   m.throughput_bytes.increment(action_bytes);
//   m.write_queue.set(queued_events);
//   m.es_wait.start(oldest_bulk_started);  /* ... */  m.es_wait.clear();
//
// A gauge fed by the embedder's own state can be bound instead of set: register the callback
// gauge under the same name before constructing connector_metrics (the first registration wins).
#include "cbes/metrics/registry.hpp"

namespace cbes::metrics {

struct connector_metrics {
  explicit connector_metrics(registry& r);

  registry& reg;
  counter& throughput_bytes;    // cbes.throughput.bytes: estimated bytes written to ES
  counter& doc_rejected;        // cbes.doc.rejected: permanent indexing failures
  counter& rejection_log_fail;  // cbes.rejection.log.fail: failed rejection-log writes
  counter& doc_write_retry;     // cbes.doc.write.retry: per-document retries
  counter& bulk_retry;          // cbes.bulk.retry: bulk request retry rounds
  counter& es_conn_fail;        // cbes.es.conn.fail: ES host marked failed
  counter& save_state_fail;     // cbes.save.state.fail: checkpoint save failures
  timer& bulk_index_per_doc;    // cbes.bulk.index.per.doc: ingest time / items of a bulk
  timer& retry_delay;           // cbes.retry.delay: total backoff per bulk
  timer& latency;               // cbes.latency: DCP receipt -> ES success, per document
  timer& new_index_req;         // cbes.new.index.req: time to build one index action
  gauge& write_queue;           // cbes.write.queue: events buffered in the sink's queues
  gauge& backlog;               // cbes.backlog: sum over vbuckets of high seqno - checkpoint
  // cbes.es.wait.seconds: age of the oldest in-flight bulk, retries included (a stall shows as
  // a growing value); also `cbes.es.wait.ms`, which Java keeps out of Prometheus.
  age_gauge& es_wait;
};

}  // namespace cbes::metrics
