#include "cbes/couchbase/connection.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <unordered_map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "../util/tls_verify.hpp"
#include "cbes/mcbp/cluster_config.hpp"
#include "cbes/mcbp/datatype.hpp"
#include "cbes/mcbp/error_map.hpp"
#include "cbes/mcbp/hello.hpp"
#include "cbes/mcbp/scram.hpp"
#include "cbes/mcbp/select_bucket.hpp"
#include "cbes/mcbp/snappy.hpp"
#include "cbes/util/error.hpp"
#include "tls_setup.hpp"

namespace cbes::couchbase {
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto use_awaitable = asio::use_awaitable;

// Reads of up to this many bytes at once; the parser bounds the frame size, not this.
constexpr std::size_t read_chunk = 64 * 1024;

std::vector<mcbp::feature> default_features(const connection_options& o) {
  // kv_engine's protocol docs "minimum recommended set"; MutationSeqno for mutation tokens.
  std::vector<mcbp::feature> f{mcbp::feature::tcp_nodelay,   mcbp::feature::mutation_seqno,
                               mcbp::feature::xattr,         mcbp::feature::xerror,
                               mcbp::feature::select_bucket, mcbp::feature::snappy,
                               mcbp::feature::json,          mcbp::feature::alt_request_support};
  if (o.config_push) {
    f.push_back(mcbp::feature::duplex);
    f.push_back(mcbp::feature::clustermap_change_notification);
  }
  if (o.collections)
    f.push_back(mcbp::feature::collections);
  return f;
}

// Strongest first (the Java connector picks from SCRAM-SHA512/256/1, PLAIN only over TLS).
constexpr std::array<mcbp::sasl_mechanism, 4> mechanism_strength{
    mcbp::sasl_mechanism::scram_sha512, mcbp::sasl_mechanism::scram_sha256,
    mcbp::sasl_mechanism::scram_sha1, mcbp::sasl_mechanism::plain};

std::string auth_failed_message(const std::string& user) {
  return "authentication failed for user '" + user +
         "' — check couchbase.username / pathToPassword";
}

}  // namespace

struct connection::impl : std::enable_shared_from_this<connection::impl> {
  struct pending {
    explicit pending(const executor_type& ex) : timer(ex) {}
    // Expires at the request's deadline; cancelled when the outcome is set or the write queue
    // has room again.
    asio::steady_timer timer;
    std::optional<result<mcbp::owned_frame>> outcome;
    // Handed to the socket: from then on the server may act on it even if no answer comes.
    bool written = false;
  };
  struct queued_write {
    std::string bytes;
    std::shared_ptr<pending> request;  // null for send()
  };

  impl(executor_type e, connection_options o)
      : ex(std::move(e)),
        opts(std::move(o)),
        resolver(ex),
        socket(ex),
        parser(opts.max_frame_size),
        watchdog(ex) {}

  executor_type ex;
  connection_options opts;
  tcp::resolver resolver;
  tcp::socket socket;
  std::unique_ptr<ssl::context> tls_context;
  std::unique_ptr<ssl::stream<tcp::socket&>> tls;
  mcbp::parser parser;
  asio::steady_timer watchdog;
  bool watchdog_fired = false;

  std::deque<queued_write> write_queue;
  std::size_t queued_bytes = 0;  // in write_queue plus the batch being written
  std::vector<std::shared_ptr<pending>> room_waiters;  // execute() calls waiting for room
  bool writing = false;
  std::unordered_map<std::uint32_t, std::shared_ptr<pending>> in_flight;
  std::optional<error> ended_with;  // why the connection ended (complete_all), for bootstrap
  std::uint32_t last_opaque = 0;
  bool open = false;
  // Atomic: read by liveness checks that may run on another thread than the read loop.
  std::atomic<clock::rep> last_receive{clock::now().time_since_epoch().count()};

