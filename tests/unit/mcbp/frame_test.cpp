#include <catch2/catch.hpp>

#include "cbes/mcbp/datatype.hpp"
#include "cbes/mcbp/frame.hpp"
#include "cbes/mcbp/frame_builder.hpp"
#include "cbes/mcbp/frame_info.hpp"
#include "cbes/mcbp/parser.hpp"
#include "unit/mcbp/support.hpp"

using namespace cbes::mcbp;
using test::from_hex;
using test::to_hex;

TEST_CASE("a classic request encodes every header field big-endian") {
  const auto bytes = frame_builder::request(opcode::set)
                         .vbucket(0x0102)
                         .opaque(0xdeadbeef)
                         .cas(0x1122334455667788)
                         .datatype(datatype::json)
                         .extras(from_hex("00000001 0000000a"))
                         .key("k")
                         .value("{}")
                         .build();
  CHECK(to_hex(bytes) == to_hex(from_hex("80 01 0001 08 01 0102 0000000b deadbeef 1122334455667788"
                                         "00000001 0000000a 6b 7b7d")));
}

TEST_CASE("a classic response carries the status where requests carry the vbucket") {
  const auto bytes = frame_builder::response(opcode::get, status::key_enoent).opaque(7).build();
  CHECK(to_hex(bytes) ==
        to_hex(from_hex("81 00 0000 00 00 0001 00000000 00000007 0000000000000000")));
  const auto f = decode_frame(bytes);
  REQUIRE(f);
  CHECK(f->is_response());
  CHECK(f->status() == status::key_enoent);
  CHECK(f->opaque() == 7);
}

TEST_CASE("framing extras switch to the flexible magic with a one-byte key length") {
  const auto bytes =
      frame_builder::request(opcode::dcp_mutation).stream_id(7).key("ab").value("v").build();
  // 0x08, byte 2 = framing extras length (3), byte 3 = key length (2); sid = 0x22 + u16.
  CHECK(to_hex(bytes) == to_hex(from_hex("08 57 03 02 00 00 0000 00000006 00000000 0000000000000000"
                                         "22 0007 6162 76")));
  const auto f = decode_frame(bytes);
  REQUIRE(f);
  CHECK(f->magic() == magic::alt_client_request);
  CHECK(f->header.framing_extras_length == 3);
  CHECK(f->key == "ab");
  CHECK(f->value == "v");
  const auto sid = find_frame_info(f->framing_extras, request_frame_info::dcp_stream_id);
  REQUIRE(sid);
  CHECK(decode_stream_id(*sid).value() == 7);
}

TEST_CASE("a flexible response decodes the server duration frame info") {
  const auto bytes = frame_builder::response(opcode::get)
                         .server_duration(std::chrono::microseconds{1000})
                         .extras(from_hex("00000000"))
                         .build();
  const auto f = decode_frame(bytes);
  REQUIRE(f);
  CHECK(f->magic() == magic::alt_client_response);
  const auto infos = decode_frame_infos(f->framing_extras);
  REQUIRE(infos);
  REQUIRE(infos->size() == 1);
  CHECK((*infos)[0].id == response_frame_info::server_recv_send_duration);
  const auto d = decode_server_duration((*infos)[0].data);
  REQUIRE(d);
  // The encoding keeps ~3 significant digits: (2000)^(1/1.74) ≈ 78.9 → 79 → ≈ 1017 µs.
  CHECK(d->count() > 950);
  CHECK(d->count() < 1050);
  CHECK(encode_server_duration(std::chrono::microseconds{0}) == 0);
  CHECK(encode_server_duration(std::chrono::hours{1000}) == 0xffff);
}

