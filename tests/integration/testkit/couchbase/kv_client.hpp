#pragma once
// A small synchronous mcbp client for driving the fake cluster byte by byte with the codec:
// one request, one response (FIFO), server pushes (0x82) kept aside, optional TLS.
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <catch2/catch.hpp>
#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "cbes/mcbp/collection_key.hpp"
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

namespace cbfake_test {

namespace asio = boost::asio;
using namespace cbes::mcbp;
using cbes::testkit::couchbase_cluster;
using cbes::testkit::couchbase_cluster_options;

// Every feature the fake claims to support, as a modern SDK asks for them.
inline std::vector<feature> sdk_features() {
  return {feature::tcp_nodelay,
          feature::mutation_seqno,
          feature::xattr,
          feature::xerror,
          feature::select_bucket,
          feature::snappy,
          feature::json,
          feature::duplex,
          feature::clustermap_change_notification,
          feature::alt_request_support,
          feature::collections};
}

class kv_client {
 public:
  explicit kv_client(std::uint16_t port, asio::ssl::context* tls = nullptr)
      : socket_(io_), parser_(default_max_frame_size) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
    // Generous receive timeout: tests assert behaviour, not speed.
    timeval tv{30, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (tls) {
      tls_.emplace(socket_, *tls);
      tls_->handshake(asio::ssl::stream_base::client);
    }
  }

  void send_raw(std::string_view bytes) {
    if (tls_)
      asio::write(*tls_, asio::buffer(bytes.data(), bytes.size()));
    else
      asio::write(socket_, asio::buffer(bytes.data(), bytes.size()));
  }

  // The next frame from the server; nullopt when the server closed the connection.
  std::optional<owned_frame> read_frame() {
    for (;;) {
      auto r = parser_.next();
      REQUIRE(r);
      if (*r)
        return owned_frame{**r};
      char buf[16384];
      boost::system::error_code ec;
      std::size_t n =
          tls_ ? tls_->read_some(asio::buffer(buf), ec) : socket_.read_some(asio::buffer(buf), ec);
      if (ec)
        return std::nullopt;
      parser_.feed(std::string_view(buf, n));
    }
  }

  // Sends a request and returns its response (pushes that arrive first are kept in `pushes`).
  owned_frame call(frame_builder b) {
    auto opaque = ++opaque_;
    send_raw(b.opaque(opaque).build());
    for (;;) {
      auto f = read_frame();
      REQUIRE(f);
      if (f->view().magic() == magic::server_request) {
        pushes.push_back(*f);
        continue;
      }
      REQUIRE(f->view().opaque() == opaque);
      return *f;
    }
  }

  hello_response hello(std::vector<feature> features = sdk_features()) {
    auto f = call(hello_request{"cbfake-test", std::move(features)}.encode());
    REQUIRE(f.view().status() == status::success);
    auto r = hello_response::decode(f.view());
    REQUIRE(r);
    negotiated = *r;
    return *r;
  }

  status authenticate(sasl_mechanism m, const std::string& user, const std::string& password) {
    if (m == sasl_mechanism::plain) {
      auto f = call(sasl_auth_request{"PLAIN", plain_auth_payload(user, password)}.encode());
      return f.view().status();
    }
    scram_client c{m, user, password};
    std::string name(to_string(m));
    auto first = call(sasl_auth_request{name, c.client_first()}.encode());
    if (first.view().status() != status::auth_continue)
      return first.view().status();
    auto final_msg = c.client_final(first.view().value);
    REQUIRE(final_msg);
    auto last = call(sasl_step_request{name, *final_msg}.encode());
    if (last.view().status() == status::success) {
      REQUIRE_FALSE(c.verify_server_final(last.view().value));
    }
    return last.view().status();
  }

  status select_bucket(const std::string& bucket) {
    return call(select_bucket_request{bucket}.encode()).view().status();
  }

  // HELLO (all features), SCRAM-SHA512 as Administrator, SELECT_BUCKET.
  void bootstrap(const std::string& bucket = "default",
                 std::vector<feature> features = sdk_features()) {
    hello(std::move(features));
    REQUIRE(authenticate(sasl_mechanism::scram_sha512, "Administrator", "password") ==
            status::success);
    REQUIRE(select_bucket(bucket) == status::success);
  }

  // A key as this connection must send it (LEB128 collection prefix once negotiated).
  std::string key(std::string_view k, std::uint32_t cid = 0) const {
    return negotiated.has(feature::collections) ? encode_collection_key(cid, k) : std::string(k);
  }

  // Waits for a server push (0x82) and returns it; nullopt when the connection closed.
  std::optional<owned_frame> next_push() {
    if (!pushes.empty()) {
      auto f = pushes.front();
      pushes.pop_front();
      return f;
    }
    for (;;) {
      auto f = read_frame();
      if (!f)
        return std::nullopt;
      if (f->view().magic() == magic::server_request)
        return f;
    }
  }

  std::deque<owned_frame> pushes;
  hello_response negotiated;

 private:
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  std::optional<asio::ssl::stream<asio::ip::tcp::socket&>> tls_;
  parser parser_;
  std::uint32_t opaque_ = 100;
};

}  // namespace cbfake_test
