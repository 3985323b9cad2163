#include <deque>

#include <catch2/catch.hpp>

#include "cbes/mcbp/cluster_config.hpp"
#include "cbes/mcbp/collections_manifest.hpp"
#include "cbes/mcbp/datatype.hpp"
#include "cbes/mcbp/document.hpp"
#include "cbes/mcbp/error_context.hpp"
#include "cbes/mcbp/error_map.hpp"
#include "cbes/mcbp/hello.hpp"
#include "cbes/mcbp/sasl.hpp"
#include "cbes/mcbp/select_bucket.hpp"
#include "cbes/mcbp/subdoc.hpp"
#include "cbes/mcbp/vbucket_seqnos.hpp"
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

}  // namespace

TEST_CASE("HELLO request carries the agent as key and u16 features as value") {
  const auto bytes =
      hello_request{"cbes", {feature::xerror, feature::select_bucket, feature::collections}}
          .encode()
          .opaque(1)
          .build();
  CHECK(to_hex(bytes) == to_hex(from_hex("80 1f 0004 00 00 0000 0000000a 00000001 0000000000000000"
                                         "63626573 0007 0008 0012")));
  const auto back = hello_request::decode(parse(bytes));
  REQUIRE(back);
  CHECK(back->agent == "cbes");
  CHECK(back->has(feature::collections));
  CHECK_FALSE(back->has(feature::json));
}

TEST_CASE("HELLO response lists the agreed features and refuses an odd-length value") {
  const auto bytes = hello_response{{feature::xerror, feature::json}}.encode().opaque(1).build();
  CHECK(to_hex(bytes) == to_hex(from_hex("81 1f 0000 00 00 0000 00000004 00000001 0000000000000000"
                                         "0007 000b")));
  const auto back = hello_response::decode(parse(bytes));
  REQUIRE(back);
  CHECK(back->has(feature::json));
  const auto odd = frame_builder::response(opcode::hello).value(from_hex("00 07 00")).build();
  CHECK(hello_response::decode(parse(odd)).error() == errc::bad_value);
}

TEST_CASE("body decoders refuse frames of another opcode or direction") {
  const auto req = hello_request{"a", {}}.encode().build();
  CHECK(hello_response::decode(parse(req)).error() == errc::unexpected_magic);
  CHECK(select_bucket_request::decode(parse(req)).error() == errc::unexpected_opcode);
}

TEST_CASE("SASL_LIST_MECHS response is a space-separated list, the strongest SCRAM wins") {
  const auto bytes = sasl_list_mechs_response{"SCRAM-SHA512 SCRAM-SHA256 SCRAM-SHA1 PLAIN"}
                         .encode()
                         .opaque(2)
                         .build();
  const auto back = sasl_list_mechs_response::decode(parse(bytes));
  REQUIRE(back);
  CHECK(choose_mechanism(back->mechanisms, false).value() == sasl_mechanism::scram_sha512);
  CHECK(choose_mechanism("SCRAM-SHA1 PLAIN", false).value() == sasl_mechanism::scram_sha1);
  CHECK(choose_mechanism("PLAIN", true).value() == sasl_mechanism::plain);
  CHECK(choose_mechanism("PLAIN", false).error() == errc::unsupported_mechanism);
  CHECK(choose_mechanism("SCRAM-SHA-256 CRAM-MD5", false).error() == errc::unsupported_mechanism);
  CHECK(to_hex(sasl_list_mechs_request{}.encode().build()) ==
        to_hex(from_hex("80 20 0000 00 00 0000 00000000 00000000 0000000000000000")));
}

TEST_CASE("SASL_AUTH PLAIN carries mechanism as key and NUL user NUL password as value") {
  const auto bytes =
      sasl_auth_request{"PLAIN", plain_auth_payload("u", "pw")}.encode().opaque(3).build();
  CHECK(to_hex(bytes) == to_hex(from_hex("80 21 0005 00 00 0000 0000000a 00000003 0000000000000000"
                                         "504c41494e 00 75 00 7077")));
  const auto req = sasl_auth_request::decode(parse(bytes));
  REQUIRE(req);
  CHECK(req->mechanism == "PLAIN");
  const auto creds = parse_plain_auth_payload(req->payload);
  REQUIRE(creds);
  CHECK(creds->authzid.empty());
  CHECK(creds->username == "u");
  CHECK(creds->password == "pw");
  CHECK(parse_plain_auth_payload("no-nul").error() == errc::bad_sasl_message);
  CHECK(parse_plain_auth_payload(std::string("\0u\0p\0", 5)).error() == errc::bad_sasl_message);
}

