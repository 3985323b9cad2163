// worker_service: the RPC methods a group worker answers, driven through JSON-RPC requests as
// the leader and the CLI write them. The streamer here records what the service asks of the
// connector; the connector itself is tested on its own (tests/integration/connector).
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <set>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cbes/group/rpc.hpp"
#include "cbes/group/worker_service.hpp"
#include "support/run_coroutine.hpp"
#include "unit/group/result_printer.hpp"

using namespace cbes::group;
namespace asio = boost::asio;

namespace {

struct recording_streamer : streamer {
  bool on = false;
  std::set<std::uint16_t> vbs;
  std::string config;
  std::optional<membership> share;
  std::vector<std::string> calls;
  bool fail_start = false;
  std::optional<std::uint64_t> backlog_value;
  asio::awaitable<std::optional<std::uint64_t>> backlog() override { co_return backlog_value; }
  std::optional<std::uint64_t> written_value;
  std::optional<std::uint64_t> written() const override { return written_value; }

  asio::awaitable<result<void>> start(std::string c, std::vector<std::uint16_t> v,
                                      std::optional<membership> s) override {
    calls.push_back("start");
    if (fail_start)
      co_return make_error(errc::invalid_argument, "config: [group] name is missing");
    on = true;
    config = std::move(c);
    share = s;
    vbs = {v.begin(), v.end()};
    if (v.empty() && s)  // a static share of 8 vbuckets
      for (int vb = 0; vb < 8; ++vb)
        if (vb * s->cluster_size / 8 == s->member_number - 1)
          vbs.insert(static_cast<std::uint16_t>(vb));
    co_return result<void>{};
  }
  asio::awaitable<result<void>> add(std::vector<std::uint16_t> v) override {
    calls.push_back("add");
    vbs.insert(v.begin(), v.end());
    co_return result<void>{};
  }
  asio::awaitable<result<void>> release(std::vector<std::uint16_t> v) override {
    calls.push_back("release");
    for (auto vb : v)
      vbs.erase(vb);
    co_return result<void>{};
  }
  asio::awaitable<void> stop() override {
    calls.push_back("stop");
    on = false;
    vbs.clear();
    co_return;
  }
  void abort() override {
    calls.push_back("abort");
    on = false;
    vbs.clear();
  }
  bool running() const override { return on; }
  std::vector<std::uint16_t> vbuckets() const override { return {vbs.begin(), vbs.end()}; }
};

// Holds a streamer call until the test opens it (a connector call that takes its time).
struct call_gate {
  std::optional<asio::steady_timer> timer;
  asio::awaitable<void> wait() {
    timer.emplace(co_await asio::this_coro::executor, std::chrono::hours(1));
    boost::system::error_code ec;
    co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  bool reached() const { return timer.has_value(); }
  void open() { timer->cancel(); }
};

template <class S = recording_streamer>
struct basic_fixture {
  asio::io_context io;             // first: it must outlive the streamer's timers
  std::vector<std::string> lines;  // what the service logged: "<level> <line>"
  std::shared_ptr<S> s = std::make_shared<S>();
  std::shared_ptr<worker_service> service =
      std::make_shared<worker_service>(s, [this](std::string_view level, std::string_view line) {
        lines.push_back(std::string(level) + " " + std::string(line));
      });
  rpc_methods methods;

  basic_fixture() { service->install(methods); }

  asio::awaitable<std::string> request(const std::string& method, const std::string& params) {
    return methods.answer(R"({"jsonrpc":"2.0","id":"t","method":")" + method + R"(","params":)" +
                          params + "}");
  }

  // The "result" or "error" member of the answer to method(params).
  std::string call(const std::string& method, const std::string& params = "[]") {
    auto answer = cbes::test::run(io, request(method, params));
    const std::string prefix = R"({"jsonrpc":"2.0","id":"t",)";
    REQUIRE(answer.rfind(prefix, 0) == 0);
    return answer.substr(prefix.size(), answer.size() - prefix.size() - 1);
  }

  // Starts method(params) and runs until the streamer's call waits at its gate; `done` is set
  // when the call has answered (after finish()).
  void begin(const std::string& method, const std::string& params, bool& done) {
    asio::co_spawn(io, request(method, params),
                   [&done](std::exception_ptr, std::string) { done = true; });
    io.restart();
    while (!s->gate.reached())
      io.run_one();
  }
  void finish(bool& done) {
    s->gate.open();
    while (!done)
      io.run_one();
  }
};
using fixture = basic_fixture<>;

std::string grant(std::uint64_t g, const std::string& vbs, const std::string& config = "cfg") {
  return R"([{"generation":)" + std::to_string(g) + R"(,"vbuckets":)" + vbs + R"(,"config":")" +
         config + R"(","membership":{"memberNumber":1,"clusterSize":2}}])";
}

