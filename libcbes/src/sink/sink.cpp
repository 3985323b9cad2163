#include "cbes/sink/sink.hpp"

#include "cbes/util/redaction.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <random>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cbes/sink/bulk_request.hpp"
#include "cbes/sink/bulk_response.hpp"
#include "cbes/sink/document.hpp"
#include "cbes/sink/retry_backoff.hpp"
#include "cbes/sink/type_rules.hpp"
#include "cbes/util/error.hpp"

namespace cbes::sink {
namespace {

namespace asio = boost::asio;

// One event of a batch; its position is the tag of its action (bulk_action::tag).
struct entry {
  event_done done;
};

struct lane {
  explicit lane(const bulk_limits& limits) : builder(limits) {}
  bulk_request_builder builder;
  std::vector<entry> entries;  // events of the filling batch, in submission order
  bulk_report report;          // of the filling batch: its index requests so far
  bool busy = false;           // a batch of this lane is in flight (runner active)
};

// A part of a batch still to be written, with the back-off state of its retries.
struct chunk {
  std::vector<bulk_action> actions;
  retry_backoff backoff;
};

}  // namespace

struct sink::impl : std::enable_shared_from_this<sink::impl> {
  impl(asio::any_io_executor ex, sink_settings s, type_rules r, std::unique_ptr<http_pool> p,
       sink_callbacks cb)
      : executor(std::move(ex)),
        settings(std::move(s)),
        rules(std::move(r)),
        pool(std::move(p)),
        callbacks(std::move(cb)),
        signal(executor, asio::steady_timer::time_point::max()),
        rng(std::random_device{}()) {
    const auto n = static_cast<std::size_t>(std::max(1, settings.limits.concurrent_requests));
    for (std::size_t i = 0; i < n; ++i)
      lanes.emplace_back(settings.limits);
    bulk_target = lanes.front().builder.target();
    request_timeout =
        pool->settings().request_timeout.value_or(socket_timeout(settings.limits.timeout));
  }

  asio::any_io_executor executor;
  sink_settings settings;
  type_rules rules;
  std::unique_ptr<http_pool> pool;
  sink_callbacks callbacks;
  asio::steady_timer signal;  // never expires; cancel() wakes every waiter
  std::mt19937_64 rng;
  std::deque<lane> lanes;
  std::string bulk_target;
  std::chrono::milliseconds request_timeout{};
  sink_counters counters;
  std::optional<error> failed;
  bool stopped = false;
  std::unordered_set<asio::steady_timer*> sleepers;
  // Bodies of written documents, handed to shaping again: a document body is usually above
  // malloc's per-thread cache sizes, and allocating and freeing one per document showed in
  // profiles. It keeps at most what one batch per lane holds (actions and bytes), so it never
  // doubles the sink's memory.
  std::vector<std::string> spare_sources;
  std::uint64_t spare_bytes = 0;

  std::string spare_source() {
    if (spare_sources.empty())
      return {};
    std::string s = std::move(spare_sources.back());
    spare_sources.pop_back();
    spare_bytes -= s.capacity();
    return s;
  }

  void recycle(std::vector<bulk_action>& actions) {
    constexpr std::size_t min_capacity = 256, max_capacity = 64 * 1024;
    const std::size_t max_count = std::max<std::size_t>(1, settings.limits.actions) * lanes.size();
    const std::uint64_t max_bytes = settings.limits.bytes * lanes.size();
    for (auto& a : actions) {
      const auto cap = a.source.capacity();
      if (spare_sources.size() >= max_count || spare_bytes + cap > max_bytes)
        return;
      if (cap >= min_capacity && cap <= max_capacity) {
        spare_bytes += cap;
        spare_sources.push_back(std::move(a.source));
      }
    }
  }

  void notify() { signal.cancel(); }

  asio::awaitable<void> wait_signal() {
    boost::system::error_code ec;
    co_await signal.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }

  void warn(std::string_view text) {
    if (callbacks.on_warning && !stopped)
      callbacks.on_warning(text);
  }

  void fail(error e) {
    if (failed || stopped)
      return;
    failed = e;
    notify();
    if (callbacks.on_fatal)
      callbacks.on_fatal(e);
  }

  std::optional<error> unusable() const {
    if (failed)
      return failed;
    if (stopped)
      return make_error(errc::closed, "the sink was stopped");
    return std::nullopt;
  }

  void deliver(std::vector<entry>& entries) {
    if (entries.empty() || stopped || !callbacks.on_done)
      return;
    std::vector<event_done> done;
    done.reserve(entries.size());
    for (const auto& e : entries)
      done.push_back(e.done);
    callbacks.on_done(done);
  }

