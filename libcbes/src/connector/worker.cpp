#include "cbes/connector/worker.hpp"

#include <algorithm>
#include <deque>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "cbes/checkpoint/couchbase_store.hpp"
#include "cbes/connector/progress.hpp"
#include "cbes/metrics/connector_metrics.hpp"
#include "cbes/util/error.hpp"
#include "cbes/util/redaction.hpp"

namespace cbes::connector {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view metadata_prefix = "_connector:cbes:";

error fail(std::string message) {
  return error{std::move(message)};
}

// A wake-up for coroutines on one executor, without polling: wait() sleeps until notify() or
// `limit`. Waiters re-check their condition after waking; as everything runs on one executor,
// nothing can happen between their check and their wait, so no wake-up is lost.
class signal {
 public:
  explicit signal(asio::any_io_executor ex) : executor_(ex) {}
  void notify() {
    for (auto* t : waiting_)
      t->cancel();
  }
  asio::awaitable<void> wait(std::chrono::steady_clock::duration limit = 1h) {
    asio::steady_timer t(executor_, limit);
    waiting_.push_back(&t);
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    waiting_.erase(std::find(waiting_.begin(), waiting_.end(), &t));
  }

 private:
  asio::any_io_executor executor_;
  std::vector<asio::steady_timer*> waiting_;
};

std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

cbes::checkpoint::checkpoint position_of(const dcp::stream_state& s) {
  cbes::checkpoint::checkpoint c{};
  c.vbuuid = s.vbucket_uuid;
  c.seqno = s.seqno;
  c.snapshot.start = s.snapshot_start;
  c.snapshot.end = s.snapshot_end;
  return c;
}

// Connects to a bucket, retrying what may pass (nothing listening yet, a timeout) until
// `limit`, as the Java connector waits for the bucket's KV service; wrong credentials or a
// missing bucket fail at once.
asio::awaitable<couchbase::result<std::shared_ptr<couchbase::cluster>>> connect_couchbase(
    asio::any_io_executor ex, couchbase::cluster_options opts, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::chrono::milliseconds delay{500};
  asio::steady_timer timer(ex);
  for (;;) {
    auto c = co_await couchbase::cluster::connect(ex, opts);
    if (c || !c.error().transient() || std::chrono::steady_clock::now() + delay >= deadline)
      co_return c;
    timer.expires_after(delay);
    co_await timer.async_wait(asio::use_awaitable);
    delay = std::min<std::chrono::milliseconds>(delay * 2, std::chrono::seconds{5});
  }
}

}  // namespace

std::vector<std::uint16_t> member_vbuckets(int member, int total, std::uint16_t num_vbuckets) {
  std::vector<std::uint16_t> out;
  if (total < 1 || member < 1 || member > total)
    return out;
  const int v = num_vbuckets;
  const int base = v / total, extra = v % total;
  // Bigger chunks first: members 1..extra get base + 1.
  const int k = member - 1;
  const int start = k * base + std::min(k, extra);
  const int size = base + (k < extra ? 1 : 0);
  for (int i = start; i < start + size; ++i)
    out.push_back(static_cast<std::uint16_t>(i));
  return out;
}

struct worker::impl : std::enable_shared_from_this<impl> {
  impl(asio::any_io_executor ex, worker_options o)
      : executor(ex),
        options(std::move(o)),
        wake(ex),
        drained(ex),
        finished(ex),
        save_timer(ex),
        metrics_timer(ex) {}

  asio::any_io_executor executor;
  worker_options options;
  std::shared_ptr<couchbase::cluster> cluster;
  std::shared_ptr<couchbase::cluster> metadata_cluster;  // same as cluster when one bucket
  std::shared_ptr<dcp::consumer> consumer;
  std::shared_ptr<sink::sink> sink;
  std::shared_ptr<cbes::checkpoint::store> store;
  progress tracker;
  std::uint16_t num_vbuckets = 0;
  std::string cluster_uuid;

