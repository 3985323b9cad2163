#pragma once
// A small synchronous DCP consumer for driving the fake cluster's producer byte by byte with the
// codec (libcbes mcbp/dcp.hpp): requests get their response by opaque, P→C stream messages are
// queued, DCP_NOOPs are answered (unless told not to). Reads use poll() with a timeout so a test
// can observe that the producer sends nothing (flow-control stall).
#include <poll.h>

#include <boost/asio.hpp>

#include <catch2/catch.hpp>
#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cbes/mcbp/collection_key.hpp"
#include "cbes/mcbp/dcp.hpp"
#include "cbes/mcbp/frame.hpp"
#include "cbes/mcbp/frame_builder.hpp"
#include "cbes/mcbp/hello.hpp"
#include "cbes/mcbp/parser.hpp"
#include "cbes/mcbp/sasl.hpp"
#include "cbes/mcbp/scram.hpp"
#include "cbes/mcbp/select_bucket.hpp"
#include "cbes/testkit/couchbase_cluster.hpp"

// Catch2 would otherwise pick boost::system::result's operator<<, which needs a printable T.
namespace Catch {
template <class T>
struct StringMaker<boost::system::result<T>> {
  static std::string convert(const boost::system::result<T>& r) {
    return r ? std::string("result(value)") : "result(error: " + r.error().message() + ")";
  }
};
}  // namespace Catch

namespace dcp_test {

namespace asio = boost::asio;
using namespace cbes::mcbp;
using namespace std::chrono_literals;
using cbes::testkit::couchbase_cluster;
using cbes::testkit::couchbase_cluster_options;

inline couchbase_cluster_options fake_options(std::size_t nodes = 1, std::uint16_t vbuckets = 16,
                                              int replicas = 0) {
  couchbase_cluster_options o;
  o.nodes = nodes;
  o.buckets = {cbes::testkit::couchbase_bucket_options{"default", vbuckets, replicas}};
  o.scram_iterations = 64;
  return o;
}

inline std::vector<feature> dcp_features(bool collections = true) {
  std::vector<feature> f{feature::xerror, feature::select_bucket, feature::json, feature::xattr,
                         feature::snappy};
  if (collections)
    f.push_back(feature::collections);
  return f;
}

class dcp_client {
 public:
  explicit dcp_client(std::uint16_t port) : socket_(io_), parser_(default_max_frame_size) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
  }

  void send(std::string_view bytes) {
    asio::write(socket_, asio::buffer(bytes.data(), bytes.size()));
  }

  // The next frame within `timeout`; nullopt on timeout (timed_out = true) or close.
  std::optional<owned_frame> read_frame(std::chrono::milliseconds timeout = 30s) {
    timed_out = false;
    for (;;) {
      auto r = parser_.next();
      REQUIRE(r);
      if (*r)
        return owned_frame{**r};
      pollfd p{socket_.native_handle(), POLLIN, 0};
      int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
      if (n == 0) {
        timed_out = true;
        return std::nullopt;
      }
      char buf[65536];
      boost::system::error_code ec;
      std::size_t got = socket_.read_some(asio::buffer(buf), ec);
      if (ec) {
        closed = true;
        return std::nullopt;
      }
      parser_.feed(std::string_view(buf, got));
    }
  }

  // Handles a P→C request: NOOPs answered (auto_noop), stream messages queued.
  void dispatch(owned_frame f) {
    if (f.view().opcode() == opcode::dcp_noop) {
      ++noops;
      if (auto_noop)
        send(encode_dcp_response(opcode::dcp_noop).opaque(f.view().opaque()).build());
      else
        messages.push_back(std::move(f));
      return;
    }
    received_bytes += f.view().bytes.size();
    messages.push_back(std::move(f));
  }

  owned_frame call(frame_builder b) {
    auto opaque = ++opaque_;
    send(b.opaque(opaque).build());
    for (;;) {
      auto f = read_frame();
      REQUIRE(f);
      if (f->view().is_request()) {
        dispatch(std::move(*f));
        continue;
      }
      if (f->view().opaque() != opaque) {
        responses.push_back(std::move(*f));  // e.g. an error answer to a BUFFER_ACK
        continue;
      }
      return *f;
    }
  }

