#include "cbes/dcp/consumer.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "cbes/dcp/retry_policy.hpp"
#include "cbes/mcbp/bucket_config.hpp"
#include "cbes/mcbp/collection_key.hpp"
#include "cbes/mcbp/collections_manifest.hpp"
#include "cbes/mcbp/datatype.hpp"
#include "cbes/mcbp/snappy.hpp"
#include "cbes/util/error.hpp"

namespace cbes::dcp {

namespace asio = boost::asio;
using asio::use_awaitable;
using boost::system::error_code;
using couchbase::errc;
using couchbase::make_error;
using couchbase::result;
using clock = std::chrono::steady_clock;

std::string_view to_string(event_type t) noexcept {
  switch (t) {
    case event_type::mutation:
      return "mutation";
    case event_type::deletion:
      return "deletion";
    case event_type::expiration:
      return "expiration";
    case event_type::system_event:
      return "system_event";
    case event_type::seqno_advanced:
      return "seqno_advanced";
    case event_type::snapshot:
      return "snapshot";
    case event_type::rollback:
      return "rollback";
    case event_type::stream_end:
      return "stream_end";
  }
  return "unknown";
}

namespace {

// "20" or "0.5": set_noop_interval takes seconds, fractions allowed.
std::string seconds_text(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0)
    return std::to_string(ms.count() / 1000);
  auto frac = std::to_string(ms.count() % 1000);
  frac.insert(0, 3 - frac.size(), '0');
  return std::to_string(ms.count() / 1000) + "." + frac;
}

// {"a": agent, "i": id} as the Java client names its connections, ≤ 200 bytes.
std::string connection_name(const std::string& agent, std::string id) {
  boost::json::object o;
  o["a"] = agent.substr(0, 64);
  o["i"] = id;
  auto s = boost::json::serialize(o);
  while (s.size() > mcbp::max_dcp_connection_name && !id.empty()) {
    id.erase(0, std::min<std::size_t>(id.size(), s.size() - mcbp::max_dcp_connection_name));
    o["i"] = id;
    s = boost::json::serialize(o);
  }
  return s;
}

// An exception that escaped the listener or a background task, as a fatal error.
couchbase::error escaped(std::string_view where, const std::exception_ptr& e) {
  const std::string what = util::exception_message(e);
  return make_error(errc::protocol_error, "the DCP consumer stopped: " + std::string(where) +
                                              " threw: " + what +
                                              " — fix the listener, or report a cbes bug");
}

}  // namespace

struct session {
  explicit session(asio::any_io_executor ex, std::uint32_t buffer, double watermark)
      : fc(buffer, watermark), watchdog(std::move(ex)) {}
  std::uint64_t id = 0;
  couchbase::endpoint node;
  std::shared_ptr<couchbase::connection> conn;
  flow_control fc;
  clock::time_point last_read = clock::now();
  bool alive = true;
  bool collections = false;
  bool stream_end_on_close = false;
  asio::steady_timer watchdog;
};

enum class phase { idle, opening, open, closing, closed, stopped };

struct vb_stream {
  stream_tracker tracker;
  phase ph = phase::idle;
  std::uint64_t session_id = 0;
  std::vector<std::pair<mcbp::dcp_message, std::size_t>> early;  // arrived before the response
  std::size_t early_bytes = 0;  // wire size of `early`, bounded by max_early_bytes
  std::uint32_t snapshot_flags = 0;
};

struct consumer::impl : std::enable_shared_from_this<consumer::impl> {
  impl(std::shared_ptr<couchbase::cluster> c, consumer_options o)
      : ex(c->get_executor()),
        cl(std::move(c)),
        opts(std::move(o)),
        retry(opts.retry_delay, opts.max_retry_delay),
        wake(ex),
        progress(ex) {
    wake.expires_at(clock::time_point::max());
    progress.expires_at(clock::time_point::max());
  }

  asio::any_io_executor ex;
  std::shared_ptr<couchbase::cluster> cl;
  consumer_options opts;
  std::string filter_json;
  std::uint64_t filter_manifest_uid = 0;  // the manifest the filter's ids were resolved from
  std::function<void(event)> listener;
  std::function<void(const couchbase::error&)> fatal_handler;
  std::optional<couchbase::error> fatal;  // the failure that stopped the consumer
  int opening = 0;                        // open() calls in progress: they report a failure
  backoff retry;
  std::map<std::uint16_t, vb_stream> streams;
  std::map<std::string, std::shared_ptr<session>> sessions;  // by node "host:port"
  std::set<std::string> connecting;
  std::uint32_t cap_flags = 0;  // from the config of revision cap_rev
  std::optional<std::pair<std::int64_t, std::int64_t>> cap_rev;  // (epoch, rev)
  bool refreshing = false;  // a config refresh after NOT_MY_VBUCKET is in flight
  std::uint64_t last_session_id = 0;
  asio::steady_timer wake;      // cancelled to run the reconcile loop now
  asio::steady_timer progress;  // cancelled whenever a stream changes phase
  bool stopped = false;
  bool loop_running = false;
  consumer_stats st;
  // Our on_topology_change subscription (next to any other owner's), ended by stop().
  std::optional<std::uint64_t> topology_subscription;

  void notify_progress() { progress.cancel(); }
  void kick() { wake.cancel(); }

  asio::awaitable<void> wait_progress(clock::duration at_most) {
    asio::steady_timer limit(ex);
    limit.expires_after(at_most);
    auto done = std::make_shared<bool>(false);
    // Waking on progress or on the limit, whichever comes first.
    limit.async_wait([self = shared_from_this(), done](error_code ec) {
      if (!ec && !*done)
        self->progress.cancel();
    });
    error_code ec;
    co_await progress.async_wait(asio::redirect_error(use_awaitable, ec));
    *done = true;
    limit.cancel();
  }

