// Two libconsul clients in one process contend for a lock: the first leads, abdicates, and
// the second takes over at once (no lock-delay wait, Consul's HTTP API docs).
// Usage: libconsul-leader-election [host:port]   (default localhost:8500). Exits 0 on success.
#include <chrono>
#include <iostream>

#include <boost/asio.hpp>

#include "consul/lock.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  asio::io_context io;
  consul::client_options options;
  options.address = argc > 1 ? argv[1] : "localhost:8500";
  consul::client alice_client(io.get_executor(), options);
  consul::client bob_client(io.get_executor(), options);

  auto lock_for = [](const char* who) {
    consul::lock_options o;
    o.key = "examples/leader";
    o.value = who;
    o.wait = 5s;
    o.retry_time = 500ms;
    return o;
  };
  consul::lock alice(alice_client, lock_for("alice"));
  consul::lock bob(bob_client, lock_for("bob"));
  int status = 1;

  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto acquired = co_await alice.acquire();
        if (!acquired) {
          std::cerr << "alice: " << acquired.error().what() << '\n';
          co_return;
        }
        std::cout << "alice leads\n";
        // Bob contends in the background; he blocks on the key until it changes.
        asio::co_spawn(co_await asio::this_coro::executor, bob.acquire(), asio::detached);
        asio::steady_timer t(co_await asio::this_coro::executor, 500ms);
        co_await t.async_wait(asio::use_awaitable);
        std::cout << "bob leads? " << (bob.held() ? "yes" : "no") << '\n';
        auto abdicated = co_await alice.abdicate();
        if (!abdicated) {
          std::cerr << "alice abdicate: " << abdicated.error().what() << '\n';
          co_return;
        }
        std::cout << "alice abdicated\n";
        for (int i = 0; i < 200 && !bob.held(); ++i) {
          t.expires_after(50ms);
          co_await t.async_wait(asio::use_awaitable);
        }
        if (!bob.held()) {
          std::cerr << "bob did not take over\n";
          co_return;
        }
        auto leader = co_await bob_client.kv().get("examples/leader");
        std::cout << "bob leads (key says "
                  << (leader && leader->value ? leader->value->value : std::string("?")) << ")\n";
        co_await bob.release();
        status = 0;
      },
      [&](std::exception_ptr) {
        alice_client.close();
        bob_client.close();
      });
  io.run();
  return status;
}