TEST_CASE("SASL_STEP and the AuthContinue response round-trip") {
  const auto step = sasl_step_request{"SCRAM-SHA1", "c=biws"}.encode().opaque(4).build();
  CHECK(parse(step).opcode() == opcode::sasl_step);
  CHECK(sasl_step_request::decode(parse(step))->payload == "c=biws");
  CHECK(sasl_auth_request::decode(parse(step)).error() == errc::unexpected_opcode);
  const auto resp = sasl_response{"r=abc"}.encode(opcode::sasl_auth, status::auth_continue).build();
  const auto f = parse(resp);
  CHECK(f.status() == status::auth_continue);
  CHECK(sasl_response::decode(f)->payload == "r=abc");
}

TEST_CASE("SELECT_BUCKET carries the bucket name as key") {
  const auto bytes = select_bucket_request{"default"}.encode().opaque(5).build();
  CHECK(to_hex(bytes) == to_hex(from_hex("80 89 0007 00 00 0000 00000007 00000005 0000000000000000"
                                         "64656661756c74")));
  CHECK(select_bucket_request::decode(parse(bytes))->bucket == "default");
  CHECK(select_bucket_request::decode(parse(frame_builder::request(opcode::select_bucket).build()))
            .error() == errc::bad_key);
}

TEST_CASE("GET_ERROR_MAP sends the version as u16 and parses the JSON map") {
  const auto bytes = get_error_map_request{2}.encode().build();
  CHECK(to_hex(bytes) == to_hex(from_hex("80 fe 0000 00 00 0000 00000002 00000000 0000000000000000"
                                         "0002")));
  CHECK(get_error_map_request::decode(parse(bytes))->version == 2);
  const auto map = parse_error_map(
      R"({"version":2,"revision":4,"errors":{"86":{"name":"ETMPFAIL","desc":"Temporary failure",)"
      R"("attrs":["temp","retry-later"]},"7":{"name":"NOT_MY_VBUCKET","desc":"x","attrs":["fetch-config"]}}})");
  REQUIRE(map);
  CHECK(map->version == 2);
  CHECK(map->revision == 4);
  REQUIRE(map->find(0x86));
  CHECK(map->find(0x86)->name == "ETMPFAIL");
  CHECK(map->find(0x86)->has_attribute("temp"));
  CHECK(map->find(0x07)->has_attribute("fetch-config"));
  CHECK_FALSE(map->find(0x01));
  CHECK(parse_error_map("{").error() == errc::bad_json);
  CHECK(parse_error_map(R"({"version":2,"revision":1,"errors":{"zz":{}}})").error() ==
        errc::bad_error_map);
}

TEST_CASE("GET_CLUSTER_CONFIG has optional 16-byte epoch/revision extras") {
  CHECK(to_hex(get_cluster_config_request{}.encode().build()) ==
        to_hex(from_hex("80 b5 0000 00 00 0000 00000000 00000000 0000000000000000")));
  const auto known =
      get_cluster_config_request{config_version{1, 0x1017}}.encode().opaque(9).build();
  CHECK(to_hex(known) == to_hex(from_hex("80 b5 0000 10 00 0000 00000010 00000009 0000000000000000"
                                         "0000000000000001 0000000000001017")));
  const auto back = get_cluster_config_request::decode(parse(known));
  REQUIRE(back);
  CHECK(back->known == config_version{1, 0x1017});
  const auto bad = frame_builder::request(opcode::get_cluster_config).extras("abcd").build();
  CHECK(get_cluster_config_request::decode(parse(bad)).error() == errc::bad_extras);
  const auto resp = get_cluster_config_response{R"({"rev":1})"}.encode().build();
  CHECK(parse(resp).datatype() == datatype::json);
  CHECK(get_cluster_config_response::decode(parse(resp))->config == R"({"rev":1})");
}