  // A coroutine with its state in parameters (a capturing lambda would dangle once spawned).
  static asio::awaitable<void> refresh(std::shared_ptr<impl> self) {
    co_await self->cl->refresh_config();
    self->refreshing = false;
    self->kick();
  }

  // Optional stream flags the bucket advertises (Java's optionalStreamFlags). The config is
  // parsed once per revision: capabilities only change with a new config.
  std::uint32_t capability_flags() {
    if (!opts.ignore_purged_tombstones)
      return 0;
    const auto topo = cl->current_topology();
    const std::pair rev{topo->rev_epoch, topo->rev};
    if (cap_rev == rev)
      return cap_flags;
    ++st.config_parses;
    cap_rev = rev;
    cap_flags = 0;
    // The host only replaces `$HOST` in node addresses, which capabilities do not use.
    auto cfg = mcbp::parse_bucket_config(cl->current_config_json(), "127.0.0.1");
    if (cfg && cfg->has_capability("dcp.IgnorePurgedTombstones"))
      cap_flags = mcbp::dcp_stream_flags::ignore_purged_tombstones;
    return cap_flags;
  }

  // A failure no retry can fix: the consumer stops, and the owner hears of it once — from
  // open() when one is in progress, else through the on_fatal handler.
  void fail(couchbase::error e) {
    if (fatal || stopped)
      return;
    fatal = std::move(e);
    stop();
    if (opening > 0)
      return;
    asio::post(ex, [self = shared_from_this()] {
      if (self->fatal_handler)
        self->fatal_handler(*self->fatal);
    });
  }

  // Background work: an exception escaping it must not vanish (a dead reconnect loop or
  // watchdog would leave the consumer silently stuck), so it becomes a fatal failure.
  void spawn(asio::awaitable<void> work, const char* what) {
    std::weak_ptr<impl> weak = shared_from_this();
    asio::co_spawn(ex, std::move(work), [weak, what](std::exception_ptr e) {
      if (auto self = weak.lock(); self && e)
        self->fail(escaped(what, e));
    });
  }

  // Gives the bytes of messages held for an unanswered stream request back to the window.
  void drop_early(session* s, vb_stream& stream) {
    if (s)
      for (auto& [m, bytes] : stream.early)
        release(*s, bytes);
    stream.early.clear();
    stream.early_bytes = 0;
  }

  std::shared_ptr<session> find_session(std::uint64_t id) {
    for (auto& [_, s] : sessions)
      if (s->id == id)
        return s;
    return nullptr;
  }

  // ---- sessions ------------------------------------------------------------------------------

  asio::awaitable<result<std::shared_ptr<session>>> get_session(const couchbase::endpoint& node) {
    const auto key = node.to_string();
    // One connection per node: a second caller waits for the first one's attempt.
    while (connecting.contains(key) && !stopped)
      co_await wait_progress(std::chrono::seconds{1});
    if (auto it = sessions.find(key); it != sessions.end() && it->second->alive)
      co_return it->second;
    connecting.insert(key);
    auto r = co_await connect_session(node, key);
    connecting.erase(key);
    notify_progress();
    co_return r;
  }

  asio::awaitable<result<std::shared_ptr<session>>> connect_session(couchbase::endpoint node,
                                                                    std::string key) {
    auto copts = cl->connection_options_for(node);
    copts.agent = opts.agent;
    copts.config_push = false;  // topology comes from the cluster object
    copts.fetch_error_map = false;
    auto c = co_await couchbase::connection::open(ex, copts);
    if (!c)
      co_return c.error();
    auto s = std::make_shared<session>(ex, opts.buffer_size, opts.ack_watermark);
    s->id = ++last_session_id;
    s->node = node;
    s->conn = *c;
    s->collections = s->conn->has_feature(mcbp::feature::collections);
    if (!filter_json.empty() && !s->collections) {
      s->conn->close();
      co_return make_error(errc::server_error,
                           "the server at " + key +
                               " does not support collections (HELLO Collections), which a DCP "
                               "collections filter needs — use Couchbase Server 7.0 or later",
                           mcbp::status::not_supported);
    }
    auto refused = [&](const std::string& what, const mcbp::frame* f) {
      s->conn->close();
      return make_error(errc::server_error,
                        what + " on " + key + " failed" +
                            (f ? ": " + std::string(mcbp::to_string(f->status())) : ""),
                        f ? std::optional(f->status()) : std::nullopt);
    };

    std::uint32_t flags =
        mcbp::dcp_open_flags::producer | mcbp::dcp_open_flags::include_delete_times;
    if (opts.xattrs)
      flags |= mcbp::dcp_open_flags::include_xattrs;
    mcbp::dcp_open_request open_req{
        connection_name(opts.agent, opts.name + "/" + key + "/" + std::to_string(s->id)),
        flags,
        {}};
    auto open_frame = open_req.encode();
    auto r = co_await s->conn->execute(std::move(open_frame), opts.request_timeout);
    if (!r) {
      s->conn->close();  // a timed-out attempt must not linger while we retry
      co_return r.error();
    }
    const auto open_status = r->view().status();
    if (open_status != mcbp::status::success) {
      s->conn->close();
      if (open_status == mcbp::status::eaccess)
        co_return make_error(errc::access_denied,
                             "DCP_OPEN on " + key + " refused (Eaccess): user '" + copts.username +
                                 "' needs the Data DCP Reader role on bucket '" + copts.bucket +
                                 "' — grant it to the user",
                             open_status);
      if (open_status == mcbp::status::unknown_command ||
          open_status == mcbp::status::not_supported)
        co_return make_error(errc::server_error,
                             "the server at " + key + " does not support DCP (" +
                                 std::string(mcbp::to_string(open_status)) +
                                 ") — point cbes at a Couchbase Server data node",
                             open_status);
      co_return refused("DCP_OPEN", &r->view());
    }

    struct control {
      std::string key, value;
      bool mandatory;
    };
    std::vector<control> controls{{"enable_noop", "true", true},
                                  {"set_noop_interval", seconds_text(opts.noop_interval), true}};
    if (opts.buffer_size)
      controls.push_back({"connection_buffer_size", std::to_string(opts.buffer_size), true});
    if (opts.expiry_opcode)
      controls.push_back({"enable_expiry_opcode", "true", false});
    controls.push_back({"send_stream_end_on_client_close_stream", "true", false});
    if (opts.compression && s->conn->has_feature(mcbp::feature::snappy))
      controls.push_back({"force_value_compression", "true", false});
    if (!opts.priority.empty())
      controls.push_back({"set_priority", opts.priority, false});
    if (opts.out_of_order_snapshots && s->collections)
      controls.push_back({"enable_out_of_order_snapshots", "true_with_seqno_advanced", false});
    for (const auto& ctl : controls) {
      auto req = mcbp::dcp_control_request{ctl.key, ctl.value}.encode();
      auto cr = co_await s->conn->execute(std::move(req), opts.request_timeout);
      if (!cr) {
        s->conn->close();
        co_return cr.error();
      }
      const auto status = cr->view().status();
      if (status == mcbp::status::success) {
        if (ctl.key == "send_stream_end_on_client_close_stream")
          s->stream_end_on_close = true;
        continue;
      }
      if (ctl.mandatory ||
          (status != mcbp::status::einval && status != mcbp::status::not_supported))
        co_return refused("DCP_CONTROL " + ctl.key + "=" + ctl.value, &cr->view());
    }

    std::weak_ptr<impl> weak = shared_from_this();
    const auto id = s->id;
    s->conn->on_request([weak, id](const mcbp::frame& f) {
      if (auto self = weak.lock())
        self->on_frame(id, f);
    });
    s->conn->on_close([weak, id](const couchbase::error&) {
      if (auto self = weak.lock())
        self->session_lost(id);
    });
    s->last_read = clock::now();
    sessions[key] = s;
    spawn(watchdog(shared_from_this(), s), "the connection watchdog");
    co_return s;
  }

