// Fault injection and hostile input: bad frames close only that connection, injected
// ETMPFAIL, dropped connections, delayed responses, TLS.
#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cbes/mcbp/document.hpp"
#include "cbes/util/crc32.hpp"
#include "kv_client.hpp"

using namespace cbfake_test;
namespace fs = std::filesystem;

TEST_CASE("a frame with a bad magic closes that connection and the node keeps serving") {
  couchbase_cluster cluster;
  cluster.start();
  kv_client bad{cluster.kv_port()};
  bad.send_raw(std::string(24, '\x42'));
  CHECK_FALSE(bad.read_frame());

  kv_client liar{cluster.kv_port()};
  // A header whose key length exceeds the body length.
  auto h = frame_builder::request(opcode::get).key("abc").build();
  h[3] = '\x7f';
  liar.send_raw(h);
  CHECK_FALSE(liar.read_frame());

  kv_client huge{cluster.kv_port()};
  auto big = frame_builder::request(opcode::set).build();
  big[8] = '\x7f';  // body length ~2 GiB
  huge.send_raw(big);
  CHECK_FALSE(huge.read_frame());

  kv_client good{cluster.kv_port()};
  good.bootstrap();
  CHECK(good.call(frame_builder::request(opcode::noop)).view().status() == status::success);
}

TEST_CASE("malformed bodies are answered with Einval, not a crash") {
  couchbase_cluster cluster;
  cluster.start();
  kv_client c{cluster.kv_port()};
  c.bootstrap();
  // SET without extras, HELLO with an odd value, GET with a non-LEB128 key.
  CHECK(c.call(frame_builder::request(opcode::set).key(c.key("k")).value("v")).view().status() ==
        status::einval);
  CHECK(c.call(frame_builder::request(opcode::hello).value("abc")).view().status() ==
        status::einval);
  CHECK(c.call(frame_builder::request(opcode::get).key("\x80")).view().status() == status::einval);
  CHECK(c.call(frame_builder::request(static_cast<opcode>(0xee))).view().status() ==
        status::unknown_command);
}

TEST_CASE("fail_next_ops answers ETMPFAIL for exactly n data operations") {
  couchbase_cluster cluster;
  cluster.start();
  cluster.upsert("default", "k", "v");
  auto vb = cbes::util::vbucket_for_key("k", 1024);
  kv_client c{cluster.kv_port()};
  c.bootstrap();
  cluster.fail_next_ops(2);
  CHECK(c.call(get_request{c.key("k")}.encode().vbucket(vb)).view().status() == status::etmpfail);
  CHECK(c.call(get_request{c.key("k")}.encode().vbucket(vb)).view().status() == status::etmpfail);
  CHECK(c.call(get_request{c.key("k")}.encode().vbucket(vb)).view().status() == status::success);
}

TEST_CASE("drop_connections closes every client connection") {
  couchbase_cluster cluster;
  cluster.start();
  kv_client c{cluster.kv_port()};
  c.bootstrap();
  CHECK(cluster.connection_count() == 1);
  cluster.drop_connections();
  CHECK_FALSE(c.read_frame());
  CHECK(cluster.connection_count() == 0);
  kv_client again{cluster.kv_port()};
  again.bootstrap();
}

TEST_CASE("delayed responses still arrive, in order") {
  couchbase_cluster cluster;
  cluster.start();
  kv_client c{cluster.kv_port()};
  c.bootstrap();
  cluster.delay_responses(std::chrono::milliseconds(50));
  auto a = frame_builder::request(opcode::noop).opaque(1).build();
  auto b = frame_builder::request(opcode::noop).opaque(2).build();
  c.send_raw(a + b);
  auto first = c.read_frame();
  auto second = c.read_frame();
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first->view().opaque() == 1);
  CHECK(second->view().opaque() == 2);
}

TEST_CASE("the KV TLS port serves the same protocol") {
  auto dir = fs::temp_directory_path() / ("cbfake-tls-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string script = "cd '" + dir.string() +
                       "' && openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out "
                       "cert.pem -days 2 -subj /CN=localhost >/dev/null 2>&1";
  REQUIRE(std::system(script.c_str()) == 0);
  couchbase_cluster_options o;
  o.tls_cert_file = (dir / "cert.pem").string();
  o.tls_key_file = (dir / "key.pem").string();
  {
    couchbase_cluster cluster{o};
    cluster.start();
    REQUIRE(cluster.kv_tls_port() != 0);
    asio::ssl::context ctx{asio::ssl::context::tls_client};
    ctx.set_verify_mode(asio::ssl::verify_none);
    kv_client c{cluster.kv_tls_port(), &ctx};
    c.hello();
    CHECK(c.authenticate(sasl_mechanism::plain, "Administrator", "password") == status::success);
    CHECK(c.select_bucket("default") == status::success);
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}
