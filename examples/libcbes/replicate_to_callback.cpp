// Replicates a Couchbase bucket into a callback instead of Elasticsearch: the embedding case of
// libcbes. Each document change reaches the callback in DCP order per vbucket; checkpoints are
// kept in memory here (a checkpoint::couchbase_store would keep them in the bucket, like cbes).
// Runs until it has seen `count` documents, then stops gracefully.
// Usage: libcbes-replicate-to-callback [seeds [bucket [count]]]
//        (defaults: 127.0.0.1, default, 100 — cbes-sandbox's with --load-sample=100 or more)
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include <boost/asio.hpp>

#include "cbes/checkpoint/store.hpp"
#include "cbes/connector/worker.hpp"

namespace asio = boost::asio;

int main(int argc, char** argv) {
  cbes::connector::worker_options o;
  o.couchbase.seeds = argc > 1 ? argv[1] : "127.0.0.1";
  o.couchbase.bucket = argc > 2 ? argv[2] : "default";
  o.couchbase.username = "Administrator";
  o.couchbase.password = "password";
  const std::size_t wanted = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 100;
  o.group = "callback-example";
  o.store = std::make_shared<cbes::checkpoint::memory_store>();

  asio::io_context io(1);
  std::shared_ptr<cbes::connector::worker> worker;
  std::size_t seen = 0;
  o.callback = [&](const cbes::sink::document_event& ev) {
    if (seen < 3)
      std::cout << (ev.is_deletion ? "deleted " : "changed ") << ev.key << " (vbucket "
                << ev.vbucket << ", seqno " << ev.seqno << ")\n";
    if (++seen == wanted && worker)
      worker->stop();
  };

  int code = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto w = co_await cbes::connector::worker::start(io.get_executor(), o);
        if (!w) {
          std::cerr << "replicate: " << w.error().what() << '\n';
          code = 1;
          co_return;
        }
        worker = *w;
        if (seen >= wanted)
          worker->stop();
        auto end = co_await worker->wait();
        if (!end) {
          std::cerr << "replicate: " << end.error().what() << '\n';
          code = 1;
        }
        std::cout << "saw " << seen << " documents; checkpoints of " << worker->checkpoints().size()
                  << " vbuckets\n";
      },
      asio::detached);
  io.run();
  return code;
}