  // no bytes from the producer for 2× the noop interval while streams are open → dead connection.
  static asio::awaitable<void> watchdog(std::shared_ptr<impl> self, std::shared_ptr<session> s) {
    const auto limit = 2 * self->opts.noop_interval;
    while (s->alive && !self->stopped) {
      s->watchdog.expires_after(
          std::max(self->opts.noop_interval / 2, std::chrono::milliseconds{50}));
      error_code ec;
      co_await s->watchdog.async_wait(asio::redirect_error(use_awaitable, ec));
      if (!s->alive || self->stopped)
        co_return;
      bool streaming = false;
      for (auto& [_, st] : self->streams)
        if (st.session_id == s->id && (st.ph == phase::open || st.ph == phase::closing))
          streaming = true;
      if (!streaming) {
        s->last_read = clock::now();
        continue;
      }
      // Bytes arriving prove the producer alive, and responses count too (a burst of
      // stream-request answers carries no DCP message for a while).
      if (clock::now() - std::max(s->last_read, s->conn->last_received()) > limit) {
        s->conn->close();
        self->session_lost(s->id);
        co_return;
      }
    }
  }

  void session_lost(std::uint64_t id) {
    for (auto it = sessions.begin(); it != sessions.end(); ++it) {
      if (it->second->id != id)
        continue;
      auto s = it->second;
      s->alive = false;
      s->watchdog.cancel();
      sessions.erase(it);
      if (!stopped)
        ++st.reconnects;
      for (auto& [vb, stream] : streams) {
        if (stream.session_id != id)
          continue;
        drop_early(nullptr, stream);
        if (stream.ph == phase::opening || stream.ph == phase::open)
          stream.ph = phase::idle;  // resume from the position on a new connection
        else if (stream.ph == phase::closing)
          stream.ph = phase::closed;
      }
      notify_progress();
      kick();
      return;
    }
  }

  void close_session(session& s) {
    s.conn->close();
    session_lost(s.id);
  }

  // ---- messages ------------------------------------------------------------------------------

  void release(session& s, std::size_t bytes) {
    if (auto n = s.fc.acknowledge(bytes)) {
      s.conn->send(mcbp::dcp_buffer_ack{*n}.encode().build());
      ++st.buffer_acks_sent;
    }
  }

  // Called from the connection's read loop: nothing may escape into it (the loop would die
  // and the connection hang silently), so an exception stops the consumer and is reported.
  void on_frame(std::uint64_t sid, const mcbp::frame& f) {
    try {
      handle_frame(sid, f);
    } catch (...) {
      fail(escaped("handling a DCP message", std::current_exception()));
    }
  }

