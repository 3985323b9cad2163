#include <catch2/catch.hpp>

#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "../../../libconsul/src/cancel_as_value.hpp"

namespace asio = boost::asio;

namespace {

asio::awaitable<bool> inner_throw_flag() {
  co_return co_await asio::this_coro::throw_if_cancelled();
}

// What the wrapped coroutine saw, and the caller's flag afterwards, for a caller flag of `before`.
asio::awaitable<std::pair<bool, bool>> flags_around(bool before) {
  co_await asio::this_coro::throw_if_cancelled(before);
  const bool inside = co_await consul::detail::cancel_as_value(inner_throw_flag());
  const bool after = co_await asio::this_coro::throw_if_cancelled();
  co_return std::pair{inside, after};
}

std::pair<bool, bool> run_flags_around(bool before) {
  asio::io_context io;
  auto fut = asio::co_spawn(io, flags_around(before), asio::use_future);
  io.run();
  return fut.get();
}

}  // namespace

TEST_CASE("cancel_as_value turns throw-if-cancelled off inside and restores the caller's flag") {
  CHECK(run_flags_around(true) == std::pair{false, true});
  CHECK(run_flags_around(false) == std::pair{false, false});
}