  void bootstrap(std::vector<feature> features = dcp_features()) {
    auto h = call(hello_request{"dcp-producer-test", std::move(features)}.encode());
    REQUIRE(h.view().status() == status::success);
    auto r = hello_response::decode(h.view());
    REQUIRE(r);
    negotiated = *r;
    scram_client c{sasl_mechanism::scram_sha256, "Administrator", "password"};
    auto first = call(sasl_auth_request{"SCRAM-SHA256", c.client_first()}.encode());
    REQUIRE(first.view().status() == status::auth_continue);
    auto final_msg = c.client_final(first.view().value);
    REQUIRE(final_msg);
    REQUIRE(call(sasl_step_request{"SCRAM-SHA256", *final_msg}.encode()).view().status() ==
            status::success);
    REQUIRE(call(select_bucket_request{"default"}.encode()).view().status() == status::success);
  }

  status open(std::string name, std::uint32_t flags = dcp_open_flags::producer) {
    return call(dcp_open_request{std::move(name), flags, {}}.encode()).view().status();
  }
  status control(std::string key, std::string value) {
    return call(dcp_control_request{std::move(key), std::move(value)}.encode()).view().status();
  }
  // HELLO/SASL/SELECT, DCP_OPEN, enable_noop (mandatory for collection streams).
  void start(std::string name, std::uint32_t flags = dcp_open_flags::producer,
             std::vector<feature> features = dcp_features()) {
    bootstrap(std::move(features));
    REQUIRE(open(std::move(name), flags) == status::success);
    REQUIRE(control("enable_noop", "true") == status::success);
  }

  dcp_stream_response stream(std::uint16_t vb, const dcp_stream_request& req) {
    auto f = call(req.encode().vbucket(vb));
    auto r = dcp_stream_response::decode(f.view());
    REQUIRE(r);
    stream_opaque[vb] = f.view().opaque();
    return *r;
  }

  // The next stream message (any vbucket); nullopt on timeout / close.
  std::optional<owned_frame> next_frame(std::chrono::milliseconds timeout = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (messages.empty()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) {
        timed_out = true;
        return std::nullopt;
      }
      auto f = read_frame(left);
      if (!f)
        return std::nullopt;
      if (f->view().is_request())
        dispatch(std::move(*f));
      else
        responses.push_back(std::move(*f));
    }
    auto f = std::move(messages.front());
    messages.pop_front();
    if (auto_ack && f.view().opcode() != opcode::dcp_noop)
      ack(static_cast<std::uint32_t>(f.view().bytes.size()));
    return f;
  }

  std::optional<dcp_message> next(std::chrono::milliseconds timeout = 30s) {
    auto f = next_frame(timeout);
    if (!f)
      return std::nullopt;
    auto m = decode_dcp_message(f->view());
    REQUIRE(m);
    return *m;
  }

  // Every message up to and including the STREAM_END of `vb` (other vbuckets' are kept too).
  std::vector<dcp_message> until_end(std::uint16_t vb) {
    std::vector<dcp_message> out;
    for (;;) {
      auto f = next_frame();
      REQUIRE(f);
      auto m = decode_dcp_message(f->view());
      REQUIRE(m);
      out.push_back(*m);
      if (std::holds_alternative<dcp_stream_end>(*m) && f->view().vbucket() == vb)
        return out;
    }
  }

  // Messages until nothing arrives for `quiet`.
  std::vector<dcp_message> drain(std::chrono::milliseconds quiet = 300ms) {
    std::vector<dcp_message> out;
    while (auto m = next(quiet))
      out.push_back(*m);
    return out;
  }

  void ack(std::uint32_t bytes) { send(dcp_buffer_ack{bytes}.encode().build()); }

  std::string key(std::string_view k, std::uint32_t cid = 0) const {
    return negotiated.has(feature::collections) ? encode_collection_key(cid, k) : std::string(k);
  }

  hello_response negotiated;
  std::deque<owned_frame> messages;
  std::deque<owned_frame> responses;
  std::map<std::uint16_t, std::uint32_t> stream_opaque;
  std::uint64_t received_bytes = 0;
  std::uint64_t noops = 0;
  bool auto_noop = true;
  bool auto_ack = false;
  bool timed_out = false;
  bool closed = false;

 private:
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  parser parser_;
  std::uint32_t opaque_ = 1000;
};

template <class T>
std::vector<T> only(const std::vector<dcp_message>& ms) {
  std::vector<T> out;
  for (const auto& m : ms)
    if (auto* x = std::get_if<T>(&m))
      out.push_back(*x);
  return out;
}

// A stream request from `start` with the snapshot at start (a complete snapshot).
inline dcp_stream_request from(std::uint64_t start, std::uint64_t uuid,
                               std::uint64_t end = dcp_seqno_infinity) {
  dcp_stream_request r;
  r.start_seqno = r.snapshot_start = r.snapshot_end = start;
  r.vbucket_uuid = uuid;
  r.end_seqno = end;
  return r;
}

}  // namespace dcp_test