  void handle_frame(std::uint64_t sid, const mcbp::frame& f) {
    auto keep = find_session(sid);  // the session outlives a stop() done while handling f
    auto* s = keep.get();
    if (!s || !s->alive)
      return;
    s->last_read = clock::now();
    const auto op = f.opcode();
    if (op == mcbp::opcode::dcp_noop) {
      s->conn->send(mcbp::encode_dcp_response(mcbp::opcode::dcp_noop).opaque(f.opaque()).build());
      return;
    }
    std::size_t bytes = 0;
    if (flow_control::counted(op)) {
      bytes = f.bytes.size();
      s->fc.received(bytes);
      st.bytes_received += bytes;
      st.max_outstanding_bytes = std::max(st.max_outstanding_bytes, outstanding());
    }
    if (op == mcbp::opcode::dcp_set_vbucket_state) {
      s->conn->send(mcbp::encode_dcp_response(op).opaque(f.opaque()).build());
      release(*s, bytes);
      return;
    }
    auto msg = mcbp::decode_dcp_message(f);
    if (!msg) {
      if (mcbp::is_dcp(op)) {
        // A stream message we cannot decode: the connection's state is unknown → reconnect and
        // resume from the positions (never deliver a guess).
        close_session(*s);
        return;
      }
      release(*s, bytes);
      return;
    }
    if (auto* m = std::get_if<mcbp::dcp_snapshot_marker>(&*msg);
        m && (m->flags & mcbp::snapshot_flags::ack)) {
      s->conn->send(mcbp::encode_dcp_response(op).opaque(f.opaque()).build());
    }
    auto it = streams.find(f.vbucket());
    if (it == streams.end() || it->second.session_id != sid ||
        !(it->second.ph == phase::opening || it->second.ph == phase::open ||
          it->second.ph == phase::closing)) {
      release(*s, bytes);  // a stream we no longer follow (closed / moved): just free the bytes
      return;
    }
    if (it->second.ph == phase::opening) {
      auto& stream = it->second;
      if (stream.early_bytes >= opts.max_early_bytes) {
        // A producer answers STREAM_REQ before it streams, so only what was read along with
        // the answer waits here; one that floods instead is broken or hostile, and holding
        // its messages would grow without bound. (One frame may pass the limit: frames are
        // already bounded by the connection.)
        drop_early(s, stream);
        stop_stream(*s, f.vbucket(), stream, bytes,
                    "vbucket " + std::to_string(f.vbucket()) + ": the producer sent more than " +
                        std::to_string(opts.max_early_bytes) +
                        " bytes before answering the stream request; stream stopped (a "
                        "misbehaving server — raise max_early_bytes only if it is trusted)");
        return;
      }
      stream.early_bytes += f.bytes.size();
      stream.early.emplace_back(std::move(*msg), bytes);
      return;
    }
    deliver(*s, f.vbucket(), it->second, std::move(*msg), bytes);
  }

  std::size_t outstanding() const {
    std::size_t n = 0;
    for (const auto& [_, s] : sessions)
      n += s->fc.outstanding();
    return n;
  }

  // Ends one vbucket's stream for good with an error the application sees as a stream_end.
  // `open`: the producer has the stream (else it refused to open it), so close it there too.
  void stop_stream(session& s, std::uint16_t vb, vb_stream& stream, std::size_t bytes,
                   std::string why, bool open = true) {
    stream.ph = phase::stopped;
    auto ev = base_event(s, vb, stream, bytes);
    ev.type = event_type::stream_end;
    ev.seqno = stream.tracker.state().seqno;
    ev.value = std::move(why);
    if (open)
      s.conn->send(mcbp::dcp_close_stream_request{}.encode().vbucket(vb).build());
    emit(std::move(ev));
    notify_progress();
  }

  void emit(event ev) {
    if (stopped)
      return;  // stop() promises no more events
    ++st.events;
    if (listener)
      listener(std::move(ev));
    else if (auto s = find_session(ev.session))
      release(*s, ev.ack_bytes);
  }

  event base_event(session& s, std::uint16_t vb, vb_stream& stream, std::size_t bytes) {
    event ev;
    ev.vbucket = vb;
    // Everything but the failover log: copying it made an allocation per document, and
    // positions() has it.
    const auto& now = stream.tracker.state();
    ev.position.vbucket_uuid = now.vbucket_uuid;
    ev.position.seqno = now.seqno;
    ev.position.snapshot_start = now.snapshot_start;
    ev.position.snapshot_end = now.snapshot_end;
    ev.position.manifest_uid = now.manifest_uid;
    ev.snapshot_start = stream.tracker.current_snapshot_start();
    ev.snapshot_end = stream.tracker.current_snapshot_end();
    ev.snapshot_flags = stream.snapshot_flags;
    ev.ack_bytes = bytes;
    ev.session = s.id;
    return ev;
  }

  // Splits the collection prefix, inflates Snappy, splits xattrs. Takes the decoded message's
  // key and value: a plain value moves into the event instead of being copied once more.
  bool fill_document(session& s, event& ev, std::string& wire_key, std::uint8_t datatype,
                     std::string& value) {
    if (s.collections) {
      auto k = mcbp::decode_collection_key(wire_key);
      if (!k)
        return false;
      ev.collection_id = k->collection_id;
      ev.key = std::string(k->key);
    } else {
      ev.key = std::move(wire_key);
    }
    if (!mcbp::has(datatype, mcbp::datatype::snappy) &&
        !mcbp::has(datatype, mcbp::datatype::xattr)) {
      if (value.size() > opts.max_value_size)
        return false;
      ev.value = std::move(value);
      ev.datatype = static_cast<std::uint8_t>(datatype & mcbp::datatype::json);
      return true;
    }
    auto inflated = mcbp::inflate_value(datatype, value, opts.max_value_size);
    if (!inflated)
      return false;
    if (mcbp::has(datatype, mcbp::datatype::xattr)) {
      auto doc = mcbp::decode_xattrs(*inflated);
      if (!doc)
        return false;
      for (const auto& x : doc->xattrs)
        ev.xattrs.push_back({std::string(x.key), std::string(x.value)});
      ev.value = std::string(doc->body);
    } else {
      ev.value = std::move(*inflated);
    }
    ev.datatype = static_cast<std::uint8_t>(datatype & mcbp::datatype::json);
    return true;
  }