  // Events received from DCP, not yet given to the destination, with the vbucket generation
  // they were received in (a rollback makes earlier ones stale).
  struct queued {
    dcp::event event;
    std::uint64_t generation;
  };
  std::deque<queued> queue;
  // Rollbacks received per vbucket, indexed by vbucket (read twice per event).
  std::vector<std::uint64_t> received_generation;
  std::uint64_t& generation_of(std::uint16_t vb) {
    if (vb >= received_generation.size())
      received_generation.resize(vb + 1u, 0);
    return received_generation[vb];
  }
  // collection id -> (scope, collection), from the manifest and system events.
  std::map<std::uint32_t, std::pair<std::string, std::string>> collections;
  std::map<std::uint32_t, std::string> scopes;

  signal wake;     // the pump has work (or must stop)
  signal drained;  // a document was done (release() and stop() wait on it)
  signal finished;
  asio::steady_timer save_timer;     // periodic_saves() sleeps on it; cancelled at the end
  asio::steady_timer metrics_timer;  // publish_metrics() likewise
  bool stopping = false;
  bool stopped = false;
  bool streaming = false;
  std::optional<error> fatal_error;
  worker_stats st;
  std::vector<flow_ack> acks;  // reused
  // Document ids of events in flight, only while lifecycle logging is on.
  std::map<std::pair<std::uint16_t, std::uint64_t>, std::string> lifecycle_ids;

  void log(std::string_view level, std::string_view line) const {
    if (options.log)
      options.log(level, line);
  }

  // ---- events in -----------------------------------------------------------------------------

  void on_event(dcp::event ev) {
    if (stopped)
      return;
    if (ev.type == dcp::event_type::rollback)
      ++generation_of(ev.vbucket);
    const auto gen = generation_of(ev.vbucket);
    queue.push_back({std::move(ev), gen});
    wake.notify();
  }

  void give_back(std::vector<flow_ack>& list) {
    if (consumer)
      for (const auto& a : list)
        consumer->acknowledge(a.session, a.bytes);
    list.clear();
  }

  void fatal(error e) {
    if (fatal_error || stopped)
      return;
    log("error", e.message);
    fatal_error = std::move(e);
    stopping = true;
    wake.notify();
    drained.notify();
    finished.notify();
  }

  // The names of a document's collection; ids unknown to the manifest read so far (a
  // collection created after it) are looked up again.
  std::pair<std::string, std::string> names_of(std::uint32_t cid) {
    if (auto it = collections.find(cid); it != collections.end())
      return it->second;
    if (cid == 0)
      return {"_default", "_default"};
    return {"_default", "unknown-collection-" + std::to_string(cid)};
  }

  void on_system_event(const dcp::event& ev) {
    if (!ev.system_event)
      return;
    switch (*ev.system_event) {
      case mcbp::system_event_id::begin_collection: {
        auto scope = scopes.contains(ev.scope_id) ? scopes[ev.scope_id] : std::string("_default");
        collections[ev.collection_id] = {scope, ev.key};
        break;
      }
      case mcbp::system_event_id::create_scope:
        scopes[ev.scope_id] = ev.key;
        break;
      default:
        break;
    }
  }

  void load_manifest(const mcbp::collections_manifest& m) {
    for (const auto& s : m.scopes) {
      scopes[s.uid] = s.name;
      for (const auto& c : s.collections)
        collections[c.uid] = {s.name, c.name};
    }
  }

  // `logDocumentLifecycle`: the Java connector's milestone lines, as JSON.
  void lifecycle_received(const sink::document_event& doc) {
    auto id = util::user_data(doc.scope + "." + doc.collection + "." + doc.key);
    boost::json::object o;
    o["milestone"] = "RECEIVED_FROM_COUCHBASE";
    o["documentId"] = id;
    o["type"] = doc.is_deletion ? "deletion" : "mutation";
    o["revision"] = doc.rev_seqno;
    o["partition"] = doc.vbucket;
    o["sequenceNumber"] = doc.seqno;
    lifecycle_ids[{doc.vbucket, doc.token}] = std::move(id);
    log("info", boost::json::serialize(o));
  }

