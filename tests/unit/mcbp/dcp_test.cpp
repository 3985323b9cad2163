#include <deque>

#include <catch2/catch.hpp>

#include "cbes/mcbp/dcp.hpp"
#include "unit/mcbp/support.hpp"

using namespace cbes::mcbp;
using test::from_hex;
using test::to_hex;

namespace {

// Decodes built bytes again, so each test also proves the frame is well-formed. The frame views
// into the bytes, which callers pass as temporaries: they are kept until the process ends.
frame parse(std::string bytes) {
  static std::deque<std::string> kept;
  auto f = decode_frame(kept.emplace_back(std::move(bytes)));
  REQUIRE(f);
  return f.value();
}

// Rebuilds `bytes` with the extras / value sections replaced (lengths fixed up), to produce
// frames that are well-formed at the framing level but lie in their body.
std::string with_body(opcode op, std::string_view extras, std::string_view key,
                      std::string_view value, bool response = false, status s = status::success) {
  auto b = response ? frame_builder::response(op, s) : frame_builder::request(op);
  return b.extras(extras).key(key).value(value).build();
}

}  // namespace

TEST_CASE("DCP_OPEN request is byte-exact and round-trips") {
  dcp_open_request r{"n", dcp_open_flags::producer | dcp_open_flags::include_delete_times, {}};
  const auto bytes = r.encode().opaque(1).build();
  CHECK(to_hex(bytes) ==
        "80 50 00 01 08 00 00 00 00 00 00 09 00 00 00 01 00 00 00 00 00 00 00 00 "
        "00 00 00 00 00 00 00 21 6e");
  auto back = dcp_open_request::decode(parse(bytes));
  REQUIRE(back);
  CHECK(back->name == "n");
  CHECK(back->flags == 0x21);
  CHECK(back->value.empty());

  CHECK(dcp_open_request::decode(parse(with_body(opcode::dcp_open, "1234", "n", {}))).error() ==
        errc::bad_extras);
  CHECK(dcp_open_request::decode(parse(with_body(opcode::dcp_open, "12345678", "", {}))).error() ==
        errc::bad_key);
  CHECK(dcp_open_request::decode(
            parse(with_body(opcode::dcp_open, "12345678", std::string(201, 'x'), {})))
            .error() == errc::bad_key);
  CHECK(dcp_open_request::decode(parse(encode_dcp_response(opcode::dcp_open).build())).error() ==
        errc::unexpected_magic);
  CHECK((dcp_open_flags::known & dcp_open_flags::notifier) == 0);
  CHECK((dcp_open_flags::known & 0x10) == 0);
}

TEST_CASE("status-only DCP responses decode their status") {
  const auto ok = encode_dcp_response(opcode::dcp_noop).opaque(10000001).build();
  CHECK(to_hex(ok) == "81 5c 00 00 00 00 00 00 00 00 00 00 00 98 96 81 00 00 00 00 00 00 00 00");
  CHECK(decode_dcp_response(parse(ok), opcode::dcp_noop).value() == status::success);
  CHECK(decode_dcp_response(parse(ok), opcode::dcp_open).error() == errc::unexpected_opcode);
  const auto einval = encode_dcp_response(opcode::dcp_control, status::einval)
                          .value(R"({"error":{"context":"x"}})")
                          .build();
  CHECK(decode_dcp_response(parse(einval), opcode::dcp_control).value() == status::einval);
  CHECK(decode_dcp_response(parse(with_body(opcode::dcp_open, "x", {}, {}, true)), opcode::dcp_open)
            .error() == errc::bad_extras);
}

TEST_CASE("DCP_CONTROL request carries key and value") {
  const auto bytes = dcp_control_request{"enable_noop", "true"}.encode().opaque(2).build();
  CHECK(bytes.substr(0, 12) == from_hex("80 5e 00 0b 00 00 00 00 00 00 00 0f"));
  auto back = dcp_control_request::decode(parse(bytes));
  REQUIRE(back);
  CHECK(back->key == "enable_noop");
  CHECK(back->value == "true");
  CHECK(dcp_control_request::decode(parse(with_body(opcode::dcp_control, {}, "k", {}))).error() ==
        errc::bad_value);
  CHECK(dcp_control_request::decode(parse(with_body(opcode::dcp_control, {}, {}, "v"))).error() ==
        errc::bad_key);
}

