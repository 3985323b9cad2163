#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include <boost/asio/io_context.hpp>

#include "cbes/group/rpc.hpp"
#include "support/run_coroutine.hpp"
#include "unit/group/result_printer.hpp"

using namespace cbes::group;
namespace asio = boost::asio;

namespace {
std::string answer(rpc_methods& m, std::string request) {
  asio::io_context io;
  return cbes::test::run(io, m.answer(std::move(request)));
}
}  // namespace

TEST_CASE("worker.ready answers true and worker.ping null without any registration") {
  rpc_methods m;
  CHECK(answer(m, R"({"jsonrpc":"2.0","id":"1","method":"worker.ready","params":[]})") ==
        R"({"jsonrpc":"2.0","id":"1","result":true})");
  CHECK(answer(m, R"({"jsonrpc":"2.0","id":7,"method":"worker.ping"})") ==
        R"({"jsonrpc":"2.0","id":7,"result":null})");
}

TEST_CASE("a registered method gets the params as JSON text and answers its result") {
  rpc_methods m;
  std::string seen;
  m.add("worker.echo", [&seen](std::string params) -> asio::awaitable<result<std::string>> {
    seen = params;
    co_return R"({"membership":{"memberNumber":1,"clusterSize":2}})";
  });
  CHECK(
      answer(m, R"({"jsonrpc":"2.0","id":"e","method":"worker.echo","params":[{"a":1},"toml"]})") ==
      R"({"jsonrpc":"2.0","id":"e","result":{"membership":{"memberNumber":1,"clusterSize":2}}})");
  CHECK(seen == R"([{"a":1},"toml"])");
  answer(m, R"({"jsonrpc":"2.0","id":"e","method":"worker.echo"})");
  CHECK(seen == "[]");
}

TEST_CASE("JSON-RPC error codes: parse error, invalid request, method not found") {
  rpc_methods m;
  CHECK(answer(m, "{not json") ==
        R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}})");
  CHECK(answer(m, "[1]") ==
        R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}})");
  // No id: a response could never be matched, so it is refused rather than run.
  CHECK(answer(m, R"({"jsonrpc":"2.0","method":"worker.ping"})") ==
        R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request"}})");
  CHECK(answer(m, R"({"jsonrpc":"1.0","id":"v","method":"worker.ping"})") ==
        R"({"jsonrpc":"2.0","id":"v","error":{"code":-32600,"message":"Invalid Request"}})");
  CHECK(answer(m, R"({"jsonrpc":"2.0","id":"p","method":"worker.ping","params":3})") ==
        R"({"jsonrpc":"2.0","id":"p","error":{"code":-32600,"message":"Invalid Request"}})");
  CHECK(answer(m, R"({"jsonrpc":"2.0","id":"m","method":"worker.nothing"})") ==
        R"({"jsonrpc":"2.0","id":"m","error":{"code":-32601,"message":"Method not found"}})");
}

TEST_CASE("a handler refusing its params answers -32602, a failing one -32603 with the message") {
  rpc_methods m;
  m.add("worker.sleep", [](std::string) -> asio::awaitable<result<std::string>> {
    co_return make_error(errc::invalid_argument, "expected [seconds]");
  });
  m.add("worker.fail", [](std::string) -> asio::awaitable<result<std::string>> {
    co_return make_error(errc::consul_failed, "boom");
  });
  m.add("worker.throw", [](std::string) -> asio::awaitable<result<std::string>> {
    throw std::runtime_error("thrown");
    co_return std::string("null");
  });
  m.add("worker.garbage", [](std::string) -> asio::awaitable<result<std::string>> {
    co_return std::string("{oops");
  });
  CHECK(answer(m, R"({"jsonrpc":"2.0","id":"s","method":"worker.sleep"})") ==
        R"({"jsonrpc":"2.0","id":"s","error":{"code":-32602,"message":"Invalid params",)"
        R"("data":{"detail":{"exception":"expected [seconds]","stackTrace":""}}}})");
  CHECK(answer(m, R"({"jsonrpc":"2.0","id":"f","method":"worker.fail"})") ==
        R"({"jsonrpc":"2.0","id":"f","error":{"code":-32603,"message":"Internal error",)"
        R"("data":{"detail":{"exception":"boom","stackTrace":""}}}})");
  CHECK(answer(m, R"({"jsonrpc":"2.0","id":"t","method":"worker.throw"})") ==
        R"({"jsonrpc":"2.0","id":"t","error":{"code":-32603,"message":"Internal error",)"
        R"("data":{"detail":{"exception":"thrown","stackTrace":""}}}})");
  CHECK(
      answer(m, R"({"jsonrpc":"2.0","id":"g","method":"worker.garbage"})") ==
      R"({"jsonrpc":"2.0","id":"g","error":{"code":-32603,"message":"Internal error",)"
      R"("data":{"detail":{"exception":"the method returned invalid JSON: {oops","stackTrace":""}}}})");
}