  void lifecycle_done(const sink::event_done& d) {
    auto it = lifecycle_ids.find({d.vbucket, d.token});
    if (it == lifecycle_ids.end())
      return;
    const char* milestone = "ELASTICSEARCH_WRITE_SUCCEEDED";
    if (d.outcome == sink::event_outcome::rejected)
      milestone = "ELASTICSEARCH_WRITE_PERMANENTLY_REJECTED";
    else if (d.outcome == sink::event_outcome::skipped)
      milestone = "SKIPPED_BECAUSE_MATCHED_NO_RULES_OR_IGNORED";
    else if (d.outcome == sink::event_outcome::superseded)
      milestone = "SKIPPED_BECAUSE_NEWER_VERSION_RECEIVED";
    boost::json::object o;
    o["milestone"] = milestone;
    o["documentId"] = it->second;
    o["partition"] = d.vbucket;
    o["sequenceNumber"] = d.seqno;
    lifecycle_ids.erase(it);
    log("info", boost::json::serialize(o));
  }

  // The destination's report: documents done, in order per vbucket.
  void on_done(std::span<const sink::event_done> done) {
    for (const auto& d : done) {
      if (!tracker.tracked(d.vbucket))
        continue;  // released meanwhile (its bytes went with its session)
      std::uint64_t received = 0;
      if (options.log_document_lifecycle)
        lifecycle_done(d);
      if (!tracker.document_done(d.vbucket, d.token, acks, &received)) {
        fatal(fail("internal error: Elasticsearch results for vbucket " +
                   std::to_string(d.vbucket) +
                   " arrived out of order; stopping so the checkpoint stays correct"));
        return;
      }
      ++st.documents_done;
      if (options.metrics && received)
        options.metrics->latency.record_ns(static_cast<std::int64_t>(now_ns() - received));
    }
    give_back(acks);
    drained.notify();
  }

  // One queued event through the pipeline; false when the worker must stop.
  asio::awaitable<bool> handle(queued q) {
    auto& ev = q.event;
    ++st.events;
    const flow_ack ack{ev.session, ev.ack_bytes};
    if (!tracker.tracked(ev.vbucket)) {  // released: the new owner replays it
      if (ack.bytes)
        consumer->acknowledge(ack.session, ack.bytes);
      co_return true;
    }
    if (q.generation < generation_of(ev.vbucket)) {
      // Received before a rollback that follows it in the queue: above the rollback point.
      ++st.dropped_stale;
      if (ack.bytes)
        consumer->acknowledge(ack.session, ack.bytes);
      co_return true;
    }
    const auto position = position_of(ev.position);
    switch (ev.type) {
      case dcp::event_type::mutation:
      case dcp::event_type::deletion:
      case dcp::event_type::expiration:
        break;
      case dcp::event_type::rollback:
        ++st.rollbacks;
        log("info", "vbucket " + std::to_string(ev.vbucket) + " rolled back to seqno " +
                        std::to_string(ev.seqno));
        tracker.rollback(ev.vbucket, position, acks);
        give_back(acks);
        co_return true;
      case dcp::event_type::system_event:
        on_system_event(ev);
        [[fallthrough]];
      case dcp::event_type::snapshot:
      case dcp::event_type::seqno_advanced:
        tracker.add_done(ev.vbucket, position, ack, acks);
        give_back(acks);
        co_return true;
      case dcp::event_type::stream_end: {
        const auto reason = ev.end_reason.value_or(mcbp::stream_end_reason::ok);
        if (reason == mcbp::stream_end_reason::lost_privileges) {
          fatal(fail("the Couchbase user lost its DCP privileges on bucket '" +
                     options.couchbase.bucket + "' (stream of vbucket " +
                     std::to_string(ev.vbucket) +
                     " ended) — give it the Data DCP Reader role again"));
          co_return false;
        }
        log("warn", "the DCP stream of vbucket " + std::to_string(ev.vbucket) + " ended (" +
                        std::string(mcbp::to_string(reason)) + ")" +
                        (ev.value.empty() ? "" : ": " + ev.value));
        tracker.add_done(ev.vbucket, position, ack, acks);
        give_back(acks);
        co_return true;
      }
    }
    if (ev.key.starts_with(metadata_prefix)) {
      // Our own checkpoint documents: never indexed, and they move the checkpoint without
      // making it dirty (else each save would cause the next one, forever).
      ++st.metadata_events;
      tracker.add_done(ev.vbucket, position, ack, acks, false);
      give_back(acks);
      co_return true;
    }
    sink::document_event doc;
    auto [scope, coll] = names_of(ev.collection_id);
    doc.key = std::move(ev.key);
    doc.scope = std::move(scope);
    doc.collection = std::move(coll);
    doc.content = std::move(ev.value);
    doc.is_deletion = ev.type != dcp::event_type::mutation;
    doc.cas = ev.cas;
    doc.rev_seqno = ev.rev_seqno;
    doc.expiry = ev.expiry;
    doc.flags = ev.flags;
    doc.vbucket = ev.vbucket;
    doc.vbuuid = position.vbuuid;
    doc.seqno = ev.seqno;
    doc.token = tracker.add_document(ev.vbucket, position, ack, true, now_ns());
    ++st.documents;
    if (options.log_document_lifecycle)
      lifecycle_received(doc);
    if (options.callback) {
      try {
        options.callback(doc);
      } catch (const std::exception& e) {
        fatal(fail(std::string("the document callback failed: ") + e.what()));
        co_return false;
      }
      const sink::event_done d{doc.vbucket, doc.vbuuid, doc.seqno, sink::event_outcome::indexed,
                               doc.token};
      on_done({&d, 1});
      co_return !fatal_error;
    }
    auto r = co_await sink->write(std::move(doc));
    if (!r) {
      fatal(fail(r.error().what()));
      co_return false;
    }
    co_return true;
  }