  std::string config;
  std::vector<mcbp::feature> agreed;
  mcbp::sasl_mechanism mechanism = mcbp::sasl_mechanism::plain;

  std::function<void(const mcbp::frame&)> request_handler;
  std::function<void(std::string)> config_handler;
  std::function<void(const error&)> close_handler;

  std::string where() const { return opts.address.to_string(); }

  // ---- connect -------------------------------------------------------------------------------

  void arm_watchdog(std::chrono::milliseconds timeout) {
    watchdog_fired = false;
    watchdog.expires_after(timeout);
    watchdog.async_wait([self = shared_from_this()](error_code ec) {
      if (ec)
        return;
      self->watchdog_fired = true;
      self->resolver.cancel();
      error_code ignored;
      self->socket.close(ignored);
    });
  }

  asio::awaitable<result<void>> connect() {
    arm_watchdog(opts.connect_timeout);
    auto fail = [&](std::string what, const error_code& ec) -> error {
      watchdog.cancel();
      if (watchdog_fired)
        return make_error(errc::timeout, what + " " + where() + " timed out after " +
                                             std::to_string(opts.connect_timeout.count()) + " ms");
      return make_error(errc::connection_failed, what + " " + where() + " failed: " + ec.message());
    };
    error_code ec;
    auto endpoints =
        co_await resolver.async_resolve(opts.address.host, std::to_string(opts.address.port),
                                        asio::redirect_error(use_awaitable, ec));
    if (ec)
      co_return fail("resolve", ec);
    co_await asio::async_connect(socket, endpoints, asio::redirect_error(use_awaitable, ec));
    if (ec)
      co_return fail("connect to", ec);
    socket.set_option(tcp::no_delay(true), ec);
    if (opts.tls.enabled) {
      auto ctx = detail::make_tls_context(opts.tls);
      if (!ctx) {
        watchdog.cancel();
        co_return ctx.error();
      }
      tls_context = std::move(*ctx);
      tls = std::make_unique<ssl::stream<tcp::socket&>>(socket, *tls_context);
      detail::prepare_tls_stream(*tls, opts.tls, opts.address.host);
      co_await tls->async_handshake(ssl::stream_base::client,
                                    asio::redirect_error(use_awaitable, ec));
      if (ec && util::certificate_rejected(ec)) {
        // No retry fixes a certificate the CA did not sign: said at once, not after the timeout.
        watchdog.cancel();
        co_return make_error(errc::invalid_argument,
                             "TLS handshake with " + where() + " failed: " + ec.message() +
                                 " — check couchbase.pathToCaCertificate and the host name");
      }
      if (ec)
        co_return fail("TLS handshake with", ec);
    }
    watchdog.cancel();
    co_return result<void>{};
  }

  // ---- I/O loops -----------------------------------------------------------------------------

  static asio::awaitable<void> read_loop(std::shared_ptr<impl> self) {
    std::vector<char> buf(read_chunk);
    while (self->open) {
      error_code ec;
      std::size_t n = 0;
      if (self->tls)
        n = co_await self->tls->async_read_some(asio::buffer(buf),
                                                asio::redirect_error(use_awaitable, ec));
      else
        n = co_await self->socket.async_read_some(asio::buffer(buf),
                                                  asio::redirect_error(use_awaitable, ec));
      if (!self->open)
        co_return;
      if (ec) {
        self->fail(make_error(errc::connection_closed,
                              "connection to " + self->where() + " closed: " + ec.message()));
        co_return;
      }
      self->last_receive.store(clock::now().time_since_epoch().count(), std::memory_order_relaxed);
      self->parser.feed(std::string_view(buf.data(), n));
      while (self->open) {
        auto next = self->parser.next();
        if (!next) {
          self->fail(make_error(errc::protocol_error, "malformed frame from " + self->where() +
                                                          ": " + next.error().message()));
          co_return;
        }
        if (!*next)
          break;
        self->dispatch(**next);
      }
    }
  }

