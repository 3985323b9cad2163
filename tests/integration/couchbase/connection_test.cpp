// The connection's own failure modes: its background loops dying, and a server that stops
// reading.
#include <catch2/catch.hpp>

#include <stdexcept>

#include "cbes/mcbp/parser.hpp"
#include "integration/couchbase/harness.hpp"

using namespace couchbase_it;
using cb::errc;
namespace mcbp = cbes::mcbp;

namespace {

// A KV "server" that answers HELLO, SASL_LIST_MECHS (PLAIN) and SASL_AUTH, then never reads
// again: what a stuck peer looks like from our side. Runs on the test's io_context.
struct deaf_server {
  explicit deaf_server(asio::io_context& io)
      : acceptor(io, {asio::ip::make_address("127.0.0.1"), 0}), peer(io) {}

  std::uint16_t port() const { return acceptor.local_endpoint().port(); }

  asio::awaitable<void> serve() {
    peer = co_await acceptor.async_accept(asio::use_awaitable);
    mcbp::parser parser;
    std::string buf(4096, '\0');
    int answered = 0;
    while (answered < 3) {
      auto n = co_await peer.async_read_some(asio::buffer(buf), asio::use_awaitable);
      parser.feed(std::string_view(buf.data(), n));
      for (auto f = parser.next(); f && *f; f = parser.next()) {
        const auto& req = **f;
        auto reply = mcbp::frame_builder::response(req.opcode()).opaque(req.opaque());
        if (req.opcode() == mcbp::opcode::sasl_list_mechs)
          reply.value("PLAIN");
        auto bytes = reply.build();
        co_await asio::async_write(peer, asio::buffer(bytes), asio::use_awaitable);
        ++answered;
      }
    }
    // From here on the socket is left unread: our sends fill the kernel buffers, then our queue.
  }

  asio::ip::tcp::acceptor acceptor;
  asio::ip::tcp::socket peer;
};

cb::connection_options deaf_options(std::uint16_t port) {
  cb::connection_options o;
  o.address = {"127.0.0.1", port};
  o.username = "u";
  o.password = "p";
  o.allow_plain_without_tls = true;
  o.fetch_error_map = false;
  o.max_write_queue_bytes = 1024 * 1024;
  return o;
}

std::string big_request(std::uint32_t i) {
  return mcbp::frame_builder::request(mcbp::opcode::set)
      .key("k" + std::to_string(i))
      .value(std::string(256 * 1024, 'x'))
      .extras(std::string(8, '\0'))
      .build();
}

asio::awaitable<void> execute_big(std::shared_ptr<cb::connection> c, std::uint32_t i,
                                  std::vector<cb::error>* failures, int* done) {
  auto b = mcbp::frame_builder::request(mcbp::opcode::set)
               .key("k" + std::to_string(i))
               .value(std::string(256 * 1024, 'x'))
               .extras(std::string(8, '\0'));
  auto r = co_await c->execute(std::move(b), 500ms);
  if (!r)
    failures->push_back(r.error());
  ++*done;
}

asio::awaitable<void> send_noop(std::shared_ptr<cb::connection> c, bool* started,
                                std::optional<cb::result<mcbp::owned_frame>>* out) {
  *started = true;
  auto r = co_await c->execute(mcbp::frame_builder::request(mcbp::opcode::noop), 60s);
  out->emplace(std::move(r));
}

}  // namespace