  void deliver(session& s, std::uint16_t vb, vb_stream& stream, mcbp::dcp_message msg,
               std::size_t bytes) {
    if (auto* end = std::get_if<mcbp::dcp_stream_end>(&msg)) {
      drop_early(nullptr, stream);
      // While we close a stream any end is its end.
      const auto action = stream.ph == phase::closing ? end_action::closed : reaction(end->reason);
      switch (action) {
        case end_action::closed:
          stream.ph = phase::closed;
          release(s, bytes);
          break;
        case end_action::reopen:
          stream.ph = phase::idle;
          ++st.stream_reopens;
          release(s, bytes);
          kick();
          break;
        case end_action::done:
        case end_action::stop: {
          stream.ph = phase::stopped;
          auto ev = base_event(s, vb, stream, bytes);
          ev.type = event_type::stream_end;
          ev.seqno = stream.tracker.state().seqno;
          ev.end_reason = end->reason;
          ev.value = "stream of vbucket " + std::to_string(vb) +
                     " ended: " + std::string(mcbp::to_string(end->reason));
          emit(std::move(ev));
          break;
        }
      }
      notify_progress();
      return;
    }
    // Decode the document first: an item we cannot decode must not move the position.
    event doc;
    bool ok = true;
    if (auto* m = std::get_if<mcbp::dcp_mutation>(&msg))
      ok = fill_document(s, doc, m->key, m->datatype, m->value);
    else if (auto* d = std::get_if<mcbp::dcp_deletion>(&msg))
      ok = fill_document(s, doc, d->key, d->datatype, d->value);
    else if (auto* x = std::get_if<mcbp::dcp_expiration>(&msg))
      ok = fill_document(s, doc, x->key, x->datatype, x->value);
    if (!ok) {
      // A key prefix, Snappy block or xattr section that lies: stop this vbucket with a clear
      // error rather than deliver a guess or loop on reconnects.
      stop_stream(s, vb, stream, bytes,
                  "vbucket " + std::to_string(vb) + ": undecodable item at seqno " +
                      std::to_string(mcbp::seqno_of(msg).value_or(0)) +
                      " (bad collection prefix, Snappy data or xattr section)");
      return;
    }
    const auto seqno_before = stream.tracker.state().seqno;
    if (!stream.tracker.on_message(msg)) {
      release(s, bytes);  // a duplicate / backwards item: never delivered twice
      return;
    }
    if (auto* m = std::get_if<mcbp::dcp_snapshot_marker>(&msg)) {
      stream.snapshot_flags = m->flags;
      auto ev = base_event(s, vb, stream, bytes);
      ev.type = event_type::snapshot;
      ev.snapshot_start = m->start;
      ev.snapshot_end = m->end;
      ev.flags = m->flags;
      emit(std::move(ev));
      return;
    }
    auto ev = base_event(s, vb, stream, bytes);
    ev.seqno = mcbp::seqno_of(msg).value_or(ev.position.seqno);
    ev.out_of_order = stream.tracker.in_oso_snapshot();
    auto take_doc = [&] {
      ev.key = std::move(doc.key);
      ev.collection_id = doc.collection_id;
      ev.value = std::move(doc.value);
      ev.xattrs = std::move(doc.xattrs);
      ev.datatype = doc.datatype;
    };
    if (auto* m = std::get_if<mcbp::dcp_mutation>(&msg)) {
      ev.type = event_type::mutation;
      ev.cas = m->cas;
      ev.rev_seqno = m->rev_seqno;
      ev.flags = m->flags;
      ev.expiry = m->expiration;
      take_doc();
    } else if (auto* d = std::get_if<mcbp::dcp_deletion>(&msg)) {
      ev.type = event_type::deletion;
      ev.cas = d->cas;
      ev.rev_seqno = d->rev_seqno;
      ev.expiry = d->delete_time.value_or(0);
      take_doc();
    } else if (auto* e = std::get_if<mcbp::dcp_expiration>(&msg)) {
      ev.type = event_type::expiration;
      ev.cas = e->cas;
      ev.rev_seqno = e->rev_seqno;
      ev.expiry = e->delete_time;
      take_doc();
    } else if (auto* se = std::get_if<mcbp::dcp_system_event>(&msg)) {
      ev.type = event_type::system_event;
      ev.system_event = se->event;
      if (auto c = mcbp::collection_created::decode(*se)) {
        ev.manifest_uid = c->manifest_uid, ev.scope_id = c->scope_id;
        ev.collection_id = c->collection_id, ev.key = c->name;
      } else if (auto cd = mcbp::collection_dropped::decode(*se)) {
        ev.manifest_uid = cd->manifest_uid, ev.scope_id = cd->scope_id;
        ev.collection_id = cd->collection_id;
      } else if (auto sc = mcbp::scope_created::decode(*se)) {
        ev.manifest_uid = sc->manifest_uid, ev.scope_id = sc->scope_id, ev.key = sc->name;
      } else if (auto sd = mcbp::scope_dropped::decode(*se)) {
        ev.manifest_uid = sd->manifest_uid, ev.scope_id = sd->scope_id;
      } else {
        ev.key = se->key;  // version 2 (FlatBuffers) or unknown: passed through raw
        ev.value = se->value;
      }
    } else if (std::get_if<mcbp::dcp_seqno_advanced>(&msg)) {
      ev.type = event_type::seqno_advanced;
    } else if (const auto* oso = std::get_if<mcbp::dcp_oso_snapshot>(&msg);
               oso && (oso->flags & mcbp::oso_flags::end) && ev.position.seqno > seqno_before) {
      // the position jumps to the OSO's max seqno only now; the items (and a trailing
      // SEQNO_ADVANCED) inside carried the pre-OSO position, so without this event an
      // application checkpointing event positions would stay there and redo the backfill.
      ev.type = event_type::seqno_advanced;
      ev.seqno = ev.position.seqno;
    } else {
      release(s, bytes);  // OSO markers: nothing to tell the application
      return;
    }
    emit(std::move(ev));
  }

  // ---- opening streams -----------------------------------------------------------------------

  // UnknownCollection / UnknownScope carry the node's manifest uid: a node older than the
  // manifest our filter was resolved from has not caught up yet (retry); a node as new or newer
  // really lacks the collection.
  bool manifest_behind(const mcbp::frame& f) const {
    boost::system::error_code ec;
    auto body = boost::json::parse(f.value, ec);
    if (ec || !body.is_object())
      return false;
    const auto* uid = body.as_object().if_contains("manifest_uid");
    if (!uid || !uid->is_string())
      return false;
    auto node_uid = mcbp::parse_hex_id(uid->as_string());
    return node_uid && *node_uid < filter_manifest_uid;
  }