TEST_CASE("DCP_STREAM_REQ extras are 48 bytes in reference order") {
  dcp_stream_request r;
  r.flags = dcp_stream_flags::active_vb_only;
  r.start_seqno = 5;
  r.vbucket_uuid = 0xabcdef;
  r.snapshot_start = 3;
  r.snapshot_end = 7;
  const auto bytes = r.encode().vbucket(0x3ff).opaque(9).build();
  CHECK(to_hex(bytes) ==
        "80 53 00 00 30 00 03 ff 00 00 00 30 00 00 00 09 00 00 00 00 00 00 00 00 "
        "00 00 00 10 00 00 00 00 "
        "00 00 00 00 00 00 00 05 ff ff ff ff ff ff ff ff 00 00 00 00 00 ab cd ef "
        "00 00 00 00 00 00 00 03 00 00 00 00 00 00 00 07");
  auto back = dcp_stream_request::decode(parse(bytes));
  REQUIRE(back);
  CHECK(back->flags == 0x10);
  CHECK(back->start_seqno == 5);
  CHECK(back->end_seqno == dcp_seqno_infinity);
  CHECK(back->vbucket_uuid == 0xabcdef);
  CHECK(back->snapshot_start == 3);
  CHECK(back->snapshot_end == 7);
  CHECK(dcp_stream_request::decode(parse(with_body(opcode::dcp_stream_req, "x", {}, {}))).error() ==
        errc::bad_extras);
  CHECK(dcp_stream_request::decode(
            parse(with_body(opcode::dcp_stream_req, std::string(48, '\0'), "k", {})))
            .error() == errc::bad_key);
}

TEST_CASE("stream filter JSON round-trips and refuses lies") {
  stream_filter f;
  f.manifest_uid = 0x1a;
  f.collections = {8, 0x1c};
  const auto json = encode_stream_filter(f);
  CHECK(json == R"({"uid":"1a","collections":["8","1c"]})");
  CHECK(decode_stream_filter(json).value() == f);

  stream_filter s;
  s.scope = 9;
  s.stream_id = 2;
  s.purge_seqno = 12345;
  CHECK(decode_stream_filter(encode_stream_filter(s)).value() == s);

  CHECK(decode_stream_filter("{").error() == errc::bad_json);
  CHECK(decode_stream_filter("[]").error() == errc::bad_json);
  CHECK(decode_stream_filter(R"({"collections":"8"})").error() == errc::bad_value);
  CHECK(decode_stream_filter(R"({"collections":["zz"]})").error() == errc::bad_value);
  CHECK(decode_stream_filter(R"({"collections":["8"],"scope":"9"})").error() == errc::bad_value);
  CHECK(decode_stream_filter(R"({"sid":70000})").error() == errc::bad_value);
  CHECK(decode_stream_filter(R"({"purge_seqno":"12a"})").error() == errc::bad_value);
  CHECK(decode_stream_filter(R"({"other":1})").value() == stream_filter{});
}