  asio::awaitable<void> pump() {
    auto self = shared_from_this();
    // Runs until wait() has finished stopping, not merely until a stop was asked for: closing
    // the streams takes a round trip per vbucket, and what arrives meanwhile must still be
    // written (wait() drains it) rather than sit in the queue until the drain timeout.
    while (!stopped && !fatal_error) {
      if (queue.empty()) {
        co_await wake.wait();
        continue;
      }
      auto q = std::move(queue.front());
      queue.pop_front();
      const bool go_on = co_await handle(std::move(q));
      if (!go_on)
        break;
    }
    finished.notify();
  }

  // ---- checkpoints ---------------------------------------------------------------------------

  asio::awaitable<std::size_t> save(std::map<std::uint16_t, cbes::checkpoint::checkpoint> cps) {
    if (cps.empty() || !store)
      co_return 0;
    if (options.may_write && !options.may_write()) {
      // Fenced: another worker may own these vbuckets by now and save newer positions; an
      // older checkpoint written over them would only mean more re-sent, but it is not ours.
      log("warn", "not saving the checkpoints of " + std::to_string(cps.size()) +
                      " vbuckets: writes are fenced (the group's kill switch)");
      co_return 0;
    }
    auto report = co_await store->save(cps);
    std::size_t failures = 0;
    for (const auto& [vb, cp] : cps) {
      auto it = report.failed.find(vb);
      if (it == report.failed.end()) {
        tracker.mark_saved(vb, cp);
        ++st.checkpoint_saves;
      } else {
        ++failures;
      }
    }
    if (failures) {
      st.checkpoint_save_failures += failures;
      log("warn",
          "could not save the checkpoints of " + std::to_string(failures) +
              " vbuckets (retried on the next save): " + report.failed.begin()->second.what());
    }
    co_return failures;
  }

  asio::awaitable<void> periodic_saves() {
    auto self = shared_from_this();
    while (!stopping) {
      save_timer.expires_after(options.checkpoint_interval);
      boost::system::error_code ec;
      co_await save_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (stopping)
        break;
      co_await save(tracker.dirty_checkpoints());
    }
  }

