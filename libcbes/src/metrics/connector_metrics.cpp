#include "cbes/metrics/connector_metrics.hpp"

namespace cbes::metrics {
namespace {

meter_options help(std::string text) {
  return meter_options{.help = std::move(text)};
}

}  // namespace

connector_metrics::connector_metrics(registry& r)
    : reg(r),
      throughput_bytes(
          r.counter("cbes.throughput.bytes", {}, help("Estimated bytes written to Elasticsearch"))),
      doc_rejected(
          r.counter("cbes.doc.rejected", {}, help("Documents Elasticsearch rejected permanently"))),
      rejection_log_fail(
          r.counter("cbes.rejection.log.fail", {}, help("Failed writes to the rejection log"))),
      doc_write_retry(r.counter("cbes.doc.write.retry", {}, help("Per-document write retries"))),
      bulk_retry(r.counter("cbes.bulk.retry", {}, help("Bulk request retry rounds"))),
      es_conn_fail(r.counter("cbes.es.conn.fail", {},
                             help("Elasticsearch hosts marked failed by the client"))),
      save_state_fail(r.counter("cbes.save.state.fail", {}, help("Checkpoint save failures"))),
      bulk_index_per_doc(r.timer("cbes.bulk.index.per.doc", {},
                                 help("Ingest pipeline time of a bulk request per document"))),
      retry_delay(r.timer("cbes.retry.delay", {}, help("Total backoff delay of a bulk request"))),
      latency(r.timer("cbes.latency", {},
                      help("From receipt of a DCP event to Elasticsearch success"))),
      new_index_req(r.timer("cbes.new.index.req", {}, help("Time to build one index request"))),
      write_queue(r.gauge("cbes.write.queue", {}, help("Events buffered in the sink's queues"))),
      backlog(r.gauge("cbes.backlog", {},
                      help("Sum over assigned vbuckets of high seqno minus checkpoint seqno"))),
      es_wait(r.age_gauge("cbes.es.wait.seconds", {},
                          help("Age of the oldest in-flight bulk request, retries included"))) {
  auto& wait = es_wait;
  r.gauge(
      "cbes.es.wait.ms", [&wait] { return wait.seconds() * 1000.0; }, {},
      meter_options{.help = "Age of the oldest in-flight bulk request in milliseconds",
                    .prometheus = false});
}

}  // namespace cbes::metrics