  asio::awaitable<void> open_stream(std::shared_ptr<session> s, std::uint16_t vb) {
    for (int attempt = 0; attempt < 10; ++attempt) {
      auto it = streams.find(vb);
      if (it == streams.end() || it->second.ph != phase::opening || it->second.session_id != s->id)
        co_return;
      auto req = it->second.tracker.request(mcbp::dcp_stream_flags::active_vb_only |
                                            opts.stream_flags | capability_flags());
      if (s->collections)
        req.value = filter_json;
      auto frame = req.encode().vbucket(vb);
      auto r = co_await s->conn->execute(std::move(frame), opts.request_timeout);
      it = streams.find(vb);
      if (it == streams.end() || it->second.ph != phase::opening || it->second.session_id != s->id)
        co_return;
      auto& stream = it->second;
      if (!r) {
        ++st.transient_errors;
        stream.ph = phase::idle;
        drop_early(s.get(), stream);
        notify_progress();
        co_return;
      }
      auto resp = mcbp::dcp_stream_response::decode(r->view());
      if (!resp) {
        close_session(*s);
        co_return;
      }
      switch (resp->status) {
        case mcbp::status::success: {
          stream.tracker.on_stream_opened(resp->failover_log);
          stream.ph = phase::open;
          auto early = std::move(stream.early);
          stream.early.clear();
          stream.early_bytes = 0;
          for (auto& [m, bytes] : early) {
            auto again = streams.find(vb);
            if (again == streams.end() || again->second.ph != phase::open) {
              release(*s, bytes);
              continue;
            }
            deliver(*s, vb, again->second, std::move(m), bytes);
          }
          notify_progress();
          co_return;
        }
        case mcbp::status::rollback: {
          // reopen from the rollback seqno; tell the application first.
          drop_early(s.get(), stream);
          stream.tracker.on_rollback(resp->rollback_seqno);
          ++st.rollbacks;
          auto ev = base_event(*s, vb, stream, 0);
          ev.type = event_type::rollback;
          ev.seqno = resp->rollback_seqno;
          emit(std::move(ev));
          continue;
        }
        case mcbp::status::unknown_collection:
        case mcbp::status::unknown_scope:
          if (!manifest_behind(r->view())) {
            fail(make_error(errc::unknown_collection,
                            "the DCP collections filter names a collection or scope that bucket '" +
                                cl->connection_options_for(s->node).bucket + "' no longer has (" +
                                std::string(mcbp::to_string(resp->status)) + " for vbucket " +
                                std::to_string(vb) +
                                ") — fix the filter or recreate the collection",
                            resp->status));
            co_return;
          }
          [[fallthrough]];  // that node has not seen our manifest yet: try again later
        case mcbp::status::not_my_vbucket:
        case mcbp::status::etmpfail:
        case mcbp::status::enomem:
        case mcbp::status::ebusy:
        case mcbp::status::key_eexists:
          ++st.transient_errors;
          stream.ph = phase::idle;
          if (resp->status == mcbp::status::not_my_vbucket && !refreshing) {
            // One refresh at a time, however many vbuckets answered NMVB.
            refreshing = true;
            spawn(refresh(shared_from_this()), "the config refresh");
          }
          notify_progress();
          co_return;
        case mcbp::status::eaccess:
        case mcbp::status::no_bucket: {
          const auto o = cl->connection_options_for(s->node);
          fail(make_error(errc::access_denied,
                          "DCP_STREAM_REQ for vbucket " + std::to_string(vb) + " refused (" +
                              std::string(mcbp::to_string(resp->status)) + "): user '" +
                              o.username + "' needs the Data DCP Reader role on bucket '" +
                              o.bucket + "', which must exist",
                          resp->status));
          co_return;
        }
        default:
          stop_stream(*s, vb, stream, 0,
                      "stream request for vbucket " + std::to_string(vb) +
                          " failed: " + std::string(mcbp::to_string(resp->status)),
                      false);
          co_return;
      }
    }
    auto it = streams.find(vb);
    if (it != streams.end() && it->second.ph == phase::opening)
      it->second.ph = phase::idle;
    notify_progress();
  }

  // Opens every idle stream on its active node; returns when each request was answered.
  asio::awaitable<void> reconcile_once() {
    auto topo = cl->current_topology();
    std::map<std::size_t, std::vector<std::uint16_t>> by_node;
    for (auto& [vb, stream] : streams) {
      if (stream.ph != phase::idle)
        continue;
      auto node = topo->active_node(vb);
      if (node && topo->nodes[*node].kv.port != 0)
        by_node[*node].push_back(vb);
    }
    auto pending = std::make_shared<std::size_t>(0);
    auto joined = std::make_shared<asio::steady_timer>(ex, clock::time_point::max());
    for (auto& [node, vbs] : by_node) {
      auto s = co_await get_session(topo->nodes[node].kv);
      if (stopped)
        co_return;
      if (!s && retry_cannot_fix(s.error())) {
        fail(s.error());
        co_return;
      }
      if (!s) {
        ++st.transient_errors;  // retried at the next round, after a back-off delay
        continue;
      }
      for (auto vb : vbs) {
        auto it = streams.find(vb);
        if (it == streams.end() || it->second.ph != phase::idle)
          continue;
        it->second.ph = phase::opening;
        it->second.session_id = (*s)->id;
        drop_early(nullptr, it->second);
        ++*pending;
        std::weak_ptr<impl> weak = shared_from_this();
        asio::co_spawn(ex, open_stream(*s, vb), [pending, joined, weak](std::exception_ptr e) {
          if (auto self = weak.lock(); self && e)
            self->fail(escaped("opening a stream", e));
          if (--*pending == 0)
            joined->cancel();
        });
      }
    }
    if (*pending > 0) {
      error_code ec;
      co_await joined->async_wait(asio::redirect_error(use_awaitable, ec));
    }
    notify_progress();
  }