  // Copies the sink's and the store's counters into the meters once a second (deltas, so the
  // registry's counters stay monotonic), and the gauges.
  asio::awaitable<void> publish_metrics() {
    auto self = shared_from_this();
    auto* m = options.metrics;
    if (!m)
      co_return;
    sink::sink_counters last{};
    std::uint64_t last_save_failures = 0;
    auto last_backlog = std::chrono::steady_clock::now() - 1h;
    while (!stopped) {
      const auto now_c = sink ? sink->counters() : sink::sink_counters{};
      m->throughput_bytes.increment(now_c.bytes_sent - last.bytes_sent);
      m->doc_rejected.increment(now_c.docs_rejected - last.docs_rejected);
      m->rejection_log_fail.increment(now_c.rejection_log_failures - last.rejection_log_failures);
      m->doc_write_retry.increment(now_c.retried_items - last.retried_items);
      m->bulk_retry.increment(now_c.retried_requests - last.retried_requests);
      m->es_conn_fail.increment(now_c.hosts_marked_down - last.hosts_marked_down);
      last = now_c;
      m->save_state_fail.increment(st.checkpoint_save_failures - last_save_failures);
      last_save_failures = st.checkpoint_save_failures;
      m->write_queue.set(static_cast<double>(queue.size() + tracker.pending()));
      // es.wait: how long the oldest document given to Elasticsearch has been waiting (a stall
      // shows as a growing value).
      if (auto oldest = tracker.oldest_pending_stamp())
        m->es_wait.start(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(*oldest)));
      else
        m->es_wait.clear();
      // The backlog needs a round trip to every node: at most every 5 s.
      if (streaming && std::chrono::steady_clock::now() - last_backlog >= 5s) {
        last_backlog = std::chrono::steady_clock::now();
        if (auto b = co_await backlog())
          m->backlog.set(static_cast<double>(*b));
      }
      metrics_timer.expires_after(1s);
      boost::system::error_code ec;
      co_await metrics_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  asio::awaitable<result<std::uint64_t>> backlog() {
    auto seqnos = co_await cluster->get_all_vb_seqnos();
    if (!seqnos)
      co_return fail(seqnos.error().what());
    std::uint64_t total = 0;
    for (const auto& s : *seqnos) {
      if (!tracker.tracked(s.vbucket))
        continue;
      const auto done = tracker.checkpoint_of(s.vbucket).seqno;
      if (s.seqno > done)
        total += s.seqno - done;
    }
    co_return total;
  }

  // Waits until the destination finished every document of `vbs` (all when empty) or the
  // deadline passes; true when they are done.
  asio::awaitable<bool> wait_drained(const std::vector<std::uint16_t>& vbs,
                                     std::chrono::steady_clock::time_point deadline) {
    auto busy = [&] {
      if (vbs.empty())
        return tracker.pending() > 0 || !queue.empty();
      for (auto vb : vbs)
        if (tracker.pending(vb) > 0)
          return true;
      for (const auto& q : queue)
        if (std::find(vbs.begin(), vbs.end(), q.event.vbucket) != vbs.end())
          return true;
      return false;
    };
    while (busy() && !fatal_error) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline)
        co_return false;
      co_await drained.wait(std::min<std::chrono::steady_clock::duration>(deadline - now, 100ms));
    }
    co_return !busy();
  }

  // ---- opening vbuckets ----------------------------------------------------------------------

  asio::awaitable<result<void>> open(std::vector<std::uint16_t> vbs) {
    if (vbs.empty())
      co_return result<void>{};
    auto loaded = co_await store->load(vbs);
    if (!loaded)
      co_return fail("could not read the checkpoints of group '" + options.group +
                     "': " + loaded.error().what());
    std::vector<std::uint16_t> missing;
    std::map<std::uint16_t, cbes::checkpoint::checkpoint> from;
    for (auto vb : vbs) {
      auto it = loaded->find(vb);
      if (it != loaded->end() && it->second)
        from[vb] = *it->second;
      else
        missing.push_back(vb);
    }
    if (!missing.empty()) {
      std::map<std::uint16_t, cbes::checkpoint::checkpoint> created;
      if (options.start_from == default_checkpoint::now) {
        auto now = co_await consumer->states_now(missing);
        if (!now)
          co_return fail("could not read the current high seqnos for defaultCheckpoint = NOW: " +
                         now.error().what());
        for (const auto& [vb, s] : *now)
          created[vb] = position_of(s);
      } else {
        for (auto vb : missing)
          created[vb] = cbes::checkpoint::checkpoint{};
      }
      log("info", "creating the missing checkpoints of " + std::to_string(missing.size()) +
                      " vbuckets (defaultCheckpoint = " +
                      (options.start_from == default_checkpoint::now ? "NOW" : "ZERO") + ")");
      auto report = co_await store->save(created);
      if (!report.failed.empty())
        log("warn",
            "could not create " + std::to_string(report.failed.size()) +
                " checkpoint documents now (saved later): " + report.failed.begin()->second.what());
      from.insert(created.begin(), created.end());
    }
    std::map<std::uint16_t, dcp::stream_state> states;
    for (const auto& [vb, cp] : from) {
      tracker.start(vb, cp);
      generation_of(vb) = 0;
      states[vb] = cbes::checkpoint::to_stream_state(cp);
    }
    auto opened = co_await consumer->open(std::move(states));
    if (!opened) {
      for (const auto& [vb, cp] : from)
        tracker.stop(vb);
      co_return fail(opened.error().what());
    }
    co_return result<void>{};
  }
};

