// cbes-consul's checkpoint commands against the fake Couchbase cluster and the fake Consul
// agent: they read the group's config from Consul, pause the group around the change and resume
// it only when it was running before.
#include "system/consul_cli/harness.hpp"

#include <regex>

#include <boost/json.hpp>

#include "cbes/testkit/couchbase_cluster.hpp"

using namespace consul_cli_st;
namespace json = boost::json;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The lines appear in this order in `text`.
bool in_order(const std::string& text, const std::vector<std::string>& lines) {
  std::size_t at = 0;
  for (const auto& l : lines) {
    at = text.find(l, at);
    if (at == std::string::npos)
      return false;
    at += l.size();
  }
  return true;
}

bool has_position(const std::string& backup) {
  return std::regex_search(backup, std::regex(R"("seqno":[1-9])"));
}

struct group_fixture {
  consul_fixture consul;
  cbes::testkit::couchbase_cluster couchbase;
  fs::path dir = fresh_dir("checkpoint");

  group_fixture() {
    couchbase.start();
    couchbase.load_sample(300);
    config_options o;
    o.kv = "127.0.0.1:" + std::to_string(couchbase.kv_port());
    consul.put("couchbase/cbes/g1/config", connector_config(dir, o));
    consul.put("couchbase/cbes/g1/control", R"({"other":1})");
  }

  json::value control() { return json::parse(*consul.get("couchbase/cbes/g1/control")); }

  std::string backup(const std::string& name) {
    const auto file = dir / name;
    auto r = consul.run({"checkpoint-backup", "-g", "g1", "-o", file.string()});
    INFO(r.err);
    REQUIRE(r.code == 0);
    CHECK(contains(r.out, "Wrote checkpoint for connector 'g1' to file " + file.string()));
    return slurp(file);
  }
};

}  // namespace

TEST_CASE("checkpoint catch-up, backup, clear and restore round-trip through Consul's config") {
  group_fixture f;

  auto r = f.consul.run({"checkpoint-catch-up", "-g", "g1"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(in_order(r.out,
                 {"Pausing connector prior to modifying checkpoint...", "Catching up checkpoint...",
                  "Resuming connector...", "Connector caught up."}));
  CHECK(f.control() == json::parse(R"({"paused":false,"other":1})"));

  const auto caught_up = f.backup("caught-up.json");
  CHECK(caught_up.starts_with(R"({"formatVersion":1,"bucketUuid":")"));
  CHECK(has_position(caught_up));

  // Already paused: cleared, and left paused.
  f.consul.put("couchbase/cbes/g1/control", R"({"paused":true,"other":1})");
  r = f.consul.run({"checkpoint-clear", "--group", "g1"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(in_order(r.out, {"Pausing connector prior to clearing checkpoints...",
                         "Clearing checkpoints...", "Checkpoint cleared."}));
  CHECK_FALSE(contains(r.out, "Resuming connector..."));
  CHECK(f.control() == json::parse(R"({"paused":true,"other":1})"));
  CHECK_FALSE(has_position(f.backup("cleared.json")));

  f.consul.put("couchbase/cbes/g1/control", R"({"paused":false,"other":1})");
  r = f.consul.run(
      {"checkpoint-restore", "-g", "g1", "--input=" + (f.dir / "caught-up.json").string()});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(in_order(r.out,
                 {"Pausing connector prior to restoring checkpoints...", "Restoring checkpoints...",
                  "Resuming connector...", "Checkpoint restored."}));
  CHECK(f.control() == json::parse(R"({"paused":false,"other":1})"));
  CHECK(f.backup("restored.json") == caught_up);
}

TEST_CASE("checkpoint-restore refuses wrong files and the group is resumed as it was") {
  group_fixture f;
  const auto good = f.backup("good.json");

  const auto unreadable = write_file(f.dir / "garbage.json", "not json");
  auto r = f.consul.run({"checkpoint-restore", "-g", "g1", "-i", unreadable.string()});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "ERROR: "));
  CHECK_FALSE(contains(r.out, "Pausing connector"));  // refused before pausing
  CHECK(f.control() == json::parse(R"({"other":1})"));

  const auto other_bucket = write_file(
      f.dir / "other-bucket.json", std::regex_replace(good, std::regex(R"("bucketUuid":"[^"]*")"),
                                                      R"("bucketUuid":"0123456789abcdef")"));
  r = f.consul.run({"checkpoint-restore", "-g", "g1", "-i", other_bucket.string()});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "Bucket UUID mismatch"));
  CHECK(contains(r.out, "Resuming connector..."));
  CHECK(f.control() == json::parse(R"({"paused":false,"other":1})"));
}

TEST_CASE("checkpoint commands refuse an empty or malformed config document") {
  group_fixture f;
  f.consul.put("couchbase/cbes/g1/config", "");
  auto r = f.consul.run({"checkpoint-clear", "-g", "g1"});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "ERROR: Connector configuration document does not exist, or is empty."));
  f.consul.put("couchbase/cbes/g1/config", "[group\nname = ");
  r = f.consul.run({"checkpoint-backup", "-g", "g1", "-o", (f.dir / "x.json").string()});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "ERROR: Connector configuration document is malformed."));
  CHECK(f.control() == json::parse(R"({"other":1})"));
}

TEST_CASE("a checkpoint command whose pause times out changes no checkpoint") {
  group_fixture f;
  fake_worker w(f.consul.address, "g1", "node1::127.0.0.1::g1",
                {{"worker.stopped", [] { return std::string("false"); }}});
  auto r = f.consul.run(
      {"checkpoint-clear", "-g", "g1", "--pause-timeout=500ms", "--pause-interval=100ms"});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "ERROR: Pause failed; timed out waiting for cluster to quiesce."));
  CHECK_FALSE(contains(r.out, "Clearing checkpoints..."));
}