TEST_CASE("durability frame info has a level and an optional timeout") {
  std::string fx;
  append_frame_info(fx, request_frame_info::durability,
                    encode_durability({durability_level::majority, std::nullopt}));
  append_frame_info(fx, request_frame_info::durability,
                    encode_durability({durability_level::persist_to_majority, 2500}));
  CHECK(to_hex(fx) == "11 01 13 03 09 c4");
  const auto infos = decode_frame_infos(fx);
  REQUIRE(infos);
  REQUIRE(infos->size() == 2);
  CHECK(decode_durability((*infos)[0].data)->level == durability_level::majority);
  CHECK_FALSE(decode_durability((*infos)[0].data)->timeout_ms);
  CHECK(decode_durability((*infos)[1].data)->timeout_ms == 2500);
  CHECK(decode_durability(from_hex("07")).error() == errc::bad_frame_info);
  CHECK(decode_durability(from_hex("01 00")).error() == errc::bad_frame_info);
}

TEST_CASE("frame info ids and lengths of 15 or more use the escape byte") {
  std::string fx;
  append_frame_info(fx, 20, std::string(16, 'x'));
  CHECK(to_hex(fx.substr(0, 3)) == "ff 05 01");
  const auto infos = decode_frame_infos(fx);
  REQUIRE(infos);
  CHECK((*infos)[0].id == 20);
  CHECK((*infos)[0].data.size() == 16);
  append_frame_info(fx, request_frame_info::preserve_ttl, {});
  CHECK(decode_frame_infos(fx)->size() == 2);
}

TEST_CASE("frame infos whose length runs past the framing extras are refused") {
  CHECK(decode_frame_infos(from_hex("22 00")).error() == errc::bad_frame_info);
  CHECK(decode_frame_infos(from_hex("0f")).error() == errc::bad_frame_info);
  CHECK(decode_frame_infos(from_hex("f0")).error() == errc::bad_frame_info);
  CHECK_FALSE(find_frame_info(from_hex("22 00"), request_frame_info::dcp_stream_id));
}

TEST_CASE("the server-initiated magic 0x82 round-trips") {
  const auto bytes =
      frame_builder::server_request(server_opcode::clustermap_change_notification).build();
  const auto f = decode_frame(bytes);
  REQUIRE(f);
  CHECK(f->magic() == magic::server_request);
  CHECK(f->server_opcode() == server_opcode::clustermap_change_notification);
  CHECK(f->is_request());
}

TEST_CASE("decode_frame refuses bad magic, truncation, trailing bytes and unknown datatype") {
  const auto good = frame_builder::request(opcode::noop).opaque(1).build();
  CHECK(decode_frame(good));
  std::string bad = good;
  bad[0] = '\x42';
  CHECK(decode_frame(bad).error() == errc::bad_magic);
  CHECK(decode_frame(good.substr(0, 23)).error() == errc::truncated);
  CHECK(decode_frame(good + "x").error() == errc::trailing_bytes);
  bad = good;
  bad[5] = '\x08';
  CHECK(decode_frame(bad).error() == errc::bad_datatype);
}

TEST_CASE("decode_frame refuses frames whose section lengths exceed the body") {
  // key length 5 but body length 4.
  CHECK(decode_frame(from_hex("80 00 0005 00 00 0000 00000004 00000000 0000000000000000 61626364"))
            .error() == errc::inconsistent_lengths);
  // extras 4 + key 1 > body 4.
  CHECK(decode_frame(from_hex("80 00 0001 04 00 0000 00000004 00000000 0000000000000000 61626364"))
            .error() == errc::inconsistent_lengths);
  // flexible: framing extras 3 + key 2 > body 4.
  CHECK(decode_frame(from_hex("08 00 03 02 00 00 0000 00000004 00000000 0000000000000000 61626364"))
            .error() == errc::inconsistent_lengths);
}

TEST_CASE("the parser yields frames fed one byte at a time") {
  const auto a = frame_builder::request(opcode::get).opaque(1).key("k1").build();
  const auto b =
      frame_builder::response(opcode::get).opaque(2).extras(from_hex("00000000")).build();
  const std::string stream = a + b;
  parser p;
  std::vector<std::uint32_t> opaques;
  for (char c : stream) {
    p.feed(std::string_view(&c, 1));
    for (;;) {
      auto r = p.next();
      REQUIRE(r);
      if (!*r)
        break;
      opaques.push_back((*r)->opaque());
    }
  }
  CHECK(opaques == std::vector<std::uint32_t>{1, 2});
  CHECK(p.buffered() == 0);
}