worker::worker(std::shared_ptr<impl> p) : impl_(std::move(p)) {}

worker::~worker() {
  if (impl_ && !impl_->stopped)
    stop();
}

asio::awaitable<result<std::shared_ptr<worker>>> worker::start(asio::any_io_executor executor,
                                                               worker_options options) {
  auto p = std::make_shared<impl>(executor, std::move(options));
  auto& o = p->options;
  if (o.group.empty())
    co_return fail("the group name is empty — set [group] name");

  // Elasticsearch first, as the Java connector does: a wrong URL or password fails before
  // anything touches Couchbase.
  if (!o.callback) {
    sink::sink_callbacks cbs;
    std::weak_ptr<impl> weak = p;
    cbs.on_done = [weak](std::span<const sink::event_done> d) {
      if (auto s = weak.lock())
        s->on_done(d);
    };
    cbs.on_warning = [weak](std::string_view line) {
      if (auto s = weak.lock())
        s->log("warn", line);
    };
    cbs.on_fatal = [weak](const sink::error& e) {
      if (auto s = weak.lock())
        s->fatal(fail(e.what()));
    };
    cbs.may_write = o.may_write;
    if (auto* m = o.metrics) {
      // The per-batch timers of the Java connector (§6), from what the sink measured.
      cbs.on_bulk_written = [m](const sink::bulk_report& r) {
        m->new_index_req.record_many(r.index_requests, r.index_request_total, r.index_request_max);
        m->retry_delay.record(r.retry_delay);
        if (r.actions > 0)
          m->bulk_index_per_doc.record(std::chrono::nanoseconds(r.ingest_took) /
                                       static_cast<std::int64_t>(r.actions));
      };
    }
    auto s =
        co_await sink::sink::connect(executor, o.sink, o.elasticsearch, std::move(cbs), o.sniffing);
    if (!s)
      co_return fail(s.error().what());
    p->sink = *s;
    p->log("info", "connected to " + p->sink->server().describe());
  }

  auto cl = co_await connect_couchbase(executor, o.couchbase, o.startup_timeout);
  if (!cl)
    co_return fail(cl.error().what());
  p->cluster = *cl;
  p->num_vbuckets = static_cast<std::uint16_t>(p->cluster->current_topology()->num_vbuckets());
  if (!o.metadata_bucket.empty() && o.metadata_bucket != o.couchbase.bucket) {
    auto meta_opts = o.couchbase;
    meta_opts.bucket = o.metadata_bucket;
    auto meta = co_await connect_couchbase(executor, meta_opts, o.startup_timeout);
    if (!meta)
      co_return fail("metadata bucket: " + meta.error().what());
    p->metadata_cluster = *meta;
  } else {
    p->metadata_cluster = p->cluster;
  }
  if (o.store) {
    p->store = o.store;
  } else {
    cbes::checkpoint::couchbase_store_options so;
    so.collection = couchbase::collection{o.metadata_scope, o.metadata_collection};
    so.group = o.group;
    auto st = cbes::checkpoint::couchbase_store::open(p->metadata_cluster, so);
    if (!st)
      co_return fail(st.error().what());
    p->store = *st;
  }

  if (auto u = co_await p->cluster->cluster_uuid())
    p->cluster_uuid = std::move(*u);
  else
    p->log("warn", "could not read the cluster UUID (" + u.error().what() +
                       "): the metrics go without their clusterUuid tag");

  if (auto m = co_await p->cluster->collections_manifest())
    p->load_manifest(*m);
  else
    p->log("warn", "could not read the collections manifest (" + m.error().what() +
                       "): documents of collections created later are named by their id");

  auto c = co_await dcp::consumer::create(p->cluster, o.dcp);
  if (!c)
    co_return fail(c.error().what());
  p->consumer = *c;
  {
    std::weak_ptr<impl> weak = p;
    p->consumer->on_event([weak](dcp::event ev) {
      if (auto s = weak.lock())
        s->on_event(std::move(ev));
    });
    p->consumer->on_fatal([weak](const couchbase::error& e) {
      if (auto s = weak.lock())
        s->fatal(fail(e.what()));
    });
  }

  auto vbs = o.vbuckets.empty() ? member_vbuckets(o.member_number, o.total_members, p->num_vbuckets)
                                : o.vbuckets;
  if (vbs.empty())
    co_return fail("there are more workers (" + std::to_string(o.total_members) +
                   ") than Couchbase vbuckets (" + std::to_string(p->num_vbuckets) + "): member " +
                   std::to_string(o.member_number) + " has nothing to do");
  for (auto vb : vbs)
    if (vb >= p->num_vbuckets)
      co_return fail("vbucket " + std::to_string(vb) + " does not exist: bucket '" +
                     o.couchbase.bucket + "' has " + std::to_string(p->num_vbuckets));
  p->log("info", "bucket has " + std::to_string(p->num_vbuckets) + " vbuckets; membership " +
                     std::to_string(o.member_number) + "/" + std::to_string(o.total_members) +
                     "; streaming " + std::to_string(vbs.size()) + " vbuckets");

  asio::co_spawn(executor, p->pump(), [p](std::exception_ptr e) {
    if (e)
      p->fatal(fail("internal error in the pipeline: " + util::exception_message(e)));
  });
  auto opened = co_await p->open(vbs);
  if (!opened) {
    p->stopped = true;
    p->wake.notify();
    p->consumer->stop();
    if (p->sink)
      p->sink->stop();
    co_return opened.error();
  }
  p->streaming = true;
  asio::co_spawn(executor, p->periodic_saves(), [p](std::exception_ptr e) {
    if (e)
      p->fatal(fail("internal error saving checkpoints: " + util::exception_message(e)));
  });
  asio::co_spawn(executor, p->publish_metrics(), [p](std::exception_ptr e) {
    if (e)
      p->fatal(fail("internal error updating metrics: " + util::exception_message(e)));
  });
  co_return std::shared_ptr<worker>(new worker(p));
}