  void dispatch(const mcbp::frame& f) {
    switch (f.magic()) {
      case mcbp::magic::client_response:
      case mcbp::magic::alt_client_response: {
        auto it = in_flight.find(f.opaque());
        if (it == in_flight.end())
          return;  // the caller gave up (deadline) before the answer came
        auto p = it->second;
        in_flight.erase(it);
        p->outcome.emplace(mcbp::owned_frame{f});
        p->timer.cancel();
        return;
      }
      case mcbp::magic::server_request:
        if (f.server_opcode() == mcbp::server_opcode::clustermap_change_notification) {
          // no response is expected.
          auto n = mcbp::clustermap_change_notification::decode(f);
          if (!n || !config_handler)
            return;
          auto json = mcbp::inflate_value(n->datatype, n->config, opts.max_frame_size);
          if (json)
            config_handler(std::move(*json));
          return;
        }
        [[fallthrough]];
      case mcbp::magic::client_request:
      case mcbp::magic::alt_client_request:
        if (request_handler)
          request_handler(f);
        return;
      case mcbp::magic::server_response:
        return;
    }
  }

  bool has_room(std::size_t n) const noexcept {
    return queued_bytes == 0 || queued_bytes + n <= opts.max_write_queue_bytes;
  }

  std::string queue_full_message() const {
    return "the write queue to " + where() + " holds " + std::to_string(queued_bytes) +
           " bytes (limit " + std::to_string(opts.max_write_queue_bytes) +
           "): the server is not reading";
  }

  void send(std::string bytes) {
    if (!open)
      return;
    if (!has_room(bytes.size())) {
      fail(make_error(errc::connection_closed, "closing: " + queue_full_message()));
      return;
    }
    enqueue(std::move(bytes), nullptr);
  }

  void enqueue(std::string bytes, std::shared_ptr<pending> request) {
    queued_bytes += bytes.size();
    write_queue.push_back({std::move(bytes), std::move(request)});
    if (!writing) {
      writing = true;
      spawn_loop(write_loop(shared_from_this()), "write");
    }
  }

  // The I/O loops run detached from any caller; an exception in one (a throwing handler, an
  // allocation failure) must end the connection like an I/O error, so that pending requests and
  // the owner hear of it instead of waiting on a loop that is gone.
  void spawn_loop(asio::awaitable<void> loop, const char* name) {
    asio::co_spawn(
        ex, std::move(loop), [weak = weak_from_this(), name](const std::exception_ptr& e) {
          auto self = weak.lock();
          if (!e || !self)
            return;
          const std::string why = util::exception_message(e);
          self->writing = false;
          self->fail(make_error(errc::connection_closed, "connection to " + self->where() + ": " +
                                                             name + " loop failed: " + why));
        });
  }

  // Room in the write queue: every waiting execute() looks again.
  void wake_room_waiters() {
    auto waiting = std::move(room_waiters);
    room_waiters.clear();
    for (auto& p : waiting)
      p->timer.cancel();
  }

  static asio::awaitable<void> write_loop(std::shared_ptr<impl> self) {
    std::vector<queued_write> batch;
    std::vector<asio::const_buffer> buffers;
    while (self->open && !self->write_queue.empty()) {
      batch.clear();
      buffers.clear();
      // Gather everything queued so far into one write (couchbase-cxx-client's session does the
      // same), bounded so one huge backlog does not become one giant syscall list.
      std::size_t batch_bytes = 0;
      while (!self->write_queue.empty() && batch.size() < 256) {
        batch.push_back(std::move(self->write_queue.front()));
        self->write_queue.pop_front();
      }
      for (const auto& b : batch) {
        buffers.emplace_back(asio::buffer(b.bytes));
        batch_bytes += b.bytes.size();
        if (b.request)
          b.request->written = true;
      }
      error_code ec;
      if (self->tls)
        co_await asio::async_write(*self->tls, buffers, asio::redirect_error(use_awaitable, ec));
      else
        co_await asio::async_write(self->socket, buffers, asio::redirect_error(use_awaitable, ec));
      self->queued_bytes -= std::min(batch_bytes, self->queued_bytes);
      if (ec) {
        self->fail(make_error(errc::connection_closed,
                              "write to " + self->where() + " failed: " + ec.message()));
        break;
      }
      self->wake_room_waiters();
    }
    self->writing = false;
  }