TEST_CASE("cluster map push is magic 0x82 opcode 0x01 with epoch/rev extras and bucket key") {
  clustermap_change_notification n;
  n.version = {2, 7};
  n.bucket = "b";
  n.config = "{}";
  const auto bytes = n.encode().build();
  CHECK(to_hex(bytes) == to_hex(from_hex("82 01 0001 10 01 0000 00000013 00000000 0000000000000000"
                                         "0000000000000002 0000000000000007 62 7b7d")));
  const auto back = clustermap_change_notification::decode(parse(bytes));
  REQUIRE(back);
  CHECK(back->version == config_version{2, 7});
  CHECK(back->bucket == "b");
  CHECK(back->config == "{}");
  const auto legacy = clustermap_change_notification::decode(
      parse(frame_builder::server_request(server_opcode::clustermap_change_notification)
                .extras(from_hex("0000002a"))
                .build()));
  REQUIRE(legacy);
  CHECK(legacy->legacy_extras);
  CHECK(legacy->version == config_version{0, 42});
  const auto bad = frame_builder::server_request(server_opcode::clustermap_change_notification)
                       .extras("abc")
                       .build();
  CHECK(clustermap_change_notification::decode(parse(bad)).error() == errc::bad_extras);
  CHECK(clustermap_change_notification::decode(parse(get_cluster_config_request{}.encode().build()))
            .error() == errc::unexpected_magic);
}

TEST_CASE("GET_COLLECTIONS_MANIFEST and GET_COLLECTION_ID round-trip") {
  CHECK(to_hex(get_collections_manifest_request{}.encode().build()) ==
        to_hex(from_hex("80 ba 0000 00 00 0000 00000000 00000000 0000000000000000")));
  const auto req = get_collection_id_request{"inventory.airline"}.encode().opaque(5).build();
  CHECK(parse(req).value == "inventory.airline");
  CHECK(get_collection_id_request::decode(parse(req))->path == "inventory.airline");
  // Path in the key is accepted too.
  const auto keyed = frame_builder::request(opcode::get_collection_id).key("a.b").build();
  CHECK(get_collection_id_request::decode(parse(keyed))->path == "a.b");
  const auto resp = get_collection_id_response{0xa2, 0x1c}.encode().opaque(5).build();
  CHECK(to_hex(resp) == to_hex(from_hex("81 bb 0000 0c 00 0000 0000000c 00000005 0000000000000000"
                                        "00000000000000a2 0000001c")));
  const auto back = get_collection_id_response::decode(parse(resp));
  REQUIRE(back);
  CHECK(back->manifest_uid == 0xa2);
  CHECK(back->collection_id == 0x1c);
  const auto err = get_collection_id_response{}.encode(status::unknown_collection).build();
  CHECK(get_collection_id_response::decode(parse(err)).error() == errc::bad_extras);
}

TEST_CASE("GET request and response with flags, datatype and CAS") {
  const auto req = get_request{"\x08k"}.encode().vbucket(3).opaque(1).build();
  CHECK(to_hex(req) == to_hex(from_hex("80 00 0002 00 00 0003 00000002 00000001 0000000000000000"
                                       "08 6b")));
  CHECK(get_request::decode(parse(req))->key == "\x08k");
  get_response r;
  r.flags = 0x02000006;
  r.value = "{}";
  r.datatype = datatype::json;
  r.cas = 0x1234;
  const auto resp = r.encode(opcode::get).opaque(1).build();
  CHECK(to_hex(resp) == to_hex(from_hex("81 00 0000 04 01 0000 00000006 00000001 0000000000001234"
                                        "02000006 7b7d")));
  const auto back = get_response::decode(parse(resp));
  REQUIRE(back);
  CHECK(back->flags == 0x02000006);
  CHECK(back->value == "{}");
  CHECK(back->cas == 0x1234);
  // An error response has no flags: fine; a success without them lies.
  CHECK(
      get_response::decode(parse(get_response{}.encode(opcode::get, status::key_enoent).build())));
  CHECK(get_response::decode(parse(frame_builder::response(opcode::get).build())).error() ==
        errc::bad_extras);
}