TEST_CASE("DCP_STREAM_REQ responses: failover log, rollback seqno, plain errors") {
  dcp_stream_response ok{status::success, {{0x1111, 20}, {0x2222, 0}}, 0};
  const auto bytes = ok.encode().opaque(9).build();
  CHECK(to_hex(bytes) ==
        "81 53 00 00 00 00 00 00 00 00 00 20 00 00 00 09 00 00 00 00 00 00 00 00 "
        "00 00 00 00 00 00 11 11 00 00 00 00 00 00 00 14 "
        "00 00 00 00 00 00 22 22 00 00 00 00 00 00 00 00");
  auto back = dcp_stream_response::decode(parse(bytes));
  REQUIRE(back);
  CHECK(back->status == status::success);
  CHECK(back->failover_log == failover_log{{0x1111, 20}, {0x2222, 0}});

  dcp_stream_response rb{status::rollback, {}, 42};
  const auto rbytes = rb.encode().build();
  CHECK(to_hex(rbytes).substr(0, 24) == "81 53 00 00 00 00 00 23 ");
  auto rback = dcp_stream_response::decode(parse(rbytes));
  REQUIRE(rback);
  CHECK(rback->status == status::rollback);
  CHECK(rback->rollback_seqno == 42);

  auto nmvb = dcp_stream_response::decode(
      parse(dcp_stream_response{status::not_my_vbucket, {}, 0}.encode().value("{}").build()));
  REQUIRE(nmvb);
  CHECK(nmvb->status == status::not_my_vbucket);

  CHECK(dcp_stream_response::decode(
            parse(with_body(opcode::dcp_stream_req, {}, {}, std::string(17, 'x'), true)))
            .error() == errc::bad_value);
  CHECK(dcp_stream_response::decode(parse(with_body(opcode::dcp_stream_req, {}, {},
                                                    std::string(7, 'x'), true, status::rollback)))
            .error() == errc::bad_value);
}

TEST_CASE("DCP_GET_FAILOVER_LOG and DCP_CLOSE_STREAM have empty requests") {
  const auto g = dcp_get_failover_log_request{}.encode().vbucket(3).opaque(4).build();
  CHECK(to_hex(g) == "80 54 00 00 00 00 00 03 00 00 00 00 00 00 00 04 00 00 00 00 00 00 00 00");
  CHECK(dcp_get_failover_log_request::decode(parse(g)));
  CHECK(dcp_get_failover_log_request::decode(
            parse(with_body(opcode::dcp_get_failover_log, {}, {}, "x")))
            .error() == errc::bad_value);
  auto resp = dcp_get_failover_log_response{status::success, {{7, 0}}}.encode().build();
  auto back = dcp_get_failover_log_response::decode(parse(resp));
  REQUIRE(back);
  CHECK(back->failover_log == failover_log{{7, 0}});

  const auto c = dcp_close_stream_request{}.encode().vbucket(3).build();
  CHECK(c.substr(0, 2) == from_hex("80 52"));
  CHECK(dcp_close_stream_request::decode(parse(c)));
  CHECK(dcp_close_stream_request::decode(parse(with_body(opcode::dcp_close_stream, "e", {}, {})))
            .error() == errc::bad_extras);
}

TEST_CASE("DCP_STREAM_END carries a u32 reason") {
  const auto bytes =
      dcp_stream_end{stream_end_reason::state_changed}.encode().vbucket(1).opaque(9).build();
  CHECK(to_hex(bytes) ==
        "80 55 00 00 04 00 00 01 00 00 00 04 00 00 00 09 00 00 00 00 00 00 00 00 00 00 00 02");
  auto m = decode_dcp_message(parse(bytes));
  REQUIRE(m);
  CHECK(std::get<dcp_stream_end>(*m).reason == stream_end_reason::state_changed);
  CHECK(to_string(stream_end_reason::lost_privileges) == "lost_privileges");
  CHECK(to_string(static_cast<stream_end_reason>(99)) == "unknown");
  CHECK(dcp_stream_end::decode(parse(with_body(opcode::dcp_stream_end, "abc", {}, {}))).error() ==
        errc::bad_extras);
}

