// DCP_OPEN / DCP_CONTROL / validator rules of the fake's producer (kv_engine's
// DCP docs), driven with the codec over a plain socket.
#include "dcp_client.hpp"

using namespace dcp_test;
namespace of = cbes::mcbp::dcp_open_flags;

TEST_CASE("DCP_OPEN validates flags and name, a second open is Einval") {
  couchbase_cluster cluster{fake_options()};
  cluster.start();
  dcp_client c{cluster.kv_port()};
  c.bootstrap();
  // Unknown bits, the old Notifier bit, exclusive/dependent flags.
  CHECK(c.open("x", of::producer | 0x10) == status::einval);
  CHECK(c.open("x", of::producer | of::notifier) == status::einval);
  CHECK(c.open("x", of::producer | of::no_value | of::no_value_with_underlying_datatype) ==
        status::einval);
  CHECK(c.open("x", of::producer | of::include_deleted_user_xattrs) == status::einval);
  CHECK(c.open(std::string(201, 'n'), of::producer) == status::einval);
  // Other DCP opcodes before DCP_OPEN.
  CHECK(c.call(dcp_control_request{"enable_noop", "true"}.encode()).view().status() ==
        status::einval);
  CHECK(c.open("good", of::producer | of::include_xattrs | of::include_delete_times) ==
        status::success);
  CHECK(c.open("again", of::producer) == status::einval);
}

TEST_CASE("Reusing a DCP connection name kicks the older connection") {
  couchbase_cluster cluster{fake_options()};
  cluster.start();
  dcp_client a{cluster.kv_port()};
  a.start("same-name");
  dcp_client b{cluster.kv_port()};
  b.start("same-name");
  auto f = a.read_frame(10s);
  CHECK_FALSE(f);
  CHECK(a.closed);
  auto stats = cluster.dcp_stats();
  REQUIRE(stats.size() == 1);
  CHECK(stats[0].name == "same-name");
}

TEST_CASE("DCP_CONTROL answers Success, Einval and NotSupported per the control table") {
  couchbase_cluster cluster{fake_options()};
  cluster.start();
  dcp_client c{cluster.kv_port()};
  c.bootstrap();
  REQUIRE(c.open("ctl", of::producer) == status::success);
  CHECK(c.control("enable_noop", "true") == status::success);
  CHECK(c.control("enable_noop", "yes") == status::einval);
  CHECK(c.control("set_noop_interval", "20") == status::success);
  CHECK(c.control("set_noop_interval", "0.5") == status::success);
  CHECK(c.control("set_noop_interval", "0.01") == status::einval);
  CHECK(c.control("set_noop_interval", "abc") == status::einval);
  CHECK(c.control("connection_buffer_size", "65536") == status::success);
  CHECK(c.control("connection_buffer_size", "-1") == status::einval);
  CHECK(c.control("stream_buffer_size", "1024") == status::not_supported);
  CHECK(c.control("set_priority", "high") == status::success);
  CHECK(c.control("set_priority", "urgent") == status::einval);
  CHECK(c.control("supports_cursor_dropping_vulcan", "true") == status::success);
  CHECK(c.control("send_stream_end_on_client_close_stream", "false") == status::einval);
  CHECK(c.control("send_stream_end_on_client_close_stream", "true") == status::success);
  CHECK(c.control("enable_expiry_opcode", "true") == status::success);
  CHECK(c.control("force_value_compression", "true") == status::success);  // Snappy negotiated
  CHECK(c.control("enable_out_of_order_snapshots", "true_with_seqno_advanced") == status::success);
  CHECK(c.control("backfill_order", "sequential") == status::success);
  CHECK(c.control("v7_dcp_status_codes", "false") == status::einval);
  CHECK(c.control("v7_dcp_status_codes", "true") == status::success);
  CHECK(c.control("change_streams", "true") == status::not_supported);
  CHECK(c.control("no_such_control", "true") == status::einval);
  CHECK(c.call(dcp_control_request{"enable_noop", ""}.encode()).view().status() == status::einval);

  dcp_client plain{cluster.kv_port()};
  plain.bootstrap({feature::xerror, feature::select_bucket});
  REQUIRE(plain.open("no-snappy", of::producer) == status::success);
  CHECK(plain.control("force_value_compression", "true") == status::einval);
}

TEST_CASE("GET_FAILOVER_LOG on a DCP connection returns the log newest first") {
  couchbase_cluster cluster{fake_options(2, 4)};
  cluster.start();
  cluster.move_vbucket("default", 0, cluster.active_node("default", 0) == 0 ? 1 : 0);
  auto node = cluster.active_node("default", 0);
  dcp_client c{cluster.kv_port(node)};
  c.start("fl");
  auto f = c.call(dcp_get_failover_log_request{}.encode().vbucket(0));
  auto r = dcp_get_failover_log_response::decode(f.view());
  REQUIRE(r);
  REQUIRE(r->status == status::success);
  auto expected = cluster.failover_log("default", 0);
  REQUIRE(r->failover_log.size() == expected.size());
  REQUIRE(expected.size() == 2);
  CHECK(r->failover_log[0].vbucket_uuid == expected[0].uuid);
  dcp_client other{cluster.kv_port(node == 0 ? 1 : 0)};
  other.start("fl2");
  auto nm = other.call(dcp_get_failover_log_request{}.encode().vbucket(0));
  CHECK(nm.view().status() == status::not_my_vbucket);
}
