#pragma once
// Runs a coroutine under test on a test-owned io_context (the fakes run their own threads).
//
//   asio::io_context io;
//   auto v = cbes::test::run(io, client.get("k"));   // rethrows Catch failures from inside
//   cbes::test::drain(io);                           // let closing sockets/timers finish
//
// A `co_await` inside Catch's assertion macros (`REQUIRE(co_await x)`) is evaluated once: GCC 12
// used to run it twice there, and tests/catch_gcc_coroutines.hpp, which tests/CMakeLists.txt
// force-includes into every test source, removes the cause (the why is written there).
#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

namespace cbes::test {

// Runs `a` on `io` until it completes (other work such as renewers may keep running). The limit
// is generous: it only catches hangs, never measures speed.
template <class T>
T run(boost::asio::io_context& io, boost::asio::awaitable<T> a,
      std::chrono::seconds limit = std::chrono::seconds{120}) {
  std::optional<T> out;
  std::exception_ptr err;
  bool done = false;
  boost::asio::co_spawn(io, std::move(a), [&](std::exception_ptr e, T v) {
    err = e;
    if (!e)
      out.emplace(std::move(v));
    done = true;
  });
  const auto deadline = std::chrono::steady_clock::now() + limit;
  io.restart();
  while (!done && std::chrono::steady_clock::now() < deadline)
    io.run_one_for(std::chrono::milliseconds{100});
  if (err)
    std::rethrow_exception(err);
  if (!done)
    throw std::runtime_error("test coroutine did not finish in time");
  return std::move(*out);
}

inline void run(boost::asio::io_context& io, boost::asio::awaitable<void> a,
                std::chrono::seconds limit = std::chrono::seconds{120}) {
  run(
      io,
      [](boost::asio::awaitable<void> inner) -> boost::asio::awaitable<int> {
        co_await std::move(inner);
        co_return 0;
      }(std::move(a)),
      limit);
}

// Lets remaining handlers (closed sockets, cancelled timers) finish so nothing outlives the test.
inline void drain(boost::asio::io_context& io) {
  io.restart();
  for (int i = 0; i < 50 && io.poll() > 0; ++i) {
  }
}

}  // namespace cbes::test
