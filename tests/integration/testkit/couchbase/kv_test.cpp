// Document, sub-document, collection, expiry and Snappy behaviour of the fake's KV port.
#include <boost/json/parse.hpp>

#include "cbes/mcbp/collections_manifest.hpp"
#include "cbes/mcbp/datatype.hpp"
#include "cbes/mcbp/document.hpp"
#include "cbes/mcbp/snappy.hpp"
#include "cbes/mcbp/subdoc.hpp"
#include "cbes/mcbp/xattr.hpp"
#include "cbes/util/crc32.hpp"
#include "kv_client.hpp"

using namespace cbfake_test;

namespace {

std::uint16_t vb_of(std::string_view key) {
  return cbes::util::vbucket_for_key(key, 1024);
}

owned_frame set(kv_client& c, std::string_view key, std::string_view value,
                store_operation op = store_operation::set, std::uint64_t cas = 0,
                std::uint32_t expiry = 0) {
  store_request r{op, c.key(key), std::string(value)};
  r.cas = cas;
  r.expiry = expiry;
  return c.call(r.encode().vbucket(vb_of(key)));
}

owned_frame get(kv_client& c, std::string_view key, std::uint32_t cid = 0) {
  return c.call(get_request{c.key(key, cid)}.encode().vbucket(vb_of(key)));
}

}  // namespace

TEST_CASE("SET then GET round-trips value, flags and CAS, with a mutation token") {
  couchbase_cluster cluster;
  cluster.start();
  kv_client c{cluster.kv_port()};
  c.bootstrap();
  store_request r{store_operation::set, c.key("doc"), R"({"a":1})"};
  r.flags = 0x02000006;
  auto stored = c.call(r.encode().vbucket(vb_of("doc")));
  REQUIRE(stored.view().status() == status::success);
  auto m = mutation_response::decode(stored.view());
  REQUIRE(m);
  REQUIRE(m->token);
  CHECK(m->token->seqno == 1);
  CHECK(m->token->vbucket_uuid == cluster.failover_log("default", vb_of("doc")).at(0).uuid);

  auto got = get(c, "doc");
  REQUIRE(got.view().status() == status::success);
  auto g = get_response::decode(got.view());
  REQUIRE(g);
  CHECK(g->value == R"({"a":1})");
  CHECK(g->flags == 0x02000006);
  CHECK(g->cas == m->cas);
  CHECK(g->datatype == datatype::json);  // detected, and JSON was negotiated
}

TEST_CASE("ADD, REPLACE, CAS and DELETE follow memcached semantics") {
  couchbase_cluster cluster;
  cluster.start();
  kv_client c{cluster.kv_port()};
  c.bootstrap();
  CHECK(set(c, "k", "v1", store_operation::replace).view().status() == status::key_enoent);
  auto first = set(c, "k", "v1", store_operation::add);
  REQUIRE(first.view().status() == status::success);
  CHECK(set(c, "k", "v2", store_operation::add).view().status() == status::key_eexists);
  CHECK(set(c, "k", "v2", store_operation::set, first.view().cas() + 1).view().status() ==
        status::key_eexists);
  auto second = set(c, "k", "v2", store_operation::replace, first.view().cas());
  REQUIRE(second.view().status() == status::success);
  CHECK(get_response::decode(get(c, "k").view())->datatype == 0);  // not JSON

  auto del = c.call(remove_request{c.key("k"), first.view().cas()}.encode().vbucket(vb_of("k")));
  CHECK(del.view().status() == status::key_eexists);
  del = c.call(remove_request{c.key("k")}.encode().vbucket(vb_of("k")));
  CHECK(del.view().status() == status::success);
  CHECK(get(c, "k").view().status() == status::key_enoent);
  auto h = cluster.history("default", vb_of("k"));
  REQUIRE(h.size() == 3);
  CHECK(h[2].type == cbes::testkit::couchbase_history_item::kind::deletion);
  CHECK(h[2].rev_seqno == 3);
}

TEST_CASE("an expired document reads as missing and becomes an expiration in the history") {
  couchbase_cluster cluster;
  cluster.start();
  kv_client c{cluster.kv_port()};
  c.bootstrap();
  REQUIRE(set(c, "ttl", "{}", store_operation::set, 0, 10).view().status() == status::success);
  REQUIRE(get(c, "ttl").view().status() == status::success);
  cluster.advance_clock(std::chrono::seconds(11));
  CHECK(get(c, "ttl").view().status() == status::key_enoent);
  auto h = cluster.history("default", vb_of("ttl"));
  REQUIRE(h.size() == 2);
  CHECK(h[1].type == cbes::testkit::couchbase_history_item::kind::expiration);

  cluster.upsert("default", "ttl2", "{}", "_default._default", 5);
  cluster.advance_clock(std::chrono::seconds(6));
  CHECK(cluster.run_expiry_pager() == 1);
  CHECK(cluster.history("default", vb_of("ttl2")).back().type ==
        cbes::testkit::couchbase_history_item::kind::expiration);
}

