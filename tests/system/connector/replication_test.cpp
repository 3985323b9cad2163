// `cbes` against `cbes-sandbox`, both as real processes: a whole bucket replicated with type
// rules, updates and deletes following, a mapping conflict in the rejection log, kill -9 and
// restart without loss, and a static group of two splitting the vbuckets.
#include "system/connector/harness.hpp"

#include <csignal>

#include "cbes/checkpoint/document_key.hpp"

using namespace connector_st;

namespace {

constexpr int sample = 20000;

// Every sample document is in Elasticsearch: airline_ ones in `airlines`, the rest in `etc`.
bool all_replicated(const sandbox& sb, std::size_t total = sample) {
  return sb.count("airlines") + sb.count("etc") == total;
}

// The checkpoint documents of `group` that exist, by vbucket.
std::vector<std::uint16_t> checkpointed_vbuckets(couchbase_client& cb, const std::string& group) {
  std::vector<std::uint16_t> out;
  for (std::uint16_t vb = 0; vb < 1024; ++vb) {
    auto key = cbes::checkpoint::document_key(group, vb, 1024);
    auto x = cb.run(cb.cluster->lookup_xattr({}, key, "cbes"));
    if (x && x->has_value())
      out.push_back(vb);
  }
  return out;
}

}  // namespace

TEST_CASE(
    "cbes replicates the sample bucket with type rules, updates, deletes and rejections follow") {
  sandbox sb(sample);
  const auto dir = fresh_dir("replicate");
  const auto cfg = write_config(dir, sb, {});
  auto cbes = start_cbes(cfg);
  auto ready = cbes->wait_for(std::regex("ready: streaming ([0-9]+) of ([0-9]+) vbuckets"));
  INFO(cbes->errors());
  REQUIRE(ready);
  CHECK((*ready)[1] == "1024");
  REQUIRE(eventually([&] { return all_replicated(sb); }));
  CHECK(sb.count("airlines") > 0);
  CHECK(sb.count("etc") > 0);

  couchbase_client cb(sb);
  // An update, a delete and a document whose field type conflicts with the mapping.
  REQUIRE(
      cb.run(cb.cluster->upsert({}, "airline_1", R"({"type":"airline","name":"Renamed Air"})")));
  REQUIRE(cb.run(cb.cluster->remove({}, "airline_2")).has_value());
  REQUIRE(
      cb.run(cb.cluster->upsert({}, "zz-conflict-1", R"({"name":"first","size":1})")).has_value());
  REQUIRE(eventually([&] { return sb.document("etc", "zz-conflict-1").has_value(); }));
  REQUIRE(cb.run(cb.cluster->upsert({}, "zz-conflict-2", R"({"name":"second","size":{"x":1}})"))
              .has_value());

  CHECK(eventually([&] {
    auto d = sb.document("airlines", "airline_1");
    return d && d->find("Renamed Air") != std::string::npos;
  }));
  CHECK(eventually([&] { return !sb.document("airlines", "airline_2"); }));
  CHECK(eventually([&] { return sb.count("cbes-rejects") == 1; }));
  auto rejected = cbes::testkit::http_request(sb.es, "GET", "/cbes-rejects/_search");
  REQUIRE(rejected);
  // The Java rejection document: index, type, action, error.
  CHECK(rejected->body.find(R"("index":"etc")") != std::string::npos);
  CHECK(rejected->body.find(R"("action":"INDEX")") != std::string::npos);
  CHECK(rejected->body.find("zz-conflict-2") != std::string::npos);
  // Elasticsearch 8 says document_parsing_exception, 7 and OpenSearch mapper_parsing_exception.
  CHECK(std::regex_search(rejected->body, std::regex("(document|mapper)_parsing_exception")));

  // Our own checkpoint documents live in the same bucket and are never indexed.
  cbes->signal(SIGTERM);
  CHECK(cbes->wait_exit(30s) == 0);
  auto etc = cbes::testkit::http_request(sb.es, "GET", "/etc/_search?q=_id:_connector*");
  REQUIRE(etc);
  CHECK(etc->body.find("_connector:cbes:") == std::string::npos);
  CHECK(checkpointed_vbuckets(cb, "st-group").size() == 1024);
}

TEST_CASE(
    "cbes killed with SIGKILL mid-stream resumes from its checkpoints without losing a document") {
  sandbox sb(sample);
  const auto dir = fresh_dir("kill9");
  const auto cfg = write_config(dir, sb, {});
  {
    auto first = start_cbes(cfg);
    REQUIRE(first->wait_for(std::regex("ready: streaming")));
    REQUIRE(eventually([&] { return sb.count("airlines") + sb.count("etc") > 0; }));
    first->signal(SIGKILL);
    CHECK(first->wait_exit(10s) == 128 + SIGKILL);
  }
  auto second = start_cbes(cfg);
  INFO(second->errors());
  REQUIRE(second->wait_for(std::regex("ready: streaming")));
  CHECK(eventually([&] { return all_replicated(sb); }));
  second->signal(SIGTERM);
  CHECK(second->wait_exit(30s) == 0);
}

TEST_CASE("a static group of two splits the vbuckets and each member checkpoints its half") {
  sandbox sb(2000);
  const auto dir = fresh_dir("static-group");
  couchbase_client cb(sb);
  config_options o;
  o.total = 2;
  o.member = 1;
  auto one = start_cbes(write_config(dir, sb, o));
  auto r1 = one->wait_for(std::regex("ready: streaming ([0-9]+) of"));
  INFO(one->errors());
  REQUIRE(r1);
  CHECK((*r1)[1] == "512");
  // Member 1 alone: checkpoints for vbuckets 0..511 and none for the others.
  one->signal(SIGTERM);
  REQUIRE(one->wait_exit(30s) == 0);
  auto first_half = checkpointed_vbuckets(cb, o.group);
  REQUIRE(first_half.size() == 512);
  CHECK(first_half.front() == 0);
  CHECK(first_half.back() == 511);
  // It could only have replicated documents of its own vbuckets.
  CHECK(sb.count("airlines") + sb.count("etc") < 2000);

  // Both members together: member 1 resumes its half from its checkpoints, member 2 streams
  // the other half from zero.
  one = start_cbes(write_config(dir, sb, o));
  REQUIRE(one->wait_for(std::regex("ready: streaming 512 of")));
  o.member = 2;
  auto two = start_cbes(write_config(dir, sb, o));
  auto r2 = two->wait_for(std::regex("ready: streaming ([0-9]+) of"));
  INFO(two->errors());
  REQUIRE(r2);
  CHECK((*r2)[1] == "512");
  CHECK(eventually([&] { return all_replicated(sb, 2000); }));
  one->signal(SIGTERM);
  two->signal(SIGTERM);
  CHECK(one->wait_exit(30s) == 0);
  CHECK(two->wait_exit(30s) == 0);
  CHECK(checkpointed_vbuckets(cb, o.group).size() == 1024);
}