  asio::awaitable<bool> sleep(std::chrono::milliseconds d) {
    asio::steady_timer t(executor, d);
    sleepers.insert(&t);
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    sleepers.erase(&t);
    co_return !stopped;
  }

  void start_lane(std::size_t i) {
    if (lanes[i].busy)
      return;
    lanes[i].busy = true;
    // Not `detached`: that drops an exception (a throwing on_done, bad_alloc), which would leave
    // the lane busy for ever and every flush() waiting on it. The owner hears of it instead.
    asio::co_spawn(executor, run_lane(shared_from_this(), i),
                   [self = shared_from_this(), i](std::exception_ptr e) {
                     if (e)
                       self->lane_died(i, e);
                   });
  }

  void lane_died(std::size_t i, std::exception_ptr e) {
    const std::string what = util::exception_message(e);
    lanes[i].busy = false;
    fail(make_error(errc::bulk_failed, "the bulk loop of lane " + std::to_string(i) +
                                           " stopped on an exception: " + what));
  }

  static asio::awaitable<void> run_lane(std::shared_ptr<impl> self, std::size_t i) {
    lane& l = self->lanes[i];
    while (!l.entries.empty() && !self->unusable()) {
      std::vector<bulk_action> actions = l.builder.take();
      std::vector<entry> entries = std::move(l.entries);
      l.entries.clear();
      bulk_report report = std::exchange(l.report, {});
      report.actions = actions.size();
      self->notify();  // the lane has room for a new batch
      auto r = co_await self->execute(std::move(actions), entries, report);
      if (!r) {
        self->fail(r.error());
        break;
      }
      if (self->callbacks.on_bulk_written && !self->stopped)
        self->callbacks.on_bulk_written(report);
      self->deliver(entries);
    }
    l.busy = false;
    self->notify();
  }

  // Give up after the configured attempts: nothing is reported done, the caller replays.
  error exhausted(const retry_backoff& b, const std::string& last) const {
    return make_error(errc::bulk_failed, "gave up after " + std::to_string(b.retries() + 1) +
                                             " attempts (elasticsearch retry maxAttempts); last "
                                             "error: " +
                                             last);
  }

  // Writes one batch until every action is settled (the Java connector's behaviour).
  asio::awaitable<result<void>> execute(std::vector<bulk_action> actions,
                                        std::vector<entry>& entries, bulk_report& report) {
    std::deque<chunk> work;
    work.push_back({std::move(actions), retry_backoff(settings.retry)});
    while (!work.empty()) {
      if (auto e = unusable())
        co_return *e;
      chunk c = std::move(work.front());
      work.pop_front();
      if (c.actions.empty())
        continue;
      if (callbacks.may_write && !callbacks.may_write())
        co_return make_error(errc::closed,
                             "writes fenced: this worker may not write any more (its group "
                             "membership may have lapsed; the kill switch stops it)");
      std::string body = bulk_body(c.actions);
      ++counters.requests;
      counters.bytes_sent += body.size();
      auto r = co_await pool->request(http_method::post, bulk_target, std::move(body),
                                      "application/x-ndjson", request_timeout);
      if (auto e = unusable())
        co_return *e;
      std::string whole_failure;
      if (!r) {
        whole_failure = r.error().message;
      } else {
        auto v =
            classify_bulk_response(r->status, r->body, c.actions, settings.rejection_log.index);
        switch (v.verdict) {
          case bulk_verdict::fatal:
            co_return make_error(r->status == 401 || r->status == 403 ? errc::authentication_failed
                                                                      : errc::bulk_failed,
                                 v.message);
          case bulk_verdict::split: {
            // 413 — resend in halves; the same documents, so no order changes.
            warn(v.message);
            const auto half = c.actions.size() / 2;
            chunk second{{std::make_move_iterator(c.actions.begin() + static_cast<long>(half)),
                          std::make_move_iterator(c.actions.end())},
                         c.backoff};
            c.actions.resize(half);
            work.push_front(std::move(second));
            work.push_front(std::move(c));
            continue;
          }
          case bulk_verdict::retry_all:
          case bulk_verdict::malformed:
            whole_failure = v.message;
            break;
          case bulk_verdict::per_item:
            if (v.ingest_took)
              report.ingest_took += *v.ingest_took;
            settle(c, v, entries);
            if (auto next = co_await next_round(c, v, report); !next) {
              co_return next.error();
            } else {
              recycle(c.actions);  // what is retried has been moved out already
              if (!next->actions.empty())
                work.push_front(std::move(*next));
            }
            continue;
        }
      }
      // The whole request failed in a way that may pass: resend all of it after a back-off.
      auto delay = c.backoff.next_delay(rng);
      if (!delay)
        co_return exhausted(c.backoff, whole_failure);
      ++counters.retried_requests;
      report.retry_delay += *delay;
      warn("retrying a bulk request of " + std::to_string(c.actions.size()) + " actions in " +
           std::to_string(delay->count()) + " ms: " + whole_failure);
      if (!co_await sleep(*delay))
        co_return *unusable();
      work.push_front(std::move(c));
    }
    co_return result<void>{};
  }