TEST_CASE("snapshot markers V1, V2.0, V2.1 and V2.2") {
  dcp_snapshot_marker v1{1, 9, snapshot_flags::memory | snapshot_flags::checkpoint};
  const auto b1 = v1.encode().vbucket(2).opaque(9).build();
  CHECK(to_hex(b1) ==
        "80 56 00 00 14 00 00 02 00 00 00 14 00 00 00 09 00 00 00 00 00 00 00 00 "
        "00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 09 00 00 00 05");
  auto d1 = dcp_snapshot_marker::decode(parse(b1));
  REQUIRE(d1);
  CHECK(d1->version == snapshot_marker_version::v1);
  CHECK(d1->start == 1);
  CHECK(d1->end == 9);
  CHECK(d1->flags == 5);

  dcp_snapshot_marker v2{0, 100, snapshot_flags::disk, snapshot_marker_version::v2_0, 99, 98};
  const auto b2 = v2.encode().build();
  auto f2 = parse(b2);
  CHECK(f2.extras == from_hex("00"));
  CHECK(f2.value.size() == 36);
  auto d2 = dcp_snapshot_marker::decode(f2);
  REQUIRE(d2);
  CHECK(d2->version == snapshot_marker_version::v2_0);
  CHECK(d2->end == 100);
  CHECK(d2->max_visible_seqno == 99);
  CHECK(d2->high_completed_seqno == 98);

  auto v21 = v2;
  v21.version = snapshot_marker_version::v2_1;
  v21.timestamp = 77;
  auto d21 = dcp_snapshot_marker::decode(parse(v21.encode().build()));
  REQUIRE(d21);
  CHECK(d21->timestamp == 77);

  auto v22 = v2;
  v22.version = snapshot_marker_version::v2_2;
  v22.purge_seqno = 5;
  v22.high_prepared_seqno = 6;
  auto f22 = parse(v22.encode().build());
  CHECK(f22.value.size() == 52);
  auto d22 = dcp_snapshot_marker::decode(f22);
  REQUIRE(d22);
  CHECK(d22->purge_seqno == 5);
  CHECK(d22->high_prepared_seqno == 6);

  // Lies: wrong extras size, unknown version, value size not matching the version, V1 + value.
  CHECK(dcp_snapshot_marker::decode(
            parse(with_body(opcode::dcp_snapshot_marker, std::string(19, '\0'), {}, {})))
            .error() == errc::bad_extras);
  CHECK(dcp_snapshot_marker::decode(
            parse(with_body(opcode::dcp_snapshot_marker, from_hex("07"), {}, std::string(36, 0))))
            .error() == errc::bad_extras);
  CHECK(dcp_snapshot_marker::decode(
            parse(with_body(opcode::dcp_snapshot_marker, from_hex("02"), {}, std::string(36, 0))))
            .error() == errc::bad_value);
  CHECK(dcp_snapshot_marker::decode(
            parse(with_body(opcode::dcp_snapshot_marker, std::string(20, 0), {}, "x")))
            .error() == errc::bad_value);
}

TEST_CASE("DCP_MUTATION is byte-exact and strips extended meta") {
  dcp_mutation m;
  m.by_seqno = 10;
  m.rev_seqno = 1;
  m.flags = 2;
  m.expiration = 3;
  m.key = "k";
  m.value = "v";
  m.datatype = 0x01;
  m.cas = 0x2a;
  const auto bytes = m.encode().vbucket(5).opaque(7).build();
  CHECK(to_hex(bytes) ==
        "80 57 00 01 1f 01 00 05 00 00 00 21 00 00 00 07 00 00 00 00 00 00 00 2a "
        "00 00 00 00 00 00 00 0a 00 00 00 00 00 00 00 01 00 00 00 02 00 00 00 03 "
        "00 00 00 00 00 00 00 6b 76");
  auto back = decode_dcp_message(parse(bytes));
  REQUIRE(back);
  const auto& d = std::get<dcp_mutation>(*back);
  CHECK(d.by_seqno == 10);
  CHECK(d.rev_seqno == 1);
  CHECK(d.flags == 2);
  CHECK(d.expiration == 3);
  CHECK(d.key == "k");
  CHECK(d.value == "v");
  CHECK(d.datatype == 1);
  CHECK(d.cas == 0x2a);
  CHECK(seqno_of(*back) == 10);

  std::string extras(31, '\0');
  extras[29] = 2;  // nmeta = 2
  auto meta = dcp_mutation::decode(parse(with_body(opcode::dcp_mutation, extras, "k", "bodyMM")));
  REQUIRE(meta);
  CHECK(meta->value == "body");
  CHECK(dcp_mutation::decode(parse(with_body(opcode::dcp_mutation, extras, "k", "M"))).error() ==
        errc::bad_value);
  CHECK(dcp_mutation::decode(parse(with_body(opcode::dcp_mutation, std::string(30, 0), "k", {})))
            .error() == errc::bad_extras);
  CHECK(dcp_mutation::decode(parse(with_body(opcode::dcp_mutation, std::string(31, 0), {}, {})))
            .error() == errc::bad_key);
}