  std::uint32_t next_opaque() noexcept {
    do {
      ++last_opaque;
    } while (last_opaque == 0 || in_flight.contains(last_opaque));
    return last_opaque;
  }

  asio::awaitable<result<mcbp::owned_frame>> execute(mcbp::frame_builder request,
                                                     clock::duration timeout) {
    auto self = shared_from_this();
    if (!open)
      co_return make_error(errc::connection_closed,
                           "connection to " + where() + " is closed; the request was not sent");
    const std::uint32_t opaque = next_opaque();
    request.opaque(opaque);
    auto p = std::make_shared<pending>(ex);
    p->timer.expires_after(timeout);
    in_flight.emplace(opaque, p);
    std::string bytes = request.build();
    const auto waited_ms = [&] {
      return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
    };
    // Back-pressure: wait (on the request's own timer, cancelled when a write completes) until
    // the queue has room, never past the deadline.
    while (!has_room(bytes.size())) {
      room_waiters.push_back(p);
      error_code ec;
      co_await p->timer.async_wait(asio::redirect_error(use_awaitable, ec));
      if (p->outcome)
        co_return std::move(*p->outcome);
      if (ec != asio::error::operation_aborted) {
        std::erase(room_waiters, p);
        in_flight.erase(opaque);
        co_return make_error(errc::timeout, "request to " + where() + " not sent within " +
                                                waited_ms() + " ms: " + queue_full_message());
      }
    }
    enqueue(std::move(bytes), p);
    error_code ec;
    co_await p->timer.async_wait(asio::redirect_error(use_awaitable, ec));
    if (p->outcome)
      co_return std::move(*p->outcome);
    in_flight.erase(opaque);
    co_return make_error(errc::timeout,
                         "request to " + where() + " timed out after " + waited_ms() + " ms");
  }

  // ---- bootstrap ----------------------------------------------------------------------

  asio::awaitable<result<mcbp::owned_frame>> step(mcbp::frame_builder request, const char* name,
                                                  clock::time_point deadline) {
    auto left = std::max(deadline - clock::now(), clock::duration::zero());
    auto r = co_await execute(std::move(request), left);
    if (!r && r.error().code == errc::timeout)
      co_return make_error(errc::timeout,
                           "bootstrap of " + where() + " timed out during " + name + " (after " +
                               std::to_string(opts.bootstrap_timeout.count()) + " ms)");
    // A bootstrap step changes nothing worth knowing about: the connection just failed, and
    // why (a malformed frame is a protocol error) is what the caller needs.
    if (!r && r.error().code == errc::ambiguous) {
      error e = ended_with && ended_with->code
                    ? *ended_with
                    : make_error(errc::connection_closed, r.error().message);
      e.message = "bootstrap of " + where() + " failed during " + name + ": " + e.message;
      co_return e;
    }
    co_return r;
  }

  static error unexpected(const std::string& where, const char* step, const mcbp::frame& f) {
    return make_error(
        errc::server_error,
        std::string(step) + " on " + where + " failed: " + std::string(mcbp::to_string(f.status())),
        f.status());
  }