TEST_CASE("a read loop that dies ends the connection with its error for pending requests") {
  cbes::testkit::couchbase_cluster fake(fake_options(2));
  fake.start();
  asio::io_context io;
  auto c = run(io, [&]() -> asio::awaitable<std::shared_ptr<cb::connection>> {
    auto opened = co_await cb::connection::open(io.get_executor(), connection_options_for(fake));
    REQUIRE(opened);
    co_return *opened;
  }());
  std::optional<cb::error> closed_with;
  c->on_close([&](const cb::error& e) { closed_with = e; });
  // The next config push makes the read loop throw from inside its dispatch.
  c->on_config([](std::string) { throw std::runtime_error("handler bug"); });
  fake.delay_responses(5000ms);  // the NOOP below stays unanswered until the push arrives
  bool started = false;
  std::optional<cb::result<mcbp::owned_frame>> pending;
  asio::co_spawn(io, send_noop(c, &started, &pending), asio::detached);
  run(io, [&]() -> asio::awaitable<void> {
    // Written to the socket (queued, then drained) before the push can arrive.
    auto written = co_await eventually([&] { return started && c->queued_bytes() == 0; });
    REQUIRE(written);
    fake.move_vbucket("default", 0, 1 - fake.active_node("default", 0));
    auto answered = co_await eventually([&] { return pending.has_value(); });
    REQUIRE(answered);
  }());
  const auto& r = *pending;
  REQUIRE_FALSE(r);
  INFO(r.error().what());
  CHECK(r.error().code == errc::ambiguous);  // sent, so its outcome is unknown
  CHECK(r.error().message.find("read loop failed: handler bug") != std::string::npos);
  fake.delay_responses(0ms);
  REQUIRE(closed_with);
  CHECK(closed_with->code == errc::connection_closed);
  CHECK(closed_with->message.find("handler bug") != std::string::npos);
  CHECK_FALSE(c->is_open());
  c.reset();
  drain(io);
}

TEST_CASE("a server that stops reading cannot grow the write queue past its bound") {
  asio::io_context io;
  deaf_server server(io);
  asio::co_spawn(io, server.serve(), asio::detached);
  auto c = run(io, [&]() -> asio::awaitable<std::shared_ptr<cb::connection>> {
    auto opened = co_await cb::connection::open(io.get_executor(), deaf_options(server.port()));
    REQUIRE(opened);
    co_return *opened;
  }());
  const std::size_t bound = 1024 * 1024;
  // 25 MiB of requests: far more than the kernel's socket buffers take.
  constexpr int requests = 100;
  std::vector<cb::error> failures;
  int done = 0;
  for (std::uint32_t i = 0; i < requests; ++i)
    asio::co_spawn(io, execute_big(c, i, &failures, &done), asio::detached);
  std::size_t most_queued = 0;
  const auto limit = std::chrono::steady_clock::now() + 60s;
  io.restart();
  while (done < requests && std::chrono::steady_clock::now() < limit) {
    io.run_one_for(100ms);
    most_queued = std::max(most_queued, c->queued_bytes());
  }
  REQUIRE(done == requests);
  CHECK(most_queued <= bound);
  CHECK(failures.size() == requests);  // nothing is ever answered
  const auto refused = std::count_if(failures.begin(), failures.end(), [](const cb::error& e) {
    return e.code == errc::timeout &&
           e.message.find("the server is not reading") != std::string::npos;
  });
  CHECK(refused > 0);   // waited for room that never came
  CHECK(c->is_open());  // back-pressure, not a failure

  // send() cannot wait: past the bound it ends the connection with a clear error.
  std::optional<cb::error> closed_with;
  c->on_close([&](const cb::error& e) { closed_with = e; });
  for (std::uint32_t i = 0; i < 16 && c->is_open(); ++i)
    c->send(big_request(i));
  REQUIRE(closed_with);
  CHECK(closed_with->message.find("the server is not reading") != std::string::npos);
  CHECK(c->queued_bytes() == 0);
  c.reset();
  drain(io);
}

// The DCP consumer's watchdog relies on this: a server whose bytes keep arriving is alive, however
// late the application gets round to the frames.
TEST_CASE("last_received() moves when the server's answer arrives") {
  cbes::testkit::couchbase_cluster fake(fake_options());
  fake.start();
  asio::io_context io;
  auto c = run(io, [&]() -> asio::awaitable<std::shared_ptr<cb::connection>> {
    auto opened = co_await cb::connection::open(io.get_executor(), connection_options_for(fake));
    REQUIRE(opened);
    co_return *opened;
  }());
  const auto before = c->last_received();
  CHECK(before <= cb::connection::clock::now());
  auto r = run(io, [&]() -> asio::awaitable<cb::result<mcbp::owned_frame>> {
    co_return co_await c->execute(mcbp::frame_builder::request(mcbp::opcode::noop), 10s);
  }());
  REQUIRE(r);
  CHECK(c->last_received() > before);
  CHECK(c->last_received() <= cb::connection::clock::now());
  c->close();
  c.reset();
  drain(io);
}
