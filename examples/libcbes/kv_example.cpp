// Connects to a Couchbase bucket with cbes::couchbase::cluster, writes a JSON document, reads it
// back and prints it.
// Usage: libcbes-kv-example [seeds [bucket [username [password [key [json]]]]]]
//        (defaults: couchbase://127.0.0.1, default, Administrator, password — cbes-sandbox's —
//        and the document examples::greeting = {"greeting":"hello from libcbes"})
#include <iostream>
#include <string>

#include <boost/asio.hpp>

#include "cbes/couchbase/cluster.hpp"
#include "cbes/version.hpp"

namespace asio = boost::asio;
namespace cb = cbes::couchbase;

namespace {

asio::awaitable<int> run(cb::cluster_options options, std::string key, std::string value) {
  auto ex = co_await asio::this_coro::executor;
  auto connected = co_await cb::cluster::connect(ex, options);
  if (!connected) {
    std::cerr << "connect: " << connected.error().what() << '\n';
    co_return 1;
  }
  auto cluster = *connected;
  const cb::collection default_collection;
  auto stored = co_await cluster->upsert(default_collection, key, value);
  if (!stored) {
    std::cerr << "upsert: " << stored.error().what() << '\n';
    cluster->close();
    co_return 1;
  }
  auto got = co_await cluster->get(default_collection, key);
  cluster->close();
  if (!got) {
    std::cerr << "get: " << got.error().what() << '\n';
    co_return 1;
  }
  std::cout << key << " = " << got->value << " (cas " << got->cas << ", " << cbes::user_agent
            << ")\n";
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cb::cluster_options options;
  options.seeds = argc > 1 ? argv[1] : "couchbase://127.0.0.1";
  options.bucket = argc > 2 ? argv[2] : "default";
  options.username = argc > 3 ? argv[3] : "Administrator";
  options.password = argc > 4 ? argv[4] : "password";
  std::string key = argc > 5 ? argv[5] : "examples::greeting";
  std::string value = argc > 6 ? argv[6] : R"({"greeting":"hello from libcbes"})";

  asio::io_context io;
  int status = 1;
  asio::co_spawn(io, run(std::move(options), std::move(key), std::move(value)),
                 [&status](std::exception_ptr e, int code) { status = e ? 1 : code; });
  io.run();
  return status;
}