TEST_CASE("a GET_AND_TOUCH response carries GET_AND_TOUCH, not GET") {
  get_response r;
  r.flags = 7;
  r.value = "v";
  const auto resp = r.encode(opcode::get_and_touch).opaque(9).build();
  CHECK(to_hex(resp.substr(0, 2)) == to_hex(from_hex("81 1d")));
  const auto back = get_response::decode(parse(resp));
  REQUIRE(back);
  CHECK(back->flags == 7);
  // Another command's response is not a GET-family body.
  CHECK(get_response::decode(parse(mutation_response{}.encode(opcode::set).build())).error() ==
        errc::unexpected_opcode);
}

TEST_CASE("SET/ADD/REPLACE carry flags and expiry extras, responses may carry a token") {
  store_request s;
  s.operation = store_operation::add;
  s.key = "k";
  s.value = "v";
  s.flags = 1;
  s.expiry = 60;
  s.cas = 9;
  const auto bytes = s.encode().opaque(2).build();
  CHECK(to_hex(bytes) == to_hex(from_hex("80 02 0001 08 00 0000 0000000a 00000002 0000000000000009"
                                         "00000001 0000003c 6b 76")));
  const auto back = store_request::decode(parse(bytes));
  REQUIRE(back);
  CHECK(back->operation == store_operation::add);
  CHECK(back->expiry == 60);
  CHECK(back->cas == 9);
  mutation_response m{77, mutation_token{0xabc, 5}};
  const auto resp = parse(m.encode(opcode::add).build());
  const auto mr = mutation_response::decode(resp);
  REQUIRE(mr);
  CHECK(mr->cas == 77);
  CHECK(mr->token == mutation_token{0xabc, 5});
  CHECK(store_request::decode(parse(get_request{"k"}.encode().build())).error() ==
        errc::unexpected_opcode);
}

TEST_CASE("DELETE and TOUCH encode key, CAS and expiry") {
  const auto del = remove_request{"k", 5}.encode().build();
  CHECK(to_hex(del) == to_hex(from_hex("80 04 0001 00 00 0000 00000001 00000000 0000000000000005"
                                       "6b")));
  CHECK(remove_request::decode(parse(del))->cas == 5);
  const auto touch = touch_request{"k", 10}.encode().build();
  CHECK(to_hex(touch) == to_hex(from_hex("80 1c 0001 04 00 0000 00000005 00000000 0000000000000000"
                                         "0000000a 6b")));
  CHECK(touch_request::decode(parse(touch))->expiry == 10);
  const auto no_extras = frame_builder::request(opcode::touch).key("k").build();
  CHECK(touch_request::decode(parse(no_extras)).error() == errc::bad_extras);
}

TEST_CASE("SUBDOC_MULTI_LOOKUP of an xattr with access-deleted") {
  subdoc_multi_lookup_request r;
  r.key = "k";
  r.doc_flags = subdoc_doc_flag::access_deleted;
  r.specs.push_back({opcode::subdoc_get, subdoc_path_flag::xattr, "cbes"});
  const auto bytes = r.encode().vbucket(1).build();
  CHECK(to_hex(bytes) == to_hex(from_hex("80 d0 0001 01 00 0001 0000000a 00000000 0000000000000000"
                                         "04 6b c5 04 0004 63626573")));
  const auto back = subdoc_multi_lookup_request::decode(parse(bytes));
  REQUIRE(back);
  CHECK(back->doc_flags == subdoc_doc_flag::access_deleted);
  CHECK(back->specs == r.specs);

  subdoc_multi_lookup_response resp;
  resp.results = {{status::success, "{}"}, {status::subdoc_path_enoent, ""}};
  const auto rb = resp.encode(status::subdoc_multi_path_failure).build();
  CHECK(to_hex(parse(rb).value) == "00 00 00 00 00 02 7b 7d 00 c0 00 00 00 00");
  const auto rback = subdoc_multi_lookup_response::decode(parse(rb));
  REQUIRE(rback);
  CHECK(rback->results == resp.results);
  // A result whose length runs past the value.
  const auto lying = frame_builder::response(opcode::subdoc_multi_lookup)
                         .value(from_hex("0000 000000ff 7b"))
                         .build();
  CHECK(subdoc_multi_lookup_response::decode(parse(lying)).error() == errc::bad_value);
}