  asio::awaitable<result<void>> bootstrap() {
    const auto deadline = clock::now() + opts.bootstrap_timeout;
    // HELLO first: it may precede auth and tells us about XERROR before any error.
    auto features = opts.features.empty() ? default_features(opts) : opts.features;
    auto hello_req = mcbp::hello_request{opts.agent, features}.encode();
    auto hello = co_await step(std::move(hello_req), "HELLO", deadline);
    if (!hello && certificate_auth() && hello.error().code == errc::connection_closed)
      co_return certificate_refused(hello.error());
    if (!hello)
      co_return hello.error();
    if (hello->view().status() != mcbp::status::success)
      co_return unexpected(where(), "HELLO", hello->view());
    auto agreed_features = mcbp::hello_response::decode(hello->view());
    if (!agreed_features)
      co_return make_error(errc::protocol_error, "bad HELLO response from " + where());
    agreed = agreed_features->features;

    // A client certificate authenticated the connection during the handshake (the server maps
    // it to a user); SASL would be refused, as the SDKs' CertificateAuthenticator knows.
    if (!certificate_auth()) {
      auto authenticated = co_await authenticate(deadline);
      if (!authenticated)
        co_return authenticated.error();
    }

    if (!opts.bucket.empty()) {
      auto sel_req = mcbp::select_bucket_request{opts.bucket}.encode();
      auto sel = co_await step(std::move(sel_req), "SELECT_BUCKET", deadline);
      if (!sel)
        co_return sel.error();
      const auto s = sel->view().status();
      if (s == mcbp::status::key_enoent)
        co_return make_error(
            errc::bucket_not_found,
            "bucket '" + opts.bucket + "' not found on " + where() + " — check couchbase.bucket",
            s);
      if (s == mcbp::status::eaccess)
        co_return make_error(errc::bucket_not_found,
                             "bucket '" + opts.bucket + "' does not exist or " +
                                 (certificate_auth() ? std::string("the client certificate's user")
                                                     : "user '" + opts.username + "'") +
                                 " may not access it — check couchbase.bucket",
                             s);
      if (s != mcbp::status::success)
        co_return unexpected(where(), "SELECT_BUCKET", sel->view());
    }

    if (opts.fetch_error_map) {
      // Optional: a server without it answers UnknownCommand, which is fine.
      auto em_req = mcbp::get_error_map_request{2}.encode();
      auto em = co_await step(std::move(em_req), "GET_ERROR_MAP", deadline);
      if (!em)
        co_return em.error();
    }

    if (!opts.bucket.empty()) {
      auto cfg_req = mcbp::get_cluster_config_request{}.encode();
      auto cfg = co_await step(std::move(cfg_req), "GET_CLUSTER_CONFIG", deadline);
      if (!cfg)
        co_return cfg.error();
      if (cfg->view().status() == mcbp::status::success) {
        auto json =
            mcbp::inflate_value(cfg->view().datatype(), cfg->view().value, opts.max_frame_size);
        if (json)
          config = std::move(*json);
      }
    }
    co_return result<void>{};
  }

  bool certificate_auth() const noexcept { return !opts.tls.client_keystore.empty(); }

  // Couchbase Server closes a connection whose certificate it cannot map to a user (or, in TLS
  // 1.3, sends its alert only after the client finished the handshake): HELLO gets no answer.
  error certificate_refused(const error& e) const {
    // "... connection to h:p closed: tlsv1 alert unknown ca (SSL routines); the request was ..."
    std::string_view why = e.message;
    if (const auto at = why.find("closed: "); at != std::string_view::npos)
      why.remove_prefix(at + 8);
    why = why.substr(0, why.find(';'));
    return make_error(errc::authentication_failed,
                      "the server at " + where() +
                          " refused the client certificate (it closed the connection before "
                          "answering HELLO: " +
                          std::string(why) +
                          ") — check that the cluster trusts its CA and that its name maps to an "
                          "existing user (couchbase.clientCertificate)");
  }

  bool mechanism_allowed(mcbp::sasl_mechanism m) const {
    if (!opts.sasl_mechanisms.empty() &&
        std::find(opts.sasl_mechanisms.begin(), opts.sasl_mechanisms.end(), m) ==
            opts.sasl_mechanisms.end())
      return false;
    return m != mcbp::sasl_mechanism::plain || opts.tls.enabled || opts.allow_plain_without_tls;
  }