TEST_CASE("TOUCH changes the expiry and the CAS") {
  couchbase_cluster cluster;
  cluster.start();
  kv_client c{cluster.kv_port()};
  c.bootstrap();
  auto first = set(c, "t", "x");
  auto touched = c.call(touch_request{c.key("t"), 100}.encode().vbucket(vb_of("t")));
  REQUIRE(touched.view().status() == status::success);
  CHECK(touched.view().cas() != first.view().cas());
  auto doc = cluster.get("default", "t");
  REQUIRE(doc);
  CHECK(doc->expiry != 0);
}

TEST_CASE("Snappy values are inflated on the way in and compressed on the way out") {
  couchbase_cluster cluster;
  cluster.start();
  kv_client c{cluster.kv_port()};
  c.bootstrap();
  std::string big = R"({"text":")" + std::string(500, 'a') + R"("})";
  store_request r{store_operation::set, c.key("s"), snappy_compress(big)};
  r.datatype = datatype::snappy | datatype::json;
  REQUIRE(c.call(r.encode().vbucket(vb_of("s"))).view().status() == status::success);
  CHECK(cluster.get("default", "s")->value == big);
  auto got = get_response::decode(get(c, "s").view());
  REQUIRE(got);
  CHECK(has(got->datatype, datatype::snappy));
  CHECK(snappy_decompress(got->value, 1 << 20).value() == big);

  kv_client plain{cluster.kv_port()};
  plain.bootstrap("default", {feature::xerror, feature::select_bucket, feature::json});
  auto raw = get_response::decode(get(plain, "s").view());
  CHECK(raw->value == big);
  CHECK(raw->datatype == datatype::json);
  auto refused = plain.call(r.encode().vbucket(vb_of("s")));
  CHECK(refused.view().status() == status::einval);  // Snappy was not negotiated
}

TEST_CASE("collections: ids, prefixed keys, unknown collection with the manifest uid") {
  couchbase_cluster cluster;
  cluster.start();
  auto sid = cluster.create_scope("default", "inventory");
  auto cid = cluster.create_collection("default", "inventory", "airline");
  CHECK(sid == 8);
  CHECK(cid == 9);
  kv_client c{cluster.kv_port()};
  c.bootstrap();

  auto manifest = c.call(get_collections_manifest_request{}.encode());
  auto m = parse_collections_manifest(manifest.view().value);
  REQUIRE(m);
  CHECK(m->uid == 2);
  CHECK(m->collection_id("inventory", "airline") == cid);

  auto id = c.call(get_collection_id_request{"inventory.airline"}.encode());
  REQUIRE(id.view().status() == status::success);
  auto idr = get_collection_id_response::decode(id.view());
  CHECK(idr->collection_id == cid);
  CHECK(idr->manifest_uid == 2);
  CHECK(c.call(get_collection_id_request{"inventory.nope"}.encode()).view().status() ==
        status::unknown_collection);
  CHECK(c.call(get_collection_id_request{"nope.x"}.encode()).view().status() ==
        status::unknown_scope);

  store_request r{store_operation::set, encode_collection_key(cid, "a1"), R"({"n":1})"};
  REQUIRE(c.call(r.encode().vbucket(vb_of("a1"))).view().status() == status::success);
  CHECK(cluster.get("default", "a1", "inventory.airline"));
  CHECK_FALSE(cluster.get("default", "a1"));
  CHECK(get(c, "a1", cid).view().status() == status::success);

  auto unknown = get(c, "a1", 77);
  CHECK(unknown.view().status() == status::unknown_collection);
  CHECK(unknown.view().value == R"({"manifest_uid":"2"})");
}