std::string release(std::uint64_t g, const std::string& vbs) {
  return R"([{"generation":)" + std::to_string(g) + R"(,"vbuckets":)" + vbs + "}]";
}

}  // namespace

TEST_CASE("worker.status answers the Java shape plus generation, vbuckets and paused") {
  fixture f;
  CHECK(f.call("worker.status") ==
        R"("result":{"membership":null,"generation":0,"vbuckets":[],"paused":false,)"
        R"("configDigest":""})");
  CHECK(f.call("worker.stopped").find(R"("result":true)") != std::string::npos);
  CHECK(f.call("worker.grant", grant(3, "[5,1,2]")) == R"("result":{"vbuckets":[1,2,5]})");
  CHECK(f.call("worker.status") ==
        R"("result":{"membership":{"memberNumber":1,"clusterSize":2},"generation":3,)"
        R"("vbuckets":[1,2,5],"paused":false,"configDigest":")" +
            cbes::group::config_digest("cfg") + "\"}");
  CHECK(f.call("worker.stopped").find(R"("result":false)") != std::string::npos);
}

TEST_CASE("worker.startStreaming streams the static share, stopStreaming stops everything") {
  fixture f;
  CHECK(f.call("worker.startStreaming", R"([{"memberNumber":2,"clusterSize":2},"cfg"])") ==
        R"("result":null)");
  CHECK(f.s->share == membership{2, 2});
  CHECK(f.s->config == "cfg");
  CHECK(f.s->vbuckets() == std::vector<std::uint16_t>{4, 5, 6, 7});
  CHECK(f.call("worker.stopped").find(R"("result":false)") != std::string::npos);
  CHECK(f.call("worker.stopStreaming") == R"("result":null)");
  CHECK(f.call("worker.stopped").find(R"("result":true)") != std::string::npos);
  CHECK(f.call("worker.status") ==
        R"("result":{"membership":null,"generation":0,"vbuckets":[],"paused":true,)"
        R"("configDigest":")" +
            cbes::group::config_digest("cfg") + "\"}");
  // Starting again stops what runs first: the Java leader's stop-the-world order.
  f.call("worker.startStreaming", R"([{"memberNumber":1,"clusterSize":2},"cfg"])");
  f.call("worker.startStreaming", R"([{"memberNumber":2,"clusterSize":2},"cfg"])");
  CHECK(f.s->calls == std::vector<std::string>{"start", "stop", "start", "stop", "start"});
}

TEST_CASE("worker.grant adds to what streams, worker.release takes away only what it names") {
  fixture f;
  f.call("worker.grant", grant(1, "[0,1,2,3]"));
  CHECK(f.call("worker.grant", grant(1, "[4,5]")) == R"("result":{"vbuckets":[0,1,2,3,4,5]})");
  CHECK(f.call("worker.release", release(2, "[1,3,9]")) ==
        R"("result":{"released":[1,3],"vbuckets":[0,2,4,5]})");
  // A retried release changes nothing.
  CHECK(f.call("worker.release", release(2, "[1,3]")) ==
        R"("result":{"released":[],"vbuckets":[0,2,4,5]})");
  CHECK(f.s->calls == std::vector<std::string>{"start", "add", "release"});
}

TEST_CASE("a grant or release of an older generation is refused and changes nothing") {
  fixture f;
  f.call("worker.grant", grant(5, "[0,1]"));
  const auto stale = f.call("worker.release", release(4, "[0]"));
  CHECK(stale.find(R"("error":{"code":-32602)") == 0);
  CHECK(stale.find("stale generation 4") != std::string::npos);
  CHECK(f.call("worker.grant", grant(4, "[7]")).find("stale generation 4") != std::string::npos);
  CHECK(f.s->vbuckets() == std::vector<std::uint16_t>{0, 1});
  CHECK(f.call("worker.release", release(5, "[0]")) ==
        R"("result":{"released":[0],"vbuckets":[1]})");
}

TEST_CASE("a grant with another config restarts the connector with every vbucket kept") {
  fixture f;
  f.call("worker.grant", grant(1, "[0,1]", "v1"));
  CHECK(f.call("worker.grant", grant(2, "[2]", "v2")) == R"("result":{"vbuckets":[0,1,2]})");
  CHECK(f.s->config == "v2");
  CHECK(f.s->calls == std::vector<std::string>{"start", "stop", "start"});
  // The same config again only adds.
  f.call("worker.grant", grant(2, "[3]", "v2"));
  CHECK(f.s->calls.back() == "add");
}

TEST_CASE("releasing everything reports the worker paused, a grant resumes it") {
  fixture f;
  f.call("worker.grant", grant(1, "[0,1]"));
  f.call("worker.release", release(1, "[0,1]"));
  CHECK(f.call("worker.stopped").find(R"("result":true)") != std::string::npos);
  CHECK(f.service->paused());
  f.call("worker.grant", grant(1, "[0]"));
  CHECK_FALSE(f.service->paused());
}