asio::awaitable<result<void>> worker::wait() {
  auto p = impl_;
  while (!p->stopped) {
    if (p->stopping) {
      // Graceful or fatal: stop DCP, let what is in flight finish (bounded), save, close.
      const auto deadline = std::chrono::steady_clock::now() + p->options.drain_timeout;
      p->streaming = false;
      if (!p->fatal_error) {
        auto vbs = p->tracker.vbuckets();
        auto closed = co_await p->consumer->close(vbs);
        if (!closed)
          p->log("warn", "closing the DCP streams: " + closed.error().what());
        if (!co_await p->wait_drained({}, deadline))
          p->log("warn", "stopping with " + std::to_string(p->tracker.pending()) +
                             " documents not finished by Elasticsearch; they are replayed "
                             "on the next start");
      }
      p->consumer->stop();
      const auto failures = co_await p->save(p->tracker.dirty_checkpoints());
      if (failures == 0 && !p->fatal_error)
        p->log("info", "saved the checkpoints; stopped");
      if (p->sink)
        p->sink->stop();
      p->stopped = true;
      p->wake.notify();
      p->save_timer.cancel();
      p->metrics_timer.cancel();
      break;
    }
    co_await p->finished.wait(1h);
    if (p->fatal_error)
      p->stopping = true;
  }
  if (p->fatal_error)
    co_return *p->fatal_error;
  co_return result<void>{};
}