TEST_CASE("xattrs: mutateIn with mkdoc, lookupIn of xattr and body, macros, $document") {
  couchbase_cluster cluster;
  cluster.start();
  kv_client c{cluster.kv_port()};
  c.bootstrap();
  subdoc_multi_mutation_request m;
  m.key = c.key("x");
  m.doc_flags = subdoc_doc_flag::mkdoc;
  m.specs.push_back({opcode::subdoc_dict_upsert,
                     subdoc_path_flag::xattr | subdoc_path_flag::mkdir_p, "cbes.checkpoint",
                     R"({"seqno":42})"});
  m.specs.push_back(
      {opcode::subdoc_dict_upsert,
       subdoc_path_flag::xattr | subdoc_path_flag::expand_macros | subdoc_path_flag::mkdir_p,
       "_sys.cas", R"("${Mutation.CAS}")"});
  m.specs.push_back({opcode::subdoc_dict_upsert, subdoc_path_flag::mkdir_p, "body.n", "7"});
  m.specs.push_back({opcode::subdoc_counter, 0, "count", "5"});
  auto mr = c.call(m.encode().vbucket(vb_of("x")));
  REQUIRE(mr.view().status() == status::success);
  auto mres = subdoc_multi_mutation_response::decode(mr.view());
  REQUIRE(mres);
  REQUIRE(mres->results.size() == 1);
  CHECK(mres->results[0].index == 3);
  CHECK(mres->results[0].value == "5");

  subdoc_multi_lookup_request l;
  l.key = c.key("x");
  l.specs.push_back({opcode::subdoc_get, subdoc_path_flag::xattr, "cbes.checkpoint.seqno"});
  l.specs.push_back({opcode::subdoc_get, subdoc_path_flag::xattr, "$document.CAS"});
  l.specs.push_back({opcode::subdoc_exists, 0, "body.n"});
  l.specs.push_back({opcode::subdoc_get, 0, "missing"});
  l.specs.push_back({opcode::get, 0, ""});
  auto lr = c.call(l.encode().vbucket(vb_of("x")));
  CHECK(lr.view().status() == status::subdoc_multi_path_failure);
  auto res = subdoc_multi_lookup_response::decode(lr.view());
  REQUIRE(res);
  REQUIRE(res->results.size() == 5);
  CHECK(res->results[0].value == "42");
  CHECK(res->results[1].value.starts_with("\"0x"));
  CHECK(res->results[2].status == status::success);
  CHECK(res->results[3].status == status::subdoc_path_enoent);
  CHECK(res->results[4].value == R"({"body":{"n":7},"count":5})");

  // GET returns the body without the xattrs; the stored doc keeps both.
  CHECK(get_response::decode(get(c, "x").view())->value == R"({"body":{"n":7},"count":5})");
  auto doc = cluster.get("default", "x");
  REQUIRE(doc->xattrs.size() == 2);
  CHECK(doc->xattrs[0].first == "cbes");
}

TEST_CASE("sub-document errors: path failures, add on existing, xattr order, missing doc") {
  couchbase_cluster cluster;
  cluster.start();
  kv_client c{cluster.kv_port()};
  c.bootstrap();
  set(c, "d", R"({"a":{"b":1},"arr":[1,2]})");

  subdoc_multi_mutation_request m;
  m.key = c.key("d");
  m.specs.push_back({opcode::subdoc_dict_upsert, 0, "a.c", "2"});
  m.specs.push_back({opcode::subdoc_dict_add, 0, "a.b", "3"});
  auto r = c.call(m.encode().vbucket(vb_of("d")));
  CHECK(r.view().status() == status::subdoc_multi_path_failure);
  auto res = subdoc_multi_mutation_response::decode(r.view());
  REQUIRE(res->results.size() == 1);
  CHECK(res->results[0].index == 1);
  CHECK(res->results[0].status == status::subdoc_path_eexists);
  CHECK(cluster.get("default", "d")->value == R"({"a":{"b":1},"arr":[1,2]})");  // atomic

  subdoc_multi_mutation_request order;
  order.key = c.key("d");
  order.specs.push_back({opcode::subdoc_dict_upsert, 0, "a.c", "2"});
  order.specs.push_back({opcode::subdoc_dict_upsert, subdoc_path_flag::xattr, "x", "1"});
  CHECK(c.call(order.encode().vbucket(vb_of("d"))).view().status() ==
        status::subdoc_invalid_xattr_order);

  subdoc_multi_mutation_request arr;
  arr.key = c.key("d");
  arr.specs.push_back({opcode::subdoc_array_push_last, 0, "arr", "3,4"});
  arr.specs.push_back({opcode::subdoc_array_add_unique, 0, "arr", "1"});
  auto ar = c.call(arr.encode().vbucket(vb_of("d")));
  CHECK(subdoc_multi_mutation_response::decode(ar.view())->results.at(0).status ==
        status::subdoc_path_eexists);

  subdoc_multi_mutation_request nodoc;
  nodoc.key = c.key("nothing");
  nodoc.specs.push_back({opcode::subdoc_dict_upsert, 0, "a", "1"});
  CHECK(c.call(nodoc.encode().vbucket(vb_of("nothing"))).view().status() == status::key_enoent);
}