  // Closes connections to nodes that left the topology (their streams reopen elsewhere).
  void on_topology(const std::shared_ptr<const couchbase::topology>& topo) {
    std::vector<std::uint64_t> gone;
    for (auto& [key, s] : sessions) {
      bool present = false;
      for (const auto& n : topo->nodes)
        present = present || n.kv == s->node;
      if (!present)
        gone.push_back(s->id);
    }
    for (auto id : gone)
      if (auto s = find_session(id))
        close_session(*s);
    // A vbucket now active on another node: stop following the old stream (its late messages
    // are dropped by session id, duplicates by seqno) and reopen it there from its position.
    for (auto& [vb, stream] : streams) {
      if (stream.ph != phase::open && stream.ph != phase::opening)
        continue;
      auto s = find_session(stream.session_id);
      auto node = topo->active_node(vb);
      if (!s || !node || topo->nodes[*node].kv == s->node)
        continue;
      s->conn->send(mcbp::dcp_close_stream_request{}.encode().vbucket(vb).build());
      drop_early(s.get(), stream);
      stream.ph = phase::idle;
      ++st.stream_reopens;
    }
    notify_progress();
    kick();
  }

  // Runs after open()'s own round, so it waits first: a round that left a vbucket waiting is
  // followed by a back-off delay (cut short by kick()), never by an immediate retry.
  static asio::awaitable<void> loop(std::shared_ptr<impl> self) {
    while (!self->stopped) {
      bool waiting = false;
      for (auto& [_, s] : self->streams)
        waiting = waiting || s.ph == phase::idle;
      if (waiting) {
        ++self->st.open_retries;
        self->wake.expires_after(self->retry.next());
      } else {
        self->retry.reset();
        self->wake.expires_after(std::chrono::hours{24});
      }
      error_code ec;
      co_await self->wake.async_wait(asio::redirect_error(use_awaitable, ec));
      if (self->stopped)
        break;
      co_await self->reconcile_once();
    }
  }

  void start_loop() {
    if (loop_running)
      return;
    loop_running = true;
    spawn(loop(shared_from_this()), "the reconnect loop");
  }

  void stop() {
    if (stopped)
      return;
    stopped = true;
    if (topology_subscription)
      cl->remove_topology_handler(*std::exchange(topology_subscription, std::nullopt));
    auto all = sessions;
    for (auto& [_, s] : all) {
      s->alive = false;
      s->watchdog.cancel();
      s->conn->close();
    }
    sessions.clear();
    wake.cancel();
    notify_progress();
  }
};

// ---------------------------------------------------------------------------------------------

namespace {

// A collections filter as sent with every STREAM_REQ, and the manifest it was resolved from.
struct resolved_filter {
  std::string json;
  std::uint64_t manifest_uid = 0;
};

// Names → ids from the manifest (Java fetches GET_COLLECTIONS_MANIFEST first too).
asio::awaitable<result<resolved_filter>> resolve_filter(couchbase::cluster& cl,
                                                        const consumer_options& o) {
  if (o.collections.empty() && o.scope.empty())
    co_return resolved_filter{};
  if (!o.collections.empty() && !o.scope.empty())
    co_return make_error(errc::invalid_argument,
                         "a DCP filter takes a scope or a list of collections, not both");
  auto manifest = co_await cl.collections_manifest();
  if (!manifest)
    co_return manifest.error();
  mcbp::stream_filter f;
  if (!o.scope.empty()) {
    auto sid = manifest->scope_id(o.scope);
    if (!sid)
      co_return make_error(errc::unknown_collection, "unknown scope '" + o.scope + "'");
    f.scope = *sid;
  }
  for (const auto& name : o.collections) {
    const auto dot = name.find('.');
    const std::string scope = dot == std::string::npos ? "_default" : name.substr(0, dot);
    const std::string coll = dot == std::string::npos ? name : name.substr(dot + 1);
    auto cid = manifest->collection_id(scope, coll);
    if (!cid)
      co_return make_error(errc::unknown_collection, "unknown collection '" + name + "'");
    f.collections.push_back(*cid);
  }
  co_return resolved_filter{mcbp::encode_stream_filter(f), manifest->uid};
}

}  // namespace

asio::awaitable<result<std::shared_ptr<consumer>>> consumer::create(
    std::shared_ptr<couchbase::cluster> cluster, consumer_options options) {
  if (options.ack_watermark <= 0 || options.ack_watermark > 1)
    co_return make_error(errc::invalid_argument, "ack watermark must be in (0, 1]");
  if (options.noop_interval < std::chrono::milliseconds{100})
    co_return make_error(errc::invalid_argument, "noop interval must be at least 100 ms");
  auto filter = co_await resolve_filter(*cluster, options);
  if (!filter)
    co_return filter.error();
  auto p = std::make_shared<impl>(cluster, std::move(options));
  p->filter_json = std::move(filter->json);
  p->filter_manifest_uid = filter->manifest_uid;
  std::weak_ptr<impl> weak = p;
  p->topology_subscription =
      cluster->on_topology_change([weak](std::shared_ptr<const couchbase::topology> t) {
        if (auto self = weak.lock())
          self->on_topology(t);
      });
  co_return std::shared_ptr<consumer>(new consumer(std::move(p)));
}

consumer::consumer(std::shared_ptr<impl> p) : impl_(std::move(p)) {}

consumer::~consumer() {
  stop();
}

void consumer::on_event(std::function<void(event)> listener) {
  impl_->listener = std::move(listener);
}

void consumer::on_fatal(std::function<void(const couchbase::error&)> handler) {
  impl_->fatal_handler = std::move(handler);
}

void consumer::acknowledge(const event& ev) {
  acknowledge(ev.session, ev.ack_bytes);
}