  asio::awaitable<result<void>> authenticate(clock::time_point deadline) {
    auto list_req = mcbp::sasl_list_mechs_request{}.encode();
    auto list = co_await step(std::move(list_req), "SASL_LIST_MECHS", deadline);
    if (!list)
      co_return list.error();
    if (list->view().status() != mcbp::status::success)
      co_return unexpected(where(), "SASL_LIST_MECHS", list->view());
    const std::string offered_text(list->view().value);
    const auto offered = mcbp::parse_mechanism_list(offered_text);
    std::optional<mcbp::sasl_mechanism> chosen;
    for (auto m : mechanism_strength) {
      if (mechanism_allowed(m) && std::find(offered.begin(), offered.end(), m) != offered.end()) {
        chosen = m;
        break;
      }
    }
    if (!chosen) {
      std::string msg =
          "no usable SASL mechanism on " + where() + ": server offers '" + offered_text + "'";
      if (std::find(offered.begin(), offered.end(), mcbp::sasl_mechanism::plain) != offered.end() &&
          !opts.tls.enabled)
        msg += " (PLAIN is refused without TLS: enable TLS)";
      co_return make_error(errc::no_sasl_mechanism, std::move(msg));
    }
    mechanism = *chosen;
    const std::string name(mcbp::to_string(*chosen));
    auto auth_error = [&](const mcbp::frame& f) -> error {
      if (f.status() == mcbp::status::auth_error || f.status() == mcbp::status::auth_stale)
        return make_error(errc::authentication_failed, auth_failed_message(opts.username),
                          f.status());
      return unexpected(where(), "SASL", f);
    };

    if (*chosen == mcbp::sasl_mechanism::plain) {
      auto plain_req =
          mcbp::sasl_auth_request{name, mcbp::plain_auth_payload(opts.username, opts.password)}
              .encode();
      auto r = co_await step(std::move(plain_req), "SASL_AUTH", deadline);
      if (!r)
        co_return r.error();
      if (r->view().status() != mcbp::status::success)
        co_return auth_error(r->view());
      co_return result<void>{};
    }

    mcbp::scram_client scram{*chosen, opts.username, opts.password};
    auto first_req = mcbp::sasl_auth_request{name, scram.client_first()}.encode();
    auto first = co_await step(std::move(first_req), "SASL_AUTH", deadline);
    if (!first)
      co_return first.error();
    if (first->view().status() != mcbp::status::auth_continue)
      co_return auth_error(first->view());
    auto final_message = scram.client_final(first->view().value);
    if (!final_message)
      co_return make_error(errc::protocol_error, "bad SCRAM challenge from " + where() + ": " +
                                                     final_message.error().message());
    auto last_req = mcbp::sasl_step_request{name, *final_message}.encode();
    auto last = co_await step(std::move(last_req), "SASL_STEP", deadline);
    if (!last)
      co_return last.error();
    if (last->view().status() != mcbp::status::success)
      co_return auth_error(last->view());
    if (auto ec = scram.verify_server_final(last->view().value)) {
      if (ec == mcbp::errc::authentication_failed)
        co_return make_error(errc::authentication_failed, auth_failed_message(opts.username));
      // The server could not prove it knows the password: do not trust it (RFC 5802 §9).
      co_return make_error(errc::protocol_error,
                           "server " + where() + " failed SCRAM verification: " + ec.message());
    }
    co_return result<void>{};
  }

  // ---- shutdown ------------------------------------------------------------------------------