void worker::stop() {
  auto p = impl_;
  if (p->stopping)
    return;
  p->stopping = true;
  p->wake.notify();
  p->finished.notify();
}

asio::awaitable<result<std::map<std::uint16_t, cbes::checkpoint::checkpoint>>> worker::release(
    std::vector<std::uint16_t> vbuckets) {
  auto p = impl_;
  std::vector<std::uint16_t> mine;
  for (auto vb : vbuckets)
    if (p->tracker.tracked(vb))
      mine.push_back(vb);
  auto closed = co_await p->consumer->close(mine);
  if (!closed)
    co_return fail("closing the streams of released vbuckets: " + closed.error().what());
  const auto deadline = std::chrono::steady_clock::now() + p->options.drain_timeout;
  if (!co_await p->wait_drained(mine, deadline))
    p->log("warn",
           "released vbuckets with documents not finished by Elasticsearch; the next "
           "owner replays them");
  std::map<std::uint16_t, cbes::checkpoint::checkpoint> out;
  std::map<std::uint16_t, cbes::checkpoint::checkpoint> to_save;
  for (auto vb : mine) {
    out[vb] = p->tracker.checkpoint_of(vb);
    if (p->tracker.dirty(vb))
      to_save[vb] = out[vb];
  }
  const auto failures = co_await p->save(to_save);
  for (auto vb : mine)
    p->tracker.stop(vb);
  if (failures)
    co_return fail("could not save the checkpoints of " + std::to_string(failures) +
                   " released vbuckets");
  co_return out;
}

asio::awaitable<result<void>> worker::add(std::vector<std::uint16_t> vbuckets) {
  auto p = impl_;
  std::vector<std::uint16_t> fresh;
  for (auto vb : vbuckets)
    if (!p->tracker.tracked(vb))
      fresh.push_back(vb);
  co_return co_await p->open(std::move(fresh));
}

std::vector<std::uint16_t> worker::vbuckets() const {
  return impl_->tracker.vbuckets();
}

std::uint16_t worker::bucket_vbuckets() const {
  return impl_->num_vbuckets;
}

const std::string& worker::cluster_uuid() const {
  return impl_->cluster_uuid;
}

asio::awaitable<result<std::uint64_t>> worker::backlog() {
  auto p = impl_;
  co_return co_await p->backlog();
}

std::map<std::uint16_t, cbes::checkpoint::checkpoint> worker::checkpoints() const {
  return impl_->tracker.checkpoints();
}

asio::awaitable<std::size_t> worker::save_checkpoints() {
  auto p = impl_;
  co_return co_await p->save(p->tracker.dirty_checkpoints());
}

worker_stats worker::stats() const {
  auto s = impl_->st;
  s.queued = impl_->queue.size();
  s.in_flight = impl_->tracker.pending();
  return s;
}

sink::sink_counters worker::sink_counters() const {
  return impl_->sink ? impl_->sink->counters() : sink::sink_counters{};
}

dcp::consumer_stats worker::dcp_stats() const {
  return impl_->consumer ? impl_->consumer->stats() : dcp::consumer_stats{};
}

bool worker::ready() const {
  return impl_->streaming && !impl_->stopping;
}

}  // namespace cbes::connector