TEST_CASE("the kill switch aborts streaming at once and forgets the assignment") {
  fixture f;
  f.call("worker.grant", grant(1, "[0,1]"));
  f.service->kill();
  CHECK(f.s->calls.back() == "abort");
  CHECK(f.call("worker.stopped").find(R"("result":true)") != std::string::npos);
  CHECK(f.call("worker.status") ==
        R"("result":{"membership":null,"generation":1,"vbuckets":[],"paused":true,)"
        R"("configDigest":")" +
            cbes::group::config_digest("cfg") + "\"}");
}

TEST_CASE("worker.metrics answers Dropwizard JSON, worker.sleep sleeps, status adds the backlog") {
  fixture f;
  // The recording streamer keeps no meters: an empty registry's document.
  const auto m = f.call("worker.metrics");
  CHECK(m.find(R"("result":{"version":"4.0.0","gauges":{})") != std::string::npos);
  CHECK(f.call("worker.sleep", "[0.01]") == R"("result":null)");
  CHECK(f.call("worker.sleep", "[-1]").find("-32602") != std::string::npos);
  CHECK(f.call("worker.sleep", R"(["soon"])").find("-32602") != std::string::npos);
  f.s->backlog_value = 7;
  f.call("worker.grant", grant(1, "[0]"));
  CHECK(f.call("worker.status").find(R"("backlog":7)") != std::string::npos);
}

TEST_CASE("worker.status adds the written counter while streaming, and only then") {
  fixture f;
  f.s->written_value = 1234;
  // Not streaming: the document says what it streams (nothing), not how much it wrote.
  CHECK(f.call("worker.status").find("written") == std::string::npos);
  f.call("worker.grant", grant(1, "[0]"));
  const auto streaming = f.call("worker.status");
  CHECK(streaming.find(R"("written":1234)") != std::string::npos);
  CHECK(streaming.find("backlog") == std::string::npos);  // a streamer without a backlog
  f.s->backlog_value = 3;
  const auto both = f.call("worker.status");
  CHECK(both.find(R"("backlog":3,"written":1234})") != std::string::npos);
  f.s->written_value.reset();
  CHECK(f.call("worker.status").find("written") == std::string::npos);
}

TEST_CASE("config_digest is FNV-1a 64 in hex: stable, and different for different texts") {
  CHECK(cbes::group::config_digest("") == "cbf29ce484222325");
  CHECK(cbes::group::config_digest("a") == "af63dc4c8601ec8c");
  CHECK(cbes::group::config_digest("[group]\nname = 'g'\n") !=
        cbes::group::config_digest("[group]\nname = 'h'\n"));
}

TEST_CASE("worker.streamHistory counts each vbucket's starts and stops and stamps them") {
  fixture f;
  f.call("worker.grant", grant(1, "[0,1,2]"));
  f.call("worker.release", release(2, "[1]"));
  f.call("worker.grant", grant(3, "[1,3]"));
  f.service->kill(std::chrono::system_clock::time_point(std::chrono::milliseconds(42)));
  const auto h = f.call("worker.streamHistory");
  CHECK(h.find(R"("starts":{"0":1,"1":2,"2":1,"3":1})") != std::string::npos);
  CHECK(h.find(R"("stops":{"0":1,"1":2,"2":1,"3":1})") != std::string::npos);
  // Four changes: the first grant, the release, the second grant, the kill (stamped when the
  // fence closed, not when the timer ran).
  CHECK(h.find(R"({"stoppedAt":42,"stopped":[0,1,2,3]})") != std::string::npos);
  CHECK(h.find(R"("stopped":[1]})") != std::string::npos);
  CHECK(h.find(R"("started":[1,3]})") != std::string::npos);
}

TEST_CASE("malformed params are refused with -32602 and one line naming the shape") {
  fixture f;
  const auto cases = {
      std::pair<std::string, std::string>{"worker.grant", "[]"},
      {"worker.grant", R"([{"generation":1,"vbuckets":[1]}])"},
      {"worker.grant", R"([{"generation":-1,"vbuckets":[1],"config":"c"}])"},
      {"worker.grant", R"([{"generation":1,"vbuckets":[70000],"config":"c"}])"},
      {"worker.grant", R"([{"generation":1,"vbuckets":["a"],"config":"c"}])"},
      {"worker.grant",
       R"([{"generation":1,"vbuckets":[1],"config":"c","membership":{"memberNumber":3,"clusterSize":2}}])"},
      {"worker.release", R"([{"vbuckets":[1]}])"},
      {"worker.release", R"({"generation":1})"},
      {"worker.startStreaming", R"([{"memberNumber":1,"clusterSize":2}])"},
      {"worker.startStreaming", R"([{"memberNumber":0,"clusterSize":2},"cfg"])"},
  };
  for (const auto& [method, params] : cases) {
    INFO(method << ' ' << params);
    CHECK(f.call(method, params).find(R"("error":{"code":-32602)") == 0);
  }
  CHECK(f.s->calls.empty());
}

