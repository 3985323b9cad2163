// Connects to a Consul agent, writes a key, reads it back and prints it.
// Usage: libconsul-kv-example [host:port]   (default localhost:8500)
#include <iostream>

#include <boost/asio.hpp>

#include "consul/client.hpp"

int main(int argc, char** argv) {
  boost::asio::io_context io;
  consul::client_options options;
  options.address = argc > 1 ? argv[1] : "localhost:8500";
  consul::client c(io.get_executor(), options);
  int status = 1;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        auto put = co_await c.kv().put("examples/greeting", "hello from libconsul");
        if (!put) {
          std::cerr << put.error().what() << '\n';
          co_return;
        }
        auto got = co_await c.kv().get("examples/greeting");
        if (!got || !got->value) {
          std::cerr << (got ? std::string("key vanished") : got.error().what()) << '\n';
          co_return;
        }
        std::cout << got->value->key << " = " << got->value->value << " (index " << got->meta.index
                  << ")\n";
        status = 0;
      },
      boost::asio::detached);
  io.run();
  return status;
}