TEST_CASE("DCP_DELETION v1 / v2 and DCP_EXPIRATION") {
  dcp_deletion v1{11, 2, std::nullopt, "k", {}, 0, 0x99};
  auto f1 = parse(v1.encode().vbucket(1).build());
  CHECK(f1.extras.size() == 18);
  auto d1 = dcp_deletion::decode(f1);
  REQUIRE(d1);
  CHECK(!d1->delete_time);
  CHECK(d1->by_seqno == 11);
  CHECK(d1->cas == 0x99);

  dcp_deletion v2{12, 3, 1700000000u, "k", {}, 0, 0};
  const auto b2 = v2.encode().build();
  CHECK(to_hex(b2) ==
        "80 58 00 01 15 00 00 00 00 00 00 16 00 00 00 00 00 00 00 00 00 00 00 00 "
        "00 00 00 00 00 00 00 0c 00 00 00 00 00 00 00 03 65 53 f1 00 00 6b");
  auto d2 = dcp_deletion::decode(parse(b2));
  REQUIRE(d2);
  CHECK(d2->delete_time == 1700000000u);

  CHECK(dcp_deletion::decode(parse(with_body(opcode::dcp_deletion, std::string(20, 0), "k", {})))
            .error() == errc::bad_extras);

  dcp_expiration e{13, 4, 1700000001u, "k", {}, 0, 7};
  auto fe = parse(e.encode().build());
  CHECK(fe.extras.size() == 20);
  auto de = decode_dcp_message(fe);
  REQUIRE(de);
  CHECK(std::get<dcp_expiration>(*de).delete_time == 1700000001u);
  CHECK(seqno_of(*de) == 13);
  CHECK(dcp_expiration::decode(parse(with_body(opcode::dcp_expiration, std::string(20, 0), {}, {})))
            .error() == errc::bad_key);
}

TEST_CASE("system events and their value layouts") {
  collection_created c{0x10, 8, 0x1c, std::nullopt, "beers"};
  auto ev = c.to_event(40);
  const auto bytes = ev.encode().vbucket(0).opaque(1).build();
  CHECK(to_hex(bytes) ==
        "80 5f 00 05 0d 00 00 00 00 00 00 22 00 00 00 01 00 00 00 00 00 00 00 00 "
        "00 00 00 00 00 00 00 28 00 00 00 00 00 "
        "62 65 65 72 73 "
        "00 00 00 00 00 00 00 10 00 00 00 08 00 00 00 1c");
  auto m = decode_dcp_message(parse(bytes));
  REQUIRE(m);
  const auto& se = std::get<dcp_system_event>(*m);
  CHECK(seqno_of(*m) == 40);
  CHECK(collection_created::decode(se).value() == c);

  collection_created ttl{0x11, 8, 0x1d, 3600u, "c"};
  auto ttl_ev = dcp_system_event::decode(parse(ttl.to_event(41).encode().build()));
  REQUIRE(ttl_ev);
  CHECK(ttl_ev->version == 1);
  CHECK(collection_created::decode(*ttl_ev).value() == ttl);

  collection_dropped d{0x12, 8, 0x1c};
  CHECK(collection_dropped::decode(d.to_event(42)).value() == d);
  scope_created s{0x13, 9, "inventory"};
  CHECK(scope_created::decode(s.to_event(43)).value() == s);
  scope_dropped sd{0x14, 9};
  CHECK(scope_dropped::decode(sd.to_event(44)).value() == sd);

  CHECK(collection_dropped::decode(c.to_event(1)).error() == errc::unexpected_opcode);
  auto lying = d.to_event(1);
  lying.value.pop_back();
  CHECK(collection_dropped::decode(lying).error() == errc::bad_value);
  auto v2 = c.to_event(1);
  v2.version = 2;
  CHECK(collection_created::decode(v2).error() == errc::bad_value);
  CHECK(dcp_system_event::decode(
            parse(with_body(opcode::dcp_system_event, std::string(12, 0), {}, {})))
            .error() == errc::bad_extras);
  CHECK(to_string(system_event_id::drop_scope) == "drop_scope");
}

