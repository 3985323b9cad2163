#pragma once
// Internal: runs a coroutine with cancellation coming back as its result (errc::cancelled)
// rather than as an exception thrown at its next co_await, then restores the caller's setting.
// Asio keeps the throw-if-cancelled flag per coroutine thread, so it holds inside `op` too.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/this_coro.hpp>

namespace consul::detail {

template <class T>
boost::asio::awaitable<T> cancel_as_value(boost::asio::awaitable<T> op) {
  namespace this_coro = boost::asio::this_coro;
  const bool throw_before = co_await this_coro::throw_if_cancelled();
  co_await this_coro::throw_if_cancelled(false);
  T r = co_await std::move(op);
  co_await this_coro::throw_if_cancelled(throw_before);
  co_return r;
}

}  // namespace consul::detail