void consumer::acknowledge(std::uint64_t session_id, std::size_t bytes) {
  if (bytes == 0)
    return;
  if (auto s = impl_->find_session(session_id); s && s->alive)
    impl_->release(*s, bytes);
}

asio::awaitable<result<std::map<std::uint16_t, stream_state>>> consumer::states_from_beginning(
    std::vector<std::uint16_t> vbuckets) {
  std::map<std::uint16_t, stream_state> out;
  for (auto vb : vbuckets)
    out[vb] = stream_state::from_beginning();
  co_return out;
}

asio::awaitable<result<std::map<std::uint16_t, stream_state>>> consumer::states_now(
    std::vector<std::uint16_t> vbuckets) {
  auto p = impl_;
  auto seqnos = co_await p->cl->get_all_vb_seqnos();
  if (!seqnos)
    co_return seqnos.error();
  std::map<std::uint16_t, std::uint64_t> high;
  for (const auto& e : *seqnos)
    high[e.vbucket] = e.seqno;
  std::map<std::uint16_t, stream_state> out;
  for (auto vb : vbuckets) {
    auto log = co_await p->cl->failover_log(vb);
    if (!log)
      co_return log.error();
    // The high seqno is read first: a failover log read later can only be newer, and a
    // position at an older seqno of the newest branch is always valid.
    out[vb] = stream_state::at(*log, high.contains(vb) ? high[vb] : 0);
  }
  co_return out;
}

asio::awaitable<result<void>> consumer::open(std::map<std::uint16_t, stream_state> from) {
  auto p = impl_;
  if (p->stopped)
    co_return make_error(errc::closed, "the DCP consumer is stopped");
  const auto n = p->cl->current_topology()->num_vbuckets();
  for (const auto& [vb, _] : from) {
    if (vb >= n)
      co_return make_error(errc::invalid_argument, "vbucket " + std::to_string(vb) +
                                                       " does not exist (the bucket has " +
                                                       std::to_string(n) + ")");
    auto it = p->streams.find(vb);
    if (it != p->streams.end() && it->second.ph != phase::closed && it->second.ph != phase::stopped)
      co_return make_error(errc::invalid_argument,
                           "vbucket " + std::to_string(vb) + " is already streaming");
  }
  for (auto& [vb, state] : from) {
    vb_stream s;
    s.tracker = stream_tracker{std::move(state)};
    p->streams[vb] = std::move(s);
  }
  ++p->opening;
  co_await p->reconcile_once();
  --p->opening;
  if (p->fatal)
    co_return *p->fatal;
  p->start_loop();
  co_return result<void>{};
}

asio::awaitable<result<std::map<std::uint16_t, stream_state>>> consumer::close(
    std::vector<std::uint16_t> vbuckets) {
  auto p = impl_;
  // Let pending stream requests finish first: their response carries the failover log the
  // final positions need (a position without its uuid would roll back to 0 on reopen).
  const auto open_deadline = clock::now() + p->opts.request_timeout;
  for (;;) {
    bool opening = false;
    for (auto vb : vbuckets)
      if (auto it = p->streams.find(vb); it != p->streams.end() && it->second.ph == phase::opening)
        opening = true;
    if (!opening || clock::now() >= open_deadline)
      break;
    co_await p->wait_progress(open_deadline - clock::now());
  }
  for (auto vb : vbuckets) {
    auto it = p->streams.find(vb);
    if (it == p->streams.end())
      continue;
    auto& stream = it->second;
    if (stream.ph == phase::opening || stream.ph == phase::open) {
      auto s = p->find_session(stream.session_id);
      if (!s) {
        stream.ph = phase::closed;
        continue;
      }
      stream.ph = phase::closing;
      const bool wait_end = s->stream_end_on_close;
      auto conn = s->conn;
      auto req = mcbp::dcp_close_stream_request{}.encode().vbucket(vb);
      auto r = co_await conn->execute(std::move(req), p->opts.request_timeout);
      it = p->streams.find(vb);
      if (it == p->streams.end())
        continue;
      // Without a STREAM_END to wait for, or when there is no such stream any more, the
      // response is the end.
      if (!r || !wait_end || r->view().status() != mcbp::status::success)
        if (it->second.ph == phase::closing)
          it->second.ph = phase::closed;
    } else {
      stream.ph = phase::closed;
    }
  }
  const auto deadline = clock::now() + p->opts.request_timeout;
  for (;;) {
    bool waiting = false;
    for (auto vb : vbuckets)
      if (auto it = p->streams.find(vb); it != p->streams.end() && it->second.ph == phase::closing)
        waiting = true;
    if (!waiting || clock::now() >= deadline)
      break;
    co_await p->wait_progress(deadline - clock::now());
  }
  std::map<std::uint16_t, stream_state> out;
  for (auto vb : vbuckets) {
    auto it = p->streams.find(vb);
    if (it == p->streams.end())
      continue;
    out[vb] = it->second.tracker.state();
    p->drop_early(p->find_session(it->second.session_id).get(), it->second);
    p->streams.erase(it);
  }
  co_return out;
}

std::map<std::uint16_t, stream_state> consumer::positions() const {
  std::map<std::uint16_t, stream_state> out;
  for (const auto& [vb, s] : impl_->streams)
    out[vb] = s.tracker.state();
  return out;
}

bool consumer::reached(const std::map<std::uint16_t, std::uint64_t>& targets) const {
  for (const auto& [vb, target] : targets) {
    auto it = impl_->streams.find(vb);
    if (it == impl_->streams.end())
      return false;
    if (it->second.tracker.state().seqno < target && it->second.ph != phase::stopped)
      return false;
  }
  return true;
}

consumer_stats consumer::stats() const {
  auto s = impl_->st;
  s.outstanding_bytes = impl_->outstanding();
  return s;
}

void consumer::stop() {
  impl_->fatal_handler = nullptr;  // a failure already posted is not reported after stop()
  impl_->stop();
}

}  // namespace cbes::dcp