  void settle(const chunk& c, const bulk_classification& v, std::vector<entry>& entries) {
    for (std::size_t i = 0; i < c.actions.size(); ++i) {
      const bulk_action& a = c.actions[i];
      auto& done = entries[a.tag].done;
      switch (v.items[i].outcome) {
        case item_outcome::done:
          if (a.rejection_log_entry)
            ++counters.rejection_log_writes;
          else if (a.type == action_type::index)
            ++counters.docs_indexed;
          else
            ++counters.docs_deleted;
          break;
        case item_outcome::rejected:
          done.outcome = event_outcome::rejected;
          ++counters.docs_rejected;
          warn("permanent failure to write document '" + util::user_data(a.id) + "' to index '" +
               a.index + "' (status " + std::to_string(v.items[i].status) +
               "): " + v.items[i].error);
          break;
        case item_outcome::dropped:
          ++counters.rejection_log_failures;
          warn("could not write the rejection-log entry for '" + util::user_data(a.id) +
               "': " + v.items[i].error);
          break;
        case item_outcome::retry:
          break;
      }
    }
  }

  // The retried actions plus the new rejection-log documents, sent after the back-off when
  // anything is retried (rejection-log documents alone go at once).
  asio::awaitable<result<chunk>> next_round(chunk& c, bulk_classification& v, bulk_report& report) {
    chunk next{{}, c.backoff};
    next.actions.reserve(v.retry.size() + v.rejections.size());
    for (auto pos : v.retry)
      next.actions.push_back(std::move(c.actions[pos]));
    for (auto& r : v.rejections)
      next.actions.push_back(std::move(r));
    if (v.retry.empty())
      co_return next;
    const std::size_t first = v.retry.front();
    const std::string reason =
        "status " + std::to_string(v.items[first].status) + " " + v.items[first].error;
    auto delay = next.backoff.next_delay(rng);
    if (!delay)
      co_return exhausted(next.backoff, reason);
    counters.retried_items += v.retry.size();
    report.retry_delay += *delay;
    warn("retrying '" + util::user_data(next.actions.front().id) + "' (and " +
         std::to_string(v.retry.size() - 1) + " others) in " + std::to_string(delay->count()) +
         " ms due to: " + reason);
    if (!co_await sleep(*delay))
      co_return *unusable();
    co_return next;
  }

  // A document that cannot be sent as is: its rejection-log entry takes its place.
  void reject_before_send(lane& l, const document_event& ev, const type_match& m,
                          std::string_view reason) {
    const std::uint64_t tag = l.entries.size();
    l.entries.push_back({{ev.vbucket, ev.vbuuid, ev.seqno, event_outcome::rejected, ev.token}});
    ++counters.docs_rejected;
    warn("rejected document '" + util::user_data(ev.key) +
         "' before sending: " + std::string(reason));
    if (settings.rejection_log.index.empty())
      return;
    auto unsent = bulk_action::index_doc(ev.key, m.index, {});
    std::string error_json = R"({"type":"document_rejected","reason":)";
    append_json_string(error_json, reason);
    error_json += '}';
    auto doc = rejection_document(unsent, error_json, settings.rejection_log.index);
    doc.tag = tag;
    if (l.builder.add(std::move(doc)).status == add_status::invalid_id)
      ++counters.rejection_log_failures;
  }