TEST_CASE("SUBDOC_MULTI_MUTATION upserts an xattr with mkdoc and expiry") {
  subdoc_multi_mutation_request m;
  m.key = "k";
  m.doc_flags = subdoc_doc_flag::mkdoc;
  m.expiry = 0;
  m.specs.push_back({opcode::subdoc_dict_upsert, subdoc_path_flag::xattr, "x", "1"});
  const auto bytes = m.encode().build();
  CHECK(to_hex(bytes) == to_hex(from_hex("80 d1 0001 05 00 0000 00000010 00000000 0000000000000000"
                                         "00000000 01 6b c8 04 0001 00000001 78 31")));
  const auto back = subdoc_multi_mutation_request::decode(parse(bytes));
  REQUIRE(back);
  CHECK(back->doc_flags == subdoc_doc_flag::mkdoc);
  CHECK(back->expiry == 0u);
  CHECK(back->specs == m.specs);

  m.expiry.reset();
  m.durability = durability_requirement{durability_level::majority, std::nullopt};
  const auto durable = parse(m.encode().build());
  CHECK(durable.magic() == magic::alt_client_request);
  CHECK(durable.extras.size() == 1);
  CHECK(subdoc_multi_mutation_request::decode(durable)->durability->level ==
        durability_level::majority);
}

TEST_CASE("SUBDOC_MULTI_MUTATION responses: values on success, first failure otherwise") {
  subdoc_multi_mutation_response ok;
  ok.results = {{1, status::success, "5"}};
  ok.token = mutation_token{1, 2};
  const auto okf = parse(ok.encode().build());
  CHECK(to_hex(okf.value) == "01 00 00 00 00 00 01 35");
  const auto okb = subdoc_multi_mutation_response::decode(okf);
  REQUIRE(okb);
  CHECK(okb->results == ok.results);
  CHECK(okb->token == mutation_token{1, 2});

  subdoc_multi_mutation_response fail;
  fail.results = {{0, status::subdoc_path_eexists, {}}};
  const auto ff = parse(fail.encode(status::subdoc_multi_path_failure).build());
  CHECK(to_hex(ff.value) == "00 00 c9");
  CHECK(subdoc_multi_mutation_response::decode(ff)->results == fail.results);
  const auto lying =
      frame_builder::response(opcode::subdoc_multi_mutation, status::subdoc_multi_path_failure)
          .value(from_hex("00 00"))
          .build();
  CHECK(subdoc_multi_mutation_response::decode(parse(lying)).error() == errc::bad_value);
}

TEST_CASE("GET_ALL_VB_SEQNOS takes a state and returns 10-byte vbid/seqno pairs") {
  const auto bytes =
      get_all_vb_seqnos_request{vbucket_state::active, std::nullopt}.encode().build();
  CHECK(to_hex(bytes) == to_hex(from_hex("80 48 0000 04 00 0000 00000004 00000000 0000000000000000"
                                         "00000001")));
  CHECK(get_all_vb_seqnos_request::decode(parse(bytes))->state == vbucket_state::active);
  const auto with_cid = parse(get_all_vb_seqnos_request{vbucket_state::alive, 8}.encode().build());
  CHECK(get_all_vb_seqnos_request::decode(with_cid)->collection_id == 8u);
  get_all_vb_seqnos_response r{{{0, 10}, {5, 0x100000000}}};
  const auto rf = parse(r.encode().build());
  CHECK(to_hex(rf.value) == "00 00 00 00 00 00 00 00 00 0a 00 05 00 00 00 01 00 00 00 00");
  CHECK(get_all_vb_seqnos_response::decode(rf)->entries == r.entries);
  const auto ragged =
      frame_builder::response(opcode::get_all_vb_seqnos).value(from_hex("0000 00")).build();
  CHECK(get_all_vb_seqnos_response::decode(parse(ragged)).error() == errc::bad_value);
}