TEST_CASE("access_deleted reads and writes the xattrs of a tombstone, system xattrs survive") {
  couchbase_cluster cluster;
  cluster.start();
  kv_client c{cluster.kv_port()};
  c.bootstrap();
  subdoc_multi_mutation_request m;
  m.key = c.key("del");
  m.doc_flags = subdoc_doc_flag::mkdoc;
  m.specs.push_back({opcode::subdoc_dict_upsert, subdoc_path_flag::xattr, "_sys", R"({"k":1})"});
  m.specs.push_back({opcode::subdoc_dict_upsert, subdoc_path_flag::xattr, "user", "2"});
  REQUIRE(c.call(m.encode().vbucket(vb_of("del"))).view().status() == status::success);
  REQUIRE(c.call(remove_request{c.key("del")}.encode().vbucket(vb_of("del"))).view().status() ==
          status::success);

  subdoc_multi_lookup_request l;
  l.key = c.key("del");
  l.specs.push_back({opcode::subdoc_get, subdoc_path_flag::xattr, "_sys.k"});
  l.specs.push_back({opcode::subdoc_get, subdoc_path_flag::xattr, "user"});
  CHECK(c.call(l.encode().vbucket(vb_of("del"))).view().status() == status::key_enoent);
  l.doc_flags = subdoc_doc_flag::access_deleted;
  auto r = c.call(l.encode().vbucket(vb_of("del")));
  CHECK(r.view().status() == status::subdoc_multi_path_failure_deleted);
  auto res = subdoc_multi_lookup_response::decode(r.view());
  CHECK(res->results.at(0).value == "1");
  CHECK(res->results.at(1).status == status::subdoc_path_enoent);

  subdoc_multi_mutation_request w;
  w.key = c.key("del");
  w.doc_flags = subdoc_doc_flag::access_deleted;
  w.specs.push_back({opcode::subdoc_dict_upsert, subdoc_path_flag::xattr, "_sys.k", "5"});
  CHECK(c.call(w.encode().vbucket(vb_of("del"))).view().status() == status::subdoc_success_deleted);
  CHECK_FALSE(cluster.get("default", "del"));  // still deleted
}

TEST_CASE("SET with the XATTR datatype stores xattrs that GET does not return") {
  couchbase_cluster cluster;
  cluster.start();
  kv_client c{cluster.kv_port()};
  c.bootstrap();
  store_request r{store_operation::set, c.key("xa"), encode_xattrs({{"meta", "{}"}}, "body")};
  r.datatype = datatype::xattr;
  REQUIRE(c.call(r.encode().vbucket(vb_of("xa"))).view().status() == status::success);
  CHECK(get_response::decode(get(c, "xa").view())->value == "body");
  CHECK(cluster.get("default", "xa")->xattrs.size() == 1);
}

TEST_CASE("a plain SET keeps the system xattrs and drops the user xattrs, like kv_engine") {
  couchbase_cluster cluster;
  cluster.start();
  kv_client c{cluster.kv_port()};
  c.bootstrap();
  store_request r{store_operation::set, c.key("px"),
                  encode_xattrs({{"_sys", "1"}, {"user", "2"}}, "old")};
  r.datatype = datatype::xattr;
  REQUIRE(c.call(r.encode().vbucket(vb_of("px"))).view().status() == status::success);
  REQUIRE(set(c, "px", "").view().status() == status::success);
  auto doc = cluster.get("default", "px");
  REQUIRE(doc);
  CHECK(doc->value.empty());
  CHECK_FALSE(doc->json);
  REQUIRE(doc->xattrs.size() == 1);
  CHECK(doc->xattrs[0].first == "_sys");
}

TEST_CASE("load_sample writes travel-sample shaped documents") {
  couchbase_cluster cluster;
  cluster.start();
  CHECK(cluster.load_sample(10) == 10);
  auto route = cluster.get("default", "route_1");
  REQUIRE(route);
  CHECK(route->json);
  CHECK(route->value.find(R"("airlineid":"airline_1")") != std::string::npos);
  CHECK(cluster.get("default", "airline_2"));
  CHECK(cluster.get("default", "landmark_2"));
  CHECK(cluster.get("default", "hotel_2"));
  CHECK(cluster.get("default", "airport_2"));
}

TEST_CASE("load_documents stores doc_0 … doc_<n-1> as JSON objects of exactly the size asked") {
  couchbase_cluster_options o;
  o.buckets = {{"default", 1024, 0}};
  couchbase_cluster cluster{o};
  cluster.start();
  CHECK(cluster.load_documents(300, 512) == 300);
  for (const char* key : {"doc_0", "doc_299"}) {
    auto d = cluster.get("default", key);
    REQUIRE(d);
    CHECK(d->json);
    CHECK(d->value.size() == 512);
    CHECK(boost::json::parse(d->value).is_object());
  }
  CHECK_FALSE(cluster.get("default", "doc_300"));
  // Below 200 bytes the airline fields would not fit: the smallest document is 200 bytes.
  CHECK(cbes::testkit::padded_document(10).size() == 200);
  CHECK(cbes::testkit::padded_document(1024).size() == 1024);
}