  result<void> enqueue(document_event ev) {
    const std::size_t li = ev.vbucket % lanes.size();
    lane& l = lanes[li];
    const event_done base{ev.vbucket, ev.vbuuid, ev.seqno, event_outcome::skipped, ev.token};
    type_match m = rules.match(ev);
    if (!m.warning.empty())
      warn(m.warning);
    auto skip = [&] {
      ++counters.docs_skipped;
      // Nothing of this lane pending: the checkpoint may move past it at once.
      if (l.entries.empty() && !l.busy) {
        std::vector<entry> one{{base}};
        deliver(one);
      } else {
        l.entries.push_back({base});
      }
      return result<void>{};
    };
    bulk_action action;
    switch (m.kind) {
      case match_kind::index: {
        const auto began = std::chrono::steady_clock::now();
        auto shaped = shape_document(ev, settings.doc_structure, spare_source());
        if (!shaped.warning.empty())
          warn(shaped.warning);
        if (shaped.kind == shape_kind::skipped)
          return skip();
        if (shaped.kind == shape_kind::rejected) {
          reject_before_send(l, ev, m, shaped.reason);
          start_lane(li);
          return {};
        }
        action =
            bulk_action::index_doc(std::move(ev.key), std::move(m.index), std::move(shaped.body),
                                   std::move(m.routing), std::move(m.pipeline), ev.content.size());
        const auto took = std::chrono::steady_clock::now() - began;
        ++l.report.index_requests;
        l.report.index_request_total += took;
        l.report.index_request_max =
            std::max<std::chrono::nanoseconds>(l.report.index_request_max, took);
        break;
      }
      case match_kind::remove:
        action = bulk_action::delete_doc(std::move(ev.key), std::move(m.index));
        break;
      default:
        return skip();
    }
    const auto outcome =
        action.type == action_type::index ? event_outcome::indexed : event_outcome::deleted;
    action.tag = l.entries.size();
    l.entries.push_back({{base.vbucket, base.vbuuid, base.seqno, outcome, base.token}});
    // For the warning about an invalid ID only: UTF-8 repair at most triples a byte (U+FFFD), so
    // an ID of up to max_document_id_bytes / 3 bytes is invalid only when empty (no copy per
    // document).
    const std::string id =
        action.id.size() > max_document_id_bytes / 3 ? action.id.substr(0, 64) : std::string();
    auto added = l.builder.add(std::move(action));
    if (added.status == add_status::invalid_id) {
      // Elasticsearch's REST API docs: one bad `_id` would fail the whole request.
      l.entries.back().done.outcome = event_outcome::rejected;
      ++counters.docs_rejected;
      if (!settings.rejection_log.index.empty())
        ++counters.rejection_log_failures;  // its `_id` is just as invalid there
      warn("rejected document '" + util::user_data(id + "...") +
           "': its ID is empty or longer than 512 bytes, which Elasticsearch refuses");
    } else if (added.replaced_tag) {
      l.entries[*added.replaced_tag].done.outcome = event_outcome::superseded;
      ++counters.docs_superseded;
    }
    start_lane(li);
    return {};
  }
};

sink::sink(std::shared_ptr<impl> p, server_info server)
    : impl_(std::move(p)), server_(std::move(server)) {}
sink::~sink() {
  stop();
}

asio::awaitable<result<std::shared_ptr<sink>>> sink::connect(asio::any_io_executor executor,
                                                             sink_settings settings,
                                                             connection_settings conn,
                                                             sink_callbacks callbacks,
                                                             sniff_settings sniffing) {
  auto rules = type_rules::compile(settings);
  if (!rules)
    co_return make_error(errc::invalid_argument, rules.error());
  auto pool = http_pool::create(executor, std::move(conn));
  if (!pool)
    co_return pool.error();
  auto p = std::make_shared<impl>(std::move(executor), std::move(settings), std::move(*rules),
                                  std::move(*pool), std::move(callbacks));
  auto info = co_await sniff(*p->pool, sniffing);
  if (!info) {
    p->pool->close();
    co_return info.error();
  }
  co_return std::shared_ptr<sink>(new sink(std::move(p), std::move(*info)));
}

const server_info& sink::server() const {
  return server_;
}

asio::awaitable<result<void>> sink::write(document_event event) {
  auto self = impl_;
  lane& l = self->lanes[event.vbucket % self->lanes.size()];
  // Memory bound: one batch in flight and one full batch waiting per lane.
  while (l.busy && l.builder.full() && !self->unusable())
    co_await self->wait_signal();
  if (auto e = self->unusable())
    co_return *e;
  co_return self->enqueue(std::move(event));
}

asio::awaitable<result<void>> sink::flush() {
  auto self = impl_;
  auto pending = [&] {
    for (const auto& l : self->lanes)
      if (l.busy || !l.entries.empty())
        return true;
    return false;
  };
  while (pending() && !self->unusable())
    co_await self->wait_signal();
  if (auto e = self->unusable())
    co_return *e;
  co_return result<void>{};
}

void sink::stop() {
  if (!impl_ || impl_->stopped)
    return;
  impl_->stopped = true;
  impl_->pool->close();
  for (auto* t : impl_->sleepers)
    t->cancel();
  impl_->notify();
}

sink_counters sink::counters() const {
  auto c = impl_->counters;
  c.hosts_marked_down = impl_->pool->hosts_marked_down();
  return c;
}
std::optional<error> sink::failure() const {
  return impl_->failed;
}
std::size_t sink::lanes() const {
  return impl_->lanes.size();
}
std::size_t sink::lane_of(std::uint16_t vbucket) const {
  return vbucket % impl_->lanes.size();
}

}  // namespace cbes::sink