TEST_CASE("the parser returns several frames from one feed, zero-copy") {
  const auto a = frame_builder::request(opcode::get).opaque(1).key("first").build();
  const auto b = frame_builder::request(opcode::get).opaque(2).key("second").build();
  parser p;
  p.feed(a + b + b.substr(0, 10));
  auto r1 = p.next();
  REQUIRE(r1);
  REQUIRE(*r1);
  CHECK((*r1)->key == "first");
  CHECK((*r1)->bytes.size() == a.size());
  auto r2 = p.next();
  REQUIRE(r2);
  REQUIRE(*r2);
  CHECK((*r2)->key == "second");
  auto r3 = p.next();
  REQUIRE(r3);
  CHECK_FALSE(*r3);
  CHECK(p.buffered() == 10);
}

TEST_CASE("the parser refuses an oversized body as soon as the header arrives") {
  parser p{1024};
  // Header announcing a 1 MiB body; no body bytes sent.
  p.feed(from_hex("80 01 0000 00 00 0000 00100000 00000000 0000000000000000"));
  auto r = p.next();
  REQUIRE_FALSE(r);
  CHECK(r.error() == errc::frame_too_large);
  // The stream is unusable: the error sticks until reset().
  p.feed(frame_builder::request(opcode::noop).build());
  CHECK(p.next().error() == errc::frame_too_large);
  p.reset();
  p.feed(frame_builder::request(opcode::noop).build());
  auto ok = p.next();
  REQUIRE(ok);
  CHECK(*ok);
}

TEST_CASE("the parser refuses bad magic and lying lengths without waiting for the body") {
  parser p;
  p.feed(from_hex("47 45 54 20 2f 20 48 54 54 50 2f 31 2e 31 0d 0a 0d 0a 0d 0a 0d 0a 0d 0a"));
  CHECK(p.next().error() == errc::bad_magic);
  parser q;
  q.feed(from_hex("81 00 0010 00 00 0000 00000002 00000000 0000000000000000"));
  CHECK(q.next().error() == errc::inconsistent_lengths);
}

TEST_CASE("a truncated frame is need-more, never a frame") {
  const auto a = frame_builder::request(opcode::get).key("key").build();
  for (std::size_t n = 0; n < a.size(); ++n) {
    parser p;
    p.feed(a.substr(0, n));
    auto r = p.next();
    REQUIRE(r);
    CHECK_FALSE(*r);
  }
}

TEST_CASE("an owned frame keeps its views valid after the parser moves on") {
  parser p;
  p.feed(frame_builder::request(opcode::get).key("kept").value("v").build());
  auto r = p.next();
  REQUIRE(r);
  REQUIRE(*r);
  owned_frame kept{**r};
  p.feed(std::string(100, '\x80'));
  owned_frame moved = std::move(kept);
  owned_frame copy = moved;
  CHECK(moved.view().key == "kept");
  CHECK(copy.view().value == "v");
  CHECK(copy.view().key.data() != moved.view().key.data());
}

TEST_CASE("status and codec errors convert to error codes with readable messages") {
  boost::system::error_code ok = status::success;
  CHECK_FALSE(ok);
  boost::system::error_code nmvb = status::not_my_vbucket;
  CHECK(nmvb.message() == "NotMyVbucket (0x07)");
  boost::system::error_code e = errc::frame_too_large;
  CHECK(e.message().find("maximum") != std::string::npos);
  CHECK(to_string(opcode::remove) == "DELETE");
  CHECK(to_string(opcode::dcp_stream_req) == "DCP_STREAM_REQ");
  CHECK(to_string(static_cast<opcode>(0x7f)) == "UNKNOWN");
  CHECK(is_temporary(status::etmpfail));
  CHECK_FALSE(is_temporary(status::einval));
}