  // A request already written may have been acted on: its outcome is unknown (`ambiguous`), and
  // only its sender knows whether repeating it is safe. One never written was not applied.
  void complete_all(const error& e) {
    if (!ended_with)
      ended_with = e;
    auto waiting = std::move(in_flight);
    in_flight.clear();
    room_waiters.clear();
    for (auto& [opaque, p] : waiting) {
      if (p->written)
        p->outcome.emplace(make_error(errc::ambiguous,
                                      e.message + "; the request was sent, it may or may not "
                                                  "have been applied",
                                      e.status));
      else
        p->outcome.emplace(e);
      p->timer.cancel();
    }
  }

  void shut_socket() {
    error_code ignored;
    watchdog.cancel();
    resolver.cancel();
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    write_queue.clear();
    queued_bytes = 0;
  }

  void fail(const error& e) {
    if (!open)
      return;
    open = false;
    shut_socket();
    complete_all(e);
    auto on_close = std::move(close_handler);
    request_handler = nullptr;
    config_handler = nullptr;
    close_handler = nullptr;
    if (on_close)
      on_close(e);
  }

  void close() {
    const bool was_open = open;
    open = false;
    shut_socket();
    if (was_open)
      complete_all(make_error(errc::closed, "connection to " + where() + " was closed"));
    request_handler = nullptr;
    config_handler = nullptr;
    close_handler = nullptr;
  }
};

asio::awaitable<result<std::shared_ptr<connection>>> connection::open(executor_type ex,
                                                                      connection_options options) {
  if (!options.tls.client_keystore.empty() && !options.tls.enabled)
    co_return make_error(errc::invalid_argument,
                         "a client certificate needs TLS (couchbase.secureConnection = true)");
  auto p = std::make_shared<impl>(std::move(ex), std::move(options));
  if (auto r = co_await p->connect(); !r) {
    p->close();
    co_return r.error();
  }
  p->open = true;
  p->spawn_loop(impl::read_loop(p), "read");
  if (auto r = co_await p->bootstrap(); !r) {
    p->close();
    co_return r.error();
  }
  co_return std::shared_ptr<connection>(new connection(std::move(p)));
}

connection::connection(std::shared_ptr<impl> p) : impl_(std::move(p)) {}

connection::~connection() {
  impl_->close();
}

asio::awaitable<result<mcbp::owned_frame>> connection::execute(mcbp::frame_builder request,
                                                               clock::duration timeout) {
  auto p = impl_;
  co_return co_await p->execute(std::move(request), timeout);
}

void connection::send(std::string bytes) {
  impl_->send(std::move(bytes));
}

std::uint32_t connection::next_opaque() noexcept {
  return impl_->next_opaque();
}

void connection::on_request(std::function<void(const mcbp::frame&)> handler) {
  impl_->request_handler = std::move(handler);
}

void connection::on_config(std::function<void(std::string)> handler) {
  impl_->config_handler = std::move(handler);
}

void connection::on_close(std::function<void(const error&)> handler) {
  impl_->close_handler = std::move(handler);
}

const std::string& connection::bootstrap_config() const noexcept {
  return impl_->config;
}

bool connection::has_feature(mcbp::feature f) const noexcept {
  return std::find(impl_->agreed.begin(), impl_->agreed.end(), f) != impl_->agreed.end();
}

mcbp::sasl_mechanism connection::mechanism() const noexcept {
  return impl_->mechanism;
}

const endpoint& connection::address() const noexcept {
  return impl_->opts.address;
}

const connection::executor_type& connection::get_executor() const noexcept {
  return impl_->ex;
}

bool connection::certificate_authenticated() const noexcept {
  return impl_->certificate_auth();
}

bool connection::is_open() const noexcept {
  return impl_->open;
}

std::size_t connection::queued_bytes() const noexcept {
  return impl_->queued_bytes;
}

connection::clock::time_point connection::last_received() const noexcept {
  return clock::time_point(clock::duration(impl_->last_receive.load(std::memory_order_relaxed)));
}

void connection::close() {
  impl_->close();
}

}  // namespace cbes::couchbase
