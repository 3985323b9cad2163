#include "kv_session.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>

#include <algorithm>

#include "../client_certificate.hpp"
#include "cbes/mcbp/cluster_config.hpp"
#include "cbes/mcbp/collection_key.hpp"
#include "cbes/mcbp/collections_manifest.hpp"
#include "cbes/mcbp/datatype.hpp"
#include "cbes/mcbp/document.hpp"
#include "cbes/mcbp/error_map.hpp"
#include "cbes/mcbp/frame_builder.hpp"
#include "cbes/mcbp/frame_info.hpp"
#include "cbes/mcbp/hello.hpp"
#include "cbes/mcbp/parser.hpp"
#include "cbes/mcbp/sasl.hpp"
#include "cbes/mcbp/select_bucket.hpp"
#include "cbes/mcbp/snappy.hpp"
#include "cbes/mcbp/subdoc.hpp"
#include "cbes/mcbp/vbucket_seqnos.hpp"
#include "cbes/mcbp/xattr.hpp"
#include "error_map_json.hpp"
#include "subdoc_engine.hpp"

namespace cbes::testkit::couchbase {

namespace asio = boost::asio;
using mcbp::feature;
using mcbp::frame_builder;
using mcbp::opcode;
using mcbp::status;

namespace {

// Largest request body the fake accepts: 20 MiB documents plus xattrs and key.
constexpr std::size_t max_request_body = 21 * 1024 * 1024;

// Features this fake agrees to in HELLO. Tracing, UnorderedExecution, SnappyEverywhere,
// the Brief/known-version config variants and sync replication are not implemented, so they
// are never acked.
constexpr feature supported_features[] = {
    feature::tcp_nodelay,
    feature::mutation_seqno,
    feature::xattr,
    feature::xerror,
    feature::select_bucket,
    feature::snappy,
    feature::json,
    feature::duplex,
    feature::clustermap_change_notification,
    feature::alt_request_support,
    feature::collections,
    feature::preserve_ttl,
    feature::vattr,
    feature::subdoc_create_as_deleted,
    feature::subdoc_document_macro_support,
};

bool is_data_op(opcode op) {
  switch (op) {
    case opcode::get:
    case opcode::set:
    case opcode::add:
    case opcode::replace:
    case opcode::remove:
    case opcode::touch:
    case opcode::get_and_touch:
    case opcode::subdoc_multi_lookup:
    case opcode::subdoc_multi_mutation:
      return true;
    default:
      return false;
  }
}

std::string u64_be(std::uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8)
    out[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
  return out;
}

std::string simple(const mcbp::frame& f, status s, std::string_view value = {},
                   std::uint8_t datatype = 0, std::uint64_t cas = 0) {
  return frame_builder::response(f.opcode(), s)
      .opaque(f.opaque())
      .value(value)
      .datatype(datatype)
      .cas(cas)
      .build();
}

}  // namespace

kv_session::kv_session(server_context& ctx, std::size_t node, asio::ip::tcp::socket socket,
                       asio::ssl::context* tls)
    : ctx_(ctx), node_(node), socket_(socket.get_executor()), wake_(socket.get_executor()) {
  if (tls)
    tls_.emplace(std::move(socket), *tls);
  else
    socket_ = std::move(socket);
  wake_.expires_at(asio::steady_timer::time_point::max());
}

void kv_session::start() {
  auto self = shared_from_this();
  asio::co_spawn(lowest().get_executor(), run(), [self](std::exception_ptr) { self->close(); });
}

void kv_session::close() {
  if (closed_)
    return;
  closed_ = true;
  boost::system::error_code ec;
  lowest().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  lowest().close(ec);
  wake_.cancel();
  ctx_.sessions.erase(shared_from_this());
}

void kv_session::enqueue(std::string bytes) {
  if (closed_ || bytes.empty())
    return;
  outbox_bytes_ += bytes.size();
  outbox_.push_back(std::move(bytes));
  wake_.cancel();
}

asio::awaitable<std::size_t> kv_session::read_some(char* data, std::size_t size) {
  if (tls_)
    co_return co_await tls_->async_read_some(asio::buffer(data, size), asio::use_awaitable);
  co_return co_await socket_.async_read_some(asio::buffer(data, size), asio::use_awaitable);
}

asio::awaitable<void> kv_session::write_loop() {
  while (!closed_) {
    if (outbox_.empty()) {
      if (close_when_flushed_) {
        close();
        co_return;
      }
      if (dcp_) {
        dcp_->pump();  // the socket drained: a DCP producer may send more
        if (!outbox_.empty() || closed_)
          continue;
      }
      boost::system::error_code ec;
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    std::string next = std::move(outbox_.front());
    outbox_.pop_front();
    outbox_bytes_ -= next.size();
    if (tls_)
      co_await asio::async_write(*tls_, asio::buffer(next), asio::use_awaitable);
    else
      co_await asio::async_write(socket_, asio::buffer(next), asio::use_awaitable);
  }
}

asio::awaitable<void> kv_session::run() {
  auto self = shared_from_this();
  if (tls_) {
    co_await tls_->async_handshake(asio::ssl::stream_base::server, asio::use_awaitable);
    if (!authenticate_certificate()) {
      close();
      co_return;
    }
  }
  asio::co_spawn(lowest().get_executor(), write_loop(),
                 [self](std::exception_ptr) { self->close(); });
  mcbp::parser parser{max_request_body};
  std::string buffer(64 * 1024, '\0');
  asio::steady_timer delay_timer(lowest().get_executor());
  while (!closed_) {
    std::size_t n = co_await read_some(buffer.data(), buffer.size());
    parser.feed(std::string_view(buffer.data(), n));
    for (;;) {
      auto next = parser.next();
      if (!next || closed_) {
        close();  // a byte stream that lies about lengths cannot be resynchronised
        co_return;
      }
      if (!*next)
        break;
      std::string reply = handle(**next);
      if (auto d = ctx_.delay_ms.load(); d > 0 && !reply.empty()) {
        // The parser's views die with the next parser call only; the reply is already built.
        delay_timer.expires_after(std::chrono::milliseconds(d));
        boost::system::error_code ec;
        co_await delay_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      enqueue(std::move(reply));
      if (close_after_) {
        // Let the write loop flush what is queued, then close.
        while (!outbox_.empty() && !closed_) {
          delay_timer.expires_after(std::chrono::milliseconds(5));
          boost::system::error_code ec;
          co_await delay_timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        }
        close();
        co_return;
      }
    }
  }
}

bool kv_session::authenticate_certificate() {
  const std::string cn = detail::verified_client_cn(tls_->native_handle());
  if (cn.empty())
    return true;  // no certificate: SASL as usual
  std::lock_guard lock(ctx_.state.mutex);
  if (ctx_.state.users.find(cn) == ctx_.state.users.end())
    return false;  // kv_engine: "User [cn] not defined in Couchbase", disconnect
  user_ = cn;
  certificate_user_ = true;
  return true;
}

void kv_session::close_when_flushed() {
  close_when_flushed_ = true;
  wake_.cancel();
}

void kv_session::notify_config() {
  if (closed_ || bucket_.empty() || !has(feature::duplex) ||
      !has(feature::clustermap_change_notification))
    return;
  std::lock_guard lock(ctx_.state.mutex);
  auto* b = ctx_.state.find_bucket(bucket_);
  if (!b || ctx_.state.rev <= pushed_rev_)
    return;
  pushed_rev_ = ctx_.state.rev;
  mcbp::clustermap_change_notification push;
  push.version = {ctx_.state.rev_epoch, ctx_.state.rev};
  push.bucket = bucket_;
  push.config = ctx_.state.bucket_config_json(*b, "$HOST", node_);
  enqueue(push.encode().build());
}

std::string kv_session::handle(const mcbp::frame& f) {
  if (dcp_)
    dcp_->on_receive();
  if (f.is_response()) {
    if (dcp_)
      dcp_->on_response(f);  // NOOP replies, marker acks
    return {};               // 0x83 answers to our pushes, or stray responses: nothing to say
  }
  if (f.magic() == mcbp::magic::server_request) {
    close_after_ = true;  // only servers send 0x82
    return {};
  }
  std::lock_guard lock(ctx_.state.mutex);
  return handle_locked(f);
}

std::string kv_session::error(const mcbp::frame& f, status s, std::string_view context) {
  if (!has(feature::xerror)) {
    // without XERROR these are answered by closing the connection.
    if (s == status::eaccess || s == status::no_bucket || s == status::auth_stale) {
      close_after_ = true;
      return {};
    }
    if (s == status::locked)
      s = status::key_eexists;
    if ((s == status::unknown_collection || s == status::unknown_scope) &&
        !has(feature::collections))
      s = status::einval;
    return simple(f, s);
  }
  if (context.empty())
    return simple(f, s);
  boost::json::object o{{"error", boost::json::object{{"context", context}}}};
  return simple(f, s, boost::json::serialize(o), mcbp::datatype::json);
}

std::string kv_session::not_my_vbucket(const mcbp::frame& f, const bucket_state& b) {
  auto cfg = ctx_.state.bucket_config_json(b, "$HOST", node_);
  return simple(f, status::not_my_vbucket, cfg, has(feature::json) ? mcbp::datatype::json : 0);
}

std::string kv_session::unknown_collection(const mcbp::frame& f, const bucket_state& b, status s) {
  if (!has(feature::xerror) || !has(feature::collections))
    return error(f, s);
  boost::json::object o{{"manifest_uid", mcbp::format_hex_id(b.manifest.uid)}};
  return simple(f, s, boost::json::serialize(o), mcbp::datatype::json);
}

std::string kv_session::handle_locked(const mcbp::frame& f) {
  switch (f.opcode()) {
    case opcode::hello:
      return handle_hello(f);
    case opcode::noop:
      return simple(f, status::success);
    case opcode::version:
      return simple(f, status::success, ctx_.state.options().version);
    case opcode::sasl_list_mechs:
      // strongest first, no dash between SHA and the digits.
      return simple(f, status::success, "SCRAM-SHA512 SCRAM-SHA256 SCRAM-SHA1 PLAIN");
    case opcode::sasl_auth:
    case opcode::sasl_step:
      return handle_sasl(f);
    case opcode::get_error_map: {
      auto req = mcbp::get_error_map_request::decode(f);
      if (!req || req->version == 0)
        return error(f, status::einval, "GET_ERROR_MAP needs a u16 version");
      return simple(f, status::success, error_map_json(req->version), 0);
    }
    default:
      break;
  }
  if (user_.empty())
    return error(f, status::eaccess, "Authenticate first (SASL_AUTH)");
  switch (f.opcode()) {
    case opcode::select_bucket:
      return handle_select_bucket(f);
    case opcode::get_cluster_config:
      return handle_cluster_config(f);
    default:
      break;
  }
  auto* b = bucket_.empty() ? nullptr : ctx_.state.find_bucket(bucket_);
  if (!b) {
    if (mcbp::is_dcp(f.opcode()) || is_data_op(f.opcode()) ||
        f.opcode() == opcode::get_collections_manifest || f.opcode() == opcode::get_collection_id ||
        f.opcode() == opcode::get_all_vb_seqnos || f.opcode() == opcode::observe_seqno ||
        f.opcode() == opcode::get_failover_log)
      return error(f, status::no_bucket, "Select a bucket first (SELECT_BUCKET)");
    return error(f, status::unknown_command);
  }
  if (f.opcode() == opcode::dcp_open)
    return dcp_producer::open(*this, f);
  if (mcbp::is_dcp(f.opcode())) {
    // DCP opcodes other than DCP_OPEN need a DCP connection.
    if (!dcp_)
      return error(f, status::einval, "Not a DCP connection (DCP_OPEN first)");
    return dcp_->handle(f, *b);
  }
  switch (f.opcode()) {
    case opcode::get_collections_manifest:
      return simple(f, status::success, mcbp::to_json(b->manifest),
                    has(feature::json) ? mcbp::datatype::json : 0);
    case opcode::get_collection_id:
      return handle_collection_id(f, *b);
    case opcode::get_all_vb_seqnos:
      return handle_all_vb_seqnos(f, *b);
    case opcode::observe_seqno:
      return handle_observe_seqno(f, *b);
    case opcode::get_failover_log:
      return handle_failover_log(f, *b);
    default:
      break;
  }
  if (is_data_op(f.opcode())) {
    auto reply = handle_document(f, *b);
    if (ctx_.state.drop_after_apply_remaining > 0) {
      --ctx_.state.drop_after_apply_remaining;
      close_after_ = true;  // applied, never answered
      return {};
    }
    return reply;
  }
  return error(f, status::unknown_command);
}

std::string kv_session::handle_hello(const mcbp::frame& f) {
  auto req = mcbp::hello_request::decode(f);
  if (!req)
    return error(f, status::einval, "HELLO value must be a list of u16 features");
  // dependent features without Duplex are an error.
  if ((req->has(feature::clustermap_change_notification) ||
       req->has(feature::clustermap_change_notification_brief)) &&
      !req->has(feature::duplex))
    return error(f, status::einval, "ClustermapChangeNotification requires Duplex");
  if (req->has(feature::vattr) && !req->has(feature::xattr))
    return error(f, status::einval, "VAttr requires XATTR");
  features_.clear();  // HELLO resets everything negotiated before
  mcbp::hello_response resp;
  for (auto x : req->features) {
    bool ok = std::find(std::begin(supported_features), std::end(supported_features), x) !=
              std::end(supported_features);
    if (ok && features_.insert(x).second)
      resp.features.push_back(x);
  }
  return resp.encode().opaque(f.opaque()).build();
}

std::string kv_session::handle_sasl(const mcbp::frame& f) {
  if (certificate_user_)
    return error(f, status::not_supported, "SASL is disabled: authenticated by certificate");
  std::optional<mcbp::sasl_auth_request> req;
  if (f.opcode() == opcode::sasl_auth) {
    if (auto r = mcbp::sasl_auth_request::decode(f))
      req = std::move(*r);
  } else if (auto r = mcbp::sasl_step_request::decode(f)) {
    req = mcbp::sasl_auth_request{std::move(r->mechanism), std::move(r->payload)};
  }
  if (!req)
    return error(f, status::einval, "SASL needs a mechanism key");
  auto mech = mcbp::parse_sasl_mechanism(req->mechanism);
  if (!mech)
    return error(f, status::einval, "Unknown SASL mechanism");
  auto& state = ctx_.state;
  if (*mech == mcbp::sasl_mechanism::plain) {
    auto creds = mcbp::parse_plain_auth_payload(req->payload);
    auto it = creds ? state.users.find(creds->username) : state.users.end();
    if (it == state.users.end() || it->second.password != creds->password)
      return simple(f, status::auth_error);
    user_ = creds->username;
    return simple(f, status::success);
  }
  if (f.opcode() == opcode::sasl_auth) {
    user_.clear();
    scram_.emplace(
        *mech,
        [&state, m = *mech](std::string_view name) -> std::optional<mcbp::scram_credentials> {
          auto it = state.users.find(name);
          if (it == state.users.end())
            return std::nullopt;
          return it->second.scram.at(m);
        });
    auto challenge = scram_->server_first(req->payload);
    if (!challenge) {
      scram_.reset();
      return simple(f, status::auth_error);
    }
    return simple(f, status::auth_continue, *challenge);
  }
  if (!scram_ || scram_->username().empty())
    return simple(f, status::auth_error);
  auto verdict = scram_->server_final(req->payload);
  if (!verdict) {
    scram_.reset();
    return simple(f, status::auth_error);
  }
  user_ = scram_->username();
  scram_.reset();
  return simple(f, status::success, *verdict);
}

std::string kv_session::handle_select_bucket(const mcbp::frame& f) {
  auto req = mcbp::select_bucket_request::decode(f);
  if (!req)
    return error(f, status::einval, "SELECT_BUCKET needs the bucket name as key");
  if (req->bucket == mcbp::no_bucket_name) {
    bucket_.clear();
    return simple(f, status::success);
  }
  auto& user = ctx_.state.users.at(user_);
  if (!user.may_access(req->bucket))
    return error(f, status::eaccess, "No access to bucket " + req->bucket);
  if (!ctx_.state.find_bucket(req->bucket))
    return error(f, status::key_enoent, "No such bucket " + req->bucket);
  bucket_ = req->bucket;
  pushed_rev_ = 0;
  return simple(f, status::success);
}

std::string kv_session::handle_cluster_config(const mcbp::frame& f) {
  auto req = mcbp::get_cluster_config_request::decode(f);
  if (!req)
    return error(f, status::einval, "GET_CLUSTER_CONFIG takes no key/value");
  auto& state = ctx_.state;
  if (req->known && !(req->known->epoch < state.rev_epoch ||
                      (req->known->epoch == state.rev_epoch && req->known->revision < state.rev)))
    return simple(f, status::success);
  auto* b = bucket_.empty() ? nullptr : state.find_bucket(bucket_);
  std::string cfg =
      b ? state.bucket_config_json(*b, "$HOST", node_) : state.global_config_json(node_);
  if (b)
    pushed_rev_ = std::max(pushed_rev_, state.rev);
  return simple(f, status::success, cfg, mcbp::datatype::json);
}

std::string kv_session::handle_collection_id(const mcbp::frame& f, bucket_state& b) {
  auto req = mcbp::get_collection_id_request::decode(f);
  if (!req)
    return error(f, status::einval, "GET_COLLECTION_ID needs scope.collection");
  auto path = split_collection_path(req->path);
  std::string scope = path ? path->first : "_default";
  std::string coll = path ? path->second : req->path;
  if (scope.empty())
    scope = "_default";
  if (coll.empty())
    coll = "_default";
  if (!b.manifest.scope_id(scope))
    return unknown_collection(f, b, status::unknown_scope);
  auto cid = b.manifest.collection_id(scope, coll);
  if (!cid)
    return unknown_collection(f, b);
  return mcbp::get_collection_id_response{b.manifest.uid, *cid}.encode().opaque(f.opaque()).build();
}

std::string kv_session::handle_all_vb_seqnos(const mcbp::frame& f, bucket_state& b) {
  auto req = mcbp::get_all_vb_seqnos_request::decode(f);
  if (!req)
    return error(f, status::einval, "GET_ALL_VB_SEQNOS extras must be 0, 4 or 8 bytes");
  auto want = req->state.value_or(mcbp::vbucket_state::alive);
  mcbp::get_all_vb_seqnos_response resp;
  for (std::size_t vb = 0; vb < b.num_vbuckets(); ++vb) {
    const auto& row = b.vbucket_map[vb];
    auto pos = std::find(row.begin(), row.end(), static_cast<int>(node_));
    if (pos == row.end())
      continue;
    bool active = pos == row.begin();
    if ((want == mcbp::vbucket_state::active && !active) ||
        (want == mcbp::vbucket_state::replica && active) || want == mcbp::vbucket_state::pending ||
        want == mcbp::vbucket_state::dead)
      continue;
    std::uint64_t seqno = b.vbuckets[vb].high_seqno();
    if (req->collection_id) {
      if (!b.collection(*req->collection_id))
        return unknown_collection(f, b);
      seqno = 0;
      for (const auto& [s, it] : b.vbuckets[vb].history())
        if (it.id.collection_id == *req->collection_id)
          seqno = s;
    }
    resp.entries.push_back({static_cast<std::uint16_t>(vb), seqno});
  }
  return resp.encode().opaque(f.opaque()).build();
}

std::string kv_session::handle_observe_seqno(const mcbp::frame& f, bucket_state& b) {
  auto req = mcbp::observe_seqno_request::decode(f);
  if (!req)
    return error(f, status::einval, "OBSERVE_SEQNO value must be a u64 vbucket uuid");
  std::uint16_t vb = f.vbucket();
  if (vb >= b.num_vbuckets())
    return not_my_vbucket(f, b);
  const auto& row = b.vbucket_map[vb];
  if (std::find(row.begin(), row.end(), static_cast<int>(node_)) == row.end())
    return not_my_vbucket(f, b);
  const auto& store = b.vbuckets[vb];
  const auto& log = store.failover_log();
  mcbp::observe_seqno_response resp;
  resp.vbucket = vb;
  resp.vbucket_uuid = store.uuid();
  resp.current_seqno = store.high_seqno();
  resp.last_persisted_seqno =
      row[0] == static_cast<int>(node_) ? store.high_seqno() : store.replicated_seqno();
  for (std::size_t i = 0; i < log.size(); ++i) {
    if (log[i].uuid != req->vbucket_uuid)
      continue;
    if (i > 0)  // format 1: the branch ended where the next-newer entry starts
      resp.hard_failover = mcbp::observe_seqno_response::failover{log[i].uuid, log[i - 1].seqno};
    return resp.encode().opaque(f.opaque()).build();
  }
  return error(f, status::key_enoent, "vbucket uuid not in the failover log");
}

std::string kv_session::handle_failover_log(const mcbp::frame& f, bucket_state& b) {
  std::uint16_t vb = f.vbucket();
  if (vb >= b.num_vbuckets())
    return not_my_vbucket(f, b);
  const auto& row = b.vbucket_map[vb];
  if (std::find(row.begin(), row.end(), static_cast<int>(node_)) == row.end())
    return not_my_vbucket(f, b);
  std::string value;
  for (const auto& e : b.vbuckets[vb].failover_log())
    value += u64_be(e.uuid) + u64_be(e.seqno);
  return simple(f, status::success, value);
}

// ------------------------------------------------------------------------------ documents

std::string kv_session::value_out(const item& doc, std::string_view body,
                                  std::uint8_t& datatype) const {
  datatype = doc.json && has(feature::json) ? mcbp::datatype::json : 0;
  std::string out(body);
  // Values worth compressing go out Snappy-compressed once the client accepts Snappy.
  if (has(feature::snappy) && out.size() >= 64) {
    auto small = mcbp::snappy_compress(out);
    if (small.size() < out.size()) {
      datatype |= mcbp::datatype::snappy;
      out = std::move(small);
    }
  }
  return out;
}

std::string kv_session::document_found(const mcbp::frame& f, const item& doc) const {
  mcbp::get_response resp;
  resp.flags = doc.flags;
  resp.cas = doc.cas;
  resp.value = value_out(doc, doc.body, resp.datatype);
  return resp.encode(f.opcode()).opaque(f.opaque()).build();
}

std::string kv_session::mutation_done(const mcbp::frame& f, const bucket_state& b, std::uint16_t vb,
                                      const item& stored) {
  mcbp::mutation_response resp{stored.cas, std::nullopt};
  if (has(feature::mutation_seqno))
    resp.token = mcbp::mutation_token{b.vbuckets[vb].uuid(), stored.seqno};
  return resp.encode(f.opcode()).opaque(f.opaque()).build();
}

std::string kv_session::handle_document(const mcbp::frame& f, bucket_state& b) {
  auto& state = ctx_.state;
  if (state.fail_ops_remaining > 0) {
    --state.fail_ops_remaining;
    return error(f, static_cast<status>(state.fail_ops_status), "injected failure");
  }
  // Request datatype bits must have been negotiated.
  if ((mcbp::has(f.datatype(), mcbp::datatype::snappy) && !has(feature::snappy)) ||
      (mcbp::has(f.datatype(), mcbp::datatype::xattr) && !has(feature::xattr)))
    return error(f, status::einval, "datatype not negotiated in HELLO");
  std::uint16_t vb = f.vbucket();
  if (vb >= b.num_vbuckets() || b.vbucket_map[vb].empty() ||
      b.vbucket_map[vb][0] != static_cast<int>(node_))
    return not_my_vbucket(f, b);
  doc_key id;
  if (has(feature::collections)) {
    auto k = mcbp::decode_collection_key(f.key);
    if (!k)
      return error(f, status::einval, "key lacks a valid LEB128 collection id");
    id = {k->collection_id, std::string(k->key)};
  } else {
    id = {mcbp::default_collection_id, std::string(f.key)};
  }
  if (id.key.empty() || id.key.size() > 250)
    return error(f, status::einval, "key must be 1..250 bytes");
  if (!b.collection(id.collection_id))
    return unknown_collection(f, b);
  switch (f.opcode()) {
    case opcode::get:
      return handle_get(f, b, vb, id);
    case opcode::set:
    case opcode::add:
    case opcode::replace:
      return handle_store(f, b, vb, id);
    case opcode::remove:
      return handle_remove(f, b, vb, id);
    case opcode::touch:
    case opcode::get_and_touch:
      return handle_touch(f, b, vb, id);
    case opcode::subdoc_multi_lookup:
      return handle_lookup_in(f, b, vb, id);
    case opcode::subdoc_multi_mutation:
      return handle_mutate_in(f, b, vb, id);
    default:
      return error(f, status::unknown_command);
  }
}

std::string kv_session::handle_get(const mcbp::frame& f, bucket_state& b, std::uint16_t vb,
                                   const doc_key& id) {
  if (!f.extras.empty() || !f.value.empty())
    return error(f, status::einval, "GET takes only a key");
  const item* doc = ctx_.state.live_document(b, vb, id);
  if (!doc)
    return error(f, status::key_enoent);
  return document_found(f, *doc);
}

std::string kv_session::handle_store(const mcbp::frame& f, bucket_state& b, std::uint16_t vb,
                                     const doc_key& id) {
  auto req = mcbp::store_request::decode(f);
  if (!req)
    return error(f, status::einval, "SET/ADD/REPLACE need 8 bytes of extras");
  const auto& rq = req.value();
  auto& state = ctx_.state;
  auto value = mcbp::inflate_value(f.datatype(), f.value, max_request_body);
  if (!value)
    return error(f, status::einval, "value is not valid Snappy");
  item next;
  next.id = id;
  if (mcbp::has(f.datatype(), mcbp::datatype::xattr)) {
    auto doc = mcbp::decode_xattrs(*value);
    if (!doc)
      return error(f, status::xattr_einval, "xattr section is malformed");
    for (const auto& x : doc->xattrs)
      next.xattrs.push_back({std::string(x.key), std::string(x.value)});
    next.body = std::string(doc->body);
  } else {
    next.body = std::move(*value);
  }
  next.json = is_json(next.body);
  next.flags = rq.flags;
  next.expiry = state.absolute_expiry(rq.expiry);
  const item* cur = state.live_document(b, vb, id);
  auto op = rq.operation;
  if (op == mcbp::store_operation::add && cur)
    return error(f, status::key_eexists);
  if (op == mcbp::store_operation::replace && !cur)
    return error(f, status::key_enoent);
  if (rq.cas != 0) {
    if (!cur)
      return error(f, status::key_enoent);
    if (cur->cas != rq.cas)
      return error(f, status::key_eexists, "CAS mismatch");
  }
  if (cur && mcbp::find_frame_info(f.framing_extras, mcbp::request_frame_info::preserve_ttl))
    next.expiry = cur->expiry;
  // A full-document write without an xattr section keeps the system xattrs (keys starting with
  // '_') and drops the user ones, as kv_engine's mutation path does.
  if (cur && !mcbp::has(f.datatype(), mcbp::datatype::xattr))
    for (const auto& x : cur->xattrs)
      if (!x.key.empty() && x.key.front() == '_')
        next.xattrs.push_back(x);
  next.cas = state.next_cas();
  const item& stored = state.write(b, vb, std::move(next));
  return mutation_done(f, b, vb, stored);
}

std::string kv_session::handle_remove(const mcbp::frame& f, bucket_state& b, std::uint16_t vb,
                                      const doc_key& id) {
  auto req = mcbp::remove_request::decode(f);
  if (!req)
    return error(f, status::einval, "DELETE takes a key and no extras");
  const auto& rq = req.value();
  const item* cur = ctx_.state.live_document(b, vb, id);
  if (!cur)
    return error(f, status::key_enoent);
  if (rq.cas != 0 && rq.cas != cur->cas)
    return error(f, status::key_eexists, "CAS mismatch");
  const item& stored = ctx_.state.tombstone(b, vb, *cur, item_kind::deletion);
  return mutation_done(f, b, vb, stored);
}

std::string kv_session::handle_touch(const mcbp::frame& f, bucket_state& b, std::uint16_t vb,
                                     const doc_key& id) {
  if (f.extras.size() != 4)
    return error(f, status::einval, "TOUCH / GAT need 4 bytes of extras");
  std::uint32_t expiry = 0;
  for (char c : f.extras)
    expiry = (expiry << 8) | static_cast<unsigned char>(c);
  auto& state = ctx_.state;
  const item* cur = state.live_document(b, vb, id);
  if (!cur)
    return error(f, status::key_enoent);
  item next = *cur;
  next.expiry = state.absolute_expiry(expiry);
  next.cas = state.next_cas();
  const item& stored = state.write(b, vb, std::move(next));
  if (f.opcode() == opcode::touch)
    return mutation_done(f, b, vb, stored);
  return document_found(f, stored);
}

std::string kv_session::handle_lookup_in(const mcbp::frame& f, bucket_state& b, std::uint16_t vb,
                                         const doc_key& id) {
  auto req = mcbp::subdoc_multi_lookup_request::decode(f);
  if (!req || req.value().specs.empty() || req.value().specs.size() > 16)
    return error(f, status::einval, "SUBDOC_MULTI_LOOKUP needs 1..16 specs");
  const auto& rq = req.value();
  auto& state = ctx_.state;
  const item* doc = state.live_document(b, vb, id);
  if (!doc && (rq.doc_flags & mcbp::subdoc_doc_flag::access_deleted)) {
    const item* t = b.vbuckets[vb].find(id);
    doc = t && t->deleted() ? t : nullptr;
  }
  if (!doc)
    return error(f, status::key_enoent);
  for (const auto& s : rq.specs)
    if ((s.flags & mcbp::subdoc_path_flag::xattr) && !has(feature::xattr))
      return error(f, status::einval, "xattr paths need HELLO XATTR");
  auto out = run_lookup(*doc, rq.specs, {vb, b.vbuckets[vb].uuid(), state.now()});
  mcbp::subdoc_multi_lookup_response resp;
  resp.results = std::move(out.results);
  resp.cas = doc->cas;
  return resp.encode(out.status).opaque(f.opaque()).build();
}

std::string kv_session::handle_mutate_in(const mcbp::frame& f, bucket_state& b, std::uint16_t vb,
                                         const doc_key& id) {
  auto req = mcbp::subdoc_multi_mutation_request::decode(f);
  if (!req || req.value().specs.empty() || req.value().specs.size() > 16)
    return error(f, status::einval, "SUBDOC_MULTI_MUTATION needs 1..16 specs");
  const auto& rq = req.value();
  namespace flag = mcbp::subdoc_doc_flag;
  if ((rq.doc_flags & flag::mkdoc) && (rq.doc_flags & flag::add))
    return error(f, status::einval, "Mkdoc and Add are exclusive");
  for (const auto& s : rq.specs)
    if ((s.flags & mcbp::subdoc_path_flag::xattr) && !has(feature::xattr))
      return error(f, status::einval, "xattr paths need HELLO XATTR");
  auto& state = ctx_.state;
  const item* cur = state.live_document(b, vb, id);
  bool on_tombstone = false;
  if (!cur && (rq.doc_flags & flag::access_deleted)) {
    const item* t = b.vbuckets[vb].find(id);
    if (t && t->deleted()) {
      cur = t;
      on_tombstone = true;
    }
  }
  if (cur && (rq.doc_flags & flag::add) && !on_tombstone)
    return error(f, status::key_eexists);
  item work;
  if (cur) {
    if (rq.cas != 0 && rq.cas != cur->cas)
      return error(f, status::key_eexists, "CAS mismatch");
    work = *cur;
  } else {
    if (rq.cas != 0 || !(rq.doc_flags & (flag::mkdoc | flag::add)))
      return error(f, status::key_enoent);
    work.id = id;
    work.body = "{}";
    work.json = true;
  }
  if (on_tombstone && work.body.empty()) {
    work.body = "{}";
    work.json = true;
  }
  std::uint64_t new_cas = state.next_cas();
  auto out = run_mutation(work, rq.specs, new_cas, b.vbuckets[vb].high_seqno() + 1);
  if (out.status != status::success) {
    mcbp::subdoc_multi_mutation_response resp;
    if (out.status == status::subdoc_multi_path_failure)
      resp.results.push_back({out.failed_index, out.failed_status, {}});
    return resp.encode(out.status).opaque(f.opaque()).build();
  }
  const item* stored = nullptr;
  bool stays_deleted = (on_tombstone && !(rq.doc_flags & flag::revive_document)) ||
                       (!cur && (rq.doc_flags & flag::create_as_deleted));
  if (out.delete_document) {
    if (!cur || on_tombstone)
      return error(f, status::key_enoent);
    work.cas = new_cas;
    stored = &state.tombstone(b, vb, work, item_kind::deletion);
  } else {
    work.kind = stays_deleted ? item_kind::deletion : item_kind::mutation;
    if (stays_deleted) {
      work.body.clear();
      work.delete_time = state.now();
    }
    work.cas = new_cas;
    bool preserve = cur && !on_tombstone &&
                    mcbp::find_frame_info(f.framing_extras, mcbp::request_frame_info::preserve_ttl);
    work.expiry = rq.expiry ? state.absolute_expiry(*rq.expiry) : (preserve ? cur->expiry : 0);
    stored = &state.write(b, vb, std::move(work));
  }
  mcbp::subdoc_multi_mutation_response resp;
  resp.results = std::move(out.results);
  resp.cas = stored->cas;
  if (has(feature::mutation_seqno))
    resp.token = mcbp::mutation_token{b.vbuckets[vb].uuid(), stored->seqno};
  return resp.encode(stays_deleted ? status::subdoc_success_deleted : status::success)
      .opaque(f.opaque())
      .build();
}

}  // namespace cbes::testkit::couchbase