TEST_CASE("a connector that cannot start makes the grant fail with its reason") {
  fixture f;
  f.s->fail_start = true;
  const auto r = f.call("worker.grant", grant(1, "[0]"));
  CHECK(r.find("[group] name is missing") != std::string::npos);
  CHECK(f.call("worker.stopped").find(R"("result":true)") != std::string::npos);
}

TEST_CASE("a leaving worker refuses grants and starts, so a racing grant starts nothing") {
  fixture f;
  f.call("worker.grant", grant(1, "[0,1]"));
  f.service->leave();
  CHECK(f.call("worker.grant", grant(2, "[2,3]")).find("is leaving the group") !=
        std::string::npos);
  CHECK(f.call("worker.startStreaming", R"([{"memberNumber":1,"clusterSize":2},"cfg"])")
            .find("is leaving the group") != std::string::npos);
  CHECK(f.s->vbuckets() == std::vector<std::uint16_t>{0, 1});
  // What streams still stops (and releases still work: the leader may take vbuckets back).
  CHECK(f.call("worker.release", release(2, "[0]")) ==
        R"("result":{"released":[0],"vbuckets":[1]})");
  CHECK(f.call("worker.stopStreaming") == R"("result":null)");
  CHECK(f.s->calls == std::vector<std::string>{"start", "release", "stop"});
}

TEST_CASE("every change of what streams is logged with its vbuckets and time") {
  fixture f;
  f.call("worker.grant", grant(1, "[0,1,2,5]"));
  f.call("worker.release", release(2, "[1]"));
  f.service->kill(std::chrono::system_clock::time_point(std::chrono::milliseconds(1234)));
  REQUIRE(f.lines.size() == 3);
  CHECK(f.lines[0].starts_with("info streaming started: vbuckets 0-2,5 (4) at unix ms "));
  CHECK(f.lines[1].starts_with("info streaming stopped: vbuckets 1 (1) at unix ms "));
  CHECK(f.lines[2] == "info streaming stopped: vbuckets 0,2,5 (3) at unix ms 1234");
}

TEST_CASE("a kill switch during a release is recorded once, not again when the release ends") {
  struct slow_release : recording_streamer {
    call_gate gate;
    asio::awaitable<result<void>> release(std::vector<std::uint16_t> v) override {
      co_await gate.wait();
      co_return co_await recording_streamer::release(std::move(v));
    }
  };
  basic_fixture<slow_release> f;
  f.call("worker.grant", grant(1, "[0,1,2]"));
  bool released = false;
  f.begin("worker.release", release(2, "[1]"), released);
  f.service->kill(std::chrono::system_clock::time_point(std::chrono::milliseconds(1234)));
  f.finish(released);
  REQUIRE(f.lines.size() == 2);
  CHECK(f.lines[0].starts_with("info streaming started: vbuckets 0-2 (3) at unix ms "));
  CHECK(f.lines[1] == "info streaming stopped: vbuckets 0-2 (3) at unix ms 1234");
}

TEST_CASE("while a graceful stop still finishes its writes, worker.status lists its vbuckets") {
  // A stop that takes its time, reporting its vbuckets until it has ended (as a connector
  // draining in-flight batches and saving checkpoints does).
  struct slow_stop : recording_streamer {
    call_gate gate;
    asio::awaitable<void> stop() override {
      on = false;  // not running any more, but still writing
      co_await gate.wait();
      vbs.clear();
    }
  };
  basic_fixture<slow_stop> f;
  // The fence closed at 1234 ms: the stop is dated then, not when it ends.
  f.service->set_fence_clock(
      [] { return std::chrono::system_clock::time_point(std::chrono::milliseconds(1234)); });
  f.call("worker.grant", grant(1, "[0,1]"));
  bool stopped = false;
  f.begin("worker.stopStreaming", "[]", stopped);
  CHECK(f.service->status_json().find(R"("vbuckets":[0,1])") != std::string::npos);
  CHECK(f.call("worker.stopped").find(R"("result":false)") != std::string::npos);
  f.finish(stopped);
  CHECK(f.service->status_json().find(R"("vbuckets":[])") != std::string::npos);
  CHECK(f.call("worker.stopped").find(R"("result":true)") != std::string::npos);
  REQUIRE(f.lines.size() == 2);
  CHECK(f.lines[1] == "info streaming stopped: vbuckets 0-1 (2) at unix ms 1234");
}