TEST_CASE("OBSERVE_SEQNO sends the uuid and decodes both response formats") {
  const auto bytes = observe_seqno_request{0x0102030405060708}.encode().vbucket(4).build();
  CHECK(to_hex(bytes) == to_hex(from_hex("80 91 0000 00 00 0004 00000008 00000000 0000000000000000"
                                         "0102030405060708")));
  CHECK(observe_seqno_request::decode(parse(bytes))->vbucket_uuid == 0x0102030405060708);
  observe_seqno_response r;
  r.vbucket = 4;
  r.vbucket_uuid = 9;
  r.last_persisted_seqno = 10;
  r.current_seqno = 11;
  const auto f0 = parse(r.encode().build());
  CHECK(f0.value.size() == 27);
  CHECK(to_hex(f0.value.substr(0, 3)) == "00 00 04");
  const auto b0 = observe_seqno_response::decode(f0);
  REQUIRE(b0);
  CHECK(b0->current_seqno == 11);
  CHECK_FALSE(b0->hard_failover);
  r.hard_failover = observe_seqno_response::failover{7, 8};
  const auto f1 = parse(r.encode().build());
  CHECK(f1.value.size() == 43);
  CHECK(observe_seqno_response::decode(f1)->hard_failover ==
        observe_seqno_response::failover{7, 8});
  const auto bad = frame_builder::response(opcode::observe_seqno)
                       .value(std::string(1, '\x01') + std::string(26, '\0'))
                       .build();
  CHECK(observe_seqno_response::decode(parse(bad)).error() == errc::bad_value);
}

TEST_CASE("XERROR bodies expose context, ref and the manifest uid") {
  const auto e = parse_error_context(R"({"error":{"context":"no such key","ref":"r-1"}})");
  CHECK(e.context == "no such key");
  CHECK(e.ref == "r-1");
  CHECK(parse_error_context(R"({"manifest_uid":"a2"})").manifest_uid == 0xa2u);
  CHECK(parse_error_context("not json").context.empty());
}

TEST_CASE("key-only requests refuse extras, a missing key and a value") {
  for (const opcode op : {opcode::get, opcode::remove, opcode::select_bucket}) {
    INFO(to_string(op));
    const auto decode = [op](const std::string& bytes) -> boost::system::error_code {
      const frame f = parse(bytes);
      if (op == opcode::get)
        return get_request::decode(f).error();
      if (op == opcode::remove)
        return remove_request::decode(f).error();
      return select_bucket_request::decode(f).error();
    };
    CHECK(decode(frame_builder::request(op).key("k").extras(from_hex("00000001")).build()) ==
          errc::bad_extras);
    CHECK(decode(frame_builder::request(op).build()) == errc::bad_key);
    CHECK(decode(frame_builder::request(op).key("k").value("v").build()) == errc::bad_value);
    CHECK(decode(frame_builder::response(op).key("k").build()) == errc::unexpected_magic);
  }
}

TEST_CASE("mutation responses carry a 16-byte token, no extras, or are refused") {
  const auto no_token =
      mutation_response::decode(parse(mutation_response{3, {}}.encode(opcode::set).build()));
  REQUIRE(no_token);
  CHECK_FALSE(no_token->token);
  const auto short_extras =
      frame_builder::response(opcode::set).extras(from_hex("0000000000000001")).build();
  CHECK(mutation_response::decode(parse(short_extras)).error() == errc::bad_extras);

  subdoc_multi_mutation_response sd;
  sd.results = {{0, status::success, {}}};
  const auto sd_no_token = subdoc_multi_mutation_response::decode(parse(sd.encode().build()));
  REQUIRE(sd_no_token);
  CHECK_FALSE(sd_no_token->token);
  const auto sd_short = frame_builder::response(opcode::subdoc_multi_mutation)
                            .extras(from_hex("0000000000000001"))
                            .build();
  CHECK(subdoc_multi_mutation_response::decode(parse(sd_short)).error() == errc::bad_extras);
}

TEST_CASE("JSON documents that are not objects are refused with the document's own code") {
  CHECK(parse_error_map("[]").error() == errc::bad_error_map);
  CHECK(parse_collections_manifest("[1]").error() == errc::bad_collections_manifest);
  CHECK(parse_collections_manifest("\"uid\"").error() == errc::bad_collections_manifest);
}