TEST_CASE("seqno advanced, OSO snapshot, noop, buffer ack, set vbucket state") {
  const auto sa = dcp_seqno_advanced{77}.encode().vbucket(4).build();
  CHECK(to_hex(sa) ==
        "80 64 00 00 08 00 00 04 00 00 00 08 00 00 00 00 00 00 00 00 00 00 00 00 "
        "00 00 00 00 00 00 00 4d");
  auto m = decode_dcp_message(parse(sa));
  REQUIRE(m);
  CHECK(seqno_of(*m) == 77);

  auto oso = decode_dcp_message(parse(dcp_oso_snapshot{oso_flags::start}.encode().build()));
  REQUIRE(oso);
  CHECK(std::get<dcp_oso_snapshot>(*oso).flags == oso_flags::start);
  CHECK(!seqno_of(*oso));

  const auto noop = dcp_noop_request{}.encode().opaque(10000001).build();
  CHECK(dcp_noop_request::decode(parse(noop)));
  CHECK(decode_dcp_message(parse(noop)).error() == errc::unexpected_opcode);

  const auto ack = dcp_buffer_ack{0x8000}.encode().build();
  CHECK(to_hex(ack) ==
        "80 5d 00 00 04 00 00 00 00 00 00 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 80 00");
  CHECK(dcp_buffer_ack::decode(parse(ack)).value().bytes == 0x8000);
  CHECK(dcp_buffer_ack::decode(parse(with_body(opcode::dcp_buffer_acknowledgement, "12", {}, {})))
            .error() == errc::bad_extras);

  CHECK(dcp_set_vbucket_state::decode(parse(dcp_set_vbucket_state{1}.encode().build()))
            .value()
            .state == 1);
  CHECK(dcp_set_vbucket_state::decode(
            parse(with_body(opcode::dcp_set_vbucket_state, from_hex("09"), {}, {})))
            .error() == errc::bad_extras);
}

TEST_CASE("decode_dcp_message never crashes on truncated or lying bodies") {
  // Every stream message with every extras length 0..40 and small keys/values: each either
  // decodes or returns an error value.
  const opcode ops[] = {opcode::dcp_snapshot_marker, opcode::dcp_mutation,
                        opcode::dcp_deletion,        opcode::dcp_expiration,
                        opcode::dcp_system_event,    opcode::dcp_seqno_advanced,
                        opcode::dcp_oso_snapshot,    opcode::dcp_stream_end};
  int decoded = 0;
  for (auto op : ops) {
    for (std::size_t n = 0; n <= 40; ++n) {
      for (std::size_t v : {0, 1, 36, 52}) {
        std::string extras(n, '\xff');
        if (n == 1)
          extras[0] = 0;
        auto r = decode_dcp_message(parse(with_body(op, extras, "k", std::string(v, '\xff'))));
        if (r)
          ++decoded;
      }
    }
  }
  CHECK(decoded > 0);
  CHECK(
      decode_dcp_message(parse(with_body(opcode::dcp_mutation, std::string(31, 0), "k", {}, true)))
          .error() == errc::unexpected_magic);
}
