#pragma once
// Waits on a condition another process makes true (a document in Elasticsearch, a worker's
// answer over RPC): checks it every `poll`, for at most `limit`. Only for state that has no
// signal of its own to wait on; the limit catches hangs, it never measures speed.
//
//   REQUIRE(cbes::test::eventually([&] { return sandbox.count("etc") == 31591; }));
#include <chrono>
#include <thread>

namespace cbes::test {

template <class F>
bool eventually(F done, std::chrono::milliseconds limit = std::chrono::seconds(120),
                std::chrono::milliseconds poll = std::chrono::milliseconds(50)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(poll);
  }
  return true;
}

}  // namespace cbes::test
